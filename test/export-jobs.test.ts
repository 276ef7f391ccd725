// Issue 18, step 2: export jobs. The server makes an evidence package in the background under a
// grant that carries export, zipped in volumes of a set size; a server killed (SIGKILL) in the
// middle of one resumes it at its next start and makes the very package an uninterrupted run
// makes: the same volumes, byte for byte, so the same manifest. The shipped verify.py passes on
// the volumes as downloaded through the API and unzipped by Python's zipfile and by Info-ZIP
// unzip (readers that are not ours). Only a grant with export starts one; the start and every
// download are in the ledger; a job is its owner's alone; a running job can be cancelled, which is
// an entry of its own; the mailbox's owner sees the export, and the cancelled one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { corpusFiles } from './support/corpus.ts';
import { deliverAll } from './support/ingest.ts';
import type { Delivery } from './support/ingest.ts';
import { toCrlf } from './support/smtp-client.ts';
import { sealbox, startSealbox, tempDataDir } from './support/sealbox.ts';
import type { SealboxServer } from './support/sealbox.ts';
import { testConfig, waitForIndex } from './support/archive.ts';
import { directoryCsv, signInEveryone, consoleAdds, WATCHER } from './support/access-world.ts';
import { enrolmentCode } from './support/outbox.ts';
import { ApiClient } from './support/api-client.ts';
import { waitUntil } from './support/wait.ts';

const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const VOLUME = 4 * 1024 * 1024;

function run(command: string, args: string[], cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('an export job killed mid-way resumes and makes the same package; verify.py passes on its downloaded volumes', { timeout: 900_000 }, async (t) => {
  const common = { internalDomains: ['corp.test'], access: { secureCookies: false, requestsPerMinute: 1_000_000, signinPerMinute: 10_000, linkedPeopleDays: 0 }, ledger: { checkpointEverySeconds: 3600 } };
  // jobs: 0 queues jobs without running them: the job is started there and copied.
  const queueOnly = testConfig({ ...common, export: { jobs: 0, volumeBytes: VOLUME } });
  const running = testConfig({ ...common, export: { jobs: 1, volumeBytes: VOLUME } });

  const deliveries: Delivery[] = corpusFiles().filter((_, i) => i % 4 === 0).map((file, index) => ({
    index, data: toCrlf(readFileSync(file)), envelope: { from: 'journal@relay.test', to: ['olga@corp.test', ...(index % 5 === 0 ? ['bob@corp.test'] : [])] },
  }));
  const sha256s = new Set(deliveries.map((d) => digest(d.data)));
  const first = await startSealbox({ args: ['--config', queueOnly] });
  const replies = await deliverAll(first.smtp.port, deliveries, { connections: 4 });
  assert.deepEqual([...replies.values()].filter((r) => r.code !== 250), []);
  await waitForIndex(first.data);
  assert.equal(await first.stop(), 0, first.stderr());

  const server = await startSealbox({ data: first.data, args: ['--config', queueOnly, '--http', '127.0.0.1:0'] });
  t.after(() => server.stop());
  const cli = ['--data', server.data, '--config', queueOnly];
  const csvFile = join(tempDataDir(), 'directory.csv');
  writeFileSync(csvFile, directoryCsv({ 'olga@corp.test': 'olga', 'bob@corp.test': 'bob' }));
  assert.equal((await sealbox(['mailboxes', 'import', ...cli, csvFile])).code, 0);
  const added = await sealbox(['users', 'add', ...cli, '--name', 'adm', '--email', 'adm@corp.test', '--role', 'admin']);
  assert.equal(added.code, 0, added.stderr);
  const world = await signInEveryone(() => new ApiClient(server.http!.url), /enrolment code (\S+)/.exec(added.stdout.toString())![1],
    { olga: ['owner'], bob: ['owner'], rita: ['requester'], appr: ['approver'] }, { mailedCode: async (a) => enrolmentCode(server.data, a), atConsole: consoleAdds(cli) });
  const { as } = world;
  const call = async (who: string, method: string, path: string, body?: unknown, status = 200) => {
    const r = await as[who].call(method, path, body);
    assert.equal(r.status, status, `${who} ${method} ${path}: ${r.body instanceof Buffer ? r.body.toString() : JSON.stringify(r.body)}`);
    return r.body;
  };
  const ask = async (permissions: string[]) => {
    const id = (await call('rita', 'POST', '/api/v1/requests', {
      purpose: 'legal-hold', justification: 'Supplier dispute: production of the whole mailbox', ticket: 'LEG-22', mailboxes: ['olga@corp.test', 'bob@corp.test'], permissions, durationHours: 8,
    })).id as string;
    assert.equal((await call('appr', 'POST', `/api/v1/requests/${id}/approve`, { reason: 'matter LEG-22 is open' })).state, 'active');
    return id;
  };
  const grant = await ask(['search', 'read', 'export']);
  const searchOnly = await ask(['search']);
  await world.takeAll();

  // Only a grant that carries export starts a job; the refusal is in the ledger.
  const refused = await as.rita.call('POST', '/api/v1/exports', { q: 'mailbox:olga@corp.test', grant: searchOnly });
  assert.equal(refused.status, 403, JSON.stringify(refused.body));
  assert.deepEqual((await world.take('rita')).map((e) => [e.operation, e.result, e.grantId]), [['export.job', 'denied', searchOnly]]);
  // Bad input is refused by name and starts nothing.
  const bad = await as.rita.call('POST', '/api/v1/exports', { q: 'mailbox:olga@corp.test', grant, volumeBytes: 1000 });
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.body.error.fields, ['volumeBytes']);

  const started = await call('rita', 'POST', '/api/v1/exports', { q: 'mailbox:olga@corp.test', grant, note: 'production for LEG-22' }, 202);
  assert.deepEqual([started.state, started.found, started.progress.messagesTotal, started.progress.messages], ['queued', sha256s.size, sha256s.size, 0]);
  const jobId = started.id as string;
  const [start] = (await world.take('rita')).filter((e) => e.operation === 'export.job');
  assert.deepEqual([start.result, start.grantId, start.index, start.objects.messages.length, start.parameters.note], ['success', grant, started.startedEntry, sha256s.size, 'production for LEG-22']);
  // A job is its owner's: anyone else is answered as if it did not exist.
  await call('bob', 'GET', `/api/v1/exports/${jobId}`, undefined, 404);
  assert.deepEqual((await call('bob', 'GET', '/api/v1/exports')).jobs, []);
  assert.deepEqual((await call('rita', 'GET', '/api/v1/exports')).jobs.map((j: any) => [j.id, j.state]), [[jobId, 'queued']]);
  await call('rita', 'GET', `/api/v1/exports/${jobId}/files/x.zip`, undefined, 409);

  const tokens: Record<string, string> = {};
  for (const [who, scope] of [['rita', 'content'], ['olga', 'content'], [WATCHER, 'ledger']] as const) {
    tokens[who] = (await call(who, 'POST', '/api/v1/tokens', { name: 'jobs', scopes: [scope], days: 1 })).token;
  }
  assert.equal(await server.stop(), 0, server.stderr());

  // Two copies of the archive with the job queued in each: one runs it through, one is killed.
  const copyA = tempDataDir();
  const copyB = tempDataDir();
  cpSync(server.data, copyA, { recursive: true });
  cpSync(server.data, copyB, { recursive: true });
  const client = (s: SealboxServer, who: string) => {
    const c = new ApiClient(s.http!.url);
    c.token = tokens[who];
    return c;
  };
  const job = async (s: SealboxServer) => {
    const r = await client(s, 'rita').call('GET', `/api/v1/exports/${jobId}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };
  const finished = async (s: SealboxServer) => {
    let last: any = null;
    await waitUntil('the export job is done', async () => {
      last = await job(s);
      assert.ok(!['failed', 'cancelled'].includes(last.state), JSON.stringify(last));
      return last.state === 'done';
    }, { timeoutMs: 600_000, intervalMs: 200 });
    return last;
  };
  const download = async (s: SealboxServer, done: any, into: string) => {
    mkdirSync(into, { recursive: true });
    for (const f of done.files) {
      const r = await client(s, 'rita').call('GET', `/api/v1/exports/${jobId}/files/${f.name}`);
      assert.equal(r.status, 200, r.body.toString());
      assert.equal(r.headers.get('content-type'), 'application/zip');
      assert.equal(digest(r.body), f.sha256);
      writeFileSync(join(into, f.name), r.body);
    }
    return done.files.map((f: any) => join(into, f.name)) as string[];
  };

  const a = await startSealbox({ data: copyA, args: ['--config', running, '--http', '127.0.0.1:0'] });
  t.after(() => a.stop());
  const startedAt = performance.now();
  const doneA = await finished(a);
  const seconds = (performance.now() - startedAt) / 1000;
  const bytes = deliveries.reduce((n, d) => n + d.data.length, 0);
  t.diagnostic(`export job of ${sha256s.size} messages (${(bytes / 1e6).toFixed(1)} MB) done in ${seconds.toFixed(1)} s with the server's start: ${(sha256s.size / seconds).toFixed(0)} messages/s, ${(bytes / 1e6 / seconds).toFixed(2)} MB/s; ${doneA.files.length} volumes`);
  assert.equal(doneA.progress.resumed, 0);
  assert.ok(doneA.files.length >= 3, `several volumes of ${VOLUME} bytes (${doneA.files.length})`);
  for (const f of doneA.files) assert.ok(f.size <= VOLUME, `${f.name}: ${f.size} bytes`);
  const volumesA = await download(a, doneA, join(tempDataDir(), 'A'));
  assert.equal(await a.stop(), 0, a.stderr());

  // Another node of the archive (a copy of A without its exports) serves a finished job's files
  // from export.folder: from the folder the job was written to, the same bytes; from one without
  // them, a refusal that names the key.
  const node = tempDataDir();
  cpSync(copyA, node, { recursive: true });
  rmSync(join(node, 'exports'), { recursive: true, force: true });
  for (const [folder, served] of [[join(copyA, 'exports'), true], [tempDataDir(), false]] as const) {
    const n = await startSealbox({ data: node, args: ['--config', testConfig({ ...common, export: { jobs: 0, volumeBytes: VOLUME, folder } }), '--http', '127.0.0.1:0'] });
    try {
      const f = doneA.files[0];
      const r = await client(n, 'rita').call('GET', `/api/v1/exports/${jobId}/files/${f.name}`);
      if (served) {
        assert.equal(r.status, 200);
        assert.equal(digest(r.body), f.sha256);
      } else {
        // The answer names no path of the server's; its log does.
        assert.deepEqual([r.status, r.body.error.code], [503, 'SEALBOX_ERR_STORE_UNAVAILABLE'], JSON.stringify(r.body));
        await waitUntil('the server logs why', async () => /not in this server's export folder .*export\.folder must be one folder they all reach/.test(n.stderr()), { timeoutMs: 5000, intervalMs: 50 });
      }
    } finally {
      assert.equal(await n.stop(), 0, n.stderr());
    }
  }

  // B: killed while it writes messages, after some were written down and before all were.
  let b = await startSealbox({ data: copyB, args: ['--config', running, '--http', '127.0.0.1:0'] });
  await waitUntil('the job has written some messages down', async () => {
    const j = await job(b);
    assert.equal(j.state === 'done', false, 'the job ended before it could be killed');
    return j.progress.messages >= 100;
  }, { timeoutMs: 300_000, intervalMs: 20 });
  await b.kill();
  const db = new DatabaseSync(join(copyB, 'sealbox.db'), { readOnly: true });
  const atKill = db.prepare('SELECT state, messages_done AS done, (SELECT COUNT(*) FROM export_job_item WHERE job_id = id) AS items FROM export_job WHERE id = ?').get(jobId) as any;
  db.close();
  assert.equal(atKill.state, 'running');
  assert.ok(atKill.items >= 100 && atKill.items < sha256s.size, `killed mid-way: ${atKill.items} of ${sha256s.size} made`);
  t.diagnostic(`killed with ${atKill.items} of ${sha256s.size} messages written down`);

  b = await startSealbox({ data: copyB, args: ['--config', running, '--http', '127.0.0.1:0'] });
  t.after(() => b.stop());
  const doneB = await finished(b);
  assert.equal(doneB.progress.resumed, 1, 'picked up again, not started over');
  const volumesB = await download(b, doneB, join(tempDataDir(), 'B'));

  await t.test('the resumed job made the same package as the uninterrupted one, volume for volume', () => {
    assert.equal(doneB.manifestSha256, doneA.manifestSha256);
    assert.deepEqual(doneB.files, doneA.files);
    assert.deepEqual(volumesB.map((f) => digest(readFileSync(f))), volumesA.map((f) => digest(readFileSync(f))));
  });

  await t.test('verify.py passes on the volumes unzipped by Python\'s zipfile and by Info-ZIP unzip, and on the zip files themselves', async () => {
    const byPython = join(tempDataDir(), 'unzipped-python');
    const py = await run('python3', ['-c', 'import sys, zipfile\nfor v in sys.argv[2:]:\n    zipfile.ZipFile(v).extractall(sys.argv[1])', byPython, ...volumesB]);
    assert.equal(py.code, 0, py.stderr);
    const byUnzip = join(tempDataDir(), 'unzipped-infozip');
    mkdirSync(byUnzip);
    for (const v of volumesB) {
      const u = await run('unzip', ['-q', '-n', v, '-d', byUnzip]);
      assert.equal(u.code, 0, u.stdout + u.stderr);
    }
    const manifest = JSON.parse(readFileSync(join(byPython, 'manifest.json'), 'utf8'));
    assert.equal(digest(readFileSync(join(byPython, 'manifest.json'))), doneB.manifestSha256);
    assert.equal(manifest.files.filter((f: any) => f.path.startsWith('messages/')).length, sha256s.size);
    assert.deepEqual(readdirSync(join(byUnzip, 'messages')).sort(), [...sha256s].map((s) => `${s}.eml`).sort());
    for (const d of deliveries.slice(0, 50)) assert.ok(readFileSync(join(byUnzip, 'messages', `${digest(d.data)}.eml`)).equals(d.data), 'bit-exact');
    const key = (await sealbox(['ledger', 'public-key', '--data', copyB, '--config', running])).stdout.toString().trim();
    for (const folder of [byPython, byUnzip]) {
      const v = await run('python3', [join(folder, 'verify.py'), folder, '--key', key]);
      assert.equal(v.code, 0, v.stdout + v.stderr);
      assert.match(v.stdout, new RegExp(`^OK ${sha256s.size} messages`));
    }
    const zipped = await run('python3', [join(byPython, 'verify.py'), ...[...volumesB].reverse(), '--key', key]);
    assert.equal(zipped.code, 0, zipped.stdout + zipped.stderr);
    // A volume left out fails, naming the files it held.
    const missing = await run('python3', [join(byPython, 'verify.py'), ...volumesB.slice(0, -1), '--key', key]);
    assert.equal(missing.code, 1);
    assert.match(missing.stdout, /^FAIL messages\/[0-9a-f]{64}\.eml: is in the manifest but missing$/m);
  });

  await t.test('the start, the export and every download are in the ledger; the owner sees the export', async () => {
    const watcher = client(b, WATCHER);
    const entries: any[] = [];
    for (let from = 0; ;) {
      const r = await watcher.call('GET', `/api/v1/ledger/entries?from=${from}&limit=1000`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      entries.push(...r.body.entries);
      if (r.body.entries.length < 1000) break;
      from = r.body.entries.at(-1).index + 1;
    }
    const rita = entries.filter((e) => e.actor === 'user:rita' && e.operation.startsWith('export'));
    const exported = rita.filter((e) => e.operation === 'export');
    assert.deepEqual(exported.map((e) => [e.result, e.grantId, e.parameters.job, e.parameters.manifestSha256, e.objects.messages.length]),
      [['success', grant, jobId, doneB.manifestSha256, sha256s.size]], 'one export entry, from the resumed run');
    assert.equal(exported[0].index, doneB.ledgerIndex);
    const downloads = rita.filter((e) => e.operation === 'export.download');
    assert.deepEqual(downloads.map((e) => e.parameters.file), doneB.files.map((f: any) => f.name));
    assert.deepEqual(downloads.map((e) => e.parameters.sha256), doneB.files.map((f: any) => f.sha256));
    assert.equal(new Set(downloads.flatMap((e) => e.objects.messages)).size, sha256s.size, 'the downloads name every message they hand out');
    assert.ok(downloads.every((e) => e.result === 'success' && e.grantId === grant));

    const olga = client(b, 'olga');
    const seen = (await olga.call('GET', '/api/v1/mailboxes/mine/accesses')).body.requests.find((g: any) => g.request?.id === grant);
    assert.deepEqual([seen.person.name, seen.exports, seen.messagesExported], ['rita', 1, sha256s.size]);
    assert.ok(seen.details.some((d: any) => d.kind === 'export' && d.messages === sha256s.size && d.query === 'mailbox:olga@corp.test'));
  });

  await t.test('a running job can be cancelled: it stops and what it made is removed', async () => {
    const r = await client(b, 'rita').call('POST', '/api/v1/exports', { q: 'mailbox:olga@corp.test', grant });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const id = r.body.id;
    await waitUntil('the second job runs', async () => (await client(b, 'rita').call('GET', `/api/v1/exports/${id}`)).body.state === 'running', { timeoutMs: 60_000, intervalMs: 20 });
    const cancelled = await client(b, 'rita').call('POST', `/api/v1/exports/${id}/cancel`);
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    assert.equal(cancelled.body.state, 'cancelled');
    await waitUntil('its folder is removed', () => !existsSync(join(copyB, 'exports', id)), { timeoutMs: 60_000, intervalMs: 50 });
    // The cancel is an entry of its own: who, which job, how far it got; the owner sees it.
    const tail = (await client(b, WATCHER).call('GET', `/api/v1/ledger/entries?from=${r.body.startedEntry}&limit=1000`)).body.entries;
    const [cancel, ...more] = tail.filter((e: any) => e.operation === 'export.cancel');
    assert.deepEqual(more, []);
    assert.deepEqual([cancel.actor, cancel.result, cancel.grantId, cancel.parameters.job, cancel.parameters.state, cancel.parameters.messagesTotal, cancel.parameters.startedEntry, cancel.parameters.filesDelivered, cancel.objects.messages.length],
      ['user:rita', 'success', grant, id, 'running', sha256s.size, r.body.startedEntry, 0, sha256s.size]);
    assert.ok(cancel.parameters.messagesDone >= 0 && cancel.parameters.messagesDone < sha256s.size, JSON.stringify(cancel.parameters));
    const seen = (await client(b, 'olga').call('GET', '/api/v1/mailboxes/mine/accesses')).body.requests.find((g: any) => g.request?.id === grant);
    assert.ok(seen.details.some((d: any) => d.kind === 'export-cancelled' && d.messages === sha256s.size && d.of === sha256s.size && d.done === cancel.parameters.messagesDone), JSON.stringify(seen.details.filter((d: any) => d.kind !== 'read')));
    const again = await client(b, 'rita').call('POST', `/api/v1/exports/${id}/cancel`);
    assert.equal(again.status, 409);
    assert.equal((await client(b, 'rita').call('GET', `/api/v1/exports/${id}/files/x.zip`)).status, 409);
    // The finished job's folder holds its volumes only: the package folder is gone.
    assert.deepEqual(readdirSync(join(copyB, 'exports', jobId)).sort(), doneB.files.map((f: any) => f.name).sort());
  });
});
