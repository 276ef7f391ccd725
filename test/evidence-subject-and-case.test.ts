// Issue 18, items 3 and 1 (cases): a data subject's copy (GDPR Art. 15) is the evidence package
// of their Art. 15 grant, with the mail of which others are the main party withheld (by default)
// or included, what was withheld counted in custody.json and README.txt, never shown; verify.py
// passes on both. A case (legal hold) is exported under a grant that covers it, and the package
// names the hold. Cancelling a job is a ledger entry, and the owner sees it for what it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { accessStateProblems } from '../src/oversight/access-state-check.ts';
import { startInProcessWorld } from './support/in-process.ts';
import type { InProcessWorld } from './support/in-process.ts';
import { tempDataDir } from './support/sealbox.ts';
import { waitUntil } from './support/wait.ts';

const ERIN = 'erin@ext.test';
const ERIN_HOME = 'erin.b@home.test';
const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function mail(h: { from: string; to: string; cc?: string; sender?: string; subject: string; date?: string }): Buffer {
  return Buffer.from(`From: ${h.from}\r\n${h.sender ? `Sender: ${h.sender}\r\n` : ''}To: ${h.to}\r\n${h.cc ? `Cc: ${h.cc}\r\n` : ''}Subject: ${h.subject}\r\n`
    + `Date: ${h.date ?? 'Mon, 03 Mar 2025 10:00:00 +0000'}\r\nMessage-ID: <${h.subject}@corp.test>\r\n\r\n${h.subject} body text\r\n`);
}

// Erin as a main party (author, sender, To) and only as a copy (Cc, Bcc, a mailing list's member).
const SENT: Record<string, { envelope: { from: string; to: string[] }; raw: Buffer; main: boolean | null }> = {
  asFrom: { envelope: { from: ERIN, to: ['olga@corp.test'] }, raw: mail({ from: ERIN, to: 'olga@corp.test', subject: 's-from' }), main: true },
  asTo: { envelope: { from: 'carl@corp.test', to: [ERIN_HOME] }, raw: mail({ from: 'carl@corp.test', to: ERIN_HOME, subject: 's-to' }), main: true },
  asSender: { envelope: { from: ERIN, to: ['bob@corp.test'] }, raw: mail({ from: 'olga@corp.test', sender: ERIN, to: 'bob@corp.test', subject: 's-sender' }), main: true },
  asCc: { envelope: { from: 'olga@corp.test', to: ['bob@corp.test', ERIN] }, raw: mail({ from: 'olga@corp.test', to: 'bob@corp.test', cc: ERIN, subject: 's-cc' }), main: false },
  asBcc: { envelope: { from: 'bob@corp.test', to: ['carl@corp.test', ERIN] }, raw: mail({ from: 'bob@corp.test', to: 'carl@corp.test', subject: 's-bcc' }), main: false },
  asList: { envelope: { from: 'list-bounces@corp.test', to: ['olga@corp.test', ERIN_HOME] }, raw: mail({ from: 'dan@ext.test', to: 'all-staff@corp.test', subject: 's-list' }), main: false },
  other: { envelope: { from: 'x@ext.test', to: ['olga@corp.test'] }, raw: mail({ from: 'x@ext.test', to: 'olga@corp.test', subject: 'u-other', date: 'Tue, 04 Mar 2025 10:00:00 +0000' }), main: null },
};

function run(command: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function world(t: { after(fn: () => unknown): void }): Promise<InProcessWorld & { call(who: string, method: string, path: string, body?: unknown, status?: number): Promise<any> }> {
  const w = await startInProcessWorld({
    messages: {},
    mailboxes: { 'olga@corp.test': 'olga', 'bob@corp.test': 'bob', 'carl@corp.test': 'carl' },
    users: { olga: ['owner'], bob: ['owner'], carl: ['owner'], rita: ['requester'], appr: ['approver'], rec: ['records'] },
  });
  t.after(async () => {
    await w.parts.exports.stop();
    await w.stop();
  });
  for (const m of Object.values(SENT)) await w.deliver(m.envelope, m.raw);
  // Signed as serve signs one every few minutes: the packages prove every receipt.
  await w.parts.checkpoint();
  await w.takeAll();
  const call = async (who: string, method: string, path: string, body?: unknown, status = 200) => {
    const r = await w.as[who].call(method, path, body);
    assert.equal(r.status, status, `${who} ${method} ${path}: ${r.body instanceof Buffer ? r.body.toString() : JSON.stringify(r.body)}`);
    return r.body;
  };
  return Object.assign(w, { call });
}

// Runs the queued jobs, waits for `id` to be done, downloads its volumes, unzips them with Python's
// zipfile (not our reader) and runs the package's own verify.py with the archive's key.
async function madeAndVerified(w: Awaited<ReturnType<typeof world>>, id: string): Promise<{ job: any; dir: string }> {
  w.parts.exports.run();
  const job = await waitUntil(`export job ${id} is done`, async () => {
    const j = await w.call('rita', 'GET', `/api/v1/exports/${id}`);
    assert.ok(['queued', 'running', 'done'].includes(j.state), JSON.stringify(j));
    return j.state === 'done' && j;
  }, { timeoutMs: 120_000, intervalMs: 20 });
  const into = tempDataDir();
  const volumes: string[] = [];
  for (const f of job.files) {
    const body = await w.call('rita', 'GET', `/api/v1/exports/${id}/files/${f.name}`);
    writeFileSync(join(into, f.name), body);
    volumes.push(join(into, f.name));
  }
  const dir = join(into, 'package');
  mkdirSync(dir);
  const py = await run('python3', ['-c', 'import sys, zipfile\nfor v in sys.argv[2:]:\n    zipfile.ZipFile(v).extractall(sys.argv[1])', dir, ...volumes]);
  assert.equal(py.code, 0, py.stderr);
  const v = await run('python3', [join(dir, 'verify.py'), dir, '--key', w.archive.verifierKey]);
  assert.equal(v.code, 0, v.stdout + v.stderr);
  assert.match(v.stdout, new RegExp(`^OK ${job.progress.messagesTotal} messages`));
  return { job, dir };
}

test('a data subject\'s copy withholds the mail of which others are the main party, counted; or includes it; verify.py passes on both', { timeout: 300_000 }, async (t) => {
  const w = await world(t);
  const filed = await w.call('rita', 'POST', '/api/v1/subject-requests/access', { addresses: [ERIN, ERIN_HOME], reference: 'DSAR-9', justification: 'Erin asked for a copy', durationHours: 24 });
  await w.call('appr', 'POST', `/api/v1/requests/${filed.id}/approve`, { reason: 'identity checked' });
  await w.takeAll();
  const sha = (key: string) => digest(SENT[key].raw);
  const mainKeys = Object.keys(SENT).filter((k) => SENT[k].main === true);
  const copyKeys = Object.keys(SENT).filter((k) => SENT[k].main === false);

  // The default (export.subjectAccess.otherParties: withhold).
  const withheld = await w.call('rita', 'POST', '/api/v1/exports', { q: filed.query, grant: filed.id }, 202);
  assert.deepEqual([withheld.found, withheld.progress.messagesTotal, withheld.subjectAccess], [6, 3, { otherParties: 'withhold', withheld: 3 }]);
  const [started] = await w.take('rita');
  assert.deepEqual([started.operation, started.parameters.subjectAccess, started.objects.messages.sort()], ['export.job', { otherParties: 'withhold', withheld: 3 }, mainKeys.map(sha).sort()]);
  const a = await madeAndVerified(w, withheld.id);
  assert.deepEqual(readdirSync(join(a.dir, 'messages')).sort(), mainKeys.map((k) => `${sha(k)}.eml`).sort(), 'only the mail she is a main party of');
  const custody = JSON.parse(readFileSync(join(a.dir, 'custody.json'), 'utf8'));
  assert.deepEqual({ ...custody.subjectAccess, mainPartyRule: undefined, law: undefined }, {
    addresses: [ERIN, ERIN_HOME], otherParties: 'withhold', found: 6, considered: 6, withheld: 3, included: 3, mainPartyRule: undefined, law: undefined,
  });
  assert.match(custody.subjectAccess.mainPartyRule, /From or Sender header.*MAIL FROM.*To header/);
  const readme = readFileSync(join(a.dir, 'README.txt'), 'utf8');
  assert.match(readme, /^A copy of your e-mail data \(GDPR Art\. 15\)/);
  assert.match(readme, /It holds 3 message\(s\)/);
  assert.match(readme, /3 message\(s\) were left out of this copy because other people are their main\nparty/);
  // Absent: not their bytes, nor their hashes, nor their subjects, anywhere in the package.
  const everything = (dir: string): string => readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? everything(join(dir, e.name)) : readFileSync(join(dir, e.name), 'latin1'))).join('\n');
  const all = everything(a.dir);
  for (const k of copyKeys) {
    assert.ok(!all.includes(sha(k)), `${k}: its sha256 is nowhere in the package`);
    assert.ok(!all.includes(`s-${k.slice(2).toLowerCase()} body`) && !all.includes(`Subject: s-${k.slice(2).toLowerCase()}`), `${k}: nor its content`);
  }
  const exported = (await w.take('rita')).filter((e) => e.operation === 'export');
  assert.deepEqual(exported.map((e) => [e.result, e.objects.messages.length, e.parameters.job]), [['success', 3, withheld.id]]);

  // Included on request: the whole of it, and the package says none were left out.
  const included = await w.call('rita', 'POST', '/api/v1/exports', { q: filed.query, grant: filed.id, otherParties: 'include' }, 202);
  assert.deepEqual([included.progress.messagesTotal, included.subjectAccess], [6, { otherParties: 'include', withheld: 0 }]);
  const b = await madeAndVerified(w, included.id);
  assert.deepEqual(readdirSync(join(b.dir, 'messages')).sort(), [...mainKeys, ...copyKeys].map((k) => `${sha(k)}.eml`).sort());
  assert.deepEqual(JSON.parse(readFileSync(join(b.dir, 'custody.json'), 'utf8')).subjectAccess.withheld, 0);
  assert.match(readFileSync(join(b.dir, 'README.txt'), 'utf8'), /are included as well[^]*None were left out\./);

  // Someone of whom the archive holds nothing: filed and approved alike, and the copy says so.
  const nobody = await w.call('rita', 'POST', '/api/v1/subject-requests/access', { addresses: ['nobody@nowhere.test'], reference: 'DSAR-10', justification: 'asked for a copy', durationHours: 24 });
  await w.call('appr', 'POST', `/api/v1/requests/${nobody.id}/approve`, { reason: 'identity checked' });
  await w.takeAll();
  const empty = await w.call('rita', 'POST', '/api/v1/exports', { q: nobody.query, grant: nobody.id }, 202);
  assert.deepEqual([empty.found, empty.progress.messagesTotal, empty.subjectAccess], [0, 0, { otherParties: 'withhold', withheld: 0 }]);
  const c = await madeAndVerified(w, empty.id);
  assert.match(readFileSync(join(c.dir, 'README.txt'), 'utf8'), /The archive holds no e-mail in which you take part at these addresses: this copy holds none\.\n[^]*No message was left out\./);

  // otherParties belongs to an Art. 15 grant only: anywhere else it is bad input, and starts nothing.
  const plain = await w.call('rita', 'POST', '/api/v1/requests', { purpose: 'legal-hold', justification: 'case', ticket: 'LEG-1', mailboxes: ['olga@corp.test'], permissions: ['search', 'read', 'export'], durationHours: 4 });
  await w.call('appr', 'POST', `/api/v1/requests/${plain.id}/approve`, { reason: 'ok' });
  await w.takeAll();
  const bad = await w.call('rita', 'POST', '/api/v1/exports', { q: 'mailbox:olga@corp.test', grant: plain.id, otherParties: 'withhold' }, 400);
  assert.deepEqual(bad.error.fields, ['otherParties']);
  assert.equal((await w.call('rita', 'GET', '/api/v1/exports')).jobs.length, 3);
  // The grant of no mailbox is what its ledger entries say it is: oversight's check finds nothing.
  const s = w.archive.services;
  assert.deepEqual(await w.archive.stores.meta.read((tx) => accessStateProblems(tx, { ...s.oversightStores, grants: s.grants, people: s.people, leavers: s.leavers, clock: w.clock })), []);
});

test('a case is exported under a grant that covers its hold, and the package names the hold; cancelling is an entry the owner sees', { timeout: 300_000 }, async (t) => {
  const w = await world(t);
  // Placed by a records manager, who reads no mail: the export is the investigator's, under a grant.
  const hold = await w.call('rec', 'POST', '/api/v1/holds', { name: 'Supplier dispute', matter: 'LEG-31', custodians: ['olga@corp.test'], dateFrom: '2025-03-01', dateTo: '2025-03-04' });
  const file = async (mailboxes: string[], extra: Record<string, unknown> = {}) => {
    const r = await w.call('rita', 'POST', '/api/v1/requests', { purpose: 'legal-hold', justification: 'LEG-31 production', ticket: 'LEG-31', mailboxes, permissions: ['search', 'read', 'export'], durationHours: 4, ...extra });
    await w.call('appr', 'POST', `/api/v1/requests/${r.id}/approve`, { reason: 'matter open' });
    return r.id as string;
  };
  const covering = await file(['olga@corp.test', 'bob@corp.test']);
  const otherBox = await file(['bob@corp.test']);
  const narrower = await file(['olga@corp.test'], { dateFrom: '2025-03-02' });
  await w.takeAll();

  // A grant that does not cover the hold is refused by what it lacks, and the refusal is an entry.
  for (const [grant, why] of [[otherBox, /: 1 of its \d+ custodians is not among the grant's mailboxes$/], [narrower, /the hold's window starts before the grant's/]] as const) {
    const r = await w.call('rita', 'POST', `/api/v1/holds/${hold.id}/export`, { grant }, 403);
    assert.match(r.error.message, why);
    assert.deepEqual((await w.take('rita')).map((e) => [e.operation, e.result, e.grantId, e.parameters.hold]), [['export.job', 'denied', grant, hold.id]]);
  }
  await w.call('rita', 'POST', '/api/v1/holds/hold_000000000aaaaaaaaaaaaaaaa/export', { grant: covering }, 404);
  await w.call('rec', 'POST', `/api/v1/holds/${hold.id}/export`, { grant: covering }, 403);
  await w.takeAll();

  // Olga's mail in the hold's window (3 March; u-other is dated the 4th, outside it).
  const olgas = Object.keys(SENT).filter((k) => SENT[k].envelope.to.includes('olga@corp.test') || SENT[k].envelope.from === 'olga@corp.test' || SENT[k].raw.includes('From: olga@corp.test'));
  const inWindow = olgas.filter((k) => k !== 'other');
  const job = await w.call('rita', 'POST', `/api/v1/holds/${hold.id}/export`, { grant: covering, note: 'production for LEG-31' }, 202);
  assert.deepEqual([job.hold, job.progress.messagesTotal, job.query], [{ id: hold.id, name: 'Supplier dispute', matter: 'LEG-31' }, inWindow.length, 'mailbox:"olga@corp.test"']);
  const [start] = await w.take('rita');
  assert.deepEqual([start.operation, start.parameters.hold, start.objects.messages.sort()], ['export.job', hold.id, inWindow.map((k) => digest(SENT[k].raw)).sort()]);
  const { dir } = await madeAndVerified(w, job.id);
  const custody = JSON.parse(readFileSync(join(dir, 'custody.json'), 'utf8'));
  assert.deepEqual([custody.hold.id, custody.hold.name, custody.hold.matter, custody.hold.custodians, custody.hold.dateFrom, custody.hold.dateTo, custody.hold.placedBy],
    [hold.id, 'Supplier dispute', 'LEG-31', ['olga@corp.test'], '2025-03-01T00:00:00.000Z', '2025-03-04T00:00:00.000Z', 'user:rec']);
  assert.equal(custody.job.id, job.id);
  assert.match(readFileSync(join(dir, 'README.txt'), 'utf8'), new RegExp(`This is the export of legal hold ${hold.id} "Supplier dispute" \\(matter LEG-31\\)`));

  // Cancelled while queued: one export.cancel entry, who and which job and how far it got.
  await w.parts.exports.stop();
  const queued = await w.call('rita', 'POST', `/api/v1/holds/${hold.id}/export`, { grant: covering }, 202);
  await w.takeAll();
  const cancelled = await w.call('rita', 'POST', `/api/v1/exports/${queued.id}/cancel`);
  assert.equal(cancelled.state, 'cancelled');
  const [entry, ...more] = await w.take('rita');
  assert.deepEqual(more, []);
  assert.deepEqual([entry.operation, entry.result, entry.grantId, entry.objects.mailboxes, entry.objects.messages.length], ['export.cancel', 'success', covering, ['olga@corp.test'], inWindow.length]);
  assert.deepEqual({ ...entry.parameters, query: undefined, userAgent: undefined }, {
    job: queued.id, query: undefined, userAgent: undefined, startedEntry: queued.startedEntry, state: 'queued', phase: 'messages', messagesDone: 0, messagesTotal: inWindow.length, bytesDone: 0,
    bytesTotal: queued.progress.bytesTotal, filesDelivered: 0,
  });
  // Cancelling again changes nothing and writes nothing.
  await w.call('rita', 'POST', `/api/v1/exports/${queued.id}/cancel`, undefined, 409);
  assert.deepEqual(await w.take('rita'), []);

  // The owner sees the export that was made and the one that was cancelled, as each was.
  const seen = (await w.call('olga', 'GET', '/api/v1/mailboxes/mine/accesses')).requests.find((g: any) => g.request?.id === covering);
  assert.equal(seen.exports, 1);
  assert.deepEqual(seen.details.filter((d: any) => d.kind.startsWith('export')).map((d: any) => [d.kind, d.messages, d.done ?? null, d.of ?? null]),
    [['export', inWindow.length, null, null], ['export-cancelled', inWindow.length, 0, inWindow.length]]);
  assert.ok(!seen.details.some((d: any) => d.kind === 'export-cancelled' && d.mailboxes.includes('bob@corp.test')));
});
