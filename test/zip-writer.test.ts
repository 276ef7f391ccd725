// The zip writer of export jobs (src/export/zip-writer.ts), read by Python's zipfile and Info-ZIP
// unzip, readers that are not ours: deflated and stored entries, an empty one, UTF-8 names, the
// same bytes for the same entries, and ZIP64 end records once there are more than 65,535 entries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ZipWriter } from '../src/export/zip-writer.ts';
import { tempDataDir } from './support/sealbox.ts';

function run(command: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { out += c.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

async function write(file: string, entries: [string, Buffer][]): Promise<{ size: number; sha256: string }> {
  const zip = new ZipWriter(createWriteStream(file));
  for (const [name, data] of entries) await zip.add(name, data, new Date('2026-12-03T10:20:30Z'));
  return zip.end();
}

const LIST = `
import json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    assert z.testzip() is None
    print(json.dumps([[i.filename, i.compress_type, i.date_time, z.read(i).hex() if len(sys.argv) > 2 else i.file_size] for i in z.infolist()]))
`;

test('zip writer: entries as Python and Info-ZIP read them, the same bytes each time', async () => {
  const dir = tempDataDir();
  const entries: [string, Buffer][] = [
    ['README.txt', Buffer.from('read me\n'.repeat(200))],
    ['messages/noise.eml', randomBytes(70_000)],
    ['empty.txt', Buffer.alloc(0)],
    ['mbox/jörg@corp.test.mbox', Buffer.from('From x\nSubject: ü\n\n')],
  ];
  const a = await write(join(dir, 'a.zip'), entries);
  const b = await write(join(dir, 'b.zip'), entries);
  assert.deepEqual(a, b, 'the same entries make the same bytes');
  assert.equal(readFileSync(join(dir, 'a.zip')).length, a.size);
  const listed = await run('python3', ['-c', LIST, join(dir, 'a.zip'), 'content']);
  assert.equal(listed.code, 0, listed.out);
  // Deflated where that makes it smaller (the repeated text); stored otherwise (random bytes, a
  // few bytes, nothing).
  const methods = [8, 0, 0, 0];
  const read = JSON.parse(listed.out) as [string, number, number[], string][];
  assert.deepEqual(read.map(([name, method, time]) => [name, method, time]), entries.map(([name], i) => [name, methods[i], [2026, 12, 3, 10, 20, 30]]));
  assert.ok(read.every(([, , , hex], i) => hex === entries[i][1].toString('hex')), 'every entry reads back as written');
  const tested = await run('unzip', ['-t', join(dir, 'a.zip')]);
  assert.equal(tested.code, 0, tested.out);
  assert.match(tested.out, /No errors detected/);
});

test('zip writer: more than 65,535 entries get ZIP64 end records, and both readers read every one', { timeout: 300_000 }, async () => {
  const dir = tempDataDir();
  const n = 70_000;
  const file = join(dir, 'many.zip');
  await write(file, Array.from({ length: n }, (_, i) => [`e/${i}.txt`, Buffer.from(`entry ${i}\n`)] as [string, Buffer]));
  const bytes = readFileSync(file);
  assert.ok(bytes.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06])) && bytes.includes(Buffer.from([0x50, 0x4b, 0x06, 0x07])), 'ZIP64 end record and locator');
  const listed = await run('python3', ['-c', LIST, file]);
  assert.equal(listed.code, 0, listed.out.slice(0, 2000));
  const names = JSON.parse(listed.out) as [string][];
  assert.equal(names.length, n);
  assert.equal(names[n - 1][0], `e/${n - 1}.txt`);
  const tested = await run('unzip', ['-tq', file]);
  assert.equal(tested.code, 0, tested.out.slice(0, 2000));
});
