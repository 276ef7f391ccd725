import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import PostalMime from 'postal-mime';
import { PSTFile } from 'pst-extractor';
import type { PSTFolder, PSTMessage } from 'pst-extractor';
import { rebuildMessage } from '../src/capture/import/pst-message.ts';
import { runImport } from './support/import-run.ts';
import { openArchive, testConfig } from './support/archive.ts';
import { sealbox, tempDataDir } from './support/sealbox.ts';

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const ENRON = join(dirname(createRequire(import.meta.url).resolve('pst-extractor/package.json')), 'example', 'testdata', 'enron.pst');

interface Expected {
  subject: string;
  body: string;
  messageId: string;
  attachments: string[];   // "name sha256", sorted
}

// What the PST holds, read with pst-extractor directly: node id → the fields to find again.
function readPst(path: string): Map<number, Expected> {
  const pst = new PSTFile(path);
  const out = new Map<number, Expected>();
  const walk = (folder: PSTFolder) => {
    if (folder.getNodeType() === 0x03) return; // search folder
    if (folder.contentCount > 0) {
      for (let m = folder.getNextChild() as PSTMessage | null; m; m = folder.getNextChild() as PSTMessage | null) {
        const attachments: string[] = [];
        for (let i = 0; i < m.numberOfAttachments; i++) {
          const a = m.getAttachment(i);
          const stream = a.fileInputStream!;
          const bytes = Buffer.alloc(stream.length.toNumber());
          stream.readCompletely(bytes);
          attachments.push(`${a.longFilename || a.filename} ${sha256(bytes)}`);
        }
        out.set(m.descriptorNodeId.toNumber(), { subject: m.subject, body: m.body, messageId: m.internetMessageId, attachments: attachments.sort() });
      }
    }
    if (folder.hasSubfolders) for (const sub of folder.getSubFolders()) walk(sub);
  };
  walk(pst.getRootFolder());
  pst.close();
  return out;
}

test("pst-extractor's enron.pst: every message rebuilt as MIME with its attachments, marked reconstructed, once", { timeout: 90_000 }, async () => {
  const expected = readPst(ENRON);
  assert.equal(expected.size, 71);
  const attachmentCount = [...expected.values()].reduce((n, e) => n + e.attachments.length, 0);
  assert.equal(attachmentCount, 70);

  const dir = tempDataDir();
  const data = join(dir, 'archive');
  const config = testConfig();
  const report = join(dir, 'report.json');
  const r = await runImport(['pst', '--data', data, '--config', config, ENRON], report);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.report.imported, 71);
  assert.equal(r.report.failed, 0);
  assert.match(r.report.notes.join('\n'), /search folder "SPAM Search Folder 2" skipped/);

  const archive = await openArchive(data);
  try {
    const nodes = new Set<number>();
    let attachments = 0;
    for (const c of await archive.read((tx) => Array.fromAsync(archive.stores.meta.allCaptures(tx)))) {
      assert.equal(c.source, 'import:pst');
      assert.equal(c.envelope, null);
      const p = c.provenance as { file: string; folder: string; node: number; reconstructed: string; headers: string; attachments: { name: string }[] };
      assert.equal(p.file, ENRON);
      assert.equal(p.reconstructed, 'sealbox-pst-1');
      assert.equal(p.headers, 'transport headers');
      assert.match(p.folder, /^Top of Personal Folders\/lokay-m\//);
      assert.ok(!nodes.has(p.node), `node ${p.node} once`);
      nodes.add(p.node);
      const want = expected.get(p.node)!;
      assert.ok(want, `node ${p.node} is a message of the PST`);

      const raw = await archive.stores.reader.buffer((await archive.read((tx) => archive.stores.meta.getMessage(tx, c.sha256)))!);
      assert.equal(sha256(raw), c.sha256);
      assert.match(raw.toString('latin1'), /\r\nX-Sealbox-Reconstructed: pst; node=\d+; sealbox-pst-1\r\nMIME-Version: 1\.0\r\n/);
      const parsed = await PostalMime.parse(raw);
      assert.equal(parsed.subject ?? '', want.subject);
      assert.equal(parsed.messageId, want.messageId);
      assert.equal(parsed.text ?? '', want.body);
      const got = parsed.attachments.map((a) => `${a.filename} ${sha256(new Uint8Array(a.content as ArrayBuffer))}`).sort();
      assert.deepEqual(got, want.attachments, `node ${p.node}: attachments with their exact bytes`);
      attachments += got.length;
      assert.equal(p.attachments.length, got.length);
    }
    assert.equal(nodes.size, 71);
    assert.equal(attachments, 70);
  } finally {
    archive.close();
  }

  // Rebuilding is deterministic: a re-run recognises every message.
  const again = await runImport(['pst', '--data', data, '--config', config, ENRON], report);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.report.imported, 0);
  assert.equal(again.report.skipped, 71);

  const notPst = await sealbox(['import', 'pst', '--data', data, '--config', config, report]);
  assert.equal(notPst.code, 2);
  assert.match(notPst.stderr, /is not a readable PST\/OST file/);
});

// An item with no transport headers (a sent or draft message): the header is built from its
// properties. pst-extractor cannot write PST files, so the item is a stand-in with its getters.
test('a PST item without transport headers is rebuilt from its properties: encoded names, no invented addresses, Bcc, HTML, embedded message', async () => {
  const attachment = (o: Record<string, unknown>) => ({ longFilename: '', filename: '', displayName: '', mimeTag: '', contentId: '', attachMethod: 1, fileInputStream: null, embeddedPSTMessage: null, ...o });
  const stream = (bytes: Buffer) => ({ length: { toNumber: () => bytes.length }, readCompletely: (out: Buffer) => bytes.copy(out) });
  const base = {
    transportMessageHeaders: '', body: '', bodyHTML: '', bodyRTF: '', numberOfAttachments: 0, numberOfRecipients: 0, getRecipient: () => null, getAttachment: () => null,
    sentRepresentingName: '', sentRepresentingAddressType: '', sentRepresentingEmailAddress: '', senderName: '', senderAddrtype: '', senderEmailAddress: '',
    clientSubmitTime: null, messageDeliveryTime: null, creationTime: null, subject: '', internetMessageId: '', inReplyToId: '',
  };
  const inner = { ...base, subject: 'the forwarded one', body: 'inner body', senderName: 'Inner', senderAddrtype: 'SMTP', senderEmailAddress: 'inner@example.test', internetMessageId: '<inner@example.test>' };
  const pdf = Buffer.from('%PDF-1.4 not really');
  const recipients = [
    { recipientType: 1, displayName: 'Zoë Ärger', smtpAddress: 'zoe@example.test', addrType: 'SMTP', emailAddress: 'zoe@example.test' },
    { recipientType: 2, displayName: 'Exchange Only', smtpAddress: '', addrType: 'EX', emailAddress: '/O=ORG/OU=SITE/CN=RECIPIENTS/CN=EXONLY' },
    { recipientType: 3, displayName: 'Hidden', smtpAddress: 'hidden@example.test', addrType: 'SMTP', emailAddress: 'hidden@example.test' },
  ];
  const attachments = [
    attachment({ longFilename: 'Bericht über Q3.pdf', mimeTag: 'application/pdf', fileInputStream: stream(pdf) }),
    attachment({ longFilename: 'fwd.msg', attachMethod: 5, embeddedPSTMessage: inner }),
    attachment({ longFilename: 'link.url', attachMethod: 2 }),
  ];
  const message = {
    ...base, subject: 'Grüße — über alles ' + 'lang '.repeat(20), body: 'plain text\r\nsecond line', bodyHTML: '<p>html</p>',
    senderName: 'Anna Admin', senderAddrtype: 'EX', senderEmailAddress: '/O=ORG/OU=SITE/CN=RECIPIENTS/CN=ANNA',
    clientSubmitTime: new Date('2020-02-03T04:05:06Z'), internetMessageId: '<outer@example.test>', inReplyToId: '<earlier@example.test>',
    numberOfRecipients: recipients.length, getRecipient: (i: number) => recipients[i],
    numberOfAttachments: attachments.length, getAttachment: (i: number) => attachments[i],
  };
  const rebuilt = rebuildMessage(message as unknown as PSTMessage, { file: '/x.pst', node: 42 });
  assert.equal(rebuilt.fromTransportHeaders, false);
  assert.deepEqual(rebuilt.skippedAttachments, ['link.url']);
  const again = rebuildMessage(message as unknown as PSTMessage, { file: '/x.pst', node: 42 });
  assert.ok(again.raw.equals(rebuilt.raw), 'deterministic');

  const text = rebuilt.raw.toString('utf8');
  assert.match(text, /^Date: Mon, 3 Feb 2020 04:05:06 \+0000\r\n/);
  assert.match(text, /\r\nFrom: "Anna Admin":;\r\n/, 'an Exchange-only sender: the name, no invented address');
  assert.match(text, /\r\nCc: "Exchange Only":;\r\n/);
  assert.match(text, /\r\nBcc: "Hidden" <hidden@example\.test>\r\n/);
  assert.ok(text.split('\r\n').every((line) => line.length <= 998), 'no line over 998 characters');

  const parsed = await PostalMime.parse(rebuilt.raw);
  assert.equal(parsed.subject, message.subject);
  assert.deepEqual(parsed.to, [{ name: 'Zoë Ärger', address: 'zoe@example.test' }]);
  assert.equal(parsed.messageId, '<outer@example.test>');
  assert.equal(parsed.inReplyTo, '<earlier@example.test>');
  assert.equal(parsed.text, 'plain text\r\nsecond line');
  assert.equal(parsed.html, '<p>html</p>');
  const pdfPart = parsed.attachments.find((a) => a.mimeType === 'application/pdf')!;
  assert.equal(pdfPart.filename, 'Bericht über Q3.pdf');
  assert.equal(sha256(new Uint8Array(pdfPart.content as ArrayBuffer)), sha256(pdf));
  const forwarded = parsed.attachments.find((a) => a.mimeType === 'message/rfc822')!;
  const innerParsed = await PostalMime.parse(new Uint8Array(forwarded.content as ArrayBuffer));
  assert.equal(innerParsed.subject, 'the forwarded one');
  assert.equal(innerParsed.text, 'inner body');
  assert.deepEqual(innerParsed.from, { name: 'Inner', address: 'inner@example.test' });
});
