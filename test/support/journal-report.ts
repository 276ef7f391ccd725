// Exchange envelope journal reports as the documented format has them (Exchange 2010 and later:
// a text/plain part with the report lines, then the original as message/rfc822), for the tests
// of every source that unwraps them.
import { randomUUID } from 'node:crypto';

export const crlf = (lines: string[]) => Buffer.from(lines.join('\r\n') + '\r\n', 'utf8');

export function originalMessage(id: string, extra: string[] = [], body = 'Bonjour, voilà le plan pour le trimestre.'): Buffer {
  return crlf([
    'From: Alice Example <alice@corp.test>',
    'To: Bob <bob@corp.test>, Sales <sales@corp.test>',
    'Cc: carol@corp.test',
    `Subject: Q3 plan ${id}`,
    `Message-ID: <${id}@corp.test>`,
    'Date: Tue, 24 Nov 2026 09:30:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    ...extra,
    '',
    body,
  ]);
}

// A journal report as Exchange writes it: the report lines, then the original, unaltered.
export function journalReport(lines: string[], original: Buffer | null, options: { encoding?: 'base64' | 'quoted-printable'; outer?: string[]; boundary?: string } = {}): Buffer {
  const boundary = options.boundary ?? `_jr_${randomUUID()}_`;
  const head = crlf([
    'From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@corp.test>',
    'To: journal@archive.test',
    'Date: Tue, 24 Nov 2026 09:30:05 +0000',
    `Subject: ${lines.find((l) => l.startsWith('Subject:'))?.slice(9) ?? ''}`,
    `Message-ID: <jr-${randomUUID()}@corp.test>`,
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    'MIME-Version: 1.0',
    'X-MS-Journal-Report:',
    ...(options.outer ?? []),
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset="us-ascii"',
    'Content-Transfer-Encoding: 7bit',
    '',
    ...lines,
    '',
  ]);
  if (!original) return Buffer.concat([head, Buffer.from(`--${boundary}--\r\n`)]);
  const encoded = options.encoding === 'base64' ? Buffer.from(original.toString('base64').replace(/.{76}/g, '$&\r\n') + '\r\n')
    : options.encoding === 'quoted-printable' ? quotedPrintable(original) : original;
  return Buffer.concat([
    head,
    crlf([`--${boundary}`, 'Content-Type: message/rfc822', ...(options.encoding ? [`Content-Transfer-Encoding: ${options.encoding}`] : []), 'Content-Disposition: attachment', '']),
    encoded,
    // The original ends with its own CRLF; the one before the delimiter belongs to the delimiter.
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
}

function quotedPrintable(bytes: Buffer): Buffer {
  const lines = bytes.toString('latin1').split('\r\n');
  const encoded = lines.map((line) => {
    let out = '';
    let width = 0;
    for (let i = 0; i < line.length; i++) {
      const c = line.charCodeAt(i);
      const atEnd = i === line.length - 1;
      const piece = (c >= 33 && c <= 126 && c !== 61) || ((c === 32 || c === 9) && !atEnd) ? line[i] : `=${c.toString(16).toUpperCase().padStart(2, '0')}`;
      if (width + piece.length > 75) {
        out += '=\r\n';
        width = 0;
      }
      out += piece;
      width += piece.length;
    }
    return out;
  });
  return Buffer.from(encoded.join('\r\n'), 'latin1');
}
