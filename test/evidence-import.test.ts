// Issue 18, step 4: `sealbox import evidence`. A package of a few hundred corpus messages exported
// from archive A under an export grant is taken into archive B: checked first as its verify.py
// checks it, against the key the operator gives; every message arrives with the SHA-256 A proved,
// each capture's provenance names the package, its checkpoint, A's ledger entries and envelopes;
// B's verify passes; a second import adds nothing; zip volumes are taken like the folder. A
// package with one changed byte (a message, the manifest, a proof, a signature), or signed by a
// key other than the one given, is refused naming the file, and B is left exactly as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpusFiles } from './support/corpus.ts';
import { deliverAll } from './support/ingest.ts';
import type { Delivery } from './support/ingest.ts';
import { toCrlf } from './support/smtp-client.ts';
import { sealbox, startSealbox, tempDataDir } from './support/sealbox.ts';
import { testConfig, waitForIndex } from './support/archive.ts';
import { directoryCsv, signInEveryone, consoleAdds } from './support/access-world.ts';
import { enrolmentCode } from './support/outbox.ts';
import { ApiClient } from './support/api-client.ts';
import { captureCount, runImport } from './support/import-run.ts';
import { exportedEntry, exportedLines } from './support/ledger-export.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function python(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('an evidence package from one archive is imported into another, proven and with its provenance; a tampered or foreign-signed one changes nothing', { timeout: 900_000 }, async (t) => {
  const config = testConfig({
    internalDomains: ['corp.test'],
    access: { secureCookies: false, requestsPerMinute: 1_000_000, signinPerMinute: 10_000, linkedPeopleDays: 0 },
    ledger: { checkpointEverySeconds: 3600 },
  });

  // Archive A: a few hundred real messages, every one reaching olga by the envelope alone.
  const deliveries: Delivery[] = corpusFiles().filter((_, i) => i % 20 === 7).map((file, index) => ({
    index, data: toCrlf(readFileSync(file)),
    envelope: { from: 'journal@relay.test', to: ['olga@corp.test', ...(index % 4 === 0 ? ['bob@corp.test'] : [])] },
  }));
  // One more: carl is its only header recipient; olga and dave got it by the envelope alone.
  const bccd = Buffer.from('From: Supplier <sales@supplier.test>\r\nTo: carl@corp.test\r\nSubject: the March order\r\nDate: Tue, 01 Dec 2026 09:00:00 +0000\r\nMessage-ID: <march@supplier.test>\r\n\r\nConfirmed.\r\n');
  deliveries.push({ index: deliveries.length, data: bccd, envelope: { from: 'sales@supplier.test', to: ['olga@corp.test', 'carl@corp.test', 'dave@corp.test'] } });
  const first = await startSealbox({ args: ['--config', config] });
  const replies = await deliverAll(first.smtp.port, deliveries, { connections: 4 });
  assert.deepEqual([...replies.values()].filter((r) => r.code !== 250), []);
  await waitForIndex(first.data);
  assert.equal(await first.stop(), 0, first.stderr());
  const raws = new Map(deliveries.map((d) => [sha256(d.data), d.data]));
  assert.ok(raws.size >= 250, `a few hundred messages (${raws.size})`);

  const server = await startSealbox({ data: first.data, args: ['--config', config, '--http', '127.0.0.1:0'] });
  const a = ['--data', server.data, '--config', config];
  const csvFile = join(tempDataDir(), 'directory.csv');
  writeFileSync(csvFile, directoryCsv({ 'olga@corp.test': 'olga', 'bob@corp.test': 'bob' }));
  assert.equal((await sealbox(['mailboxes', 'import', ...a, csvFile])).code, 0);
  const added = await sealbox(['users', 'add', ...a, '--name', 'adm', '--email', 'adm@corp.test', '--role', 'admin']);
  assert.equal(added.code, 0, added.stderr);
  const world = await signInEveryone(() => new ApiClient(server.http!.url), /enrolment code (\S+)/.exec(added.stdout.toString())![1],
    { olga: ['owner'], bob: ['owner'], rita: ['requester'], appr: ['approver'] }, { mailedCode: async (a) => enrolmentCode(server.data, a), atConsole: consoleAdds(a) });
  const call = async (who: string, method: string, path: string, body?: unknown) => {
    const r = await world.as[who].call(method, path, body);
    assert.equal(r.status, 200, `${who} ${method} ${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const grant = (await call('rita', 'POST', '/api/v1/requests', {
    purpose: 'legal-hold', justification: 'Production to the opposing party', ticket: 'LEG-30',
    mailboxes: ['olga@corp.test', 'bob@corp.test'], permissions: ['search', 'read', 'export'], durationHours: 4,
  })).id as string;
  assert.equal((await call('appr', 'POST', `/api/v1/requests/${grant}/approve`, { reason: 'matter LEG-30' })).state, 'active');
  const token = (await call('rita', 'POST', '/api/v1/tokens', { name: 'evidence', scopes: ['content'], days: 1 })).token as string;
  const pkg = join(tempDataDir(), 'LEG-30');
  const exported = await sealbox(['export', ...a, '--token', token, '--grant', grant, '--out', pkg, 'mailbox:olga@corp.test'], { timeoutMs: 300_000 });
  assert.equal(exported.code, 0, exported.stderr);
  const keyA = (await sealbox(['ledger', 'public-key', ...a])).stdout.toString().trim();
  assert.equal(await server.stop(), 0, server.stderr());
  assert.deepEqual(readdirSync(join(pkg, 'messages')).sort(), [...raws.keys()].map((s) => `${s}.eml`).sort());
  const checkpoint = readFileSync(join(pkg, 'checkpoint.txt'), 'utf8').split('\n');
  const keyFile = join(tempDataDir(), 'archive-a.pub');
  writeFileSync(keyFile, `${keyA}\n`);

  // Archive B: its own keys and ledger (created by its first import). It already holds one of the
  // messages, received by SMTP: that message's import is one more capture of the same bytes.
  const bData = tempDataDir();
  const b = ['--data', bData, '--config', config];
  const shared = deliveries[3];
  const bServer = await startSealbox({ data: bData, args: ['--config', config] });
  assert.equal((await deliverAll(bServer.smtp.port, [{ ...shared, index: 0 }])).get(0)!.code, 250);
  assert.equal(await bServer.stop(), 0, bServer.stderr());
  const ledgerOf = async () => (await sealbox(['ledger', 'export', ...b])).stdout.toString();
  const refusedLeavesB = async (what: string, args: string[], file: RegExp) => {
    const before = await ledgerOf();
    const held = captureCount(bData);
    const r = await sealbox(['import', 'evidence', ...b, ...args]);
    assert.equal(r.code, 2, `${what}: ${r.stderr}`);
    assert.match(r.stderr, file, `${what}: the refusal names the file`);
    assert.match(r.stderr, /nothing was imported.*\[SEALBOX_ERR_BAD_INPUT\]/);
    assert.equal(await ledgerOf(), before, `${what}: B's ledger is unchanged`);
    assert.equal(captureCount(bData), held, `${what}: B holds only what it held`);
  };

  await t.test('a package signed by another key than the one given is refused, and so is one checked with its own key only by mistake', async () => {
    const other = await startSealbox({ args: ['--config', config] });
    assert.equal(await other.stop(), 0, other.stderr());
    const keyOther = (await sealbox(['ledger', 'public-key', '--data', other.data, '--config', config])).stdout.toString().trim();
    assert.notEqual(keyOther, keyA);
    await refusedLeavesB('another key', ['--verifier-key', keyOther, pkg], /FAIL manifest\.json: its signature \(manifest\.sig\) does not verify[\s\S]*FAIL checkpoint\.txt: note has no signature by key/);
    const r = await sealbox(['import', 'evidence', ...b, pkg]);
    assert.equal(r.code, 2, 'no key given: refused before anything is read');
    assert.match(r.stderr, /--verifier-key/);
  });

  await t.test('one changed byte of a message, the manifest, a proof or a signature refuses the package, naming the file; B is unchanged', async () => {
    const someSha = [...raws.keys()].sort()[11];
    const flip = (at: (b: Buffer) => number) => (b: Buffer) => { const i = at(b); b[i] = b[i] === 0x41 ? 0x42 : 0x41; return b; };
    const cases: [string, string, (b: Buffer) => Buffer, RegExp][] = [
      ['a message', `messages/${someSha}.eml`, flip((b) => Math.floor(b.length / 2)), new RegExp(`FAIL messages/${someSha}\\.eml: (its bytes hash to|does not match the manifest)`)],
      ['the manifest', 'manifest.json', flip((b) => b.indexOf('"md5": "') + 8), /FAIL manifest\.json: its signature \(manifest\.sig\) does not verify/],
      ['a proof', `evidence/${someSha}.json`, flip((b) => { const h = b.indexOf('"hashes": ['); return h + b.subarray(h).indexOf('"', 11) + 1; }),
        new RegExp(`FAIL evidence/${someSha}\\.json: receipt \\S+ \\(ledger entry \\d+\\): its inclusion proof does not lead to the checkpoint's root`)],
      ['the manifest\'s signature', 'manifest.sig', flip(() => 5), /FAIL manifest\.json: its signature \(manifest\.sig\) does not verify/],
      ['the checkpoint\'s signature', 'checkpoint.txt', flip((b) => b.lastIndexOf(' ') + 10), /FAIL checkpoint\.txt: signature by key \S+ does not verify/],
    ];
    for (const [what, file, change, why] of cases) {
      const copy = join(tempDataDir(), 'tampered');
      cpSync(pkg, copy, { recursive: true });
      writeFileSync(join(copy, file), change(readFileSync(join(copy, file))));
      // verify.py, the script the package ships, says the same.
      const v = await python([join(copy, 'verify.py'), copy, '--key', keyA]);
      assert.equal(v.code, 1, `${what}: ${v.stdout}`);
      await refusedLeavesB(what, ['--verifier-key', keyFile, copy], why);
    }
  });

  let imported: Awaited<ReturnType<typeof runImport>>;
  await t.test('the package is imported: every message by the SHA-256 A proved, with its provenance; B verifies', async () => {
    const started = performance.now();
    imported = await runImport(['evidence', ...b, '--verifier-key', keyFile, pkg], join(tempDataDir(), 'report.json'), { timeoutMs: 300_000 });
    const seconds = (performance.now() - started) / 1000;
    assert.equal(imported.code, 0, imported.stderr.toString());
    const bytes = [...raws.values()].reduce((n, r) => n + r.length, 0);
    t.diagnostic(`imported ${raws.size} messages (${(bytes / 1e6).toFixed(2)} MB) in ${seconds.toFixed(2)} s with the command's start (the import's own: ${imported.report.seconds.toFixed(2)} s)`);
    assert.deepEqual([imported.report.source, imported.report.imported, imported.report.alreadyArchived, imported.report.skipped, imported.report.failed],
      ['import:evidence', raws.size, 1, 0, 0]);

    const lines = exportedLines(await ledgerOf());
    const captures = lines.map(exportedEntry).filter((e) => e.operation === 'capture' && e.parameters.source === 'import:evidence');
    assert.equal(captures.length, raws.size);
    // The capture writer hashes what it stores: the SHA-256 B recorded is that of the bytes it keeps.
    assert.deepEqual(captures.map((e) => e.objects.messages[0]).sort(), [...raws.keys()].sort(), 'every message, bit-exact by SHA-256');
    for (const e of captures) {
      const sha = e.objects.messages[0];
      const p = e.parameters.provenance as any;
      const ev = JSON.parse(readFileSync(join(pkg, 'evidence', `${sha}.json`), 'utf8'));
      assert.equal(e.parameters.envelope, null, 'an import invents no envelope: mailboxes come from the headers');
      assert.deepEqual(p.package, {
        origin: 'sealbox.localhost/ledger', manifestSha256: sha256(readFileSync(join(pkg, 'manifest.json'))),
        verifierKey: keyA.split('+').slice(0, 2).join('+'), checkpoint: { size: Number(checkpoint[1]), rootHash: checkpoint[2] },
      });
      assert.equal(p.file, `messages/${sha}.eml`);
      assert.deepEqual(p.receipts, ev.captures.map((c: any) => ({
        ledgerIndex: c.ledger.index, captureId: c.captureId, source: 'smtp', receivedAt: c.receivedAt, envelope: c.envelope, provenance: c.provenance, proven: true,
      })));
      assert.ok(p.receipts[0].envelope.rcptTo.some((r: any) => r.address === 'olga@corp.test'), 'A\'s envelope, as the package states it');
    }
    const verified = await sealbox(['verify', ...b, '--json']);
    assert.equal(verified.code, 0, verified.stdout.toString() + verified.stderr.toString());
  });

  await t.test('nobody gains access by the import: mailboxes come from the headers, and an owner sees the origin\'s envelopes cut to their own addresses', async () => {
    const bServer2 = await startSealbox({ data: bData, args: ['--config', config, '--http', '127.0.0.1:0'] });
    try {
      await waitForIndex(bData);
      const bCsv = join(tempDataDir(), 'directory.csv');
      writeFileSync(bCsv, directoryCsv({ 'olga@corp.test': 'olga', 'carl@corp.test': 'carl', 'dave@corp.test': 'dave' }));
      assert.equal((await sealbox(['mailboxes', 'import', ...b, bCsv])).code, 0);
      const adm = await sealbox(['users', 'add', ...b, '--name', 'adm', '--email', 'adm@corp.test', '--role', 'admin']);
      assert.equal(adm.code, 0, adm.stderr);
      const bWorld = await signInEveryone(() => new ApiClient(bServer2.http!.url), /enrolment code (\S+)/.exec(adm.stdout.toString())![1],
        { olga: ['owner'], carl: ['owner'], dave: ['owner'] }, { mailedCode: async (a) => enrolmentCode(bServer2.data, a), atConsole: consoleAdds(b) });
      const show = async (who: string, sha: string) => {
        const r = await bWorld.as[who].call('POST', '/api/v1/tokens', { name: 'read', scopes: ['content'], days: 1 });
        return sealbox(['show', ...b, '--token', r.body.token, '--json', sha]);
      };
      const mine = await show('carl', sha256(bccd));
      assert.equal(mine.code, 0, mine.stderr);
      const view = JSON.parse(mine.stdout.toString());
      assert.deepEqual(view.captures.map((c: any) => [c.source, c.envelope]), [['import:evidence', null]]);
      assert.deepEqual(view.captures[0].provenance.receipts.map((r: any) => r.envelope.rcptTo.map((t: any) => t.address)), [['carl@corp.test']],
        'the origin\'s other recipients (olga, dave: Bcc) are not carl\'s to see');
      assert.equal(view.captures[0].provenance.package.origin, 'sealbox.localhost/ledger');
      // olga and dave were recipients in A by the envelope alone: in B the message is not theirs.
      for (const who of ['olga', 'dave']) {
        const r = await show(who, sha256(bccd));
        assert.equal(r.code, 2, `${who}: ${r.stdout}`);
        assert.match(r.stderr, /SEALBOX_ERR_NOT_FOUND/);
      }
      assert.equal((await show('olga', [...raws.keys()].find((k) => k !== sha256(shared.data))!)).code, 2, 'nor any other message A gave olga by the envelope');
      assert.equal((await show('olga', sha256(shared.data))).code, 0, 'the one B received by SMTP for her stays hers');
    } finally {
      assert.equal(await bServer2.stop(), 0, bServer2.stderr());
    }
  });

  await t.test('importing the same package again adds nothing; its zip volumes are the same package', async () => {
    const before = captureCount(bData);
    const again = await runImport(['evidence', ...b, '--verifier-key', keyA, pkg], join(tempDataDir(), 'again.json'));
    assert.equal(again.code, 0, again.stderr.toString());
    assert.deepEqual([again.report.imported, again.report.skipped, again.report.failed], [0, raws.size, 0]);
    assert.equal(captureCount(bData), before);

    // Two volumes, written by Python's zipfile (not by Sealbox), the first with the manifest.
    const zips = tempDataDir();
    const made = await python(['-c', `
import os, sys, zipfile
root, out = sys.argv[1], sys.argv[2]
files = sorted(os.path.relpath(os.path.join(d, n), root) for d, _, ns in os.walk(root) for n in ns)
half = len(files) // 2
for i, part in enumerate((files[:half], files[half:])):
    with zipfile.ZipFile(os.path.join(out, 'pkg-%d-of-2.zip' % (i + 1)), 'w', zipfile.ZIP_DEFLATED) as z:
        for f in part:
            z.write(os.path.join(root, f), f)
`, pkg, zips]);
    assert.equal(made.code, 0, made.stderr);
    const volumes = readdirSync(zips).filter((n) => n.endsWith('.zip')).map((n) => join(zips, n));
    const fromZips = await runImport(['evidence', ...b, '--verifier-key', keyA, ...volumes], join(tempDataDir(), 'zips.json'));
    assert.equal(fromZips.code, 0, fromZips.stderr.toString());
    assert.deepEqual([fromZips.report.imported, fromZips.report.skipped], [0, raws.size], 'the volumes hold the package already imported');
    // One volume alone is not the package.
    await refusedLeavesB('a volume left out', ['--verifier-key', keyA, volumes[1]], /FAIL manifest\.json: missing or not a manifest/);
    assert.equal(existsSync(join(zips, 'pkg-1-of-2.zip')), true);
  });
});
