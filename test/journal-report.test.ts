// The pieces that unwrap an Exchange journal report, each on its own: the report format parser,
// the streaming multipart splitter and the transfer decoders. End to end over SMTP: journal-capture.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseJournalReport } from '../src/capture/journal-report.ts';
import { MimeBoundaryScanner } from '../src/capture/mime-boundary-scanner.ts';
import type { ScanEvent } from '../src/capture/mime-boundary-scanner.ts';
import { TransferDecodeError, transferDecoder } from '../src/capture/transfer-decoder.ts';

test('journal report: every documented field and recipient form', () => {
  const verdict = parseJournalReport([
    'Sender: alice@corp.test',
    'On-Behalf-Of: ceo@corp.test',
    'Subject: Budget: the final figures, again',
    'Message-Id: <a1@corp.test>',
    'To: bob@corp.test',
    'Cc: carol@corp.test',
    'Bcc: dave@corp.test',
    'Recipient: erin@partner.test',
    'To: frank@corp.test, Expanded: sales@corp.test',
    'Cc: grace@corp.test, Expanded: team@corp.test, all@corp.test',
    'Bcc: heidi@corp.test, Forwarded: ivan@corp.test',
    '',
  ].join('\r\n'));
  assert.ok(verdict.ok, JSON.stringify(verdict));
  const r = verdict.report;
  assert.equal(r.sender, 'alice@corp.test');
  assert.equal(r.onBehalfOf, 'ceo@corp.test');
  assert.equal(r.subject, 'Budget: the final figures, again');
  assert.equal(r.messageId, '<a1@corp.test>');
  assert.deepEqual(r.recipients, [
    { type: 'To', address: 'bob@corp.test', expanded: null, forwarded: null },
    { type: 'Cc', address: 'carol@corp.test', expanded: null, forwarded: null },
    { type: 'Bcc', address: 'dave@corp.test', expanded: null, forwarded: null },
    { type: 'Recipient', address: 'erin@partner.test', expanded: null, forwarded: null },
    { type: 'To', address: 'frank@corp.test', expanded: ['sales@corp.test'], forwarded: null },
    { type: 'Cc', address: 'grace@corp.test', expanded: ['team@corp.test', 'all@corp.test'], forwarded: null },
    { type: 'Bcc', address: 'heidi@corp.test', expanded: null, forwarded: 'ivan@corp.test' },
  ]);
});

test('journal report: field names in any case, LF lines, an empty subject and the null sender', () => {
  const verdict = parseJournalReport('SENDER: <>\nsubject:\nMESSAGE-ID: <x@y>\nrecipient: <bob@corp.test>\n');
  assert.ok(verdict.ok, JSON.stringify(verdict));
  assert.equal(verdict.report.sender, '');
  assert.equal(verdict.report.subject, '');
  assert.deepEqual(verdict.report.recipients.map((r) => r.address), ['bob@corp.test']);
});

test('journal report: anything else is malformed, with the reason', () => {
  const base = ['Sender: alice@corp.test', 'Subject: s', 'Message-Id: <m@corp.test>', 'To: bob@corp.test'];
  const cases: [string[], RegExp][] = [
    [[...base, 'X-Other: 1'], /line 5: unknown field "X-Other"/],
    [[...base, 'just text'], /line 5: not a "Field: value" line/],
    [base.filter((l) => !l.startsWith('Sender')), /no Sender field/],
    [base.filter((l) => !l.startsWith('Message-Id')), /no Message-Id field/],
    [base.filter((l) => !l.startsWith('To')), /no recipient/],
    [[...base, 'Subject: again'], /a second Subject field/],
    [['Sender: alice at corp', ...base.slice(1)], /Sender: "alice at corp" is not an SMTP address/],
    [[...base, 'Cc: carol@corp.test, Bounced: x@corp.test'], /neither an Expanded nor a Forwarded annotation/],
    [[...base, 'Cc: carol@corp.test, Forwarded: a@corp.test, b@corp.test'], /neither an Expanded nor a Forwarded/],
    [[...base, 'Cc: carol@corp.test, Forwarded: a@corp.test, Forwarded: b@corp.test'], /a second Forwarded annotation/],
    [[...base, 'Bcc: carol@corp.test, Expanded:'], /Expanded .*"" is not an SMTP address/],
    [[...base.slice(0, 2), 'Message-Id: has space', base[3]], /Message-Id "has space"/],
  ];
  for (const [lines, reason] of cases) {
    const verdict = parseJournalReport(lines.join('\r\n'));
    assert.equal(verdict.ok, false, lines.join(' | '));
    assert.match((verdict as { error: string }).error, reason);
  }
});

// Content and delimiters, with adjacent data pieces joined, from feeding `input` in pieces of `size`.
function scan(input: Buffer, boundary: string, size: number): (string | ScanEvent)[] {
  const scanner = new MimeBoundaryScanner(boundary);
  const events: ScanEvent[] = [];
  for (let i = 0; i < input.length; i += size) events.push(...scanner.push(input.subarray(i, i + size)));
  events.push(...scanner.end());
  const out: (string | ScanEvent)[] = [];
  for (const e of events) {
    if (e.kind === 'delimiter') out.push(e);
    else if (typeof out.at(-1) === 'string') out[out.length - 1] += e.bytes.toString('latin1');
    else out.push(e.bytes.toString('latin1'));
  }
  return out;
}

test('boundary scanner: the line break before a delimiter belongs to it, whatever the chunking', () => {
  const input = Buffer.from([
    'preamble', '--b', 'part one\r\nsecond line\r\n', '--b \t', '--b-not-a-delimiter\r\n--bb\r\n-- b\r\n\r\n', '--b--', 'epilogue',
  ].join('\r\n'), 'latin1');
  const expected = ['preamble', { kind: 'delimiter', last: false }, 'part one\r\nsecond line\r\n', { kind: 'delimiter', last: false },
    '--b-not-a-delimiter\r\n--bb\r\n-- b\r\n\r\n', { kind: 'delimiter', last: true }, 'epilogue'];
  for (const size of [1, 2, 3, 5, 7, 64, input.length]) assert.deepEqual(scan(input, 'b', size), expected, `pieces of ${size}`);
});

test('boundary scanner: bare LF line ends, a first delimiter with no preamble, a last one with no line end', () => {
  const input = Buffer.from('--xyz\nContent-Type: text/plain\n\nbody\r\n\n--xyz--', 'latin1');
  for (const size of [1, 4, input.length]) {
    assert.deepEqual(scan(input, 'xyz', size), [{ kind: 'delimiter', last: false }, 'Content-Type: text/plain\n\nbody\r\n', { kind: 'delimiter', last: true }]);
  }
});

test('boundary scanner: a line of a megabyte passes through in pieces, CRs and all', () => {
  const long = Buffer.alloc(1024 * 1024, 'ab\r');
  const input = Buffer.concat([Buffer.from('--q\r\n'), long, Buffer.from('\r\n--q--\r\n')]);
  const scanner = new MimeBoundaryScanner('q');
  let content = 0;
  let largest = 0;
  for (let i = 0; i < input.length; i += 65536) {
    for (const e of scanner.push(input.subarray(i, i + 65536))) {
      if (e.kind === 'data') {
        content += e.bytes.length;
        largest = Math.max(largest, e.bytes.length);
      }
    }
  }
  assert.equal(content, long.length);
  assert.ok(largest <= 65536 + 1, `pieces stay chunk-sized (${largest})`);
});

function decodeInPieces(encoding: string, input: Buffer, size: number): Buffer {
  const decoder = transferDecoder(encoding)!;
  const out: Buffer[] = [];
  for (let i = 0; i < input.length; i += size) out.push(decoder.write(input.subarray(i, i + size)));
  out.push(decoder.end());
  return Buffer.concat(out);
}

test('transfer decoders: base64 and quoted-printable in any pieces give the bytes back', () => {
  const bytes = Buffer.from(Array.from({ length: 3001 }, (_, i) => (i * 7919) % 256));
  const b64 = Buffer.from(bytes.toString('base64').replace(/.{76}/g, '$&\r\n'));
  for (const size of [1, 3, 5, 77, b64.length]) assert.ok(decodeInPieces('base64', b64, size).equals(bytes), `base64 in pieces of ${size}`);

  const qp = Buffer.from('caf=C3=A9 =\r\nsoft break, trailing blanks   \r\nkept=3D \t\r\n=\r\nend=20\r\nlast', 'latin1');
  const plain = Buffer.concat([Buffer.from('café '), Buffer.from('soft break, trailing blanks\r\nkept=\r\nend \r\nlast')]);
  for (const size of [1, 2, 3, 10, qp.length]) assert.ok(decodeInPieces('quoted-printable', qp, size).equals(plain), `qp in pieces of ${size}`);

  for (const identity of ['7bit', '8bit', 'binary']) assert.ok(decodeInPieces(identity, bytes, 100).equals(bytes));
  assert.equal(transferDecoder('x-uuencode'), null);
});

test('transfer decoders: strict about what an encoder cannot have produced', () => {
  const bad: [string, string][] = [
    ['base64', 'QUJD*EFG'], ['base64', 'QUJDRA=='.concat('QUJD')], ['base64', 'QUJDR'], ['base64', 'QU=D'],
    ['quoted-printable', 'a=ZZb'], ['quoted-printable', 'end=4'],
  ];
  for (const [encoding, text] of bad) {
    assert.throws(() => decodeInPieces(encoding, Buffer.from(text), 3), TransferDecodeError, `${encoding} ${text}`);
  }
});
