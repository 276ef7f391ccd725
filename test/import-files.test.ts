import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpusFiles } from './support/corpus.ts';
import { captureCount, killImportMidway, runImport } from './support/import-run.ts';
import { openArchive, testConfig } from './support/archive.ts';
import { sealbox, tempDataDir } from './support/sealbox.ts';

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const zipMissing = existsSync('/usr/bin/zip') ? undefined : 'zip is not installed (scripts/install-peers.sh)';

async function captures(data: string) {
  const archive = await openArchive(data);
  try {
    return await archive.read((tx) => Array.fromAsync(archive.stores.meta.allCaptures(tx)));
  } finally {
    archive.close();
  }
}

test('Maildir++: every folder, new/ and cur/ (not tmp/), flags in provenance; stopped (SIGTERM), killed (SIGKILL) and resumed; a client moving and flagging mail adds nothing', { timeout: 90_000 }, async () => {
  const dir = tempDataDir();
  const root = join(dir, 'Maildir');
  const folders: Record<string, string> = { INBOX: root, Sent: join(root, '.Sent'), 'Archive.2020': join(root, '.Archive.2020') };
  for (const f of Object.values(folders)) for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(f, sub), { recursive: true });
  const files = corpusFiles();
  const names = Object.keys(folders);
  const placed: { path: string; folder: string; sub: string; flags: string; raw: Buffer }[] = [];
  files.forEach((file, i) => {
    const folder = names[i % names.length];
    const sub = i % 5 === 0 ? 'new' : 'cur';
    // Dovecot-style names carry the size; cur/ names carry the flags after ":2,".
    const flags = sub === 'new' ? '' : ['S', 'RS', 'FS', 'DS', 'Sa'][i % 5];
    const name = `${1_500_000_000 + i}.M${i}P42.host,S=${i}${sub === 'cur' ? `:2,${flags}` : ''}`;
    const path = join(folders[folder], sub, name);
    copyFileSync(file, path);
    placed.push({ path, folder, sub, flags, raw: readFileSync(file) });
  });
  writeFileSync(join(root, 'tmp', '1.M1P1.host'), 'From: half@delivered\n\nnot yet');   // a delivery under way
  writeFileSync(join(root, 'cur', '.hidden'), 'not mail');
  writeFileSync(join(root, 'dovecot-uidlist'), '3 V1 N1\n');

  const data = join(dir, 'archive');
  const config = testConfig();
  const args = ['maildir', '--data', data, '--config', config, root];
  const report = join(dir, 'report.json');
  // Stopped by the operator: what is under way is committed, the report says so, exit 1.
  const stopped = await killImportMidway([...args, '--report', report], data, 300, { signal: 'SIGTERM' });
  assert.equal(stopped.code, 1, stopped.stderr);
  assert.match(stopped.stderr, /SIGTERM: finishing the messages under way; run the same command again to resume/);
  assert.match(stopped.stderr, /INTERRUPTED/);
  const stoppedReport = JSON.parse(readFileSync(report, 'utf8'));
  assert.equal(stoppedReport.interrupted, true);
  assert.equal(stoppedReport.imported, stopped.left, 'every message counted as imported is in the archive');
  // Then a crash (SIGKILL) further on.
  const killed = await killImportMidway(args, data, stopped.left + 700);
  assert.equal(killed.signal, 'SIGKILL');
  assert.ok(killed.left >= stopped.left + 700 && killed.left < files.length, `interrupted at ${killed.left}`);
  const resumed = await runImport(args, report);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(resumed.report.imported + resumed.report.skipped, files.length);
  assert.equal(resumed.report.skipped, killed.left);
  assert.equal(captureCount(data), files.length);

  const byPath = new Map(placed.map((p) => [p.path, p]));
  const seen = new Set<string>();
  for (const c of await captures(data)) {
    const p = c.provenance as { maildir: string; folder: string; subdir: string; file: string; flags: string; flagNames: string[]; mtime: string };
    const path = join(p.maildir, p.subdir, p.file);
    const want = byPath.get(path);
    assert.ok(want, `${path} is one of the placed messages`);
    assert.ok(!seen.has(path), `${path} imported once`);
    seen.add(path);
    assert.equal(c.source, 'import:maildir');
    assert.equal(c.envelope, null);
    assert.equal(c.sha256, sha256(want.raw), 'bit-exact');
    assert.equal(p.folder, want.folder);
    assert.equal(p.flags, want.flags);
    if (want.flags === 'RS') assert.deepEqual(p.flagNames, ['replied', 'seen']);
    if (want.flags === 'Sa') assert.deepEqual(p.flagNames, ['seen', 'keyword:a']);
  }
  assert.equal(seen.size, files.length);

  // A mail client reads the new mail (new/ → cur/ with ":2,S") and flags some more: nothing new.
  for (const p of placed.filter((x) => x.sub === 'new').slice(0, 100)) renameSync(p.path, p.path.replace(/\/new\/([^/]+)$/, '/cur/$1:2,S'));
  for (const p of placed.filter((x) => x.flags === 'S').slice(0, 100)) renameSync(p.path, `${p.path}F`);
  const again = await runImport(args, report);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.report.imported, 0);
  assert.equal(again.report.skipped, files.length);

  // A folder without a Maildir is bad input.
  const none = await sealbox(['import', 'maildir', '--data', data, '--config', config, join(root, 'cur')]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no Maildir under .*cur \(no directory with cur\/ or new\/\)/);
});

test('.eml: files, folders and zip archives (deflated, stored, ZIP64 by Info-ZIP); a damaged entry fails alone; re-runs add nothing', { skip: zipMissing, timeout: 90_000 }, async () => {
  const dir = tempDataDir();
  const emlDir = join(dir, 'export');
  mkdirSync(join(emlDir, 'sub'), { recursive: true });
  const sample = corpusFiles().slice(0, 300).map((f) => readFileSync(f));
  sample.slice(0, 100).forEach((raw, i) => writeFileSync(join(emlDir, i % 2 ? 'sub' : '', `m${i}.eml`), raw));
  writeFileSync(join(emlDir, 'readme.txt'), 'not mail');
  const zipped = join(dir, 'zipped');
  mkdirSync(zipped);
  sample.slice(100, 300).forEach((raw, i) => writeFileSync(join(zipped, `z${i}.EML`), raw));
  writeFileSync(join(zipped, 'notes.txt'), 'not mail');
  const names = sample.slice(100, 300).map((_, i) => `z${i}.EML`);
  const deflated = join(dir, 'deflated.zip');
  const stored = join(dir, 'stored.zip');
  const zip64 = join(dir, 'zip64.zip');
  execFileSync('zip', ['-q', deflated, ...names.slice(0, 100), 'notes.txt'], { cwd: zipped });
  execFileSync('zip', ['-q', '-0', stored, ...names.slice(100, 150)], { cwd: zipped });
  execFileSync('zip', ['-q', '-fz', zip64, ...names.slice(150, 200)], { cwd: zipped });

  // One stored entry damaged in place: its CRC-32 no longer matches.
  const damaged = join(dir, 'damaged.zip');
  execFileSync('zip', ['-q', '-0', damaged, names[0], names[1]], { cwd: zipped });
  const bytes = readFileSync(damaged);
  const at = bytes.indexOf(sample[100].subarray(0, 40));
  bytes[at + 20] ^= 0xff;
  writeFileSync(damaged, bytes);

  const data = join(dir, 'archive');
  const config = testConfig();
  const report = join(dir, 'report.json');
  const r = await runImport(['eml', '--data', data, '--config', config, emlDir, deflated, stored, zip64], report);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.report.imported, 300);
  assert.match(r.report.notes.join('\n'), /1 file\(s\) in the folders named are neither \.eml nor \.zip/);
  assert.match(r.report.notes.join('\n'), /deflated\.zip: 1 entry is not \.eml/);
  const want = new Map(sample.map((raw) => [sha256(raw), raw]));
  const all = await captures(data);
  assert.equal(all.length, 300);
  for (const c of all) {
    assert.ok(want.has(c.sha256), 'bit-exact');
    assert.equal(c.source, 'import:eml');
    assert.equal(c.envelope, null);
  }
  const fromZip64 = all.filter((c) => (c.provenance as { zip?: string }).zip === zip64);
  assert.equal(fromZip64.length, 50);
  assert.match(String((fromZip64[0].provenance as { entry: string }).entry), /^z1[5-9]\d\.EML$/);
  assert.ok(all.some((c) => (c.provenance as { file?: string }).file === join(emlDir, 'sub', 'm1.eml')));

  const again = await runImport(['eml', '--data', data, '--config', config, emlDir, deflated, stored, zip64], report);
  assert.equal(again.report.imported, 0);
  assert.equal(again.report.skipped, 300);

  const bad = await runImport(['eml', '--data', data, '--config', config, damaged], report);
  assert.equal(bad.code, 1);
  assert.equal(bad.report.failed, 1);
  assert.equal(bad.report.errors[0].file, damaged);
  assert.equal(bad.report.errors[0].entry, names[0]);
  assert.match(bad.report.errors[0].error, /CRC-32 mismatch/);
  // The sound entry is imported: bytes archived already (from deflated.zip), one more capture.
  assert.equal(bad.report.imported, 1);
  assert.equal(bad.report.alreadyArchived, 1);
});
