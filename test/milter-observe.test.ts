// Observe mode: the MTA is told "continue" as soon as the message is in the durable spool, and
// the archive catches up in the background. A failing store delays the archive, never the mail;
// a crash between the answer and the commit loses nothing (the spool is committed at the next
// start), and a spool file whose commit already happened is not committed twice.
import { waitUntil } from './support/wait.ts';
import { holdArchiveWriteLock } from './support/store-fault.ts';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { testConfig } from './support/archive.ts';
import { RawMilterClient, rawMessage, storedCaptures, u16, z } from './support/milter.ts';
import { startSealbox } from './support/sealbox.ts';
import type { SealboxServer } from './support/sealbox.ts';

const HDR_LEADSPC = 0x100000;

async function sendOne(server: SealboxServer, queueId: string): Promise<{ reply: string; ms: number }> {
  const c = await RawMilterClient.connect(server.milter!.port);
  try {
    await c.negotiate(6, 0x1ff, HDR_LEADSPC);
    c.send('C', z('mta.test'), '4', u16(25), z('192.0.2.1'));
    assert.equal((await c.read())?.command, 'c');
    const started = Date.now();
    const reply = await rawMessage(c, queueId, `observed ${queueId}\r\n`, { replies: true });
    return { reply, ms: Date.now() - started };
  } finally {
    c.close();
  }
}

const spoolFiles = (data: string) => (existsSync(join(data, 'milter-spool')) ? readdirSync(join(data, 'milter-spool')) : []);
const captured = (data: string, queueId: string) => storedCaptures(data).filter((c) => c.envelope.queueId === queueId);

test('milter observe mode', { timeout: 240_000 }, async (t) => {
  const config = testConfig({ milter: { mode: 'observe' } });
  let server = await startSealbox({ args: ['--config', config, '--milter', '127.0.0.1:0'] });
  t.after(() => server.stop());

  await t.test('continue, then the message is archived from the spool and the spool emptied', async () => {
    assert.equal((await sendOne(server, 'OBSERVE1')).reply, 'c');
    const capture = await waitUntil('archived from the spool', () => captured(server.data, 'OBSERVE1')[0]);
    assert.equal(capture.provenance?.milter?.mode, 'observe');
    await waitUntil('spool emptied', () => spoolFiles(server.data).length === 0);
  });

  await t.test('a failing store delays the archive, not the mail; the spool catches up once it is back', async () => {
    const lock = holdArchiveWriteLock(server.data);
    try {
      const { reply, ms } = await sendOne(server, 'OBSERVE2');
      assert.equal(reply, 'c');
      // The store's busy timeout is 10 s: an answer well before that did not wait for the commit.
      assert.ok(ms < 5000, `answered in ${ms} ms`);
      assert.deepEqual(spoolFiles(server.data).filter((f) => f.endsWith('.json')).length, 1, 'the message waits in the spool');
      await waitUntil('the commit failure is logged', () => /milter spool commit failed; will retry/.test(server.stderr()), { timeoutMs: 30_000 });
    } finally {
      lock.release();
    }
    await waitUntil('archived after the store came back', () => captured(server.data, 'OBSERVE2')[0], { timeoutMs: 60_000 });
    await waitUntil('spool emptied', () => spoolFiles(server.data).length === 0);
    assert.equal(captured(server.data, 'OBSERVE2').length, 1, 'archived once');
  });

  await t.test('a crash after the answer loses nothing: the spool is committed at the next start, once', async () => {
    const lock = holdArchiveWriteLock(server.data);
    try {
      assert.equal((await sendOne(server, 'OBSERVE3')).reply, 'c');
      await server.kill(); // SIGKILL while the commit waits on the lock
    } finally {
      lock.release();
    }
    const spool = join(server.data, 'milter-spool');
    assert.equal(readdirSync(spool).filter((f) => f.endsWith('.json')).length, 1, 'the answered message is in the spool');

    // Two more leftovers: a message cut off before its answer (no record), and one whose commit
    // happened but whose spool files were not yet deleted.
    writeFileSync(join(spool, 'spool_cutoff.eml'), 'Subject: never answered\r\n\r\n');
    const [done] = captured(server.data, 'OBSERVE1');
    const db = new DatabaseSync(join(server.data, 'sealbox.db'), { readOnly: true });
    const row = db.prepare('SELECT capture_id, received_at, envelope, provenance FROM capture WHERE capture_id = ?').get(done!.captureId) as Record<string, string>;
    db.close();
    writeFileSync(join(spool, 'spool_committed.eml'), `Subject: OBSERVE1\r\n\r\nobserved OBSERVE1\r\n`);
    writeFileSync(join(spool, 'spool_committed.json'), JSON.stringify({ id: row.capture_id, source: 'milter', receivedAt: Number(row.received_at), envelope: JSON.parse(row.envelope!), provenance: JSON.parse(row.provenance!) }));
    const before = storedCaptures(server.data).length;

    server = await startSealbox({ data: server.data, args: ['--config', config, '--milter', '127.0.0.1:0'] });
    await waitUntil('the spooled message is archived after the restart', () => captured(server.data, 'OBSERVE3')[0], { timeoutMs: 60_000 });
    await waitUntil('spool emptied', () => spoolFiles(server.data).length === 0);
    assert.equal(captured(server.data, 'OBSERVE3').length, 1);
    assert.equal(captured(server.data, 'OBSERVE1').length, 1, 'an already committed spool file is not committed again');
    assert.equal(storedCaptures(server.data).length, before + 1);
  });
});
