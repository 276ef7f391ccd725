import { randomBytes } from 'node:crypto';

// Random bytes for keys, nonces, salts and ids, drawn from a buffer the operating system's CSPRNG
// fills 4 KB at a time. Each randomBytes call is a system call (4–10 µs here), and every capture
// took five on the receiving thread (data key, nonce, key-wrapping nonce, capture id, ledger
// salt). Each byte is handed out once, copied out, and wiped from the buffer as it goes; each
// thread has a buffer of its own (module state is per isolate). Node's randomUUID keeps such a
// cache too. Larger requests go to the CSPRNG directly.
const POOL_BYTES = 4096;
const DIRECT_FROM = 256;
let pool = Buffer.alloc(0);
let at = 0;

export function freshBytes(n: number): Buffer {
  if (n >= DIRECT_FROM) return randomBytes(n);
  if (at + n > pool.length) {
    pool = randomBytes(POOL_BYTES);
    at = 0;
  }
  // A buffer of its own (not a slice of Node's shared pool, which one kept nonce would hold).
  const out = Buffer.allocUnsafeSlow(n);
  pool.copy(out, 0, at, at + n);
  pool.fill(0, at, at + n);
  at += n;
  return out;
}
