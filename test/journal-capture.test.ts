// Exchange / Microsoft 365 envelope journal reports received over SMTP and LMTP: the report is
// archived as received, and the message it carries is archived as its own message with the
// envelope the report states (Bcc recipients, expanded distribution lists, forwarding). Several
// reports of one message make one message with all their captures; malformed reports are kept
// with the reason; a store fault answers 451. Fixtures follow the documented format (Exchange
// 2010 and later: a text/plain part with the report lines, then the original as message/rfc822).
import { holdArchiveWriteLock } from './support/store-fault.ts';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { openArchive, testConfig, waitForIndex } from './support/archive.ts';
import { readAs, readerToken } from './support/reader.ts';
import { startSealbox } from './support/sealbox.ts';
import type { SealboxServer } from './support/sealbox.ts';
import { RawSmtpClient } from './support/smtp-client.ts';
import { crlf, journalReport, originalMessage } from './support/journal-report.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
async function send(server: SealboxServer, data: Buffer, options: { lmtp?: boolean; xforward?: string } = {}): Promise<{ code: number; text: string }> {
  const client = await RawSmtpClient.connect(options.lmtp ? server.lmtp.port : server.smtp.port, { lmtp: options.lmtp, helo: 'exchange.corp.test' });
  try {
    if (options.xforward) assert.equal((await client.command(`XFORWARD ${options.xforward}`)).code, 250);
    const r = await client.send({ from: 'MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@corp.test', to: ['journal@archive.test'] }, data, { lmtp: options.lmtp });
    const reply = r.data.at(-1) ?? r.rcpt.at(-1) ?? r.mail;
    return reply;
  } finally {
    await client.quit();
  }
}

interface StoredCapture {
  id: string;
  source: string;
  envelope: { mailFrom: string | null; rcptTo: { address: string; args: Record<string, string> }[]; clientAddress: string | null; transport: { address: string } } | null;
  provenance: { journal: Record<string, any> } | null;
}

async function stored(data: string, sha: string): Promise<{ bytes: Buffer; captures: StoredCapture[]; participants: { address: string; role: string }[] } | null> {
  const archive = await openArchive(data);
  try {
    const found = await archive.read(async (tx) => {
      const row = await archive.stores.meta.getMessage(tx, sha);
      return row && { row, captures: await archive.stores.meta.capturesOf(tx, row.id) };
    });
    if (!found) return null;
    const { row } = found;
    return {
      bytes: await archive.stores.reader.buffer(row),
      captures: found.captures as unknown as StoredCapture[],
      participants: (await archive.search.participants(row.id)),
    };
  } finally {
    archive.close();
  }
}

async function messageCount(data: string): Promise<number> {
  const archive = await openArchive(data);
  try {
    return (await archive.read((tx) => archive.stores.meta.counts(tx))).messages;
  } finally {
    archive.close();
  }
}

test('Exchange journal reports', async (t) => {
  const server = await startSealbox({ args: ['--config', testConfig({ internalDomains: ['corp.test'] })] });
  t.after(() => server.stop());

  await t.test('a report is kept as received, and the message it carries gets the envelope it states', async () => {
    const id = randomUUID();
    const original = originalMessage(id);
    const lines = [
      'Sender: alice@corp.test',
      `Subject: Q3 plan ${id}`,
      `Message-Id: <${id}@corp.test>`,
      'To: bob@corp.test',
      'Cc: carol@corp.test',
      'Bcc: dave@corp.test',
      'To: frank@corp.test, Expanded: sales@corp.test',
      'Cc: heidi@corp.test, Forwarded: carol@corp.test',
    ];
    const report = journalReport(lines, original);
    const reply = await send(server, report);
    assert.equal(reply.code, 250, reply.text);
    assert.match(reply.text, new RegExp(`archived ${sha256(report)} as \\S+, the journaled message ${sha256(original)} as \\S+`));

    const kept = (await stored(server.data, sha256(report)))!;
    assert.ok(kept.bytes.equals(report), 'the report is archived bit for bit');
    assert.equal(kept.captures.length, 1);
    const rc = kept.captures[0];
    assert.equal(rc.source, 'exchange-journal');
    assert.deepEqual(rc.envelope!.rcptTo.map((r) => r.address), ['journal@archive.test'], 'the report capture has the envelope it was delivered with');
    assert.equal(rc.provenance!.journal.role, 'report');
    assert.equal(rc.provenance!.journal.unwrapped, true);
    assert.equal(rc.provenance!.journal.originalSha256, sha256(original));

    const carried = (await stored(server.data, sha256(original)))!;
    assert.ok(carried, 'the original is a message of its own');
    assert.ok(carried.bytes.equals(original), 'the original is archived exactly as embedded');
    assert.equal(carried.captures.length, 1);
    const oc = carried.captures[0];
    assert.equal(oc.source, 'exchange-journal');
    assert.equal(rc.provenance!.journal.originalCaptureId, oc.id);
    assert.equal(oc.envelope!.mailFrom, 'alice@corp.test');
    assert.deepEqual(oc.envelope!.rcptTo, [
      { address: 'bob@corp.test', args: { TYPE: 'To' } },
      { address: 'carol@corp.test', args: { TYPE: 'Cc' } },
      { address: 'dave@corp.test', args: { TYPE: 'Bcc' } },
      { address: 'frank@corp.test', args: { TYPE: 'To', EXPANDED: 'sales@corp.test' } },
      { address: 'heidi@corp.test', args: { TYPE: 'Cc', FORWARDED: 'carol@corp.test' } },
    ]);
    assert.equal(oc.envelope!.clientAddress, null, 'the original client is not known from a report');
    assert.equal(oc.envelope!.transport.address, '127.0.0.1', 'the hop that delivered the report');
    const j = oc.provenance!.journal;
    assert.equal(j.role, 'original');
    assert.equal(j.reportSha256, sha256(report));
    assert.equal(j.reportCaptureId, rc.id);
    assert.equal(j.subject, `Q3 plan ${id}`);
    assert.equal(j.messageId, `<${id}@corp.test>`);

    // The indexer: recipients named in no header are envelope-only (bcc), the Bcc line included.
    await waitForIndex(server.data);
    const roles = (await stored(server.data, sha256(original)))!.participants;
    const role = (address: string) => roles.filter((p) => p.address === address).map((p) => p.role).sort();
    assert.deepEqual(role('bob@corp.test'), ['to']);
    assert.deepEqual(role('carol@corp.test'), ['cc']);
    assert.deepEqual(role('sales@corp.test'), ['to']);
    assert.deepEqual(role('dave@corp.test'), ['bcc']);
    assert.deepEqual(role('frank@corp.test'), ['bcc'], 'a list member reached through expansion is an envelope-only recipient');
    assert.deepEqual(role('heidi@corp.test'), ['bcc']);

    // The Bcc recipient finds it in their own mailbox, with the report's word for how they got it.
    const token = await readerToken(server.data, ['dave@corp.test'], { name: 'dave' });
    const shown = await readAs(token, ['show', '--data', server.data, '--json', sha256(original)]);
    assert.equal(shown.code, 0, shown.stderr);
    const view = JSON.parse(shown.stdout.toString());
    assert.deepEqual(view.captures[0].envelope.rcptTo.find((r: { address: string }) => r.address === 'dave@corp.test').args, { TYPE: 'Bcc' });
    assert.ok(view.mailboxes.some((m: { address: string; role: string }) => m.address === 'dave@corp.test' && m.role === 'bcc'), JSON.stringify(view.mailboxes));
  });

  await t.test('split deliveries: two reports of one message make one message with both captures and the union of recipients', async () => {
    const id = randomUUID();
    const original = originalMessage(id);
    const head = ['Sender: alice@corp.test', `Subject: Q3 plan ${id}`, `Message-Id: <${id}@corp.test>`];
    const first = journalReport([...head, 'To: bob@corp.test', 'Cc: carol@corp.test', 'To: frank@corp.test, Expanded: sales@corp.test'], original);
    const second = journalReport([...head, 'Bcc: dave@corp.test', 'Recipient: erin@partner.test'], original);
    assert.equal((await send(server, first)).code, 250);
    const lmtp = await send(server, second, { lmtp: true });
    assert.equal(lmtp.code, 250, lmtp.text);

    await waitForIndex(server.data);
    const carried = (await stored(server.data, sha256(original)))!;
    assert.equal(carried.captures.length, 2, 'one message, a capture per report');
    assert.deepEqual(carried.captures.map((c) => c.provenance!.journal.reportSha256).sort(), [sha256(first), sha256(second)].sort());
    assert.deepEqual(carried.captures.flatMap((c) => c.envelope!.rcptTo.map((r) => r.address)).sort(),
      ['bob@corp.test', 'carol@corp.test', 'dave@corp.test', 'erin@partner.test', 'frank@corp.test']);
    const roles = new Set(carried.participants.map((p) => `${p.role}:${p.address}`));
    for (const want of ['to:bob@corp.test', 'cc:carol@corp.test', 'bcc:frank@corp.test', 'bcc:dave@corp.test', 'bcc:erin@partner.test', 'from:alice@corp.test']) {
      assert.ok(roles.has(want), `${want} in ${[...roles].join(', ')}`);
    }
    for (const report of [first, second]) assert.equal((await stored(server.data, sha256(report)))!.captures[0].provenance!.journal.originalSha256, sha256(original));
  });

  await t.test('an encoded attachment is decoded to the bytes embedded, a large one streamed', async () => {
    const id = randomUUID();
    // Over commit.inlineBlobBytes (1 MiB): the original streams into a sealed file of its own.
    const filler = Array.from({ length: 24_000 }, (_, i) => `line ${i} of a long message, with 8-bit text: é ü ß and a = sign`).join('\r\n');
    const original = originalMessage(id, [], filler);
    const lines = ['Sender: alice@corp.test', `Subject: Q3 plan ${id}`, `Message-Id: <${id}@corp.test>`, 'To: bob@corp.test'];
    const b64 = journalReport(lines, original, { encoding: 'base64' });
    const qp = journalReport(lines, original, { encoding: 'quoted-printable' });
    assert.ok(original.length > 1024 * 1024);
    for (const report of [b64, qp]) {
      const reply = await send(server, report);
      assert.equal(reply.code, 250, reply.text);
      assert.ok((await stored(server.data, sha256(report)))!.bytes.equals(report));
    }
    const carried = (await stored(server.data, sha256(original)))!;
    assert.ok(carried.bytes.equals(original), 'decoded bytes are the original');
    assert.deepEqual(carried.captures.map((c) => c.provenance!.journal.transferEncoding).sort(), ['base64', 'quoted-printable']);
  });

  await t.test('a malformed report is archived as received with the reason, and nothing else is', async () => {
    const id = randomUUID();
    const original = originalMessage(id);
    const good = ['Sender: alice@corp.test', `Subject: Q3 plan ${id}`, `Message-Id: <${id}@corp.test>`, 'To: bob@corp.test'];
    const boundary = 'b-truncated';
    const truncated = journalReport(good, original, { boundary });
    const cases: [string, Buffer, RegExp][] = [
      ['unknown field', journalReport([...good, 'Spam-Score: 5'], original), /line 5: unknown field "Spam-Score"/],
      ['bad address', journalReport([...good, 'Bcc: dave at corp'], original), /is not an SMTP address/],
      ['no attached message', journalReport(good, null), /no attached message/],
      ['no closing boundary', truncated.subarray(0, truncated.lastIndexOf(`--${boundary}--`)), /ends before its closing boundary/],
      ['not multipart', crlf(['From: x@corp.test', 'X-MS-Journal-Report:', 'Content-Type: text/plain', '', ...good]), /not multipart\/mixed/],
      ['bad base64', Buffer.from(journalReport(good, original, { encoding: 'base64' }).toString('latin1').replace(/^([A-Za-z0-9+/]{10})/m, '$1*'), 'latin1'), /base64/],
      ['a third part', Buffer.concat([truncated.subarray(0, truncated.lastIndexOf(`--${boundary}--`)), crlf([`--${boundary}`, 'Content-Type: text/plain', '', 'extra', `--${boundary}--`])]), /more than two parts/],
    ];
    const before = await messageCount(server.data);
    for (const [name, report, reason] of cases) {
      const reply = await send(server, report);
      assert.equal(reply.code, 250, `${name}: ${reply.text}`);
      assert.doesNotMatch(reply.text, /journaled message/, name);
      const kept = await stored(server.data, sha256(report));
      assert.ok(kept?.bytes.equals(report), `${name}: archived bit for bit`);
      assert.equal(kept!.captures[0].source, 'exchange-journal', name);
      assert.equal(kept!.captures[0].provenance!.journal.unwrapped, false, name);
      assert.match(kept!.captures[0].provenance!.journal.error, reason, name);
    }
    assert.equal(await messageCount(server.data), before + cases.length, 'only the reports were archived');
    assert.equal(await stored(server.data, sha256(original)), null);
  });

  await t.test('a report from a client not in receiver.journalClients is kept but not unwrapped', async () => {
    const id = randomUUID();
    const original = originalMessage(id);
    const report = journalReport(['Sender: ceo@corp.test', `Subject: Q3 plan ${id}`, `Message-Id: <${id}@corp.test>`, 'Bcc: bob@corp.test'], original);
    // Relayed by a trusted MTA for an outside client: the report's claims are that client's.
    const reply = await send(server, report, { xforward: 'ADDR=198.51.100.9 HELO=mx.outside.test PROTO=ESMTP' });
    assert.equal(reply.code, 250, reply.text);
    const kept = (await stored(server.data, sha256(report)))!;
    assert.equal(kept.captures[0].provenance!.journal.unwrapped, false);
    assert.match(kept.captures[0].provenance!.journal.error, /client 198\.51\.100\.9 is not in receiver\.journalClients/);
    assert.equal(await stored(server.data, sha256(original)), null);
  });

  await t.test('a store fault answers 451 and keeps nothing half; the retry archives both', async () => {
    const id = randomUUID();
    const original = originalMessage(id);
    const report = journalReport(['Sender: alice@corp.test', `Subject: Q3 plan ${id}`, `Message-Id: <${id}@corp.test>`, 'To: bob@corp.test', 'Bcc: dave@corp.test'], original);
    // Another process holds the archive database's write lock past the busy timeout.
    const lock = holdArchiveWriteLock(server.data);
    let reply;
    try {
      reply = await send(server, report);
    } finally {
      lock.release();
    }
    assert.equal(reply.code, 451, reply.text);
    assert.equal(await stored(server.data, sha256(report)), null);
    assert.equal(await stored(server.data, sha256(original)), null);
    const retry = await send(server, report);
    assert.equal(retry.code, 250, retry.text);
    assert.equal((await stored(server.data, sha256(report)))!.captures.length, 1);
    assert.equal((await stored(server.data, sha256(original)))!.captures.length, 1);
  });
});
