// Legal holds and disposal at the console, as an operator runs them: `sealbox holds place`,
// `list`, `release` (filed, never applied by the one who asks) and `sealbox dispose` (a dry run
// unless --run), each a ledger entry naming the operating-system account; bad input is named
// and changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testConfig } from './support/archive.ts';
import { runImport } from './support/import-run.ts';
import { exportedEntry, exportedLines } from './support/ledger-export.ts';
import { sealbox, tempDataDir } from './support/sealbox.ts';

test('holds and dispose at the console: placed, listed, release filed, dry run and run, all recorded', { timeout: 120_000 }, async () => {
  const dir = tempDataDir();
  const data = join(dir, 'archive');
  const config = testConfig({ retention: { defaultDays: 30 } });
  const common = ['--data', data, '--config', config];
  mkdirSync(join(dir, 'eml'));
  writeFileSync(join(dir, 'eml', 'one.eml'), 'From: x@ext.test\r\nTo: olga@corp.test\r\nSubject: merger\r\nMessage-ID: <m1@ext.test>\r\nDate: Tue, 01 Dec 2026 09:00:00 +0000\r\n\r\nterms\r\n');
  assert.equal((await runImport(['eml', ...common, join(dir, 'eml')], join(dir, 'report.json'))).code, 0);
  const csv = join(dir, 'directory.csv');
  writeFileSync(csv, 'addresses,display_name,owner,sensitivity\nolga@corp.test,Olga,,\n');
  assert.equal((await sealbox(['mailboxes', 'import', ...common, csv])).code, 0);

  const missing = await sealbox(['holds', 'place', ...common, '--name', 'Merger', '--matter', 'LEG-7', '--custodian', 'nobody@corp.test']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /no mailbox "nobody@corp\.test"/);
  const badDate = await sealbox(['holds', 'place', ...common, '--name', 'Merger', '--matter', 'LEG-7', '--custodian', 'olga@corp.test', '--from', 'yesterday']);
  assert.notEqual(badDate.code, 0);
  assert.match(badDate.stderr, /--from "yesterday" is not an ISO date or time/);

  const placed = await sealbox(['holds', 'place', ...common, '--name', 'Merger', '--matter', 'LEG-7', '--custodian', 'olga@corp.test', '--from', '2026-01-01', '--query', 'merger']);
  assert.equal(placed.code, 0, placed.stderr);
  const id = /placed: (hold_\S+)/.exec(placed.stdout.toString())?.[1];
  assert.ok(id, placed.stdout.toString());
  const listed = JSON.parse((await sealbox(['holds', 'list', ...common, '--json'])).stdout.toString());
  assert.deepEqual(listed.map((h: any) => [h.id, h.matter, h.custodians.map((c: any) => c.name), h.query, h.releasedAt]), [[id, 'LEG-7', ['olga@corp.test'], 'merger', null]]);

  const release = await sealbox(['holds', 'release', id, ...common, '--reason', 'settled']);
  assert.equal(release.code, 0, release.stderr);
  assert.match(release.stdout.toString(), /filed hrl_\S+: an approver decides it/);
  assert.equal(JSON.parse((await sealbox(['holds', 'list', ...common, '--json'])).stdout.toString())[0].releasedAt, null, 'asking is not releasing');

  // Retained 30 days from its import: nothing is due today, and --run disposes of nothing.
  const dry = await sealbox(['dispose', ...common, '--json']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.deepEqual(JSON.parse(dry.stdout.toString()), { at: JSON.parse(dry.stdout.toString()).at, due: [], held: [], keptByRule: [], unindexed: [], holdsInForce: [id], leavers: [], indexedThrough: JSON.parse(dry.stdout.toString()).indexedThrough, heldUpTo: null });
  const run = await sealbox(['dispose', ...common, '--run']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout.toString(), /^disposed of 0 messages past their retention/);

  const entries = exportedLines((await sealbox(['ledger', 'export', ...common])).stdout).map(exportedEntry);
  const ops = entries.filter((e) => e.actor.startsWith('os:')).map((e) => [e.operation, e.result]);
  assert.deepEqual(ops.filter(([op]) => op.startsWith('hold.')), [['hold.place', 'success'], ['hold.release.file', 'success']], 'each change by the operator, and only the ones that were made');
  assert.equal(entries.filter((e) => e.operation === 'dispose').length, 0, 'a run with nothing due writes no dispose entry');
});
