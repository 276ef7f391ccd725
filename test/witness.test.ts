import { waitUntil } from './support/wait.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { RawSmtpClient } from './support/smtp-client.ts';
import { sealbox, startSealbox, tempDataDir } from './support/sealbox.ts';
import { testConfig } from './support/archive.ts';
import { runImport } from './support/import-run.ts';
import { startWebhookSink } from './support/webhook-sink.ts';

async function send(port: number, tag: string, n: number): Promise<void> {
  const client = await RawSmtpClient.connect(port);
  for (let i = 0; i < n; i++) assert.equal((await client.send({ from: 'a@example.test', to: ['b@example.test'] }, Buffer.from(`Subject: ${tag} ${i}\r\n\r\n${tag} ${i}\r\n`))).data[0].code, 250);
  await client.quit();
}

test('a witness that kept an old checkpoint catches a ledger rewritten and re-signed by someone who controls the server', { timeout: 180_000 }, async () => {
  const witness = tempDataDir();
  const config = testConfig({ ledger: { witnesses: { directories: [witness] } } });
  const first = await startSealbox({ args: ['--config', config] });
  await send(first.smtp.port, 'original', 5);
  assert.equal(await first.stop(), 0);
  assert.ok(readdirSync(witness).includes('checkpoint-5.txt'), `the witness keeps each checkpoint: ${readdirSync(witness)}`);
  const kept = join(tempDataDir(), 'kept-checkpoint-5.txt');
  copyFileSync(join(witness, 'checkpoint-5.txt'), kept);
  const data = first.data;

  let r = await sealbox(['verify', '--data', data, '--config', config, '--against', kept]);
  assert.equal(r.code, 0, r.stdout.toString() + r.stderr);

  // The operator rewrites history: entries 2.. and what they recorded are removed, the tree is
  // regrown with other entries and signed again with the real key. Locally it all adds up.
  const db = new DatabaseSync(join(data, 'sealbox.db'));
  db.exec(`DELETE FROM capture WHERE ledger_index >= 2;
    DELETE FROM message WHERE id NOT IN (SELECT message FROM capture);
    DELETE FROM ledger WHERE idx >= 2; DELETE FROM ledger_payload WHERE idx >= 2;
    DELETE FROM checkpoint WHERE size > 0;`);
  db.close();
  const second = await startSealbox({ data, args: ['--config', config] });
  await send(second.smtp.port, 'forged', 3);
  assert.equal(await second.stop(), 0);

  r = await sealbox(['verify', '--data', data, '--config', config]);
  assert.equal(r.code, 0, `the rewritten ledger is consistent in itself: ${r.stdout}`);
  r = await sealbox(['verify', '--data', data, '--config', config, '--against', kept]);
  assert.equal(r.code, 1);
  assert.match(r.stdout.toString(), /FAIL witness checkpoint .*kept-checkpoint-5\.txt \(size 5\) does not match this ledger's first 5 entries: history was rewritten/);

  // A truncated ledger is caught the same way.
  const db2 = new DatabaseSync(join(data, 'sealbox.db'));
  db2.exec(`DELETE FROM capture WHERE ledger_index >= 4; DELETE FROM message WHERE id NOT IN (SELECT message FROM capture);
    DELETE FROM ledger WHERE idx >= 4; DELETE FROM ledger_payload WHERE idx >= 4; DELETE FROM checkpoint WHERE size > 4;`);
  db2.close();
  r = await sealbox(['verify', '--data', data, '--config', config, '--against', kept]);
  assert.equal(r.code, 1);
  assert.match(r.stdout.toString(), /witness checkpoint .* has 5 entries, this ledger only 4: entries were removed/);

  r = await sealbox(['verify', '--data', data, '--config', config, '--against', join(witness, 'no-such-file')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /cannot read witness checkpoint/);
});

test('a webhook witness receives every signed checkpoint, signed, and its copy catches a rewrite', { timeout: 180_000 }, async (t) => {
  const hook = await startWebhookSink();
  t.after(() => hook.close());
  const posts = hook.posts;
  const config = testConfig({ ledger: { checkpointEverySeconds: 1, witnesses: { webhooks: [{ url: hook.url, secretFile: hook.secretFile }] } }, notify: { retrySeconds: 1 } });
  const server = await startSealbox({ args: ['--config', config] });
  await send(server.smtp.port, 'original', 5);
  const sizeOf = (note: string) => Number(note.split('\n')[1]);
  const witnessed = () => posts.map((p) => JSON.parse(p.body)).filter((b) => b.kind === 'ledger.checkpoint');
  await waitUntil('a checkpoint of 5 entries posted', () => witnessed().some((b) => sizeOf(b.text) >= 5), { timeoutMs: 60_000, detail: () => JSON.stringify(witnessed()) });
  assert.equal(await server.stop(), 0);
  for (const p of posts) assert.ok(hook.signedOk(p), 'each post is signed');
  const note = witnessed().find((b) => sizeOf(b.text) >= 5)!.text as string;
  const kept = join(tempDataDir(), 'webhook-checkpoint.txt');
  writeFileSync(kept, note);
  let r = await sealbox(['verify', '--data', server.data, '--config', config, '--against', kept]);
  assert.equal(r.code, 0, r.stdout.toString() + r.stderr);

  const db = new DatabaseSync(join(server.data, 'sealbox.db'));
  db.exec(`DELETE FROM capture WHERE ledger_index >= 2; DELETE FROM message WHERE id NOT IN (SELECT message FROM capture);
    DELETE FROM ledger WHERE idx >= 2; DELETE FROM ledger_payload WHERE idx >= 2; DELETE FROM checkpoint WHERE size > 0;`);
  db.close();
  const again = await startSealbox({ data: server.data, args: ['--config', config] });
  await send(again.smtp.port, 'forged', 6);
  assert.equal(await again.stop(), 0);
  r = await sealbox(['verify', '--data', server.data, '--config', config, '--against', kept]);
  assert.equal(r.code, 1);
  assert.match(r.stdout.toString(), /webhook-checkpoint\.txt .*history was rewritten/);
});

test('a checkpoint an import signs reaches the witnesses too', { timeout: 120_000 }, async () => {
  const dir = tempDataDir();
  const witness = join(dir, 'witness');
  const config = testConfig({ ledger: { witnesses: { directories: [witness], emails: ['witness@example.test'] } } });
  const emls = join(dir, 'eml');
  mkdirSync(emls);
  for (let i = 0; i < 3; i++) writeFileSync(join(emls, `m${i}.eml`), `Subject: imported ${i}\r\nMessage-ID: <imported-${i}@example.test>\r\n\r\nimported ${i}\r\n`);
  const data = join(dir, 'archive');
  const r = await runImport(['eml', '--data', data, '--config', config, emls], join(dir, 'report.json'));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.report.imported, 3);
  // Each checkpoint the import signed (one per commit batch that made one due, and the last)
  // is in the folder, and its mail to the witness waits in the outbox.
  const files = readdirSync(witness).filter((f) => f.endsWith('.txt')).sort((a, b) => parseInt(a.slice(11)) - parseInt(b.slice(11)));
  assert.equal(files.at(-1), 'checkpoint-3.txt', 'the import\'s final checkpoint is in the witness folder');
  const db = new DatabaseSync(join(data, 'sealbox.db'), { readOnly: true });
  const queued = db.prepare("SELECT recipient, body FROM notification WHERE kind = 'ledger.checkpoint' ORDER BY id").all() as { recipient: string; body: string }[];
  db.close();
  assert.deepEqual(queued.map((q) => q.recipient), files.map(() => 'witness@example.test'), 'and its mail to the witness waits in the outbox');
  assert.deepEqual(queued.map((q) => q.body), files.map((f) => readFileSync(join(witness, f), 'utf8')));
  const verified = await sealbox(['verify', '--data', data, '--config', config, '--against', join(witness, 'checkpoint-3.txt')]);
  assert.equal(verified.code, 0, verified.stdout.toString() + verified.stderr);
});
