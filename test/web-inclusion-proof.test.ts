// The web app's own evidence check (src/web/message/inclusion-proof.ts, WebCrypto only) against
// the server's ledger code: every inclusion proof of trees of 1–33 leaves verifies, a changed
// hash, index, size or leaf does not; a checkpoint signed by the ledger's key verifies with its
// verifier key, and not with another key or once its text is changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { generateSigningKey, signCheckpoint } from '../src/ledger/checkpoint.ts';
import { inclusionProof, leafHash, rootFromLeafHashes, verifyInclusion as serverVerify } from '../src/ledger/merkle-tree.ts';
import { leafHashOf, parseCheckpointNote, verifyInclusion, verifyNoteSignature } from '../src/web/message/inclusion-proof.ts';

test('browser inclusion proofs agree with the ledger', async () => {
  for (let size = 1; size <= 33; size++) {
    const leaves = Array.from({ length: size }, (_, i) => Buffer.from(`{"index":${i},"n":"${randomBytes(4).toString('hex')}"}`));
    const hashes = leaves.map((l) => leafHash(l));
    const root = rootFromLeafHashes(hashes);
    for (let i = 0; i < size; i++) {
      const ours = await leafHashOf(leaves[i]);
      assert.deepEqual(Buffer.from(ours), hashes[i]);
      const proof = inclusionProof(i, hashes).map((h) => new Uint8Array(h));
      assert.ok(await verifyInclusion(i, size, ours, proof, root), `size ${size} index ${i}`);
      if (proof.length > 0) {
        const bad = proof.map((p) => p.slice());
        bad[bad.length - 1][0] ^= 1;
        assert.equal(await verifyInclusion(i, size, ours, bad, root), false);
      }
      assert.equal(await verifyInclusion(i, size, await leafHashOf(Buffer.concat([leaves[i], Buffer.from(' ')])), proof, root), false, 'another leaf');
      if (size > 1) assert.equal(await verifyInclusion((i + 1) % size, size, ours, proof, root), false, 'another index');
      // Another tree size: the same verdict as the server's verifier (a proof can also fit a
      // neighbouring size when the leaf sits in a complete left subtree).
      for (const other of [size - 1, size + 1, size * 2]) {
        assert.equal(await verifyInclusion(i, other, ours, proof, root), serverVerify(i, other, hashes[i], proof, root), `size ${size} as ${other}, index ${i}`);
      }
    }
  }
});

test('browser checkpoint signature check agrees with the ledger', async () => {
  const key = generateSigningKey('sealbox.test/ledger');
  const other = generateSigningKey('sealbox.test/ledger');
  const note = signCheckpoint({ origin: 'sealbox.test/ledger', size: 7, rootHash: randomBytes(32) }, key);
  const parsed = parseCheckpointNote(note);
  assert.equal(parsed.size, 7);
  assert.equal(parsed.origin, 'sealbox.test/ledger');
  assert.equal(await verifyNoteSignature(parsed, key.verifierKey), 'valid');
  assert.equal(await verifyNoteSignature(parsed, other.verifierKey), 'invalid', 'another key');
  assert.equal(await verifyNoteSignature({ ...parsed, text: parsed.text.replace('\n7\n', '\n8\n') }, key.verifierKey), 'invalid', 'changed text');
});
