import { useState } from 'react';
import { OutcomeNote } from '../outcome-note.tsx';
import type { Outcome } from '../outcome-note.tsx';
import { PageTitle } from '../page-title.tsx';
import { CertificateSection } from '../retention/certificate-section.tsx';
import { DisposalRunsSection } from '../retention/disposal-runs-section.tsx';
import { EarlyDisposalSection } from '../retention/early-disposal-section.tsx';
import { ErasureSection } from '../retention/erasure-section.tsx';
import { HoldsSection } from '../retention/holds-section.tsx';
import { LeaversSection } from '../retention/leavers-section.tsx';
import { RulesSection } from '../retention/rules-section.tsx';
import { hasRole, useSession } from '../session.ts';

// Retention and legal holds: how long mail is kept, leavers, what holds keep, early disposals and
// erasure requests, what disposal runs did and would do, and for auditors and records managers
// the disposal certificate. Records managers and admins file and place; approvers decide here,
// beside what they decide on (a rule's before and after, a leaving date, a hold's scope and who
// acknowledged it, what an early disposal or an erasure left), as account recoveries are decided
// where they are listed; Approvals points here when something waits. Nothing here reads mail.
export function RetentionPage() {
  const { me } = useSession();
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const done = (text: Outcome['text']) => setOutcome({ text, at: Date.now() });
  const keeper = hasRole(me, ['admin', 'records']);
  const approver = hasRole(me, ['approver']);
  return (
    <>
      <PageTitle>Retention and legal holds</PageTitle>
      <p className="muted">
        {keeper && 'You add rules, file leaving dates, place holds, ask for early disposal, file erasure requests and may run disposal of what is due. Anything that could let mail go sooner — a shorter rule, a removal, a leaving date, a hold released, an early disposal, an erasure — waits for an approver who is not you. '}
        {approver && 'You decide, with a reason, on what others filed: never on what you filed yourself or what someone linked to you filed. '}
        {!keeper && !approver && 'You see this as an auditor: read only, with the disposal certificate to download. '}
        Every change and every decision is recorded in the ledger.
      </p>
      <nav aria-label="On this page">
        <ul className="actions plain">
          <li><a href="#rules-h">Retention rules</a></li>
          <li><a href="#leavers-h">Leavers</a></li>
          <li><a href="#holds-h">Legal holds</a></li>
          <li><a href="#early-h">Early disposal</a></li>
          <li><a href="#erasure-h">Erasure requests</a></li>
          <li><a href="#runs-h">Disposal runs</a></li>
          {hasRole(me, ['auditor', 'records']) && <li><a href="#certificate-h">Disposal certificate</a></li>}
        </ul>
      </nav>
      <OutcomeNote outcome={outcome} />
      <RulesSection me={me} done={done} />
      <LeaversSection me={me} done={done} />
      <HoldsSection me={me} done={done} />
      <EarlyDisposalSection me={me} done={done} />
      <ErasureSection me={me} done={done} />
      <DisposalRunsSection me={me} done={done} />
      {hasRole(me, ['auditor', 'records']) && <CertificateSection />}
    </>
  );
}
