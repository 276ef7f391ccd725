// One command's work, loaded only when that command runs (see ../main.ts).
import { consoleOperator } from '../../access/audit.ts';
import type { Services } from '../../api/services.ts';
import type { Tx } from '../../core/transactions.ts';
import type { LeaverChange } from '../../retention/leaver-store.ts';
import { leaverChangeView, leaverView, recordLeaverChange } from '../../retention/leavers.ts';
import type { RuleActor } from '../../retention/retention-rules.ts';
import { withArchive } from '../archive-access.ts';
import type { CliOptions } from '../archive-access.ts';

// `sealbox leavers list`: as GET /api/v1/leavers gives it.
export function list(o: CliOptions): Promise<void> {
  return withArchive(o, async ({ services: s }) => {
    const { leavers, changes } = await s.db.read(async (tx) => ({ leavers: (await s.leavers.states(tx)).map(leaverView), changes: (await s.leavers.changes(tx)).map(leaverChangeView) }));
    if (o.json) {
      process.stdout.write(JSON.stringify({ leaverMonths: s.leavers.leaverMonths, leavers, changes }) + '\n');
      return;
    }
    process.stdout.write(`mail of a leaver is disposed ${s.leavers.leaverMonths} months after the day they left (retention.leaverMonths)\n`);
    for (const l of leavers) {
      const exempt = l.exemption ? `; exempt ${l.exemption.until ? `until ${l.exemption.until}` : 'until decided otherwise'} (${l.exemption.reason})` : '';
      process.stdout.write(`${l.mailbox}  left ${l.left}, disposed from ${l.disposeFrom}${exempt}\n`);
    }
    for (const c of changes.filter((c) => c.state === 'pending')) process.stdout.write(`pending ${changeLine(c)}; filed by ${c.filedBy}\n`);
  });
}

// `sealbox leavers file`, `withdraw` and `exempt`: filed as the console operator, exactly as the
// API files them (the same ledger entry, refusals included); an approver (web app or API) decides.
export function file(mailbox: string, o: CliOptions): Promise<void> {
  return filed(o, { mailbox, left: o.left, reason: o.reason }, (s, tx, operator) => s.leavers.fileLeave(tx, operator, mailbox, o.left, o.reason, 'console'));
}

export function withdraw(mailbox: string, o: CliOptions): Promise<void> {
  return filed(o, { mailbox, left: null, reason: o.reason }, (s, tx, operator) => s.leavers.fileReturn(tx, operator, mailbox, o.reason, 'console'));
}

export function exempt(mailbox: string, o: CliOptions): Promise<void> {
  return filed(o, { mailbox, until: o.until ?? null, reason: o.reason }, (s, tx, operator) => s.leavers.fileExemption(tx, operator, mailbox, o.until ?? null, o.reason, 'console'));
}

type Work = (s: Services, tx: Tx, operator: RuleActor) => Promise<LeaverChange>;

function filed(o: CliOptions, parameters: Record<string, unknown>, work: Work): Promise<void> {
  return withArchive(o, async ({ services: s }) => {
    const operator = consoleOperator();
    const c = leaverChangeView(await recordLeaverChange(s.audit, operator, 'leaver.file', parameters, (tx) => work(s, tx, operator)));
    process.stdout.write(`filed ${changeLine(c)}: an approver decides it (POST /api/v1/leaver-changes/${c.id}/approve)\n`);
  });
}

function changeLine(c: ReturnType<typeof leaverChangeView>): string {
  if (c.kind === 'leave') return `${c.id}: ${c.mailbox} left on ${c.left}, its mail disposed from ${c.disposeFrom}`;
  if (c.kind === 'return') return `${c.id}: ${c.mailbox}'s leaving date withdrawn`;
  return `${c.id}: ${c.mailbox} exempt from the leaver rule ${c.until ? `until ${c.until}` : 'until decided otherwise'}`;
}
