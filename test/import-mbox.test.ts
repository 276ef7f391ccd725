import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpusFiles } from './support/corpus.ts';
import { deliverAll } from './support/ingest.ts';
import { runImport } from './support/import-run.ts';
import { openArchive, testConfig, waitForIndex } from './support/archive.ts';
import { sealbox, startSealbox, tempDataDir } from './support/sealbox.ts';

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const FROM_LINE = 'From sender@example.test Mon Jan  1 00:00:00 2024';

// Hand-made messages that catch the mbox traps: body lines beginning "From " (one of them a
// perfect From_ line), ">From " and ">>From " already in the original, a last line without LF.
const A = 'From: a@example.test\nTo: b@example.test\nSubject: quoting\nMessage-ID: <a@example.test>\n\nFrom here on, it is quoted.\n>From the archive\n>>From further back\nFrom other@example.test Tue Jan  2 10:00:00 2024\nend\n';
const B = 'From: c@example.test\nTo: d@example.test\nSubject: plain\nMessage-ID: <b@example.test>\n\nNothing special.\n\n';
const C = 'From: e@example.test\nTo: f@example.test\nSubject: no final newline\nMessage-ID: <c@example.test>\n\nlast line has no LF';

const mboxrdQuote = (m: string) => m.replace(/^(>*From )/gm, '>$1');
const mboxoQuote = (m: string) => m.replace(/^From /gm, '>From ');
const crlf = (s: string) => s.replace(/\n/g, '\r\n');
// A writer ends each message with a line end of its own unless it has one, then a blank line;
// with lastBlank false the file ends right after the last message, as it is.
function mbox(messages: string[], quote: (m: string) => string, eol = '\n', lastBlank = true): string {
  return messages.map((m, i) => {
    const body = quote(m);
    const end = i === messages.length - 1 && !lastBlank ? '' : body.endsWith(eol) ? eol : eol + eol;
    return `${FROM_LINE}${eol}${body}${end}`;
  }).join('');
}

async function stored(data: string): Promise<{ sha256: string; source: string; provenance: Record<string, unknown>; envelope: unknown }[]> {
  const archive = await openArchive(data);
  try {
    return (await archive.read((tx) => Array.fromAsync(archive.stores.meta.allCaptures(tx)))).map((c) => ({ sha256: c.sha256, source: c.source, provenance: c.provenance!, envelope: c.envelope }));
  } finally {
    archive.close();
  }
}

test('mbox edge cases: mboxrd and mboxo quoting, Content-Length (mboxcl2), CRLF, a last message without newline, a large message, an empty file, a file that is not mbox; re-runs add only what is new', { timeout: 90_000 }, async () => {
  const dir = tempDataDir();
  const data = join(dir, 'archive');
  // A small inline limit sends the large message down the streaming path.
  const config = testConfig({ commit: { inlineBlobBytes: 4096 } });
  const base = ['--data', data, '--config', config];
  const report = join(dir, 'report.json');

  const large = `From: big@example.test\nSubject: large\n\n${Array.from({ length: 400 }, (_, i) => (i % 7 === 0 ? `From line ${i} inside a big body\n>From quoted ${i}\n` : `line ${i} ${'x'.repeat(60)}\n`)).join('')}`;
  const files = {
    rd: join(dir, 'rd.mbox'), rdCrlf: join(dir, 'rd-crlf.mbox'), big: join(dir, 'big.mbox'), empty: join(dir, 'empty.mbox'),
    o: join(dir, 'o.mbox'), cl2: join(dir, 'cl2.mbox'), badCl: join(dir, 'bad-cl.mbox'), notMbox: join(dir, 'notes.txt'),
  };
  // mboxrd; the file ends with the last message, whose last line has no line end.
  writeFileSync(files.rd, mbox([A, B, C], mboxrdQuote, '\n', false));
  writeFileSync(files.rdCrlf, mbox([A, B, C].map(crlf), mboxrdQuote, '\r\n', false));
  writeFileSync(files.big, mbox([large, B], mboxrdQuote));
  writeFileSync(files.empty, '');
  writeFileSync(files.o, mbox([A, B], mboxoQuote));
  // mboxcl2: nothing quoted; the Content-Length header says where the body ends.
  const withLength = (m: string) => {
    const [head, ...rest] = m.split('\n\n');
    const body = rest.join('\n\n');
    return `${head}\nContent-Length: ${Buffer.byteLength(body)}\n\n${body}`;
  };
  const cl2Messages = [A, B, A.replace('quoting', 'quoting again')].map(withLength);
  writeFileSync(files.cl2, mbox(cl2Messages, (m) => m));
  writeFileSync(files.badCl, mbox([withLength(B).replace(/Content-Length: \d+/, 'Content-Length: 3'), B], (m) => m));
  writeFileSync(files.notMbox, 'These are notes, not mail.\n');

  // auto: mboxrd unquoting, Content-Length where it fits.
  const first = await runImport(['mbox', ...base, files.rd, files.rdCrlf, files.big, files.empty, files.cl2], report);
  assert.equal(first.code, 0, first.stderr);
  const expected = [A, B, C, ...[A, B, C].map(crlf), large, B, ...cl2Messages];
  assert.equal(first.report.imported, expected.length);
  assert.equal(first.report.failed, 0);
  let captures = await stored(data);
  assert.deepEqual(captures.map((c) => c.sha256).sort(), expected.map((m) => sha256(m)).sort(), 'every message exactly as it was before it was written to the mbox');
  for (const c of captures) {
    assert.equal(c.source, 'import:mbox');
    assert.equal(c.envelope, null);
    assert.equal(c.provenance.fromLine, FROM_LINE);
  }
  const rdOffsets = captures.filter((c) => c.provenance.file === files.rd).map((c) => c.provenance.offset);
  const rdText = readFileSync(files.rd, 'latin1');
  assert.deepEqual(rdOffsets, [0, rdText.indexOf(`${FROM_LINE}\nFrom: c@`), rdText.indexOf(`${FROM_LINE}\nFrom: e@`)], 'offsets of the From_ lines');
  assert.ok(captures.filter((c) => c.provenance.file === files.cl2).every((c) => c.provenance.format === 'content-length'));
  assert.ok(captures.filter((c) => c.provenance.file === files.rd).every((c) => c.provenance.format === 'mboxrd'));
  // rd.mbox's B and big.mbox's B are the same bytes: stored once, captured twice.
  assert.equal(first.report.alreadyArchived, 1);

  // mboxo: ">From " lines cannot be told apart from quoted ones and are kept as written.
  const mboxo = await runImport(['mbox', ...base, '--format', 'mboxo', files.o], report);
  assert.equal(mboxo.code, 0, mboxo.stderr);
  assert.equal(mboxo.report.imported, 2);
  captures = await stored(data);
  assert.ok(captures.some((c) => c.sha256 === sha256(mboxoQuote(A)) && c.provenance.format === 'mboxo'));

  // mboxcl2 named explicitly: a Content-Length that does not fit is said, and the From_ line used.
  const bad = await runImport(['mbox', ...base, '--format', 'mboxcl2', files.badCl], report);
  assert.equal(bad.code, 0, bad.stderr);
  assert.equal(bad.report.imported, 2);
  assert.match(bad.report.notes.join('\n'), /Content-Length 3 does not end where a From_ line or the file's end is; split at the next From_ line instead/);

  // Not an mbox: that file fails, by name, and the exit code says so.
  const notMbox = await runImport(['mbox', ...base, files.notMbox], report);
  assert.equal(notMbox.code, 1);
  assert.equal(notMbox.report.failed, 1);
  assert.equal(notMbox.report.errors[0].file, files.notMbox);
  assert.match(notMbox.report.errors[0].error, /not an mbox file/);
  assert.match(notMbox.stderr, /FAILED .*notes\.txt: not an mbox file/);

  // A path that does not exist is bad input: exit 2, nothing opened.
  const missing = await sealbox(['import', 'mbox', ...base, join(dir, 'nowhere.mbox')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no such file or directory \[SEALBOX_ERR_BAD_INPUT\]/);

  // Re-run: nothing new. Then a mail client rewrites the mailbox: A deleted, D new (offsets all
  // moved): only D is imported, nothing is captured twice.
  const again = await runImport(['mbox', ...base, files.rd, files.rdCrlf, files.big, files.empty, files.cl2], report);
  assert.equal(again.report.imported, 0);
  assert.equal(again.report.skipped, expected.length);
  const D = 'From: g@example.test\nSubject: appended later\n\nnew\n';
  writeFileSync(files.rd, mbox([B, D, C], mboxrdQuote, '\n', false));
  const grown = await runImport(['mbox', ...base, files.rd], report);
  assert.equal(grown.code, 0, grown.stderr);
  assert.equal(grown.report.imported, 1);
  assert.equal(grown.report.skipped, 2);
  // The same message twice in one file is two receipts.
  const dup = join(dir, 'dup.mbox');
  writeFileSync(dup, mbox([D, D], mboxrdQuote));
  const twice = await runImport(['mbox', ...base, dup], report);
  assert.equal(twice.report.imported, 2);
  assert.equal((await stored(data)).filter((c) => c.sha256 === sha256(D)).length, 3);

  // A folder of mbox files (a mail client's): the files that begin like an mbox are read.
  const folder = join(dir, 'Mail');
  mkdirSync(join(folder, 'Archive'), { recursive: true });
  writeFileSync(join(folder, 'Inbox'), mbox([B], mboxrdQuote));
  writeFileSync(join(folder, 'Archive', '2020'), mbox([A, D], mboxrdQuote));
  writeFileSync(join(folder, 'Inbox.msf'), '// an index file of the mail client\n');
  const fromFolder = await runImport(['mbox', ...base, folder], report);
  assert.equal(fromFolder.code, 0, fromFolder.stderr);
  assert.equal(fromFolder.report.imported, 3);
  assert.match(fromFolder.report.notes.join('\n'), /1 file\(s\) under .*Mail do not begin with "From " and were not read as mbox/);

  const verified = await sealbox(['verify', '--data', data, '--config', config]);
  assert.equal(verified.code, 0, verified.stdout.toString());
});

// The first messages of the corpus plus the awkward ones (CRLF, no final LF, "From " in the body).
function corpusSample(n: number): { file: string; raw: Buffer }[] {
  const all = corpusFiles().map((file) => ({ file, raw: readFileSync(file) }));
  const odd = all.filter(({ raw }) => raw.includes('\r\n') || raw[raw.length - 1] !== 10 || /\nFrom /.test(raw.toString('latin1')));
  return [...all.slice(0, n), ...odd.filter((o) => !all.slice(0, n).includes(o))];
}

const notmuchMissing = existsSync('/usr/bin/notmuch') ? undefined : 'notmuch is not installed (scripts/install-peers.sh)';
const formailMissing = existsSync('/usr/bin/formail') ? undefined : 'formail is not installed (procmail, scripts/install-peers.sh)';

test('mboxrd written by notmuch (show --format=mbox) imports every message exactly', { skip: notmuchMissing, timeout: 90_000 }, async () => {
  const dir = tempDataDir();
  const maildir = join(dir, 'mail');
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(maildir, sub), { recursive: true });
  const sample = corpusSample(400);
  const want = new Set<string>();
  sample.forEach(({ raw }, i) => {
    writeFileSync(join(maildir, 'cur', `${i}.sealbox:2,S`), raw);
    // notmuch ends a message without a final line end with one: that LF is not in the original.
    want.add(sha256(raw[raw.length - 1] === 10 ? raw : Buffer.concat([raw, Buffer.from('\n')])));
  });
  const config = join(dir, 'notmuch-config');
  writeFileSync(config, `[database]\npath=${maildir}\n[new]\ntags=new\n[user]\nname=Test\nprimary_email=test@example.test\n`);
  const env = { ...process.env, NOTMUCH_CONFIG: config };
  execFileSync('notmuch', ['new', '--quiet'], { env });
  const file = join(dir, 'notmuch.mbox');
  writeFileSync(file, execFileSync('notmuch', ['show', '--format=mbox', '--entire-thread=false', '*'], { env, maxBuffer: 256 * 1024 * 1024 }));
  // notmuch shows one file per Message-ID: that many messages are in its mbox.
  const shown = Number(execFileSync('notmuch', ['count', '--output=messages', '*'], { env }).toString().trim());

  const data = join(dir, 'archive');
  const r = await runImport(['mbox', '--data', data, '--config', testConfig(), file], join(dir, 'report.json'));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.report.failed, 0);
  assert.equal(r.report.imported, shown);
  const captures = await stored(data);
  const strays = captures.filter((c) => !want.has(c.sha256));
  assert.deepEqual(strays.map((c) => c.provenance.offset), [], 'every imported message is byte for byte a corpus message');
  assert.ok(captures.some((c) => sample.some(({ raw }) => /\nFrom /.test(raw.toString('latin1')) && sha256(raw) === c.sha256)), 'the message with a "From " body line came through unquoted');
});

test('mboxo written by formail (procmail) imports every message as formail wrote it', { skip: formailMissing, timeout: 90_000 }, async () => {
  const dir = tempDataDir();
  const sample = corpusSample(300);
  const file = join(dir, 'formail.mbox');
  const want = new Map<string, number>();
  for (const { raw } of sample) {
    appendFileSync(file, execFileSync('formail', [], { input: raw }));
    // formail takes a leading "From " line as the separator, quotes body "From " lines mboxo
    // style and makes sure a blank line follows the message, adding none when the message ends
    // with one already: a reader takes that line as the separator. That is the message it wrote.
    let text = raw.toString('latin1');
    if (text.startsWith('From ')) text = text.slice(text.indexOf('\n') + 1);
    text = text.replace(/^From /gm, '>From ');
    if (!text.endsWith('\n')) text += '\n';
    else if (text.endsWith('\n\n')) text = text.slice(0, -1);
    const sha = sha256(Buffer.from(text, 'latin1'));
    want.set(sha, (want.get(sha) ?? 0) + 1);
  }
  const data = join(dir, 'archive');
  const r = await runImport(['mbox', '--data', data, '--config', testConfig(), '--format', 'mboxo', file], join(dir, 'report.json'));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.report.imported, sample.length);
  const got = new Map<string, number>();
  for (const c of await stored(data)) got.set(c.sha256, (got.get(c.sha256) ?? 0) + 1);
  assert.deepEqual([...got.entries()].sort(), [...want.entries()].sort());
});

test('an mbox import runs beside a running server: both archive everything, the ledger verifies, imported mail is indexed and findable', { timeout: 90_000 }, async () => {
  const dir = tempDataDir();
  const config = testConfig();
  const server = await startSealbox({ args: ['--config', config] });
  try {
    const files = corpusFiles().slice(0, 2000);
    const file = join(dir, 'corpus.mbox');
    const originals = files.map((f) => {
      const raw = readFileSync(f);
      return raw.subarray(0, 5).toString() === 'From ' ? raw.subarray(raw.indexOf(10) + 1) : raw;
    });
    writeFileSync(file, Buffer.concat(originals.flatMap((raw) => {
      const q = Buffer.from(mboxrdQuote(raw.toString('latin1')), 'latin1');
      return [Buffer.from(`${FROM_LINE}\n`), q, Buffer.from(q[q.length - 1] === 10 ? '\n' : '\n\n')];
    })));
    const live = Array.from({ length: 150 }, (_, index) => ({
      index, envelope: { from: `live${index}@example.test`, to: ['archive@example.test'] },
      data: Buffer.from(`From: live${index}@example.test\r\nTo: archive@example.test\r\nSubject: live message ${index} during the import\r\nMessage-ID: <live${index}@example.test>\r\n\r\nsent while importing\r\n`),
    }));
    const [imported, replies] = await Promise.all([
      runImport(['mbox', '--data', server.data, '--config', config, file], join(dir, 'report.json')),
      deliverAll(server.smtp.port, live, { connections: 4 }),
    ]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(imported.report.failed, 0);
    assert.deepEqual([...replies.values()].filter((r) => r.code !== 250), []);
    await waitForIndex(server.data);

    const archive = await openArchive(server.data);
    try {
      const bySource = new Map<string, number>();
      for (const c of await archive.read((tx) => Array.fromAsync(archive.stores.meta.allCaptures(tx)))) bySource.set(c.source, (bySource.get(c.source) ?? 0) + 1);
      assert.equal(bySource.get('smtp'), live.length);
      assert.equal(bySource.get('import:mbox'), imported.report.imported);
      for (const raw of originals.slice(0, 50)) {
        if (raw[raw.length - 1] !== 10) continue;
        assert.ok(await archive.read((tx) => archive.stores.meta.getMessage(tx, sha256(raw))), 'an imported message is stored bit-exact');
      }
      // Found by the index like any message, and the live ones too.
      const probe = originals.find((raw) => raw[raw.length - 1] === 10 && /^Message-ID: *<[^>\s]+>/im.test(raw.toString('latin1')))!;
      const id = /^Message-ID: *<([^>\s]+)>/im.exec(probe.toString('latin1'))![1];
      assert.ok((await archive.search.search(`message-id:${id}`, { limit: 10 })).hits.some((h) => h.sha256 === sha256(probe)), `imported message found by message-id:${id}`);
      assert.equal((await archive.search.search('subject:"during the import"', { limit: 500 })).hits.length, live.length);
    } finally {
      archive.close();
    }
  } finally {
    assert.equal(await server.stop(), 0);
  }
  const verified = await sealbox(['verify', '--data', server.data, '--config', config]);
  assert.equal(verified.code, 0, verified.stdout.toString());
});
