// The key provider's contract, run against every implementation (today the master key file; a
// KMS or HSM provider joins by adding a line to PROVIDERS).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { KeyProvider } from '../../src/store/key-provider.ts';
import { FileKeyProvider } from '../../src/store/key-provider.ts';

const PROVIDERS: { name: string; open(): { provider: KeyProvider; other: KeyProvider } }[] = [
  { name: 'FileKeyProvider', open: () => ({ provider: new FileKeyProvider(randomBytes(32)), other: new FileKeyProvider(randomBytes(32)) }) },
];

for (const impl of PROVIDERS) {
  describe(`KeyProvider: ${impl.name}`, () => {
    test('a wrapped data key unwraps to itself; wrapping twice gives different bytes', async () => {
      const { provider } = impl.open();
      const dataKey = randomBytes(32);
      const a = await provider.wrap(dataKey);
      const b = await provider.wrap(dataKey);
      assert.ok(!a.equals(b), 'fresh randomness per wrap');
      assert.ok(!a.includes(dataKey), 'the data key is not in the wrapped bytes');
      assert.ok((await provider.unwrap(a, provider.keyId)).equals(dataKey));
      assert.ok((await provider.unwrap(b, provider.keyId)).equals(dataKey));
    });

    test('a key wrapped by another master key is refused by name, not garbled', async () => {
      const { provider, other } = impl.open();
      assert.notEqual(provider.keyId, other.keyId);
      const wrapped = await other.wrap(randomBytes(32));
      await assert.rejects(provider.unwrap(wrapped, other.keyId), (err: any) => err.code === 'SEALBOX_ERR_STORE_UNAVAILABLE' && err.message.includes(other.keyId));
    });

    test('a changed wrapped key does not unwrap', async () => {
      const { provider } = impl.open();
      const wrapped = await provider.wrap(randomBytes(32));
      wrapped[wrapped.length >> 1] ^= 1;
      await assert.rejects(provider.unwrap(wrapped, provider.keyId));
    });
  });
}
