// The ledger checked by a verifier written here from the specifications alone, importing nothing
// from src/ledger: RFC 9162 leaf and node hashes, the tree head from the exported leaves, every
// inclusion proof (RFC 9162 §2.1.3.2) and every consistency proof between signed checkpoints
// (§2.1.4.2), all served by the HTTP API; and the checkpoints' C2SP signed-note Ed25519
// signatures against the verifier key, parsed by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { RawSmtpClient } from './support/smtp-client.ts';
import { sealbox, startSealbox } from './support/sealbox.ts';
import type { SealboxServer } from './support/sealbox.ts';
import { testConfig } from './support/archive.ts';

// ---- RFC 9162 §2.1.1: the Merkle Tree Hash -------------------------------------------------

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const leafHash = (entry: Uint8Array) => sha256(Buffer.from([0x00]), entry);
const nodeHash = (left: Uint8Array, right: Uint8Array) => sha256(Buffer.from([0x01]), left, right);

// MTH(D[n]): the empty tree hashes to SHA-256 of nothing; otherwise split at the largest power
// of two smaller than n.
function treeHash(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return leaves[0];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(treeHash(leaves.slice(0, k)), treeHash(leaves.slice(k)));
}

// ---- RFC 9162 §2.1.3.2: verifying an inclusion proof ---------------------------------------

function verifyInclusion(index: number, size: number, leaf: Buffer, proof: Buffer[], root: Buffer): boolean {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        do {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        } while (fn % 2 === 0 && fn !== 0);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

// ---- RFC 9162 §2.1.4.2: verifying a consistency proof --------------------------------------

function verifyConsistency(first: number, second: number, firstHash: Buffer, secondHash: Buffer, proof: Buffer[]): boolean {
  if (first > second) return false;
  if (first === second) return proof.length === 0 && firstHash.equals(secondHash);
  // Every tree extends the empty one; there is nothing to prove.
  if (first === 0) return proof.length === 0;
  const path = (first & (first - 1)) === 0 ? [firstHash, ...proof] : [...proof];
  if (path.length === 0) return false;
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        do {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        } while (fn % 2 === 0 && fn !== 0);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(firstHash) && sr.equals(secondHash);
}

// ---- C2SP signed-note with an Ed25519 verifier key, and the tlog-checkpoint body ------------

interface Verifier {
  name: string;
  keyId: Buffer;
  key: KeyObject;
}

// name+keyid+base64(0x01 || 32-byte public key); key id = SHA-256(name || 0x0A || 0x01 || key)[:4].
function parseVerifierKey(text: string): Verifier {
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(text);
  assert.ok(m, `verifier key "${text}"`);
  const [, name, idHex, b64] = m;
  const typed = Buffer.from(b64, 'base64');
  assert.equal(typed.length, 33, 'type byte and a 32-byte Ed25519 key');
  assert.equal(typed[0], 0x01, 'signature type Ed25519');
  const raw = typed.subarray(1);
  const keyId = sha256(Buffer.from(name, 'utf8'), Buffer.from([0x0a]), typed).subarray(0, 4);
  assert.equal(keyId.toString('hex'), idHex, 'the key id is derived from the name and the key');
  // SubjectPublicKeyInfo for Ed25519 (RFC 8410): a fixed 12-byte header, then the key.
  const key = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]), format: 'der', type: 'spki' });
  return { name, keyId, key };
}

interface Checkpoint {
  origin: string;
  size: number;
  root: Buffer;
}

// A note is text ending in a newline, a blank line, then "— name base64(keyid || signature)"
// lines. The checkpoint is the text: origin, size, base64 root hash, optional extension lines.
// Returns the checkpoint if a signature by the verifier's key verifies, or null.
function openCheckpoint(note: string, verifier: Verifier): Checkpoint | null {
  const split = note.indexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) return null;
  const text = note.slice(0, split + 1);
  let signed = false;
  for (const line of note.slice(split + 2, -1).split('\n')) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) return null;
    const bytes = Buffer.from(m[2], 'base64');
    if (m[1] !== verifier.name || !bytes.subarray(0, 4).equals(verifier.keyId)) continue;
    if (bytes.length !== 4 + 64 || !verify(null, Buffer.from(text, 'utf8'), verifier.key, bytes.subarray(4))) return null;
    signed = true;
  }
  if (!signed) return null;
  const [origin, size, root] = text.slice(0, -1).split('\n');
  if (!origin || !/^(0|[1-9]\d*)$/.test(size ?? '') || !root) return null;
  const rootHash = Buffer.from(root, 'base64');
  if (rootHash.length !== 32 || rootHash.toString('base64') !== root) return null;
  return { origin, size: Number(size), root: rootHash };
}

// ---- the test -------------------------------------------------------------------------------

const ORIGIN = 'verifier.example/sealbox-ledger';

async function send(server: SealboxServer, n: number, tag: string): Promise<void> {
  const client = await RawSmtpClient.connect(server.smtp.port);
  for (let i = 0; i < n; i++) {
    const r = await client.send({ from: 'a@example.test', to: ['b@example.test'] }, Buffer.from(`Subject: ${tag} ${i}\r\n\r\nbody ${tag} ${i}\r\n`));
    assert.equal(r.data[0].code, 250);
  }
  await client.quit();
}

const b64 = (list: string[]) => list.map((h) => Buffer.from(h, 'base64'));

test('an independent verifier: every entry is in every signed checkpoint that covers it, each checkpoint extends the one before, and all are signed by the published key', { timeout: 120_000 }, async () => {
  const config = testConfig({ ledger: { origin: ORIGIN } });
  const http = ['--config', config, '--http', '127.0.0.1:0'];
  // Each stop signs a checkpoint of everything so far; each start reads the one signed last.
  let server = await startSealbox({ args: http });
  const data = server.data;
  const notes: string[] = [];
  const latest = async () => {
    const r = await fetch(`${server.http!.url}/api/v1/ledger/checkpoint`);
    assert.equal(r.status, 200);
    return r.text();
  };
  notes.push(await latest()); // the empty tree head, signed at the first start
  for (const [n, tag] of [[3, 'first'], [4, 'second'], [6, 'third']] as const) {
    await send(server, n, tag);
    if (tag === 'second') assert.equal((await sealbox(['users', 'add', '--data', data, '--config', config, '--name', 'ada', '--role', 'auditor'])).code, 0);
    assert.equal(await server.stop(), 0);
    server = await startSealbox({ data, args: http });
    notes.push(await latest());
  }
  try {
    const url = server.http!.url;
    const verifier = parseVerifierKey((await (await fetch(`${url}/api/v1/ledger/public-key`)).text()).trim());
    assert.equal(verifier.name, ORIGIN);

    const checkpoints = notes.map((note) => {
      const cp = openCheckpoint(note, verifier);
      assert.ok(cp, `checkpoint signed by the verifier key:\n${note}`);
      assert.equal(cp.origin, ORIGIN);
      return cp;
    });
    assert.deepEqual(checkpoints.map((c) => c.size), [0, 3, 8, 14], 'captures, plus the user added from the command line');

    // The leaves, as exported; their tree heads are the signed roots.
    const exported = await sealbox(['ledger', 'export', '--data', data, '--config', config]);
    assert.equal(exported.code, 0, exported.stderr);
    const lines = exported.stdout.toString().trim().split('\n').map((line) => JSON.parse(line) as { leaf: string; salt?: string; payload?: string });
    const leaves = lines.map((line) => Buffer.from(line.leaf, 'base64'));
    const hashes = leaves.map(leafHash);
    leaves.forEach((leaf, i) => assert.equal(JSON.parse(leaf.toString('utf8')).index, i, 'each entry names its own position'));
    // Version 2: the leaf commits to its personal payload, SHA-256(salt ‖ payload), and holds
    // none of it (the client address, the recipients) in plain.
    lines.forEach((line, i) => {
      const leaf = JSON.parse(leaves[i]!.toString('utf8'));
      assert.equal(leaf.v, 2, `entry ${i} is version 2`);
      assert.equal(sha256(Buffer.from(line.salt!, 'base64'), Buffer.from(line.payload!, 'base64')).toString('hex'), leaf.commitment, `entry ${i}: the payload is the one committed to`);
      assert.ok(!leaves[i]!.toString('utf8').includes('@') && !leaves[i]!.toString('utf8').includes('127.0.0.1'), `entry ${i}: no address in the leaf`);
    });
    assert.ok(lines.some((line) => Buffer.from(line.payload!, 'base64').toString('utf8').includes('@')), 'the addresses are in the payloads');
    for (const cp of checkpoints) assert.ok(treeHash(hashes.slice(0, cp.size)).equals(cp.root), `the root of the first ${cp.size} exported leaves is the signed one`);

    // Every entry in every checkpoint that covers it.
    let proofs = 0;
    for (const cp of checkpoints.filter((c) => c.size > 0)) {
      for (let index = 0; index < cp.size; index++) {
        const r = await fetch(`${url}/api/v1/ledger/proof/${index}?size=${cp.size}`);
        assert.equal(r.status, 200);
        const p = await r.json() as { index: number; size: number; leafHash: string; proof: string[]; checkpoint: string };
        assert.deepEqual([p.index, p.size], [index, cp.size]);
        assert.ok(Buffer.from(p.leafHash, 'base64').equals(hashes[index]), 'the proven leaf is the exported entry');
        assert.deepEqual(openCheckpoint(p.checkpoint, verifier), cp, 'proven against the signed checkpoint');
        const proof = b64(p.proof);
        assert.ok(verifyInclusion(index, cp.size, hashes[index], proof, cp.root), `entry ${index} is in the tree of size ${cp.size}`);
        // Any other leaf, position or tree fails.
        assert.ok(!verifyInclusion(index, cp.size, leafHash(Buffer.concat([leaves[index], Buffer.from(' ')])), proof, cp.root));
        if (cp.size > 1) assert.ok(!verifyInclusion((index + 1) % cp.size, cp.size, hashes[index], proof, cp.root));
        for (let j = 0; j < proof.length; j++) {
          const bent = proof.map((h, k) => (k === j ? Buffer.from(h.map((b, i) => (i === 0 ? b ^ 1 : b))) : h));
          assert.ok(!verifyInclusion(index, cp.size, hashes[index], bent, cp.root), `a changed proof node ${j} fails`);
        }
        proofs++;
      }
    }
    assert.equal(proofs, 3 + 8 + 14);

    // Each checkpoint extends every earlier one.
    for (let i = 0; i < checkpoints.length; i++) {
      for (let j = i; j < checkpoints.length; j++) {
        const [older, newer] = [checkpoints[i], checkpoints[j]];
        const r = await fetch(`${url}/api/v1/ledger/consistency?old=${older.size}&new=${newer.size}`);
        assert.equal(r.status, 200);
        const c = await r.json() as { oldSize: number; newSize: number; proof: string[]; oldCheckpoint: string; newCheckpoint: string };
        assert.deepEqual(openCheckpoint(c.oldCheckpoint, verifier), older);
        assert.deepEqual(openCheckpoint(c.newCheckpoint, verifier), newer);
        const proof = b64(c.proof);
        assert.ok(verifyConsistency(older.size, newer.size, older.root, newer.root, proof), `${newer.size} extends ${older.size}`);
        if (older.size > 0 && older.size < newer.size) {
          const forged = treeHash([...hashes.slice(0, older.size - 1), leafHash(Buffer.from('rewritten history'))]);
          assert.ok(!verifyConsistency(older.size, newer.size, forged, newer.root, proof), 'a rewritten older tree fails');
          assert.ok(!verifyConsistency(older.size, newer.size, older.root, sha256(Buffer.from('other')), proof), 'another newer tree fails');
        }
      }
    }
    // The default new size is the latest checkpoint.
    const byDefault = await (await fetch(`${url}/api/v1/ledger/consistency?old=3`)).json() as { newSize: number };
    assert.equal(byDefault.newSize, 14);

    // The signature covers every byte of the checkpoint, and only this key made it.
    const note = notes.at(-1)!;
    assert.equal(openCheckpoint(note.replace(`\n14\n`, '\n15\n'), verifier), null, 'a changed size');
    const [, sig] = /\n\u2014 \S+ (\S+)\n$/.exec(note)!;
    const bytes = Buffer.from(sig, 'base64');
    bytes[10] ^= 1;
    assert.equal(openCheckpoint(note.replace(sig, bytes.toString('base64')), verifier), null, 'a changed signature');
    const raw = verifier.key.export({ format: 'der', type: 'spki' }).subarray(12);
    const typed = Buffer.concat([Buffer.from([0x01]), raw]);
    const keyFor = (name: string) => `${name}+${sha256(Buffer.from(`${name}\n`), typed).subarray(0, 4).toString('hex')}+${typed.toString('base64')}`;
    assert.equal(keyFor(ORIGIN), (await (await fetch(`${url}/api/v1/ledger/public-key`)).text()).trim(), 'the published key is rebuilt from its parts');
    assert.equal(openCheckpoint(note, parseVerifierKey(keyFor('other.example'))), null, 'the same key under another name has no signature here');
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
