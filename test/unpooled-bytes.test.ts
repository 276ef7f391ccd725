// Bytes handed to another thread or kept in a cache must not drag Node's shared 64 KB Buffer
// pool along (src/core/bytes.ts): the S3 corpus run's index thread held ~50 MB of pool slabs for
// the 8 MB of segments its cache counted.
import assert from 'node:assert/strict';
import test from 'node:test';
import { Worker } from 'node:worker_threads';
import { unpooled } from '../src/core/bytes.ts';

// What a thread receives: the length of the bytes and of the ArrayBuffer behind them.
async function received(post: (worker: Worker) => void): Promise<[number, number]> {
  const worker = new Worker(`require('node:worker_threads').parentPort.on('message', (m) => require('node:worker_threads').parentPort.postMessage([m.byteLength, m.buffer.byteLength]))`, { eval: true });
  try {
    post(worker);
    return await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
  } finally {
    await worker.terminate();
  }
}

test('a small Buffer posted as it is arrives with its pool; unpooled and transferred, with its own bytes alone', async () => {
  const segment = Buffer.concat([Buffer.alloc(3_000, 1), Buffer.alloc(7_000, 2)]);
  const pool = segment.buffer.byteLength;
  assert.ok(pool > segment.length, `this Node hands out a ${segment.length}-byte Buffer from a shared pool (${pool} bytes)`);
  assert.deepEqual(await received((w) => w.postMessage(segment)), [10_000, pool]);

  const own = unpooled(segment);
  assert.equal(own.buffer.byteLength, 10_000);
  assert.ok(own.equals(segment));
  assert.notEqual(own.buffer, segment.buffer, 'a copy: the original stays usable');
  assert.deepEqual(await received((w) => w.postMessage(own, [own.buffer])), [10_000, 10_000]);
  assert.equal(segment.readUInt8(9_999), 2);
});
