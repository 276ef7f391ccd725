// The body of an Exchange / Microsoft 365 envelope journal report (Exchange 2007 and later):
// one field per line, `Sender:`, `Subject:`, `Message-Id:`, optionally `On-Behalf-Of:`, then one
// line per envelope recipient, `To:`/`Cc:`/`Bcc:` when Exchange could tell how the recipient was
// addressed and `Recipient:` when it could not, each optionally followed by `, Expanded: <list>`
// (reached through these distribution groups) or `, Forwarded: <address>` (rewritten from this
// recipient). Parsed strictly: anything else is a malformed report, and the report is then
// archived as received with the reason, never dropped. An address is one as ENVELOPE_ADDRESS
// reads it (Exchange writes no white space, brackets or commas in one).
import { ENVELOPE_ADDRESS } from './envelope.ts';

export const JOURNAL_REPORT_HEADER = 'x-ms-journal-report';

export type JournalRecipientType = 'To' | 'Cc' | 'Bcc' | 'Recipient';

export interface JournalRecipient {
  type: JournalRecipientType;
  address: string;
  expanded: string[] | null;   // the distribution groups this recipient was expanded from
  forwarded: string | null;    // the recipient this one was forwarded (redirected) from
}

export interface JournalReport {
  sender: string;              // '' for the null sender
  onBehalfOf: string | null;
  subject: string;
  messageId: string;
  recipients: JournalRecipient[];
}

export type JournalReportVerdict = { ok: true; report: JournalReport } | { ok: false; error: string };

const RECIPIENT_TYPES: Record<string, JournalRecipientType> = { to: 'To', cc: 'Cc', bcc: 'Bcc', recipient: 'Recipient' };
const SINGLE_FIELDS = ['sender', 'subject', 'message-id', 'on-behalf-of'] as const;
const REQUIRED_FIELDS = ['sender', 'subject', 'message-id'] as const;
const FIELD_NAMES: Record<string, string> = { sender: 'Sender', subject: 'Subject', 'message-id': 'Message-Id', 'on-behalf-of': 'On-Behalf-Of' };

class Malformed extends Error {}

export function parseJournalReport(text: string): JournalReportVerdict {
  try {
    return { ok: true, report: parse(text) };
  } catch (err) {
    if (err instanceof Malformed) return { ok: false, error: err.message };
    throw err;
  }
}

function parse(text: string): JournalReport {
  const single = new Map<string, string>();
  const recipients: JournalRecipient[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `journal report line ${i + 1}`;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Malformed(`${where}: not a "Field: value" line`);
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).replace(/^[ \t]+/, '').replace(/[ \t]+$/, '');
    if (name in RECIPIENT_TYPES) {
      recipients.push(recipient(RECIPIENT_TYPES[name], value, where));
      return;
    }
    if (!(SINGLE_FIELDS as readonly string[]).includes(name)) throw new Malformed(`${where}: unknown field "${line.slice(0, colon)}"`);
    if (single.has(name)) throw new Malformed(`${where}: a second ${FIELD_NAMES[name]} field`);
    single.set(name, value);
  });
  for (const name of REQUIRED_FIELDS) if (!single.has(name)) throw new Malformed(`journal report: no ${FIELD_NAMES[name]} field`);
  if (recipients.length === 0) throw new Malformed('journal report: no recipient (To, Cc, Bcc or Recipient) line');

  const rawSender = single.get('sender')!;
  const sender = rawSender === '' || rawSender === '<>' ? '' : address(rawSender, 'Sender');
  const onBehalfOf = single.has('on-behalf-of') ? address(single.get('on-behalf-of')!, 'On-Behalf-Of') : null;
  const messageId = single.get('message-id')!;
  if (!/^\S+$/.test(messageId)) throw new Malformed(`journal report: Message-Id "${messageId}" is empty or has white space`);
  return { sender, onBehalfOf, subject: single.get('subject')!, messageId, recipients };
}

// `addr`, `addr, Expanded: dl[, dl2…]` or `addr, Forwarded: original`.
function recipient(type: JournalRecipientType, value: string, where: string): JournalRecipient {
  const parts = value.split(',').map((p) => p.trim());
  const out: JournalRecipient = { type, address: address(parts[0], `${type} (${where})`), expanded: null, forwarded: null };
  let current: 'expanded' | 'forwarded' | null = null;
  for (const part of parts.slice(1)) {
    const annotation = /^(Expanded|Forwarded):\s*(.*)$/i.exec(part);
    if (annotation) {
      current = annotation[1].toLowerCase() as 'expanded' | 'forwarded';
      if (out[current] !== null) throw new Malformed(`${where}: a second ${annotation[1]} annotation`);
      const first = address(annotation[2], `${annotation[1]} (${where})`);
      if (current === 'expanded') out.expanded = [first];
      else out.forwarded = first;
    } else if (current === 'expanded') {
      out.expanded!.push(address(part, `Expanded (${where})`));
    } else {
      throw new Malformed(`${where}: "${part}" is neither an Expanded nor a Forwarded annotation`);
    }
  }
  return out;
}

function address(value: string, field: string): string {
  const bare = value.startsWith('<') && value.endsWith('>') ? value.slice(1, -1) : value;
  if (!ENVELOPE_ADDRESS.test(bare)) throw new Malformed(`${field}: "${value}" is not an SMTP address`);
  return bare;
}
