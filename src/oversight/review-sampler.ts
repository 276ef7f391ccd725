import { createHash } from 'node:crypto';

// The random sample of closed grants for review: a grant is in it when the hash of the seed and
// its id falls below the rate. The same seed always picks the same grants (an auditor can redo
// the draw), the order grants close in does not matter, and without the seed nobody can tell
// beforehand whether their grant will be picked.
export function sampleScore(seed: string, grantId: string): number {
  const h = createHash('sha256').update(seed).update('\0').update(grantId).digest();
  return Number(h.readBigUInt64BE(0) >> 11n) / 2 ** 53;
}

export function isSampled(seed: string, grantId: string, rate: number): boolean {
  return sampleScore(seed, grantId) < rate;
}
