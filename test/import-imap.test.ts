import { waitUntil } from './support/wait.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { corpusFiles } from './support/corpus.ts';
import { dovecotImapUnavailable, newMaildirRoot, startDovecotImap } from './support/dovecot-imap.ts';
import type { DovecotImap } from './support/dovecot-imap.ts';
import { captureCount, killImportMidway, runImport } from './support/import-run.ts';
import { openArchive, testConfig } from './support/archive.ts';
import { sealbox, tempDataDir } from './support/sealbox.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// The corpus spread over folders (Maildir++ names; "Lists.Old" is a subfolder of Lists), with
// the flags a mail client would have set.
const FOLDERS = ['INBOX', 'Archive', 'Sent', 'Lists', 'Lists.Old', 'Project X'];
const FLAGS = ['', 'S', 'RS', 'FS', 'S'];
const IMAP_FLAGS: Record<string, string> = { S: '\\Seen', R: '\\Answered', F: '\\Flagged' };

function client(server: DovecotImap): ImapFlow {
  const c = new ImapFlow({ host: '127.0.0.1', port: server.port, secure: false, auth: { user: server.user, pass: server.password }, logger: false, disableAutoIdle: true });
  c.on('error', () => {});
  return c;
}

// What Dovecot serves: folder → UID → sha256 of BODY[] (Dovecot gives LF files CRLF line ends).
async function served(server: DovecotImap): Promise<{ shas: Map<string, Map<number, string>>; uidValidity: Map<string, string>; flags: Map<string, Map<number, string[]>> }> {
  const c = client(server);
  await c.connect();
  const shas = new Map<string, Map<number, string>>();
  const flags = new Map<string, Map<number, string[]>>();
  const uidValidity = new Map<string, string>();
  for (const f of await c.list()) {
    const lock = await c.getMailboxLock(f.path, { readOnly: true });
    try {
      uidValidity.set(f.path, c.mailbox ? c.mailbox.uidValidity.toString() : '');
      const byUid = new Map<number, string>();
      const flagsByUid = new Map<number, string[]>();
      if (c.mailbox && c.mailbox.exists > 0) {
        for await (const m of c.fetch('1:*', { uid: true, source: true, flags: true }, { uid: true })) {
          byUid.set(m.uid, sha256(m.source!));
          flagsByUid.set(m.uid, [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort());
        }
      }
      shas.set(f.path, byUid);
      flags.set(f.path, flagsByUid);
    } finally {
      lock.release();
    }
  }
  await c.logout();
  return { shas, uidValidity, flags };
}

test('IMAP: every folder of a real Dovecot imported; killed mid-way, cut off by the server, resumed, re-run: every message exactly once and bit-exact; then only what is new', {
  skip: dovecotImapUnavailable(), timeout: 180_000,
}, async () => {
  const maildir = newMaildirRoot();
  const files = corpusFiles();
  const dirs = FOLDERS.map((name) => maildir.folder(name));
  const wantFlags = new Map<string, string>(); // folder + sha → flags letters (for a few checks)
  files.forEach((file, i) => {
    const letters = FLAGS[i % FLAGS.length];
    const folder = i % FOLDERS.length;
    const raw = readFileSync(file);
    writeFileSync(join(dirs[folder], 'cur', `${1_600_000_000 + i}.M${i}P1.sealbox:2,${letters}`), raw);
    wantFlags.set(`${FOLDERS[folder]}\0${sha256(raw.toString('latin1').includes('\r\n') ? raw : Buffer.from(raw.toString('latin1').replace(/\n/g, '\r\n'), 'latin1'))}`, letters);
  });
  const server = await startDovecotImap(maildir.root);
  try {
    const before = await served(server);
    assert.deepEqual([...before.shas.keys()].sort(), [...FOLDERS].sort());
    const total = [...before.shas.values()].reduce((n, m) => n + m.size, 0);
    assert.equal(total, files.length);

    const data = tempDataDir();
    const config = testConfig();
    const args = ['imap', '--data', data, '--config', config, '--host', '127.0.0.1', '--port', String(server.port), '--user', server.user, '--no-tls'];
    const env = { SEALBOX_IMAP_PASSWORD: server.password };

    // A wrong password: a clear refusal, nothing imported.
    const refused = await sealbox(['import', ...args], { env: { SEALBOX_IMAP_PASSWORD: 'wrong' } });
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /cannot log in to IMAP 127\.0\.0\.1:\d+ as importer: authentication failed/);

    // Killed (SIGKILL) in the middle.
    const killed = await killImportMidway(args, data, Math.floor(total / 4), { env });
    assert.equal(killed.signal, 'SIGKILL');
    assert.ok(killed.left > 0 && killed.left < total, `interrupted with ${killed.left} of ${total} captured`);

    // The server drops the connection in the middle of the next run: the folder it was reading
    // is reported as failed, the run exits 1, and what was committed stays.
    const report = join(data, 'report.json');
    const running = runImport(args, report, { env });
    await waitUntil('the import is under way', () => captureCount(data) >= killed.left + 800, { timeoutMs: 120_000, intervalMs: 20 });
    assert.ok(server.killSessions() >= 1, 'the import had a session');
    const cut = await running;
    assert.equal(cut.code, 1, cut.stderr);
    assert.ok(cut.report.failed >= 1);
    assert.ok(FOLDERS.includes(String(cut.report.errors[0].folder)), JSON.stringify(cut.report.errors));
    assert.match(cut.stderr, /FAILED folder /);
    const left = captureCount(data);
    assert.equal(cut.report.imported, left - killed.left, 'the report counts exactly what was committed');

    // Resumed: the rest, and nothing twice. The password may also come on standard input.
    const resumed = await runImport(args, report, { input: Buffer.from(`${server.password}\n`) });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(resumed.report.failed, 0);
    assert.equal(resumed.report.imported, total - left);
    assert.equal(resumed.report.skipped, left);

    // Re-run: nothing new. Every folder is below its remembered UID, so nothing is even fetched.
    const again = await runImport(args, report, { env });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.report.imported, 0);
    assert.equal(again.report.skipped, total);
    assert.equal(captureCount(data), total);

    // Every message exactly once, with the bytes Dovecot serves, and its provenance.
    const archive = await openArchive(data);
    try {
      const seen = new Set<string>();
      let flagged = 0;
      for (const c of await archive.read((tx) => Array.fromAsync(archive.stores.meta.allCaptures(tx)))) {
        assert.equal(c.source, 'import:imap');
        assert.equal(c.envelope, null, 'an import invents no envelope');
        const p = c.provenance as { host: string; port: number; user: string; folder: string; uidValidity: string; uid: number; flags: string[]; internalDate: string };
        const key = `${p.folder}/${p.uidValidity}/${p.uid}`;
        assert.ok(!seen.has(key), `${key} captured twice`);
        seen.add(key);
        assert.equal(p.host, '127.0.0.1');
        assert.equal(p.user, 'importer');
        assert.equal(p.uidValidity, before.uidValidity.get(p.folder));
        assert.equal(c.sha256, before.shas.get(p.folder)!.get(p.uid), `${key}: stored bytes differ from what Dovecot serves`);
        assert.deepEqual(p.flags, before.flags.get(p.folder)!.get(p.uid));
        assert.ok(!Number.isNaN(Date.parse(p.internalDate)));
        const letters = wantFlags.get(`${p.folder}\0${c.sha256}`);
        if (letters !== undefined) {
          assert.deepEqual(p.flags, [...letters].map((l) => IMAP_FLAGS[l]).sort(), `${key}: flags as set in the Maildir`);
          flagged++;
        }
      }
      assert.equal(seen.size, total);
      assert.ok(flagged > files.length / 2, `flags checked on ${flagged} messages`);
    } finally {
      archive.close();
    }
    // The importer read with EXAMINE and BODY.PEEK[]: no flag on the server changed.
    const after = await served(server);
    assert.deepEqual(after.flags, before.flags);

    // New mail arrives in two folders: the next run takes exactly those.
    const c = client(server);
    await c.connect();
    const fresh = [
      Buffer.from('From: a@example.test\r\nTo: b@example.test\r\nSubject: new in INBOX\r\nMessage-ID: <new1@example.test>\r\n\r\nhello\r\n'),
      Buffer.from('From: a@example.test\r\nTo: b@example.test\r\nSubject: new in Lists.Old\r\nMessage-ID: <new2@example.test>\r\n\r\nhello again\r\n'),
    ];
    await c.append('INBOX', fresh[0], ['\\Seen']);
    await c.append('Lists.Old', fresh[1]);
    await c.logout();
    const incremental = await runImport(args, report, { env });
    assert.equal(incremental.code, 0, incremental.stderr);
    assert.equal(incremental.report.imported, 2);
    assert.equal(incremental.report.skipped, total);
    const archive2 = await openArchive(data);
    try {
      for (const raw of fresh) assert.ok(await archive2.read((tx) => archive2.stores.meta.getMessage(tx, sha256(raw))), 'the new message is archived bit-exact');
    } finally {
      archive2.close();
    }

    // --folder takes only the folders named, and names the ones there are when it is wrong.
    const wrongFolder = await sealbox(['import', ...args, '--folder', 'Sent', 'Nonesuch'], { env });
    assert.equal(wrongFolder.code, 2);
    assert.match(wrongFolder.stderr, /no such IMAP folder: Nonesuch \(there are: .*Lists\.Old.*\)/);
    const oneFolder = await runImport([...args, '--folder', 'Sent'], report, { env });
    assert.equal(oneFolder.code, 0, oneFolder.stderr);
    assert.equal(oneFolder.report.skipped, before.shas.get('Sent')!.size);

    const verified = await sealbox(['verify', '--data', data]);
    assert.equal(verified.code, 0, verified.stdout.toString() + verified.stderr);
  } finally {
    await server.stop();
  }
});
