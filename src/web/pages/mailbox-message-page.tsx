import { EvidencePanel } from '../message/evidence-panel.tsx';
import { MessageView } from '../message/message-view.tsx';
import { Link } from '../router.tsx';
import type { PageProps } from '../routes.tsx';

// One message of one's own mailbox, with the same viewer as the Investigation page (headers,
// receipts with their envelopes and verdicts, the sandboxed body, attachments, raw source,
// .eml) and its evidence. Every read is a ledger entry.
export function MailboxMessagePage({ params }: PageProps) {
  return (
    <>
      <p><Link href="/mailbox">← Back to my mailbox</Link></p>
      <MessageView sha256={params.sha256} heading="page" />
      <EvidencePanel sha256={params.sha256} />
    </>
  );
}
