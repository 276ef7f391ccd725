import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { corpusFiles } from './support/corpus.ts';
import { deliverAll } from './support/ingest.ts';
import { toCrlf } from './support/smtp-client.ts';
import { sealbox, startSealbox } from './support/sealbox.ts';
import { openArchive, testConfig } from './support/archive.ts';

test('SIGKILL in the middle of an 8-connection ingest loses no acknowledged message', { timeout: 300_000 }, async () => {
  const messages = corpusFiles().slice(0, 3000).map((f, index) => ({
    index, data: toCrlf(readFileSync(f)), envelope: { from: 'journal@example.test', to: [`user${index % 13}@example.test`] },
  }));
  const config = testConfig();
  const server = await startSealbox({ args: ['--config', config] });
  const acknowledged: Buffer[] = [];
  let killed: Promise<void> | null = null;
  await deliverAll(server.smtp.port, messages, {
    connections: 8,
    onReply: (m, reply) => {
      if (reply.code === 250) acknowledged.push(m.data);
      if (acknowledged.length === 1000 && !killed) killed = server.kill(); // mid-stream, transactions in flight
    },
  });
  await killed;
  assert.ok(acknowledged.length >= 1000 && acknowledged.length < messages.length, `killed mid-ingest after ${acknowledged.length} acknowledgements`);

  // Restart on the same data: it must open cleanly and sign what was not yet signed.
  const again = await startSealbox({ data: server.data, args: ['--config', config] });
  assert.equal(await again.stop(), 0, again.stderr());
  const archive = await openArchive(server.data);
  try {
    for (const data of acknowledged) {
      const sha = createHash('sha256').update(data).digest('hex');
      const row = await archive.read((tx) => archive.stores.reader.message(tx, sha)); // throws if missing
      assert.ok((await archive.stores.reader.buffer(row)).equals(data));
    }
  } finally {
    archive.close();
  }
  const verified = await sealbox(['verify', '--data', server.data, '--config', config]);
  assert.equal(verified.code, 0, verified.stdout.toString() + verified.stderr);
});
