#!/usr/bin/env node
// Checks a Sealbox disposal certificate with nothing but Node's crypto — no Sealbox, no
// packages — so that whoever holds the certificate (an auditor, a data-protection authority)
// can check it on a machine of their own:
//
//   node verify-disposal-certificate.mjs CERTIFICATE.json --key VERIFIER_KEY
//
// VERIFIER_KEY is the archive's public key (`sealbox ledger public-key`) as the witnesses hold it;
// without --key the certificate's own copy is used, and the output says so. Checked: the
// checkpoint's C2SP signed-note Ed25519 signature; each dispose entry's RFC 9162 inclusion proof
// in that checkpoint's tree; each leaf's commitment to its payload (SHA-256 of salt then payload);
// and that the messages the certificate lists are exactly those its leaves name. Exit 0 when
// all holds, 1 naming what does not, 2 for a file that cannot be read.
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';

const sha256 = (...parts) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest();
const leafHash = (leaf) => sha256(Buffer.from([0]), leaf);
const nodeHash = (l, r) => sha256(Buffer.from([1]), l, r);

// RFC 9162 §2.1.3.2.
function verifyInclusion(index, size, hash, proof, root) {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = hash;
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

// C2SP signed note: the text, a blank line, then "— <name> <base64(key id ‖ signature)>" lines;
// the key is "<name>+<key id hex>+<base64(0x01 ‖ Ed25519 public key)>".
function checkpointSignedBy(note, keyText) {
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(keyText.trim());
  if (!m) throw new Error(`"${keyText}" is not a verifier key`);
  const [, name, id, b64] = m;
  const typed = Buffer.from(b64, 'base64');
  if (typed.length !== 33 || typed[0] !== 1) throw new Error('the verifier key is not an Ed25519 key');
  if (sha256(Buffer.from(name), Buffer.from([0x0a]), typed).subarray(0, 4).toString('hex') !== id) throw new Error('the verifier key\'s id does not match its name and key');
  const key = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), typed.subarray(1)]), format: 'der', type: 'spki' });
  const split = note.lastIndexOf('\n\n');
  const text = note.slice(0, split + 1);
  const signed = note.slice(split + 2).split('\n').filter(Boolean).some((line) => {
    const [dash, who, sig] = line.split(' ');
    const bytes = Buffer.from(sig ?? '', 'base64');
    return dash === '\u2014' && who === name && bytes.subarray(0, 4).toString('hex') === id && verify(null, Buffer.from(text), key, bytes.subarray(4));
  });
  if (!signed) throw new Error(`the checkpoint is not signed by ${name}+${id}`);
  const [origin, size, root] = text.split('\n');
  return { origin, size: Number(size), root: Buffer.from(root, 'base64') };
}

const args = process.argv.slice(2);
const file = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--key');
const keyAt = args.indexOf('--key');
if (!file) {
  process.stderr.write('usage: node verify-disposal-certificate.mjs CERTIFICATE.json [--key VERIFIER_KEY]\n');
  process.exit(2);
}
let cert;
try {
  cert = JSON.parse(readFileSync(file, 'utf8'));
} catch (err) {
  process.stderr.write(`cannot read ${file}: ${err.message}\n`);
  process.exit(2);
}

const problems = [];
const key = keyAt >= 0 ? args[keyAt + 1] : cert.verifierKey;
let tree = null;
try {
  if (cert.format !== 'sealbox-disposal-certificate/1') throw new Error(`unknown format ${cert.format}`);
  tree = checkpointSignedBy(cert.checkpoint, key);
  if (tree.origin !== cert.origin) problems.push(`the checkpoint is of ${tree.origin}, the certificate says ${cert.origin}`);
} catch (err) {
  problems.push(err.message);
}
const named = new Set();
for (const e of cert.entries ?? []) {
  const leaf = Buffer.from(e.leaf, 'base64');
  let parsed;
  try {
    parsed = JSON.parse(leaf.toString('utf8'));
  } catch {
    problems.push(`entry ${e.index}: the leaf is not JSON`);
    continue;
  }
  if (parsed.index !== e.index || parsed.operation !== 'dispose' || parsed.result !== 'success') problems.push(`entry ${e.index}: the leaf is not a successful dispose entry at that index`);
  if (tree && !verifyInclusion(e.index, tree.size, leafHash(leaf), e.proof.map((p) => Buffer.from(p, 'base64')), tree.root)) problems.push(`entry ${e.index}: not in the signed tree of size ${tree.size}`);
  if (e.payload !== null && sha256(Buffer.from(e.salt, 'base64'), Buffer.from(e.payload, 'base64')).toString('hex') !== parsed.commitment) problems.push(`entry ${e.index}: the payload is not the one its leaf commits to`);
  for (const sha of parsed.messages ?? parsed.objects?.messages ?? []) named.add(sha);
}
const listed = new Set(cert.disposed?.sha256 ?? []);
if (listed.size !== named.size || [...listed].some((s) => !named.has(s))) problems.push(`the certificate lists ${listed.size} messages, its entries name ${named.size}: they differ`);
if (cert.disposed?.messages !== listed.size) problems.push(`the certificate counts ${cert.disposed?.messages} messages and lists ${listed.size}`);

if (problems.length > 0) {
  for (const p of problems) process.stdout.write(`FAIL ${p}\n`);
  process.exit(1);
}
process.stdout.write(`OK ${listed.size} messages disposed in ${cert.entries.length} entries (policies: ${cert.disposed.policies.join(', ')}), in the tree of size ${tree.size} signed by ${key.split('+')[0]}${keyAt >= 0 ? '' : ' (key taken from the certificate: compare it with the one your witnesses hold)'}\n`);
