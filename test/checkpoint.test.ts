import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, generateKeyPairSync } from 'node:crypto';

import {
  MAX_NOTE_SIGNATURES,
  ed25519KeyId,
  generateSigningKey,
  parseCheckpoint,
  parseNote,
  parseVerifierKey,
  signCheckpoint,
  signNote,
  signingKeyFromPem,
  verifierKey,
  verifyCheckpoint,
  verifyNote,
} from '../src/ledger/checkpoint.ts';

const ORIGIN = 'sealbox.example/ledger';
const ROOT = createHash('sha256').update('some root').digest();
const KEY = generateSigningKey(ORIGIN);
const OTHER = generateSigningKey('witness.example/w1');

function signed(size = 12345, root: Uint8Array = ROOT): string {
  return signCheckpoint({ origin: ORIGIN, size, rootHash: root }, KEY);
}

/** Replaces the signature blob of the first signature line. */
function withSignatureBlob(note: string, blob: Buffer): string {
  return note.replace(/^(— \S+ )\S+$/m, `$1${blob.toString('base64')}`);
}
function signatureBlob(note: string): Buffer {
  return Buffer.from(/^— \S+ (\S+)$/m.exec(note)![1]!, 'base64');
}

test('key ID and verifier key follow C2SP signed-note', () => {
  const expected = createHash('sha256')
    .update(Buffer.concat([Buffer.from(ORIGIN), Buffer.of(0x0a, 0x01), KEY.publicKey]))
    .digest()
    .subarray(0, 4);
  assert.equal(KEY.publicKey.length, 32);
  assert.deepEqual(ed25519KeyId(ORIGIN, KEY.publicKey), expected);
  assert.equal(
    KEY.verifierKey,
    `${ORIGIN}+${expected.toString('hex')}+${Buffer.concat([Buffer.of(1), KEY.publicKey]).toString('base64')}`,
  );
  assert.equal(verifierKey(ORIGIN, KEY.publicKey), KEY.verifierKey);
  assert.deepEqual(parseVerifierKey(KEY.verifierKey), {
    name: ORIGIN,
    keyId: expected.toString('hex'),
    publicKey: KEY.publicKey,
  });
  // The signature line carries the same 4-byte key ID before the signature.
  assert.deepEqual(signatureBlob(signed()).subarray(0, 4), expected);
});

test('interoperates with Go sumdb/note: the PeterNeumann example', () => {
  // From the golang.org/x/mod/sumdb/note documentation: the Go private key
  // string is PRIVATE+KEY+<name>+<id>+base64(0x01 ‖ 32-byte seed).
  const goPrivate = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
  const seed = Buffer.from(goPrivate.split('+').slice(4).join('+'), 'base64').subarray(1);
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const pem = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const key = signingKeyFromPem('PeterNeumann', pem);
  const goVerifier = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
  assert.equal(key.verifierKey, goVerifier);

  const text =
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
  const goNote =
    text +
    '\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
  // Ed25519 is deterministic, so our note must match Go's byte for byte.
  assert.equal(signNote(text, key), goNote);
  assert.equal(verifyNote(goNote, goVerifier).text, text);
  assert.throws(() => verifyNote(goNote.replace('cryptography', 'cryptographY'), goVerifier), /does not verify/);
});

test('verifies a real sum.golang.org checkpoint', () => {
  const note =
    'go.sum database tree\n31700353\nqINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs=\n\n' +
    '— sum.golang.org Az3grnmrIUEDFqHzAElIQCPNoRFRAAdFo47fooyWKMHb89k11GJh5zHIfNCOBmwn/C3YI8oW9/C8DJ87F61QqspBYwM=\n';
  // Go's published verifier key; its base64 contains '+' characters.
  const key = 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8';
  const cp = verifyCheckpoint(note, key, { origin: 'go.sum database tree' });
  assert.equal(cp.size, 31700353);
  assert.equal(cp.rootHash.toString('base64'), 'qINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs=');
  assert.throws(() => verifyCheckpoint(note.replace('31700353', '31700354'), key), /does not verify/);
});

test('sign/verify roundtrip produces the exact tlog-checkpoint layout', () => {
  const note = signed();
  const lines = note.split('\n');
  assert.deepEqual(lines.slice(0, 4), [ORIGIN, '12345', ROOT.toString('base64'), '']);
  assert.match(lines[4]!, new RegExp(`^\u2014 ${ORIGIN} [A-Za-z0-9+/]{91}=$`));
  assert.equal(lines[5], '');
  assert.equal(lines.length, 6);
  assert.equal(signatureBlob(note).length, 68);

  for (const input of [note, new TextEncoder().encode(note)]) {
    const cp = verifyCheckpoint(input, KEY.verifierKey);
    assert.equal(cp.origin, ORIGIN);
    assert.equal(cp.size, 12345);
    assert.deepEqual(cp.rootHash, ROOT);
    assert.deepEqual(cp.extensions, []);
    assert.equal(cp.text, `${ORIGIN}\n12345\n${ROOT.toString('base64')}\n`);
    assert.equal(cp.signatures.length, 1);
    assert.equal(cp.signatures[0]!.keyName, ORIGIN);
    assert.equal(cp.signatures[0]!.signature.length, 64);
  }
  assert.equal(verifyCheckpoint(signed(0), KEY.verifierKey).size, 0);
  assert.equal(
    verifyCheckpoint(signed(Number.MAX_SAFE_INTEGER), KEY.verifierKey).size,
    Number.MAX_SAFE_INTEGER,
  );
});

test('any changed size, root, origin or signature byte fails', () => {
  const note = signed();
  const otherRoot = Buffer.from(ROOT);
  otherRoot[0] = otherRoot[0]! ^ 1;
  const tampered = [
    note.replace('\n12345\n', '\n12346\n'),
    note.replace(ROOT.toString('base64'), otherRoot.toString('base64')),
    note.replace(`${ORIGIN}\n`, 'sealbox.example/ledgeR\n'),
  ];
  const blob = signatureBlob(note);
  for (let i = 4; i < blob.length; i++) {
    const bad = Buffer.from(blob);
    bad[i] = bad[i]! ^ 0x80;
    tampered.push(withSignatureBlob(note, bad));
  }
  for (const bad of tampered) {
    assert.throws(() => verifyCheckpoint(bad, KEY.verifierKey), /signature by key .* does not verify/);
  }
  // A changed key ID byte makes it someone else's signature: ignored, so none is left.
  const badId = Buffer.from(blob);
  badId[0] = badId[0]! ^ 1;
  assert.throws(
    () => verifyCheckpoint(withSignatureBlob(note, badId), KEY.verifierKey),
    /no signature by key sealbox\.example\/ledger\+/,
  );
});

test('a wrong key does not verify', () => {
  const note = signed();
  assert.throws(() => verifyCheckpoint(note, OTHER.verifierKey), /no signature by key witness\.example\/w1\+/);
  // Same name, different key pair: a different key ID, so also not found.
  const impostor = generateSigningKey(ORIGIN);
  assert.throws(() => verifyCheckpoint(note, impostor.verifierKey), /no signature by key/);
  // A key ID copied from the real key cannot be paired with another public key.
  const forged = `${ORIGIN}+${parseVerifierKey(KEY.verifierKey).keyId}+${impostor.verifierKey.split('+').slice(2).join('+')}`;
  assert.throws(() => verifyCheckpoint(note, forged), /invalid verifier key: key ID .* does not match/);
});

test('several signers; unknown signatures are ignored, a bad known one is fatal', () => {
  const note = signCheckpoint({ origin: ORIGIN, size: 7, rootHash: ROOT }, [KEY, OTHER]);
  assert.equal(verifyCheckpoint(note, KEY.verifierKey).signatures.length, 2);
  assert.equal(verifyCheckpoint(note, OTHER.verifierKey).size, 7);

  const stranger = `— stranger.example/key ${Buffer.alloc(68, 7).toString('base64')}\n`;
  assert.equal(verifyCheckpoint(note + stranger, KEY.verifierKey).signatures.length, 3);

  // OTHER's line holding a corrupted signature rejects the note for OTHER.
  const lines = note.split('\n');
  const blob = Buffer.from(lines[5]!.split(' ')[2]!, 'base64');
  blob[10] = blob[10]! ^ 1;
  lines[5] = `— ${OTHER.name} ${blob.toString('base64')}`;
  assert.throws(() => verifyCheckpoint(lines.join('\n'), OTHER.verifierKey), /does not verify/);
  assert.throws(() => signCheckpoint({ origin: ORIGIN, size: 7, rootHash: ROOT }, [KEY, KEY]), /given twice/);
  assert.throws(() => signCheckpoint({ origin: ORIGIN, size: 7, rootHash: ROOT }, []), /without a signer/);
});

test('the origin can be pinned', () => {
  assert.equal(verifyCheckpoint(signed(), KEY.verifierKey, { origin: ORIGIN }).origin, ORIGIN);
  assert.throws(
    () => verifyCheckpoint(signed(), KEY.verifierKey, { origin: 'other.example/log' }),
    /origin "sealbox\.example\/ledger" is not the expected "other\.example\/log"/,
  );
});

test('extension lines are parsed but stay opaque', () => {
  const text = `${ORIGIN}\n3\n${ROOT.toString('base64')}\next one\next two\n`;
  const cp = verifyCheckpoint(signNote(text, KEY), KEY.verifierKey);
  assert.deepEqual(cp.extensions, ['ext one', 'ext two']);
});

test('malformed notes and checkpoints are rejected with specific messages', () => {
  const good = signed();
  const sigLine = good.split('\n')[4]!;
  const body = (size: string, root = ROOT.toString('base64'), origin = ORIGIN): string =>
    `${origin}\n${size}\n${root}\n\n${sigLine}\n`;
  const cases: [string | Uint8Array, RegExp][] = [
    [good.slice(0, -1), /malformed note: does not end with a newline/],
    [good.replace('\n\n', '\n'), /malformed note: missing the blank line/],
    [`${good.split('\n\n')[0]}\n\n`, /malformed note: has no signature lines/],
    [good.replace('— ', '-- '), /signature line 1 does not start with an em dash/],
    [good.replace('— ', '\u2013 '), /signature line 1 does not start with an em dash/],
    [good.replace(`— ${ORIGIN} `, `— ${ORIGIN}  `), /signature line 1 is not "— <key name> <base64 signature>"/],
    [good.replace(`— ${ORIGIN} `, '— a+b '), /signature line 1: key name "a\+b" contains "\+"/],
    [good.replace(/ (\S+)\n$/, ' $1!\n'), /signature line 1: signature is not valid base64/],
    [good.replace(/ (\S+)\n$/, ' AAAA\n'), /signature line 1: signature is too short/],
    // Non-zero padding bits: a second spelling of the same bytes.
    [good.replace(/...=\n$/, 'AAB=\n'), /signature line 1: signature is not valid base64/],
    [good + sigLine + '\n', /signature line 2: duplicate signature by key/],
    [good.replace('12345\n', ''), /malformed checkpoint: text has 2 line\(s\), expected origin, tree size and root hash/],
    [body('007'), /tree size "007" is not a decimal number without leading zeros/],
    [body('-1'), /tree size "-1" is not a decimal number/],
    [body('1e3'), /tree size "1e3" is not a decimal number/],
    [body(' 12'), /tree size " 12" is not a decimal number/],
    [body(''), /malformed checkpoint: line 2 is empty/],
    [body('9007199254740992'), /tree size 9007199254740992 is larger than 2\^53 - 1/],
    [body('1', 'not base64!'), /root hash "not base64!" is not valid base64/],
    [body('1', ROOT.toString('base64').replace('=', '')), /root hash .* is not valid base64/],
    [body('1', ROOT.subarray(0, 31).toString('base64')), /root hash is 31 bytes, expected 32/],
    [body('1', Buffer.alloc(48).toString('base64')), /root hash is 48 bytes, expected 32/],
    [`${ORIGIN}\n1\n${ROOT.toString('base64')}\n\next\n\n${sigLine}\n`, /malformed checkpoint: line 4 is empty/],
    [`\n1\n${ROOT.toString('base64')}\n\n${sigLine}\n`, /malformed checkpoint: line 1 is empty/],
    [good.replaceAll('\n', '\r\n'), /control character U\+000D on line 1 \(carriage return/],
    [good.replace('12345', '123\t45'), /control character U\+0009 on line 2/],
    [Buffer.concat([Buffer.from(good), Buffer.of(0xff)]), /malformed note: is not valid UTF-8/],
    [`${ORIGIN}\uD800\n1\n`, /unpaired surrogate/],
    [good + sigLine.replace(ORIGIN, 'x') + '\n' + `— y ${Buffer.alloc(68).toString('base64')}\n`.repeat(MAX_NOTE_SIGNATURES), /more than the limit of 100/],
    [42 as unknown as string, /must be a string or bytes/],
  ];
  for (const [note, message] of cases) {
    assert.throws(() => parseCheckpoint(note), message, `${JSON.stringify(String(note))} should fail with ${message}`);
  }
  // The note layer allows empty lines in the text; the last blank line splits.
  const text = 'first\n\nthird\n';
  assert.equal(parseNote(signNote(text, KEY)).text, text);
});

test('verifier keys are parsed strictly', () => {
  const [name, id, material] = [ORIGIN, ...KEY.verifierKey.slice(ORIGIN.length + 1).split(/\+(.*)/s)] as [string, string, string];
  const cases: [string, RegExp][] = [
    [`${name}`, /expected <name>\+<key ID>\+<base64 key>/],
    [`${name}+${id}`, /expected <name>\+<key ID>\+<base64 key>/],
    [`+${id}+${material}`, /key name is empty/],
    [`a b+${id}+${material}`, /key name "a b" contains whitespace/],
    [`${name}+${id.slice(1)}+${material}`, /key ID ".{7}" is not 8 hex digits/],
    [`${name}+${id}+${material}x`, /public key is not valid base64/],
    [`${name}+${id}+${Buffer.concat([Buffer.of(4), KEY.publicKey]).toString('base64')}`, /unsupported signature type 0x04/],
    [`${name}+${id}+${Buffer.concat([Buffer.of(1), KEY.publicKey.subarray(1)]).toString('base64')}`, /public key is 31 bytes, expected 32/],
    [`other.example+${id}+${material}`, /key ID .* does not match the public key/],
  ];
  for (const [key, message] of cases) assert.throws(() => parseVerifierKey(key), message, key);
  assert.equal(parseVerifierKey(`${name}+${id.toUpperCase()}+${material}`).keyId, id);
});

test('signing validates its inputs', () => {
  for (const name of ['', 'a b', 'a\u00a0b', 'a+b', 'a\tb']) {
    assert.throws(() => generateSigningKey(name), /key name/, JSON.stringify(name));
  }
  const cp = { origin: ORIGIN, size: 1, rootHash: ROOT };
  assert.throws(() => signCheckpoint({ ...cp, origin: 'has space' }, KEY), /origin "has space" contains whitespace/);
  assert.throws(() => signCheckpoint({ ...cp, origin: 'a\nb' }, KEY), /origin contains a control character/);
  assert.throws(() => signCheckpoint({ ...cp, size: -1 }, KEY), /non-negative safe integer/);
  assert.throws(() => signCheckpoint({ ...cp, size: 1.5 }, KEY), /non-negative safe integer/);
  assert.throws(() => signCheckpoint({ ...cp, rootHash: ROOT.subarray(1) }, KEY), /root hash must be 32 bytes/);
  assert.throws(() => signNote('no newline', KEY), /end with a newline/);
  assert.throws(() => signNote('bell\u0007\n', KEY), /control character U\+0007/);
});

test('keys persist as PKCS#8 PEM and reload to the same verifier key', () => {
  assert.match(KEY.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  const reloaded = signingKeyFromPem(ORIGIN, KEY.privateKeyPem);
  assert.deepEqual(reloaded.publicKey, KEY.publicKey);
  assert.equal(reloaded.verifierKey, KEY.verifierKey);
  verifyCheckpoint(signCheckpoint({ origin: ORIGIN, size: 1, rootHash: ROOT }, reloaded), KEY.verifierKey);

  const ecKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
  assert.throws(() => signingKeyFromPem(ORIGIN, ecKey.toString()), /private key is ec, expected ed25519/);
  assert.throws(() => signingKeyFromPem(ORIGIN, 'garbage'), /private key is not a readable PEM key/);
});
