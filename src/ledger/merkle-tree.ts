// RFC 9162 §2.1 Merkle tree hashing, proofs and an append-only frontier.
//
// Sizes and indexes are plain numbers; they stay exact up to 2^53 - 1 because
// all bit tests below use arithmetic (% 2, / 2) rather than 32-bit operators.

import { hash } from 'node:crypto';

export const HASH_SIZE = 32;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

/** MTH({}) = SHA-256 of the empty string (e3b0c442…b855); copied out, never shared. */
const EMPTY_ROOT: Buffer = hash('sha256', new Uint8Array(0), 'buffer');

/** SHA-256(0x00 ‖ entry): the leaf hash of one serialised ledger entry. */
export function leafHash(entry: Uint8Array): Buffer {
  const input = Buffer.allocUnsafe(1 + entry.length);
  input[0] = LEAF_PREFIX;
  input.set(entry, 1);
  return hash('sha256', input, 'buffer');
}

/** SHA-256(0x01 ‖ left ‖ right): an interior node. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  const input = Buffer.allocUnsafe(1 + 2 * HASH_SIZE);
  input[0] = NODE_PREFIX;
  input.set(left, 1);
  input.set(right, 1 + HASH_SIZE);
  return hash('sha256', input, 'buffer');
}

/** MTH(D[n]) over already-hashed leaves. O(n). */
export function rootFromLeafHashes(hashes: readonly Uint8Array[]): Buffer {
  assertHashList(hashes);
  if (hashes.length === 0) return Buffer.from(EMPTY_ROOT);
  return subtreeRoot(hashes, 0, hashes.length);
}

/**
 * PATH(index, D[n]) of RFC 9162 §2.1.3.1, with n = leafHashes.length. O(n):
 * the proof's sibling subtrees are disjoint. The ledger proves from the tree
 * as stored instead (stored-tree.ts), reading O(log n) of it.
 */
export function inclusionProof(index: number, leafHashes: readonly Uint8Array[]): Buffer[] {
  assertHashList(leafHashes);
  return inclusionRanges(index, leafHashes.length).map(([lo, hi]) => subtreeRoot(leafHashes, lo, hi));
}

/** A range of leaves [lo, hi) whose root is one hash of a proof. */
export type LeafRange = readonly [lo: number, hi: number];

/** The ranges whose roots make PATH(index, D[size]), in the RFC's order (from the leaf up). */
export function inclusionRanges(index: number, size: number): LeafRange[] {
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new RangeError(`leaf index ${index} is outside a tree of size ${size}`);
  }
  // Walk from the root down; the RFC lists siblings from the leaf up.
  const topDown: LeafRange[] = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (index < lo + k) {
      topDown.push([lo + k, hi]);
      hi = lo + k;
    } else {
      topDown.push([lo, lo + k]);
      lo += k;
    }
  }
  return topDown.reverse();
}

/** A perfect subtree: the 2^level leaves from index · 2^level on. */
export interface Subtree {
  level: number;
  index: number;
}

/**
 * The perfect subtrees that cover [lo, hi), largest first, for a range the
 * RFC's split makes (lo a multiple of the largest power of two below hi - lo,
 * as in every proof and every prefix [0, size)). MTH(D[lo:hi]) is their roots
 * folded from the right (foldRoots).
 */
export function subtreesOf(lo: number, hi: number): Subtree[] {
  const out: Subtree[] = [];
  for (let at = lo; at < hi;) {
    let width = 1;
    let level = 0;
    while (at % (width * 2) === 0 && at + width * 2 <= hi) {
      width *= 2;
      level++;
    }
    out.push({ level, index: at / width });
    at += width;
  }
  return out;
}

/** MTH of a range from the roots of subtreesOf(range), largest first; the empty range's for none. */
export function foldRoots(roots: readonly Uint8Array[]): Buffer {
  if (roots.length === 0) return Buffer.from(EMPTY_ROOT);
  let r = roots[roots.length - 1]!;
  for (let i = roots.length - 2; i >= 0; i--) r = nodeHash(roots[i]!, r);
  return Buffer.from(r);
}

/**
 * RFC 9162 §2.1.3.2. Returns a verdict, never throws: every input may come
 * from an untrusted party.
 */
export function verifyInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size)) return false;
  if (index < 0 || index >= size) return false;
  if (!isHash(leaf) || !isHash(root) || !Array.isArray(proof)) return false;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of proof) {
    if (sn === 0 || !isHash(p)) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && bytesEqual(r, root);
}

/**
 * PROOF(oldSize, D[n]) of RFC 9162 §2.1.4.1, with n = leafHashes.length.
 * oldSize 0 or n gives the empty proof (nothing to prove). O(n), as for
 * inclusionProof.
 */
export function consistencyProof(oldSize: number, leafHashes: readonly Uint8Array[]): Buffer[] {
  assertHashList(leafHashes);
  return consistencyRanges(oldSize, leafHashes.length).map(([lo, hi]) => subtreeRoot(leafHashes, lo, hi));
}

/** The ranges whose roots make PROOF(oldSize, D[newSize]), in the RFC's order. */
export function consistencyRanges(oldSize: number, newSize: number): LeafRange[] {
  if (!Number.isSafeInteger(oldSize) || oldSize < 0 || oldSize > newSize) {
    throw new RangeError(`old size ${oldSize} is outside 0..${newSize}`);
  }
  if (oldSize === 0) return [];
  // SUBPROOF(m, D[lo:hi], b), unrolled: each step either ends the recursion or
  // descends into one half and records the other half's range.
  const topDown: LeafRange[] = [];
  let m = oldSize;
  let lo = 0;
  let hi = newSize;
  let isOldTreeWhole = true;
  for (;;) {
    const n = hi - lo;
    if (m === n) {
      // The verifier already holds the old root, so only a proper subtree's
      // root needs sending.
      if (!isOldTreeWhole) topDown.push([lo, hi]);
      break;
    }
    const k = largestPowerOfTwoBelow(n);
    if (m <= k) {
      topDown.push([lo + k, hi]);
      hi = lo + k;
    } else {
      topDown.push([lo, lo + k]);
      lo += k;
      m -= k;
      isOldTreeWhole = false;
    }
  }
  return topDown.reverse();
}

/**
 * RFC 9162 §2.1.4.2 for 0 < oldSize < newSize. The RFC's algorithm rejects an
 * empty proof, so the two trivial cases are decided first: equal sizes need
 * equal roots, and the empty tree (whose root is fixed) precedes every tree.
 * Returns a verdict, never throws.
 */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!Number.isSafeInteger(oldSize) || !Number.isSafeInteger(newSize)) return false;
  if (oldSize < 0 || oldSize > newSize) return false;
  if (!isHash(oldRoot) || !isHash(newRoot) || !Array.isArray(proof)) return false;
  if (oldSize === newSize) return proof.length === 0 && bytesEqual(oldRoot, newRoot);
  if (oldSize === 0) return proof.length === 0 && bytesEqual(oldRoot, EMPTY_ROOT);

  if (proof.length === 0) return false;
  const path: readonly Uint8Array[] = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof;
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  const first = path[0];
  if (first === undefined || !isHash(first)) return false;
  let fr: Buffer = Buffer.from(first);
  let sr: Buffer = fr;
  for (let i = 1; i < path.length; i++) {
    const c = path[i];
    if (sn === 0 || c === undefined || !isHash(c)) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && bytesEqual(fr, oldRoot) && bytesEqual(sr, newRoot);
}

/** Persisted form of a MerkleFrontier: subtree roots in hex, leftmost (largest) first. */
export interface MerkleFrontierJSON {
  size: number;
  subtrees: string[];
}

/**
 * The compact range [0, size): the roots of the perfect subtrees that cover
 * the leaves, one per set bit of size, largest first. Appending and taking the
 * root cost O(log n), so the server never rehashes history to extend the log.
 */
export class MerkleFrontier {
  #size = 0;
  #subtrees: Buffer[] = [];

  get size(): number {
    return this.#size;
  }

  /** Appends one leaf hash and returns its index. */
  append(leaf: Uint8Array): number {
    if (!isHash(leaf)) throw new TypeError(`a leaf hash must be ${HASH_SIZE} bytes`);
    if (this.#size >= Number.MAX_SAFE_INTEGER) throw new RangeError('the tree is full');
    // Each trailing 1 bit of the old size is a perfect subtree of the same
    // height as the one being carried, so they merge like binary addition.
    let carry: Buffer = Buffer.from(leaf);
    let bits = this.#size;
    while (isOdd(bits)) {
      const left = this.#subtrees.pop();
      if (left === undefined) throw new Error('frontier is corrupt');
      carry = nodeHash(left, carry);
      bits = half(bits);
    }
    this.#subtrees.push(carry);
    return this.#size++;
  }

  /**
   * The perfect subtrees of two or more leaves that appending this leaf would
   * complete, smallest first, with their roots; the frontier is left as it is.
   */
  completedBy(leaf: Uint8Array): (Subtree & { hash: Buffer })[] {
    if (!isHash(leaf)) throw new TypeError(`a leaf hash must be ${HASH_SIZE} bytes`);
    const out: (Subtree & { hash: Buffer })[] = [];
    let carry: Buffer = Buffer.from(leaf);
    let bits = this.#size;
    for (let i = this.#subtrees.length - 1, level = 1; isOdd(bits); i--, level++) {
      carry = nodeHash(this.#subtrees[i]!, carry);
      bits = half(bits);
      out.push({ level, index: bits, hash: carry });
    }
    return out;
  }

  /** MTH of the leaves appended so far. */
  root(): Buffer {
    // With splits at the largest power of two, the tree is the right fold of
    // its perfect subtrees.
    return foldRoots(this.#subtrees);
  }

  toJSON(): MerkleFrontierJSON {
    return { size: this.#size, subtrees: this.#subtrees.map((h) => h.toString('hex')) };
  }

  /** Rebuilds a frontier from toJSON() output, rejecting anything inconsistent. */
  static fromJSON(json: unknown): MerkleFrontier {
    if (typeof json !== 'object' || json === null) {
      throw new TypeError('frontier JSON must be an object');
    }
    const { size, subtrees } = json as Record<string, unknown>;
    const keys = Object.keys(json);
    if (keys.length !== 2 || !keys.includes('size') || !keys.includes('subtrees')) {
      throw new TypeError('frontier JSON must have exactly the keys "size" and "subtrees"');
    }
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      throw new TypeError(`frontier size must be a non-negative safe integer, got ${String(size)}`);
    }
    if (!Array.isArray(subtrees)) throw new TypeError('frontier subtrees must be an array');
    const expected = popCount(size);
    if (subtrees.length !== expected) {
      throw new TypeError(
        `a frontier of size ${size} has ${expected} subtrees, got ${subtrees.length}`,
      );
    }
    const frontier = new MerkleFrontier();
    frontier.#size = size;
    frontier.#subtrees = subtrees.map((h: unknown, i) => {
      if (typeof h !== 'string' || !/^[0-9a-f]{64}$/.test(h)) {
        throw new TypeError(`frontier subtree ${i} is not ${HASH_SIZE * 2} lowercase hex digits`);
      }
      return Buffer.from(h, 'hex');
    });
    return frontier;
  }
}

/** MTH(D[start:end]) of already-hashed leaves, for end > start, recursing on the RFC's split. */
export function subtreeRoot(hashes: readonly Uint8Array[], start: number, end: number): Buffer {
  const n = end - start;
  if (n === 1) return Buffer.from(hashes[start]!);
  const k = largestPowerOfTwoBelow(n);
  return nodeHash(subtreeRoot(hashes, start, start + k), subtreeRoot(hashes, start + k, end));
}

/** The largest power of two strictly smaller than n, for n ≥ 2. */
function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  if (n < 1) return false;
  while (n % 2 === 0) n /= 2;
  return n === 1;
}

function popCount(n: number): number {
  let count = 0;
  for (; n > 0; n = half(n)) count += n % 2;
  return count;
}

function isOdd(n: number): boolean {
  return n % 2 === 1;
}

function half(n: number): number {
  return Math.floor(n / 2);
}

function isHash(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === HASH_SIZE;
}

function assertHashList(hashes: readonly Uint8Array[]): void {
  if (!Array.isArray(hashes)) throw new TypeError('leaf hashes must be an array');
  for (let i = 0; i < hashes.length; i++) {
    if (!isHash(hashes[i])) throw new TypeError(`leaf hash ${i} is not ${HASH_SIZE} bytes`);
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}
