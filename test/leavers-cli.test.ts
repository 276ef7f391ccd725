// Leavers at the console, as an operator files them beside a running server: `sealbox leavers
// file`, `withdraw` and `exempt` are filed exactly as the API files them (a `leaver.file` entry
// naming the mailbox, by the operating-system account; a refusal a `denied` one), never applied by
// the one who files them; an approver decides through the API, and `leavers list` shows both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ApiClient } from './support/api-client.ts';
import { testConfig } from './support/archive.ts';
import { exportedEntry, exportedLines } from './support/ledger-export.ts';
import { sealbox, startSealbox, tempDataDir } from './support/sealbox.ts';

const DAY = 86_400_000;
const day = (t: number) => new Date(t).toISOString().slice(0, 10);

test('leavers at the console: filed as the operator, decided by an approver, listed; refusals recorded', { timeout: 120_000 }, async (t) => {
  const config = testConfig({ access: { secureCookies: false } });
  const server = await startSealbox({ args: ['--config', config, '--http', '127.0.0.1:0'] });
  t.after(() => server.stop());
  const common = ['--data', server.data, '--config', config];
  const run = async (args: string[], code = 0) => {
    const r = await sealbox([...args.slice(0, 2), ...common, ...args.slice(2)]);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return { out: r.stdout.toString(), err: r.stderr.toString() };
  };
  const csv = join(tempDataDir(), 'directory.csv');
  writeFileSync(csv, 'addresses,owner\nolga@corp.test,\ndina@corp.test,\n');
  await run(['mailboxes', 'import', csv]);
  const code = /enrolment code (\S+)/.exec((await run(['users', 'add', '--name', 'appr', '--role', 'approver'])).out)![1]!;
  const appr = new ApiClient(server.http!.url);
  await appr.enrolAndSignIn('appr', code, 'appr-correct-horse-battery');
  const list = async () => JSON.parse((await run(['leavers', 'list', '--json'])).out);

  // Bad input is named and changes nothing; what the filing itself refuses is recorded, as over the API.
  assert.match((await run(['leavers', 'file', 'olga@corp.test', '--left', '2026-01-31'], 2)).err, /required option '--reason <text>' not specified/);
  assert.match((await run(['leavers', 'file', 'nobody@corp.test', '--left', '2026-01-31', '--reason', 'left'], 2)).err, /no mailbox nobody@corp\.test \[SEALBOX_ERR_NOT_FOUND\]/);
  assert.match((await run(['leavers', 'file', 'olga@corp.test', '--left', '2026-02-30', '--reason', 'left'], 2)).err, /"2026-02-30" is not a date \(YYYY-MM-DD\) \[SEALBOX_ERR_BAD_INPUT\]/);
  assert.match((await run(['leavers', 'exempt', 'olga@corp.test', '--reason', 'a claim'], 2)).err, /not marked as left: there is nothing to be exempted from \[SEALBOX_ERR_CONFLICT\]/);

  // Filed, not applied.
  const filed = (await run(['leavers', 'file', 'olga@corp.test', '--left', '2026-01-31', '--reason', 'resigned, HR ticket 55'])).out;
  const leave = /^filed (lvr_\S+): olga@corp\.test left on 2026-01-31, its mail disposed from 2026-07-31: an approver decides it \(POST \/api\/v1\/leaver-changes\/lvr_\S+\/approve\)\n$/.exec(filed)?.[1];
  assert.ok(leave, filed);
  const pending = await list();
  assert.deepEqual([pending.leaverMonths, pending.leavers], [6, []], 'filing is not applying');
  assert.deepEqual(pending.changes.map((c: any) => [c.id, c.kind, c.state, c.source, c.filedBy]), [[leave, 'leave', 'pending', 'console', `os:${userInfo().username}`]]);
  assert.match((await run(['leavers', 'list'])).out, new RegExp(`^pending ${leave}: olga@corp\\.test left on 2026-01-31, its mail disposed from 2026-07-31; filed by os:`, 'm'));

  // Someone else decides, through the API; then an exemption and a withdrawal are filed the same way.
  assert.equal((await appr.call('POST', `/api/v1/leaver-changes/${leave}/approve`, { reason: 'HR confirmed' })).status, 200);
  const until = day(Date.now() + 400 * DAY);
  const exempt = /^filed (lvr_\S+): olga@corp\.test exempt from the leaver rule until (\S+):/.exec((await run(['leavers', 'exempt', 'olga@corp.test', '--until', until, '--reason', 'a claim is expected'])).out);
  assert.equal(exempt?.[2], until);
  assert.equal((await appr.call('POST', `/api/v1/leaver-changes/${exempt![1]}/approve`, { reason: 'the law allows it' })).status, 200);
  const withdraw = /^filed (lvr_\S+): olga@corp\.test's leaving date withdrawn:/.exec((await run(['leavers', 'withdraw', 'olga@corp.test', '--reason', 'came back'])).out)?.[1];
  assert.ok(withdraw);
  const now = await list();
  assert.deepEqual(now.leavers, [{ mailbox: 'olga@corp.test', left: '2026-01-31', disposeFrom: '2026-07-31', exemption: { change: exempt![1], until, reason: 'a claim is expected' } }]);
  assert.deepEqual(now.changes.map((c: any) => [c.id, c.kind, c.state]), [[withdraw, 'return', 'pending'], [exempt![1], 'exempt', 'approved'], [leave, 'leave', 'approved']]);
  assert.match((await run(['leavers', 'list'])).out, new RegExp(`^olga@corp\\.test {2}left 2026-01-31, disposed from 2026-07-31; exempt until ${until} \\(a claim is expected\\)$`, 'm'));

  // The ledger tells it as it tells the API's: each filing by the operator naming the mailbox, each refusal, each decision.
  const entries = exportedLines((await run(['ledger', 'export'])).out).map(exportedEntry).filter((e) => e.operation.startsWith('leaver.'));
  assert.deepEqual(entries.map((e) => [e.operation, e.result, e.actor === `os:${userInfo().username}` ? 'os' : e.actor, e.objects.mailboxes, e.parameters.kind ?? null]), [
    ['leaver.file', 'denied', 'os', [], null],
    ['leaver.file', 'denied', 'os', [], null],
    ['leaver.file', 'denied', 'os', [], null],
    ['leaver.file', 'success', 'os', ['olga@corp.test'], 'leave'],
    ['leaver.approve', 'success', 'user:appr', ['olga@corp.test'], 'leave'],
    ['leaver.file', 'success', 'os', ['olga@corp.test'], 'exempt'],
    ['leaver.approve', 'success', 'user:appr', ['olga@corp.test'], 'exempt'],
    ['leaver.file', 'success', 'os', ['olga@corp.test'], 'return'],
  ]);
  assert.deepEqual(entries.filter((e) => e.result === 'denied').map((e) => e.parameters.reason), [
    'no mailbox nobody@corp.test', '"2026-02-30" is not a date (YYYY-MM-DD)', 'mailbox olga@corp.test is not marked as left: there is nothing to be exempted from',
  ]);
  assert.deepEqual(entries[3]!.parameters, { mailbox: 'olga@corp.test', left: '2026-01-31', reason: 'resigned, HR ticket 55', change: leave, kind: 'leave', disposeFrom: '2026-07-31' });
  // What the ledger says was approved, verify finds in the table; a date moved there behind its back, it names.
  await run(['verify']);
  const db = new DatabaseSync(join(server.data, 'sealbox.db'));
  try {
    db.prepare('UPDATE leaver SET dispose_from = dispose_from - ? ').run(100 * DAY);
  } finally {
    db.close();
  }
  assert.match((await run(['verify'], 1)).out, /FAIL access state: leaving date of mailbox olga@corp\.test in the database differs from the ledger: database .*"disposeFrom":"2026-04-22".*, ledger .*"disposeFrom":"2026-07-31"/);

  const help = (await sealbox(['leavers', '--help'])).stdout.toString();
  for (const sub of ['list', 'file', 'withdraw', 'exempt']) assert.match(help, new RegExp(`^ {2}${sub}\\b`, 'm'));
});
