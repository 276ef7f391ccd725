import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';

import {
  MerkleFrontier,
  consistencyProof,
  inclusionProof,
  leafHash,
  nodeHash,
  rootFromLeafHashes,
  subtreesOf,
  foldRoots,
  verifyConsistency,
  verifyInclusion,
} from '../src/ledger/merkle-tree.ts';

// A deliberately naive transcription of RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1,
// sharing no code with the module under test.
function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
function refMTH(d: Uint8Array[]): Buffer {
  if (d.length === 0) return sha256();
  if (d.length === 1) return sha256(Buffer.of(0), d[0]!);
  const k = splitPoint(d.length);
  return sha256(Buffer.of(1), refMTH(d.slice(0, k)), refMTH(d.slice(k)));
}
function refPATH(m: number, d: Uint8Array[]): Buffer[] {
  if (d.length === 1) return [];
  const k = splitPoint(d.length);
  return m < k
    ? [...refPATH(m, d.slice(0, k)), refMTH(d.slice(k))]
    : [...refPATH(m - k, d.slice(k)), refMTH(d.slice(0, k))];
}
function refSUBPROOF(m: number, d: Uint8Array[], b: boolean): Buffer[] {
  if (m === d.length) return b ? [] : [refMTH(d)];
  const k = splitPoint(d.length);
  return m <= k
    ? [...refSUBPROOF(m, d.slice(0, k), b), refMTH(d.slice(k))]
    : [...refSUBPROOF(m - k, d.slice(k), false), refMTH(d.slice(0, k))];
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Buffer => Buffer.from(s, 'hex');
function flipped(b: Uint8Array, at: number): Buffer {
  const c = Buffer.from(b);
  c[at] = c[at]! ^ 0x01;
  return c;
}

// The leaves of certificate-transparency's merkle_tree_test.cc.
const CT_LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map(unhex);

const MAX = 64;
const ENTRIES: Buffer[] = [];
for (let i = 0; i < MAX; i++) ENTRIES.push(i < 8 ? CT_LEAVES[i]! : Buffer.from(`entry ${i}`));
const LEAF_HASHES = ENTRIES.map((e) => leafHash(e));

test('leaf and node hashes use the RFC 9162 domain separation bytes', () => {
  const e = Buffer.from('hello');
  assert.deepEqual(leafHash(e), sha256(Buffer.of(0), e));
  const l = sha256(Buffer.from('l'));
  const r = sha256(Buffer.from('r'));
  assert.deepEqual(nodeHash(l, r), sha256(Buffer.of(1), l, r));
});

test('known answers from certificate-transparency merkle_tree_test.cc', () => {
  assert.equal(
    hex(rootFromLeafHashes([])),
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  );
  const roots = [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
    '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
    'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
    '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
  ];
  for (let n = 1; n <= 8; n++) {
    // Each constant is checked against the reference too, not only the module.
    assert.equal(hex(refMTH(CT_LEAVES.slice(0, n))), roots[n - 1], `reference root of ${n}`);
    assert.equal(hex(rootFromLeafHashes(LEAF_HASHES.slice(0, n))), roots[n - 1], `root of ${n}`);
  }

  const inclusion: [number, number, string[]][] = [
    [0, 1, []],
    [
      0,
      8,
      [
        '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
      ],
    ],
    [
      5,
      8,
      [
        'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
        'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
        'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      ],
    ],
    [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
    [
      1,
      5,
      [
        '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      ],
    ],
  ];
  for (const [index, size, path] of inclusion) {
    const leaves = LEAF_HASHES.slice(0, size);
    assert.deepEqual(refPATH(index, CT_LEAVES.slice(0, size)).map(hex), path);
    assert.deepEqual(inclusionProof(index, leaves).map(hex), path);
    assert.ok(
      verifyInclusion(index, size, leaves[index]!, path.map(unhex), unhex(roots[size - 1]!)),
    );
  }

  const consistency: [number, number, string[]][] = [
    [1, 1, []],
    [
      1,
      8,
      [
        '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
      ],
    ],
    [
      6,
      8,
      [
        '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
        'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
        'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      ],
    ],
    [
      2,
      5,
      [
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      ],
    ],
  ];
  for (const [m, n, path] of consistency) {
    assert.deepEqual(refSUBPROOF(m, CT_LEAVES.slice(0, n), true).map(hex), path);
    assert.deepEqual(consistencyProof(m, LEAF_HASHES.slice(0, n)).map(hex), path);
    assert.ok(
      verifyConsistency(m, n, unhex(roots[m - 1]!), unhex(roots[n - 1]!), path.map(unhex)),
    );
  }
});

test('roots match the reference for every size up to 64', () => {
  for (let n = 0; n <= MAX; n++) {
    assert.deepEqual(rootFromLeafHashes(LEAF_HASHES.slice(0, n)), refMTH(ENTRIES.slice(0, n)), `n=${n}`);
  }
});

test('every inclusion proof verifies, and any change makes it fail', () => {
  const roots = [refMTH([])];
  for (let n = 1; n <= MAX + 1; n++) roots.push(refMTH(ENTRIES.slice(0, n)));
  for (let n = 1; n <= MAX; n++) {
    const leaves = LEAF_HASHES.slice(0, n);
    const root = roots[n]!;
    for (let i = 0; i < n; i++) {
      const proof = inclusionProof(i, leaves);
      const where = `leaf ${i} of ${n}`;
      assert.deepEqual(proof, refPATH(i, ENTRIES.slice(0, n)), where);
      assert.ok(verifyInclusion(i, n, leaves[i]!, proof, root), where);

      assert.ok(!verifyInclusion(i, n, flipped(leaves[i]!, 31), proof, root), `${where}: leaf`);
      assert.ok(!verifyInclusion(i, n, leaves[i]!, proof, flipped(root, 0)), `${where}: root`);
      for (let j = 0; j < n; j++) {
        if (j !== i) assert.ok(!verifyInclusion(j, n, leaves[i]!, proof, root), `${where}: index ${j}`);
      }
      for (let k = 0; k < proof.length; k++) {
        for (const at of [0, 17, 31]) {
          const bad = proof.map((p, x) => (x === k ? flipped(p, at) : p));
          assert.ok(!verifyInclusion(i, n, leaves[i]!, bad, root), `${where}: proof[${k}][${at}]`);
        }
      }
      // A proof does not pin the size on its own (the signed checkpoint does),
      // so a changed size is tested together with that size's real root.
      assert.ok(!verifyInclusion(i, n + 1, leaves[i]!, proof, roots[n + 1]!), `${where}: size + 1`);
      if (i < n - 1) {
        assert.ok(!verifyInclusion(i, n - 1, leaves[i]!, proof, roots[n - 1]!), `${where}: size - 1`);
      }
      if (proof.length > 0) {
        assert.ok(!verifyInclusion(i, n, leaves[i]!, proof.slice(1), root), `${where}: short`);
        assert.ok(!verifyInclusion(i, n, leaves[i]!, proof.slice(0, -1), root), `${where}: short`);
      }
      assert.ok(!verifyInclusion(i, n, leaves[i]!, [...proof, root], root), `${where}: long`);
    }
  }
});

test('every consistency proof verifies, and any change makes it fail', () => {
  const roots = [refMTH([])];
  for (let n = 1; n <= MAX + 1; n++) roots.push(refMTH(ENTRIES.slice(0, n)));
  for (let n = 1; n <= MAX; n++) {
    const leaves = LEAF_HASHES.slice(0, n);
    for (let m = 1; m <= n; m++) {
      const where = `${m} -> ${n}`;
      const proof = consistencyProof(m, leaves);
      assert.deepEqual(proof, refSUBPROOF(m, ENTRIES.slice(0, n), true), where);
      const oldRoot = roots[m]!;
      const newRoot = roots[n]!;
      assert.ok(verifyConsistency(m, n, oldRoot, newRoot, proof), where);

      assert.ok(!verifyConsistency(m, n, flipped(oldRoot, 3), newRoot, proof), `${where}: old root`);
      assert.ok(!verifyConsistency(m, n, oldRoot, flipped(newRoot, 3), proof), `${where}: new root`);
      for (let k = 0; k < proof.length; k++) {
        for (const at of [0, 31]) {
          const bad = proof.map((p, x) => (x === k ? flipped(p, at) : p));
          assert.ok(!verifyConsistency(m, n, oldRoot, newRoot, bad), `${where}: proof[${k}][${at}]`);
        }
      }
      if (proof.length > 0) {
        assert.ok(!verifyConsistency(m, n, oldRoot, newRoot, proof.slice(1)), `${where}: short`);
        assert.ok(!verifyConsistency(m, n, oldRoot, newRoot, proof.slice(0, -1)), `${where}: short`);
      }
      assert.ok(!verifyConsistency(m, n, oldRoot, newRoot, [...proof, newRoot]), `${where}: long`);
      // The same proof must not vouch for neighbouring sizes.
      if (m > 1) assert.ok(!verifyConsistency(m - 1, n, roots[m - 1]!, newRoot, proof), `${where}: m-1`);
      if (m < n) assert.ok(!verifyConsistency(m + 1, n, roots[m + 1]!, newRoot, proof), `${where}: m+1`);
      assert.ok(!verifyConsistency(m, n + 1, oldRoot, roots[n + 1]!, proof), `${where}: n+1`);
    }
  }
});

test('appending a leaf names the perfect subtrees it completes, and a prefix is the fold of its subtrees', () => {
  const n = 200;
  const entries = Array.from({ length: n }, (_, i) => Buffer.from(`leaf ${i}`));
  const hashes = entries.map((e) => leafHash(e));
  const frontier = new MerkleFrontier();
  const completed = new Map<string, Buffer>();
  for (let i = 0; i < n; i++) {
    const before = frontier.root();
    const nodes = frontier.completedBy(hashes[i]!);
    assert.deepEqual(frontier.root(), before, 'completedBy leaves the frontier as it was');
    // Leaf i completes one subtree for each trailing 1 bit of i: of 2, 4, … leaves ending at i.
    let ones = 0;
    for (let b = i; b % 2 === 1; b = Math.floor(b / 2)) ones++;
    assert.equal(nodes.length, ones, `leaf ${i}`);
    for (const node of nodes) {
      const width = 2 ** node.level;
      assert.equal((node.index + 1) * width, i + 1, `leaf ${i} ends subtree ${node.level}:${node.index}`);
      assert.deepEqual(node.hash, refMTH(entries.slice(node.index * width, (node.index + 1) * width)));
      completed.set(`${node.level}:${node.index}`, node.hash);
    }
    frontier.append(hashes[i]!);
  }
  for (const size of [1, 2, 3, 7, 64, 65, 127, 128, 129, 200]) {
    const pieces = subtreesOf(0, size);
    assert.equal(pieces.reduce((sum, p) => sum + 2 ** p.level, 0), size);
    const roots = pieces.map((p) => p.level === 0 ? hashes[p.index]! : completed.get(`${p.level}:${p.index}`)!);
    assert.deepEqual(foldRoots(roots), refMTH(entries.slice(0, size)), `size ${size}`);
  }
  // A proof's right-edge range: [128, 200) is 64 + 8.
  assert.deepEqual(subtreesOf(128, 200), [{ level: 6, index: 2 }, { level: 3, index: 24 }]);
});

test('trivial consistency: equal sizes and the empty tree', () => {
  const leaves = LEAF_HASHES.slice(0, 5);
  const root = rootFromLeafHashes(leaves);
  const empty = rootFromLeafHashes([]);
  assert.deepEqual(consistencyProof(0, leaves), []);
  assert.ok(verifyConsistency(0, 5, empty, root, []));
  assert.ok(!verifyConsistency(0, 5, root, root, []), 'size 0 must carry the empty root');
  assert.ok(!verifyConsistency(0, 5, empty, root, [root]), 'size 0 needs no proof');
  assert.ok(verifyConsistency(5, 5, root, root, []));
  assert.ok(!verifyConsistency(5, 5, root, empty, []));
  assert.ok(!verifyConsistency(5, 5, root, root, [root]));
  assert.ok(!verifyConsistency(6, 5, root, root, []), 'shrinking');
});

test('verifiers reject malformed input without throwing', () => {
  const leaves = LEAF_HASHES.slice(0, 7);
  const root = rootFromLeafHashes(leaves);
  const proof = inclusionProof(3, leaves);
  assert.ok(!verifyInclusion(NaN, 7, leaves[3]!, proof, root));
  assert.ok(!verifyInclusion(3, 7.5, leaves[3]!, proof, root));
  assert.ok(!verifyInclusion(-1, 7, leaves[3]!, proof, root));
  assert.ok(!verifyInclusion(7, 7, leaves[3]!, proof, root));
  assert.ok(!verifyInclusion(3, 7, leaves[3]!.subarray(1), proof, root));
  assert.ok(!verifyInclusion(3, 7, leaves[3]!, [proof[0]!.subarray(0, 31), ...proof.slice(1)], root));
  assert.ok(!verifyInclusion(3, 7, leaves[3]!, 'nope' as unknown as Uint8Array[], root));
  const cproof = consistencyProof(3, leaves);
  const oldRoot = rootFromLeafHashes(leaves.slice(0, 3));
  assert.ok(verifyConsistency(3, 7, oldRoot, root, cproof));
  assert.ok(!verifyConsistency(3, Infinity, oldRoot, root, cproof));
  assert.ok(!verifyConsistency(-3, 7, oldRoot, root, cproof));
  assert.ok(!verifyConsistency(3, 7, oldRoot, root, [Buffer.alloc(33), ...cproof.slice(1)]));
  assert.ok(!verifyConsistency(3, 7, oldRoot, root, [null as unknown as Uint8Array]));
});

test('proof generation rejects out-of-range arguments', () => {
  const leaves = LEAF_HASHES.slice(0, 4);
  assert.throws(() => inclusionProof(4, leaves), RangeError);
  assert.throws(() => inclusionProof(-1, leaves), RangeError);
  assert.throws(() => inclusionProof(0, []), RangeError);
  assert.throws(() => consistencyProof(5, leaves), RangeError);
  assert.throws(() => consistencyProof(1.5, leaves), RangeError);
  assert.throws(() => rootFromLeafHashes([Buffer.alloc(31)]), /leaf hash 0 is not 32 bytes/);
});

test('frontier root matches for every size and survives toJSON/fromJSON', () => {
  const frontier = new MerkleFrontier();
  assert.deepEqual(frontier.root(), rootFromLeafHashes([]));
  for (let n = 1; n <= MAX; n++) {
    assert.equal(frontier.append(LEAF_HASHES[n - 1]!), n - 1);
    assert.equal(frontier.size, n);
    const expected = rootFromLeafHashes(LEAF_HASHES.slice(0, n));
    assert.deepEqual(frontier.root(), expected, `n=${n}`);

    const restored = MerkleFrontier.fromJSON(JSON.parse(JSON.stringify(frontier)));
    assert.equal(restored.size, n);
    assert.deepEqual(restored.root(), expected, `restored n=${n}`);
    // A resumed frontier must keep extending the same tree.
    if (n < MAX) {
      restored.append(LEAF_HASHES[n]!);
      assert.deepEqual(restored.root(), rootFromLeafHashes(LEAF_HASHES.slice(0, n + 1)));
    }
  }
  assert.equal(MerkleFrontier.fromJSON({ size: 0, subtrees: [] }).root().length, 32);
});

test('frontier copies what it is given and hands out copies', () => {
  const frontier = new MerkleFrontier();
  const leaf = Buffer.from(LEAF_HASHES[0]!);
  frontier.append(leaf);
  leaf.fill(0);
  frontier.root().fill(0);
  assert.deepEqual(frontier.root(), LEAF_HASHES[0]);
  assert.throws(() => frontier.append(Buffer.alloc(16)), TypeError);
});

test('frontier fromJSON rejects inconsistent state', () => {
  const good = new MerkleFrontier();
  for (const h of LEAF_HASHES.slice(0, 5)) good.append(h);
  const json = good.toJSON();
  assert.equal(json.subtrees.length, 2);
  assert.throws(() => MerkleFrontier.fromJSON(null), /must be an object/);
  assert.throws(() => MerkleFrontier.fromJSON({ ...json, size: 7 }), /size 7 has 3 subtrees, got 2/);
  assert.throws(() => MerkleFrontier.fromJSON({ ...json, size: -1 }), /non-negative safe integer/);
  assert.throws(() => MerkleFrontier.fromJSON({ ...json, size: '5' }), /non-negative safe integer/);
  assert.throws(
    () => MerkleFrontier.fromJSON({ ...json, subtrees: [json.subtrees[0], 'ab'] }),
    /subtree 1 is not 64 lowercase hex digits/,
  );
  assert.throws(() => MerkleFrontier.fromJSON({ ...json, extra: 1 }), /exactly the keys/);
  assert.throws(() => MerkleFrontier.fromJSON({ size: 5 }), /exactly the keys/);
});
