// Keys, nonces, salts and ids come from freshBytes (core/random.ts): the CSPRNG's bytes handed out
// from a buffer, each once. A nonce or a data key given twice would be the end of the encryption.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshBytes } from '../src/core/random.ts';

test('fresh bytes are never handed out twice, are copies of their own, and are wiped from the buffer', () => {
  const seen = new Set<string>();
  const held: Buffer[] = [];
  // Over several refills of the 4 KB buffer, in the sizes the archive asks for.
  for (let i = 0; i < 2_000; i++) {
    for (const n of [32, 12, 8]) {
      const b = freshBytes(n);
      assert.equal(b.length, n);
      const hex = b.toString('hex');
      assert.ok(!seen.has(hex), `a repeat after ${seen.size} draws`);
      seen.add(hex);
      if (i < 4) held.push(b);
    }
  }
  // Each is a buffer of its own, not a view of the pool: the next draws leave it as it was.
  const copies = held.map((b) => Buffer.from(b));
  for (let i = 0; i < 500; i++) freshBytes(32);
  held.forEach((b, i) => assert.ok(b.equals(copies[i]!)));
  // Not all zero (a wiped pool handed out): 32 zero bytes by chance never happen.
  assert.ok(held.every((b) => b.some((x) => x !== 0)));
  // Larger requests straight from the CSPRNG.
  const big = freshBytes(1024);
  assert.equal(big.length, 1024);
  assert.ok(!big.equals(freshBytes(1024)));
});
