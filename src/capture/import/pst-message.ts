import type { PSTAttachment, PSTMessage, PSTRecipient } from 'pst-extractor';

// A PST holds no MIME: a message is a set of MAPI properties. This rebuilds an RFC 5322 message
// from them, deterministically (the same PST item always gives the same bytes, so a re-run
// recognises it): the header block from the transport headers property when the item has one
// (the headers as received, less the MIME structure fields that described the original body),
// else from the sender, recipients, subject and times; then the plain text and HTML bodies and
// the attachments (embedded messages as message/rfc822), all in base64.

export const RECONSTRUCTION = 'sealbox-pst-1';   // recorded in provenance; changes if the output would

export interface RebuiltMessage {
  raw: Buffer;
  attachments: { name: string; size: number; contentType: string }[];
  skippedAttachments: string[];   // references to files elsewhere: nothing to keep
  fromTransportHeaders: boolean;
}

const CRLF = '\r\n';
// Fields that describe the original MIME structure, which is not what follows them here.
const STRUCTURE_FIELDS = /^(content-[a-z-]+|mime-version)$/i;
const ATTACH_BY_VALUE = 1;
const ATTACH_EMBEDDED_MSG = 5;
const ATTACH_OLE = 6;
const RECIPIENT_TO = 1;
const RECIPIENT_CC = 2;
const RECIPIENT_BCC = 3;

export function rebuildMessage(m: PSTMessage, origin: { file: string; node: number }): RebuiltMessage {
  const boundaries = { next: 0, node: origin.node };
  const attachments: RebuiltMessage['attachments'] = [];
  const skippedAttachments: string[] = [];
  const { text, fromTransportHeaders } = build(m, boundaries, attachments, skippedAttachments, `pst; node=${origin.node}; ${RECONSTRUCTION}`);
  return { raw: Buffer.from(text, 'utf8'), attachments, skippedAttachments, fromTransportHeaders };
}

function build(m: PSTMessage, b: { next: number; node: number }, attachments: RebuiltMessage['attachments'], skipped: string[], marker: string): { text: string; fromTransportHeaders: boolean } {
  const transport = (m.transportMessageHeaders ?? '').trim();
  const header: string[] = transport ? transportFields(transport) : synthesizedFields(m);
  // Says in the message itself that these bytes were rebuilt, not received.
  header.push(`X-Sealbox-Reconstructed: ${marker}`);
  header.push('MIME-Version: 1.0');

  const bodyParts: string[] = [];
  const textBody = m.body ?? '';
  const htmlBody = m.bodyHTML ?? '';
  if (textBody) bodyParts.push(leaf('text/plain; charset=utf-8', null, Buffer.from(textBody, 'utf8')));
  if (htmlBody) bodyParts.push(leaf('text/html; charset=utf-8', null, Buffer.from(htmlBody, 'utf8')));
  if (!textBody && !htmlBody) {
    let rtf = '';
    try {
      rtf = m.bodyRTF ?? '';
    } catch {
      rtf = '';
    }
    if (rtf) bodyParts.push(leaf('text/rtf; charset=utf-8', null, Buffer.from(rtf, 'utf8')));
  }
  let body = bodyParts.length === 0 ? leaf('text/plain; charset=utf-8', null, Buffer.alloc(0))
    : bodyParts.length === 1 ? bodyParts[0]
    : multipart('alternative', bodyParts, b);

  const attached: string[] = [];
  for (let i = 0; i < m.numberOfAttachments; i++) {
    const a = m.getAttachment(i);
    const name = a.longFilename || a.filename || a.displayName || `attachment-${i + 1}`;
    if (a.attachMethod === ATTACH_EMBEDDED_MSG) {
      const inner = a.embeddedPSTMessage;
      if (!inner) {
        skipped.push(name);
        continue;
      }
      const rebuilt = build(inner, b, [], skipped, `pst; embedded in node=${b.node}; ${RECONSTRUCTION}`).text;
      attachments.push({ name, size: Buffer.byteLength(rebuilt), contentType: 'message/rfc822' });
      attached.push(`Content-Type: message/rfc822${CRLF}Content-Disposition: attachment; ${param('filename', `${name.replace(/\.(msg|eml)$/i, '')}.eml`)}${CRLF}Content-Transfer-Encoding: 8bit${CRLF}${CRLF}${rebuilt}`);
      continue;
    }
    if (a.attachMethod !== ATTACH_BY_VALUE && a.attachMethod !== ATTACH_OLE) {
      skipped.push(name);   // by reference: the file was elsewhere and is not in the PST
      continue;
    }
    const data = attachmentBytes(a);
    const contentType = /^[\w.+-]+\/[\w.+-]+$/.test(a.mimeTag ?? '') ? a.mimeTag.toLowerCase() : 'application/octet-stream';
    attachments.push({ name, size: data.length, contentType });
    const extra = a.contentId ? `Content-ID: <${a.contentId.replace(/^<|>$/g, '')}>${CRLF}` : '';
    attached.push(leaf(`${contentType}; ${param('name', name)}`, `${a.contentId ? 'inline' : 'attachment'}; ${param('filename', name)}`, data, extra));
  }
  if (attached.length > 0) body = multipart('mixed', [body, ...attached], b);
  return { text: header.join(CRLF) + CRLF + body, fromTransportHeaders: transport !== '' };
}

// The transport headers, one field per entry (continuation lines kept), without the MIME fields.
function transportFields(raw: string): string[] {
  const lines = raw.split(/\r?\n/);
  const fields: string[][] = [];
  for (const line of lines) {
    if (line === '') break;                      // anything after a blank line is not header
    if (/^[ \t]/.test(line) && fields.length > 0) fields.at(-1)!.push(line);
    else fields.push([line]);
  }
  return fields.filter((f) => !STRUCTURE_FIELDS.test(f[0].split(':', 1)[0].trim())).map((f) => f.join(CRLF));
}

function synthesizedFields(m: PSTMessage): string[] {
  const fields: string[] = [];
  const date = m.clientSubmitTime ?? m.messageDeliveryTime ?? m.creationTime;
  if (date) fields.push(`Date: ${rfc5322Date(date)}`);
  const from = mailbox(m.sentRepresentingName || m.senderName, smtpOf(m.sentRepresentingAddressType, m.sentRepresentingEmailAddress) ?? smtpOf(m.senderAddrtype, m.senderEmailAddress));
  if (from) fields.push(`From: ${from}`);
  if ((m.sentRepresentingEmailAddress || m.sentRepresentingName) && m.senderEmailAddress && m.sentRepresentingEmailAddress !== m.senderEmailAddress) {
    const sender = mailbox(m.senderName, smtpOf(m.senderAddrtype, m.senderEmailAddress));
    if (sender) fields.push(`Sender: ${sender}`);
  }
  const byType = new Map<number, string[]>();
  for (let i = 0; i < m.numberOfRecipients; i++) {
    const r = m.getRecipient(i);
    if (!r) continue;
    const addr = mailbox(r.displayName, recipientSmtp(r));
    if (!addr) continue;
    byType.set(r.recipientType, [...(byType.get(r.recipientType) ?? []), addr]);
  }
  for (const [type, name] of [[RECIPIENT_TO, 'To'], [RECIPIENT_CC, 'Cc'], [RECIPIENT_BCC, 'Bcc']] as const) {
    const list = byType.get(type);
    if (list?.length) fields.push(`${name}: ${list.join(`,${CRLF} `)}`);
  }
  if (m.subject) fields.push(`Subject: ${encodeText(m.subject)}`);
  if (m.internetMessageId) fields.push(`Message-ID: ${m.internetMessageId.trim()}`);
  if (m.inReplyToId) fields.push(`In-Reply-To: ${m.inReplyToId.trim()}`);
  return fields;
}

function smtpOf(type: string, address: string): string | null {
  if (!address) return null;
  if (!type || type.toUpperCase() === 'SMTP' || /^[^\s@/]+@[^\s@]+$/.test(address)) return address;
  return null;   // an Exchange (X.500) address is no mail address
}

function recipientSmtp(r: PSTRecipient): string | null {
  if (r.smtpAddress && r.smtpAddress.includes('@')) return r.smtpAddress;
  return smtpOf(r.addrType, r.emailAddress);
}

// "Name" <address>; with no mail address known, the name alone as an empty group ("Name":;),
// which is valid and invents no address.
function mailbox(name: string, address: string | null): string | null {
  const display = (name ?? '').trim();
  if (address) return display && display !== address ? `${phrase(display)} <${address}>` : `<${address}>`;
  return display ? `${phrase(display)}:;` : null;
}

function phrase(text: string): string {
  if (!/^[\x20-\x7e]*$/.test(text)) return encodeText(text);
  return `"${text.replace(/[\\"]/g, '\\$&')}"`;
}

// RFC 2047 encoded words for anything not plain ASCII (each word under 76 characters).
function encodeText(text: string): string {
  const clean = text.replace(/[\r\n]+/g, ' ');
  if (/^[\x20-\x7e]*$/.test(clean) && clean.length < 900) return clean;
  const words: string[] = [];
  let chunk = '';
  for (const ch of clean) {
    if (Buffer.byteLength(chunk + ch) > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join(`${CRLF} `);
}

// A MIME parameter, RFC 2231-encoded when it is not plain ASCII.
function param(name: string, value: string): string {
  if (/^[\x20-\x7e]*$/.test(value) && value.length < 200) return `${name}="${value.replace(/[\\"]/g, '\\$&')}"`;
  return `${name}*=UTF-8''${encodeURIComponent(value).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}

function leaf(contentType: string, disposition: string | null, data: Buffer, extra = ''): string {
  const base64 = data.toString('base64').replace(/.{76}/g, `$&${CRLF}`);
  return `Content-Type: ${contentType}${CRLF}${disposition ? `Content-Disposition: ${disposition}${CRLF}` : ''}${extra}Content-Transfer-Encoding: base64${CRLF}${CRLF}${base64}${base64.endsWith(CRLF) ? '' : CRLF}`;
}

// Boundaries hold "=_", which base64 and these headers never do, and are numbered per message.
function multipart(subtype: string, parts: string[], b: { next: number; node: number }): string {
  const boundary = `=_sealbox_${b.node}_${b.next++}`;
  return `Content-Type: multipart/${subtype}; boundary="${boundary}"${CRLF}${CRLF}`
    + parts.map((p) => `--${boundary}${CRLF}${p}`).join('') + `--${boundary}--${CRLF}`;
}

function attachmentBytes(a: PSTAttachment): Buffer {
  const stream = a.fileInputStream;
  if (!stream) return Buffer.alloc(0);
  const out = Buffer.alloc(stream.length.toNumber());
  if (out.length > 0) stream.readCompletely(out);
  return out;
}

function rfc5322Date(d: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}
