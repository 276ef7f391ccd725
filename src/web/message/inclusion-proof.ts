// The browser's own check of a message's evidence, with WebCrypto only (nothing taken on the
// server's word): RFC 9162 leaf and node hashes, the inclusion proof up to the root that the
// signed checkpoint names, and the checkpoint's Ed25519 signature (C2SP signed note) with the
// log's verifier key.

const b64 = (s: string): Uint8Array<ArrayBuffer> => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

async function sha256(...parts: Uint8Array[]): Promise<Uint8Array<ArrayBuffer>> {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', all));
}

const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

export const leafHashOf = (leaf: Uint8Array) => sha256(Uint8Array.of(0), leaf);
const nodeHash = (l: Uint8Array, r: Uint8Array) => sha256(Uint8Array.of(1), l, r);

// RFC 9162 §2.1.3.2.
export async function verifyInclusion(index: number, size: number, leafHash: Uint8Array, proof: Uint8Array[], root: Uint8Array): Promise<boolean> {
  if (index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(r, root);
}

export interface CheckpointBody {
  origin: string;
  size: number;
  rootHash: Uint8Array<ArrayBuffer>;
  text: string;                                  // the signed text
  signatures: { name: string; bytes: Uint8Array<ArrayBuffer> }[];
}

export function parseCheckpointNote(note: string): CheckpointBody {
  const split = note.indexOf('\n\n');
  if (split < 0) throw new Error('not a signed note');
  const text = note.slice(0, split + 1);
  const [origin, size, root] = text.split('\n');
  const signatures = note.slice(split + 2).split('\n').filter(Boolean).map((line) => {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!m) throw new Error('malformed signature line');
    return { name: m[1], bytes: b64(m[2]) };
  });
  return { origin, size: Number(size), rootHash: b64(root), text, signatures };
}

// 'valid' | 'invalid', or 'unsupported' where this browser's WebCrypto has no Ed25519.
export async function verifyNoteSignature(checkpoint: CheckpointBody, verifierKey: string): Promise<'valid' | 'invalid' | 'unsupported'> {
  // name+keyid+base64: the base64 part may itself hold '+', so split at the first two only.
  const v = verifierKey.trim();
  const first = v.indexOf('+');
  const second = v.indexOf('+', first + 1);
  if (first < 0 || second < 0) return 'invalid';
  const name = v.slice(0, first);
  const keyIdHex = v.slice(first + 1, second);
  const key = b64(v.slice(second + 1));
  if (key.length !== 33 || key[0] !== 1) return 'invalid';
  const keyId = Uint8Array.from(keyIdHex.match(/../g) ?? [], (h) => parseInt(h, 16));
  const mine = checkpoint.signatures.filter((s) => s.name === name && s.bytes.length === 68 && equal(s.bytes.subarray(0, 4), keyId));
  if (mine.length === 0) return 'invalid';
  let publicKey: Awaited<ReturnType<typeof crypto.subtle.importKey>>;
  try {
    publicKey = await crypto.subtle.importKey('raw', key.slice(1), { name: 'Ed25519' }, false, ['verify']);
  } catch {
    return 'unsupported';
  }
  const message = new TextEncoder().encode(checkpoint.text);
  for (const s of mine) if (!(await crypto.subtle.verify({ name: 'Ed25519' }, publicKey, s.bytes.slice(4), message))) return 'invalid';
  return 'valid';
}

export { b64 as fromBase64 };
