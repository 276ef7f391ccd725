import { parseMessage } from './parse-message.ts';

// The address headers as the message writes them, for the viewer: the search index keeps
// names lower-cased (it matches on them), a reader wants "Leverandør Salg", not "leverandør salg".
export interface DisplayHeaders {
  to: string | null;              // "Name <address>, …" as in From (the index's from_text)
  cc: string | null;
  // The display name each address carries in From, Sender, To or Cc (the first one found).
  names: Map<string, string>;
}

// Only the header section is parsed: the names are there, and an attachment need not be.
const MAX_HEADER_BYTES = 256 * 1024;

export async function displayHeaders(raw: Uint8Array): Promise<DisplayHeaders> {
  const parsed = await parseMessage(raw.subarray(0, headerEnd(raw)));
  const names = new Map<string, string>();
  for (const a of [...parsed.from, ...parsed.sender, ...parsed.to, ...parsed.cc]) {
    if (a.address && a.name && !names.has(a.address)) names.set(a.address, a.name);
  }
  const list = (as: { address: string; name: string }[]) => as.map((a) => (a.name ? `${a.name} <${a.address}>` : a.address)).join(', ') || null;
  return { to: list(parsed.to), cc: list(parsed.cc), names };
}

// Where the header section ends (after its blank line), or the limit.
function headerEnd(raw: Uint8Array): number {
  const end = Math.min(raw.byteLength, MAX_HEADER_BYTES);
  for (let i = 0; i + 1 < end; i++) {
    if (raw[i] !== 0x0a) continue;
    if (raw[i + 1] === 0x0a) return i + 2;
    if (raw[i + 1] === 0x0d && raw[i + 2] === 0x0a) return i + 3;
  }
  return end;
}
