// Every source that hands Sealbox mail with an envelope unwraps Exchange journal reports the
// same way (src/capture/capture-writer.ts): the milter, by the SMTP client the MTA names, and the
// ingest API, by the HTTP client; a report from a sender not in receiver.journalClients is kept
// as received and not unwrapped. (SMTP and LMTP: journal-capture.test.ts.)
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { addApiUser } from './support/api-client.ts';
import { testConfig } from './support/archive.ts';
import { journalReport, originalMessage } from './support/journal-report.ts';
import { RawMilterClient, storedCaptures, u16, z } from './support/milter.ts';
import { startSealbox } from './support/sealbox.ts';
import { waitUntil } from './support/wait.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const HDR_LEADSPC = 0x100000;

function reportFor(id: string): { report: Buffer; original: Buffer } {
  const original = originalMessage(id);
  const report = journalReport(['Sender: alice@corp.test', `Subject: Q3 plan ${id}`, `Message-Id: <${id}@corp.test>`, 'To: bob@corp.test', 'Bcc: dave@corp.test'], original);
  return { report, original };
}

// One message through the milter protocol as an MTA sends it: connect (with the SMTP client's
// address), envelope, each header, the body, end of message.
async function throughMilter(port: number, client: string, queueId: string, raw: Buffer): Promise<string> {
  const c = await RawMilterClient.connect(port);
  try {
    await c.negotiate(6, 0x1ff, HDR_LEADSPC);
    c.send('C', z('exchange.corp.test'), '4', u16(25), z(client));
    assert.equal((await c.read())?.command, 'c');
    const step = async (command: string, ...fields: (Buffer | string)[]) => {
      c.send(command, ...fields);
      assert.equal((await c.read())?.command, 'c', `reply to ${command}`);
    };
    c.send('D', 'M', z('i', queueId));
    await step('M', z('<MicrosoftExchange@corp.test>'));
    await step('R', z('<journal@archive.test>'));
    const split = raw.indexOf('\r\n\r\n');
    for (const line of raw.subarray(0, split).toString('utf8').split('\r\n')) {
      const colon = line.indexOf(':');
      await step('L', z(line.slice(0, colon), line.slice(colon + 1)));
    }
    await step('N');
    await step('B', raw.subarray(split + 4));
    c.send('E');
    return (await c.read())?.command ?? 'closed';
  } finally {
    c.close();
  }
}

test('journal reports through the milter and the ingest API', { timeout: 180_000 }, async (t) => {
  const config = testConfig({ internalDomains: ['corp.test'], access: { secureCookies: false }, receiver: { journalClients: ['127.0.0.1', '10.0.0.5'] } });
  const server = await startSealbox({ args: ['--config', config, '--milter', '127.0.0.1:0', '--http', '127.0.0.1:0'] });
  t.after(() => server.stop());

  await t.test('the milter unwraps a report from a journal client the MTA names', async () => {
    const { report, original } = reportFor(randomUUID());
    assert.equal(await throughMilter(server.milter!.port, '10.0.0.5', 'JOURNAL1', report), 'c');
    const captures = storedCaptures(server.data, 'exchange-journal');
    const kept = captures.find((c) => c.sha256 === sha256(report));
    const carried = captures.find((c) => c.sha256 === sha256(original));
    assert.ok(kept, 'the report is archived as received');
    assert.equal((kept.provenance as any).journal.unwrapped, true);
    assert.equal(kept.envelope.queueId, 'JOURNAL1', 'the report keeps the envelope the MTA gave');
    assert.ok(carried, 'the message it carries is archived as its own');
    assert.deepEqual(carried.envelope.rcptTo.map((r) => [r.address, r.args.TYPE]), [['bob@corp.test', 'To'], ['dave@corp.test', 'Bcc']]);
  });

  await t.test('the milter keeps a report from another client as received, with the reason', async () => {
    const { report, original } = reportFor(randomUUID());
    assert.equal(await throughMilter(server.milter!.port, '192.0.2.7', 'JOURNAL2', report), 'c');
    const captures = storedCaptures(server.data, 'exchange-journal');
    const kept = captures.find((c) => c.sha256 === sha256(report));
    assert.ok(kept);
    assert.equal((kept.provenance as any).journal.unwrapped, false);
    assert.match((kept.provenance as any).journal.error, /client 192\.0\.2\.7 is not in receiver\.journalClients/);
    assert.equal(captures.some((c) => c.sha256 === sha256(original)), false, 'nothing is believed from it');
  });

  await t.test('the ingest API unwraps a report and answers with both captures', async () => {
    const admin = await addApiUser(server, config, 'ada', ['admin'], { email: false });
    const token = (await admin.call('POST', '/api/v1/tokens', { name: 'gateway', scopes: ['ingest'], days: 1 })).body.token as string;
    const { report, original } = reportFor(randomUUID());
    const res = await fetch(`${server.http!.url}/api/v1/ingest?mailFrom=MicrosoftExchange@corp.test&rcptTo=journal@archive.test`, {
      method: 'POST', body: report, headers: { authorization: `Bearer ${token}`, 'content-type': 'message/rfc822' },
    });
    const body = (await res.json()) as any;
    assert.equal(res.status, 201, JSON.stringify(body));
    assert.equal(body.sha256, sha256(report));
    assert.equal(body.original.sha256, sha256(original));
    const carried = await waitUntil('the original is stored', () => storedCaptures(server.data, 'exchange-journal').find((c) => c.sha256 === sha256(original)));
    assert.equal(carried.captureId, body.original.captureId);
  });
});
