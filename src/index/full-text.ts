import type { FullText } from './index-store.ts';
import type { Address, ParsedMessage } from './parse-message.ts';

// A message's searchable text, column by column, made in this one place: the indexer writes it,
// and the attachment extractor writes it again with the attachments' text added (the full-text
// index keeps no text, so a row is only ever replaced whole).
export function fullTextOf(p: ParsedMessage, attachments = ''): FullText {
  const addresses = [...p.from, ...p.sender, ...p.to, ...p.cc, ...p.bcc].map(display).join(' ');
  return { subject: p.subject ?? '', addresses, body: p.text, filenames: p.attachments.map((a) => a.filename ?? '').join(' '), attachments };
}

// An address as result lists show it, and as the addresses column holds it.
export function display(a: Address): string {
  return a.name ? `${a.name} <${a.address}>` : a.address;
}
