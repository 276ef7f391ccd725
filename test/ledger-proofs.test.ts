import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyCheckpoint } from '../src/ledger/checkpoint.ts';
import { leafHash, verifyConsistency, verifyInclusion } from '../src/ledger/merkle-tree.ts';
import { RawSmtpClient } from './support/smtp-client.ts';
import { sealbox, startSealbox } from './support/sealbox.ts';
import { testConfig } from './support/archive.ts';

async function send(port: number, n: number, tag: string): Promise<void> {
  const client = await RawSmtpClient.connect(port);
  for (let i = 0; i < n; i++) {
    const r = await client.send({ from: 'a@example.test', to: ['b@example.test'] }, Buffer.from(`Subject: ${tag} ${i}\r\n\r\nbody ${tag} ${i}\r\n`));
    assert.equal(r.data[0].code, 250);
  }
  await client.quit();
}

test('inclusion and consistency proofs verify against signed checkpoints; the HTTP API serves them', { timeout: 120_000 }, async () => {
  const config = testConfig();
  const first = await startSealbox({ args: ['--config', config, '--http', '127.0.0.1:0'] });
  await send(first.smtp.port, 5, 'first');
  const health = await (await fetch(`${first.http!.url}/api/v1/health`)).json() as any;
  assert.equal(health.captures, 5);
  assert.equal(health.ledger.size, 5);
  const missing = await fetch(`${first.http!.url}/api/v1/messages`);
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as any).error.code, 'SEALBOX_ERR_NOT_FOUND');
  assert.equal(await first.stop(), 0); // signs a checkpoint at size 5

  const second = await startSealbox({ data: first.data, args: ['--config', config, '--http', '127.0.0.1:0'] });
  await send(second.smtp.port, 3, 'second');
  const key = (await (await fetch(`${second.http!.url}/api/v1/ledger/public-key`)).text()).trim();
  assert.equal(key, (await sealbox(['ledger', 'public-key', '--data', first.data, '--config', config])).stdout.toString().trim());
  assert.equal(await second.stop(), 0); // signs at size 8
  const data = first.data;

  const latest = verifyCheckpoint((await sealbox(['ledger', 'checkpoint', '--data', data, '--config', config])).stdout.toString(), key, { origin: 'sealbox.localhost/ledger' });
  assert.equal(latest.size, 8);
  const leaves = (await sealbox(['ledger', 'export', '--data', data, '--config', config])).stdout.toString().trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(leaves.length, 8);

  for (let index = 0; index < 8; index++) {
    const r = await sealbox(['ledger', 'proof', String(index), '--data', data, '--config', config]);
    assert.equal(r.code, 0, r.stderr);
    const p = JSON.parse(r.stdout.toString());
    const cp = verifyCheckpoint(p.checkpoint, key);
    const leaf = leafHash(Buffer.from(leaves[index].leaf, 'base64'));
    assert.deepEqual(Buffer.from(p.leafHash, 'base64'), leaf, 'the proven leaf is the exported entry');
    const proof = p.proof.map((h: string) => Buffer.from(h, 'base64'));
    assert.ok(verifyInclusion(index, cp.size, leaf, proof, cp.rootHash), `entry ${index} is included`);
    assert.ok(!verifyInclusion(index, cp.size, leafHash(Buffer.from('forged')), proof, cp.rootHash));
  }

  const r = await sealbox(['ledger', 'consistency', '5', '--data', data, '--config', config]);
  assert.equal(r.code, 0, r.stderr);
  const c = JSON.parse(r.stdout.toString());
  const older = verifyCheckpoint(c.oldCheckpoint, key);
  const newer = verifyCheckpoint(c.newCheckpoint, key);
  assert.equal(older.size, 5);
  assert.equal(newer.size, 8);
  const proof = c.proof.map((h: string) => Buffer.from(h, 'base64'));
  assert.ok(verifyConsistency(5, 8, older.rootHash, newer.rootHash, proof), 'the size-8 tree extends the size-5 tree');

  const bad = await sealbox(['ledger', 'proof', '99', '--data', data, '--config', config]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /entry 99 is not in the checkpoint of size 8/);
  const noSuch = await sealbox(['ledger', 'consistency', '4', '--data', data, '--config', config]);
  assert.equal(noSuch.code, 2);
  assert.match(noSuch.stderr, /no signed checkpoint has size 4/);
});
