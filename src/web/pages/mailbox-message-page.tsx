import { qs } from '../api.ts';
import { EvidencePanel } from '../message/evidence-panel.tsx';
import { MessageView } from '../message/message-view.tsx';
import { Link } from '../router.tsx';
import type { PageProps } from '../routes.tsx';
import { readSearchState, searchParams } from '../search/search-form.tsx';
import { ThreadNav } from '../search/thread-nav.tsx';

// One message of one's own mailbox, with the same viewer as the Investigation page (headers,
// receipts with their envelopes and verdicts, the sandboxed body, attachments, raw source,
// .eml), its conversation (previous and next) and its evidence. Every read is a ledger entry.
// The search it was opened from stays in the address, so "Back" returns to the same page.
export function MailboxMessagePage({ params, query }: PageProps) {
  const list = qs(searchParams(readSearchState(query)));
  return (
    <>
      <p><Link href={`/mailbox${list}`}>← Back to my mailbox</Link></p>
      <ThreadNav key={`thread-${params.sha256}`} sha256={params.sha256} href={(sha) => `/mailbox/${sha}${list}`} />
      <MessageView key={params.sha256} sha256={params.sha256} heading="page" />
      <EvidencePanel key={`evidence-${params.sha256}`} sha256={params.sha256} />
    </>
  );
}
