// Signed checkpoints: C2SP tlog-checkpoint bodies inside C2SP signed-notes,
// signed with Ed25519 (signature type 0x01), so that outside witnesses and
// standard tooling (e.g. Go's sumdb/note) can check them.

import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/** Signature type byte of Ed25519 in C2SP signed-note. */
const ED25519_TYPE = 0x01;
const ED25519_PUBLIC_KEY_SIZE = 32;
const ED25519_SIGNATURE_SIZE = 64;
const KEY_ID_SIZE = 4;
const ROOT_HASH_SIZE = 32;
const SIGNATURE_PREFIX = '\u2014 '; // em dash, space

/** More than the 16 the spec requires us to accept, few enough to bound work. */
export const MAX_NOTE_SIGNATURES = 100;
/** Room for the maximum signatures even at post-quantum sizes (≈5 kB each). */
export const MAX_NOTE_BYTES = 1024 * 1024;

export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Uint8Array;
}

export interface NoteSignature {
  keyName: string;
  /** The 4-byte key ID as 8 lowercase hex digits, as in a verifier key. */
  keyId: string;
  /** The signature bytes after the key ID. */
  signature: Buffer;
}

export interface SignedNote {
  /** The signed text, including its final newline. */
  text: string;
  signatures: NoteSignature[];
}

export interface ParsedCheckpoint extends SignedNote {
  origin: string;
  size: number;
  rootHash: Buffer;
  /** Opaque lines after the root hash; we never emit any. */
  extensions: string[];
}

export interface CheckpointSigner {
  name: string;
  /** Ed25519 private key, PKCS#8 PEM: the form to persist (and keep secret). */
  privateKeyPem: string;
}

export interface SigningKey extends CheckpointSigner {
  /** Raw 32-byte Ed25519 public key. */
  publicKey: Buffer;
  /** The note verifier key string to give to witnesses and auditors. */
  verifierKey: string;
}

export interface VerifierKey {
  name: string;
  keyId: string;
  publicKey: Buffer;
}

export function generateSigningKey(name: string): SigningKey {
  assertKeyName(name);
  const { privateKey } = generateKeyPairSync('ed25519');
  return describeKey(name, privateKey);
}

/** Reloads a persisted key (e.g. from the key provider) with its derived public parts. */
export function signingKeyFromPem(name: string, privateKeyPem: string): SigningKey {
  assertKeyName(name);
  return describeKey(name, loadPrivateKey(privateKeyPem));
}

/** SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4], per C2SP signed-note. */
export function ed25519KeyId(name: string, publicKey: Uint8Array): Buffer {
  assertKeyName(name);
  assertPublicKey(publicKey);
  return createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.of(0x0a, ED25519_TYPE))
    .update(publicKey)
    .digest()
    .subarray(0, KEY_ID_SIZE);
}

/** `<name>+<hex key ID>+<base64(0x01 ‖ public key)>` */
export function verifierKey(name: string, publicKey: Uint8Array): string {
  const id = ed25519KeyId(name, publicKey).toString('hex');
  const typed = Buffer.concat([Buffer.of(ED25519_TYPE), publicKey]).toString('base64');
  return `${name}+${id}+${typed}`;
}

export function parseVerifierKey(key: string): VerifierKey {
  if (typeof key !== 'string') badVerifierKey('not a string');
  // The name cannot contain '+', but the base64 part can, so split only twice.
  const first = key.indexOf('+');
  const second = first < 0 ? -1 : key.indexOf('+', first + 1);
  if (second < 0) badVerifierKey('expected <name>+<key ID>+<base64 key>');
  const name = key.slice(0, first);
  const idHex = key.slice(first + 1, second);
  const nameProblem = keyNameProblem(name);
  if (nameProblem !== undefined) badVerifierKey(`key name ${nameProblem}`);
  if (!/^[0-9a-fA-F]{8}$/.test(idHex)) badVerifierKey(`key ID "${idHex}" is not 8 hex digits`);
  const typed = decodeBase64(key.slice(second + 1));
  if (typed === undefined) badVerifierKey('public key is not valid base64');
  if (typed[0] !== ED25519_TYPE) {
    const type = typed.length > 0 ? `0x${hexByte(typed[0]!)}` : '(none)';
    badVerifierKey(`unsupported signature type ${type}, only Ed25519 (0x01)`);
  }
  if (typed.length !== 1 + ED25519_PUBLIC_KEY_SIZE) {
    badVerifierKey(`Ed25519 public key is ${typed.length - 1} bytes, expected ${ED25519_PUBLIC_KEY_SIZE}`);
  }
  const publicKey = typed.subarray(1);
  const keyId = ed25519KeyId(name, publicKey).toString('hex');
  if (keyId !== idHex.toLowerCase()) badVerifierKey(`key ID ${idHex} does not match the public key (${keyId})`);
  return { name, keyId, publicKey };
}

/** Signs a note text (which must end in a newline) with one or more keys. */
export function signNote(text: string, signers: CheckpointSigner | readonly CheckpointSigner[]): string {
  const list = Array.isArray(signers) ? signers : [signers as CheckpointSigner];
  if (list.length === 0) throw new Error('cannot sign a note without a signer');
  if (list.length > MAX_NOTE_SIGNATURES) throw new Error(`at most ${MAX_NOTE_SIGNATURES} signers`);
  if (typeof text !== 'string' || text.length === 0 || !text.endsWith('\n')) {
    throw new Error('note text must be non-empty and end with a newline');
  }
  if (!text.isWellFormed()) throw new Error('note text is not valid Unicode (unpaired surrogate)');
  assertNoteCharacters(text, 'note text');
  const message = Buffer.from(text, 'utf8');
  const seen = new Set<string>();
  let lines = '';
  for (const signer of list) {
    assertKeyName(signer.name);
    const key = loadPrivateKey(signer.privateKeyPem);
    const id = ed25519KeyId(signer.name, rawPublicKey(key));
    const tag = `${signer.name}+${id.toString('hex')}`;
    if (seen.has(tag)) throw new Error(`key ${tag} is given twice`);
    seen.add(tag);
    const signature = sign(null, message, key);
    lines += `${SIGNATURE_PREFIX}${signer.name} ${Buffer.concat([id, signature]).toString('base64')}\n`;
  }
  return `${text}\n${lines}`;
}

/** Splits a signed note and checks its syntax; verifies no signature. */
export function parseNote(note: string | Uint8Array): SignedNote {
  const source = noteString(note);
  if (!source.endsWith('\n')) fail('note', 'does not end with a newline');
  // The text may itself contain empty lines; the last one is the separator.
  const split = source.lastIndexOf('\n\n');
  if (split < 0) fail('note', 'missing the blank line between text and signatures');
  const text = source.slice(0, split + 1);
  const lines = source.slice(split + 2, -1);
  if (lines.length === 0) fail('note', 'has no signature lines');
  const signatureLines = lines.split('\n');
  if (signatureLines.length > MAX_NOTE_SIGNATURES) {
    fail('note', `has ${signatureLines.length} signatures, more than the limit of ${MAX_NOTE_SIGNATURES}`);
  }
  const seen = new Set<string>();
  const signatures = signatureLines.map((line, i) => {
    const which = `signature line ${i + 1}`;
    if (!line.startsWith(SIGNATURE_PREFIX)) fail('note', `${which} does not start with an em dash (U+2014) and a space`);
    const parts = line.slice(SIGNATURE_PREFIX.length).split(' ');
    if (parts.length !== 2) fail('note', `${which} is not "— <key name> <base64 signature>"`);
    const [keyName, encoded] = parts as [string, string];
    const nameProblem = keyNameProblem(keyName);
    if (nameProblem !== undefined) fail('note', `${which}: key name ${nameProblem}`);
    const bytes = decodeBase64(encoded);
    if (bytes === undefined) fail('note', `${which}: signature is not valid base64`);
    if (bytes.length <= KEY_ID_SIZE) fail('note', `${which}: signature is too short to hold a key ID`);
    const keyId = bytes.subarray(0, KEY_ID_SIZE).toString('hex');
    const tag = `${keyName}+${keyId}`;
    if (seen.has(tag)) fail('note', `${which}: duplicate signature by key ${tag}`);
    seen.add(tag);
    return { keyName, keyId, signature: Buffer.from(bytes.subarray(KEY_ID_SIZE)) };
  });
  return { text, signatures };
}

/**
 * Verifies that the key signed the note. Signatures by other keys are ignored,
 * as the spec requires; a bad signature that claims to be by this key rejects
 * the whole note.
 */
export function verifyNote(note: string | Uint8Array, key: string): SignedNote {
  const verifier = parseVerifierKey(key);
  const parsed = parseNote(note);
  checkSignatures(parsed, verifier);
  return parsed;
}

export function signCheckpoint(
  checkpoint: Checkpoint,
  signers: CheckpointSigner | readonly CheckpointSigner[],
): string {
  const { origin, size, rootHash } = checkpoint;
  // Stricter than parsing: we only emit the spec's recommended origin form.
  const originProblem = keyNameProblem(origin);
  if (originProblem !== undefined) throw new Error(`checkpoint origin ${originProblem}`);
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new Error(`checkpoint size must be a non-negative safe integer, got ${size}`);
  }
  if (!(rootHash instanceof Uint8Array) || rootHash.length !== ROOT_HASH_SIZE) {
    throw new Error(`checkpoint root hash must be ${ROOT_HASH_SIZE} bytes`);
  }
  const text = `${origin}\n${size}\n${Buffer.from(rootHash).toString('base64')}\n`;
  return signNote(text, signers);
}

/** Parses a checkpoint note strictly; verifies no signature. */
export function parseCheckpoint(note: string | Uint8Array): ParsedCheckpoint {
  const { text, signatures } = parseNote(note);
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) {
    fail('checkpoint', `text has ${lines.length} line(s), expected origin, tree size and root hash`);
  }
  const empty = lines.findIndex((line) => line.length === 0);
  if (empty >= 0) fail('checkpoint', `line ${empty + 1} is empty`);
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) {
    fail('checkpoint', `tree size "${sizeText}" is not a decimal number without leading zeros`);
  }
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) fail('checkpoint', `tree size ${sizeText} is larger than 2^53 - 1`);
  const rootHash = decodeBase64(rootText);
  if (rootHash === undefined) fail('checkpoint', `root hash "${rootText}" is not valid base64`);
  if (rootHash.length !== ROOT_HASH_SIZE) {
    fail('checkpoint', `root hash is ${rootHash.length} bytes, expected ${ROOT_HASH_SIZE}`);
  }
  return { origin, size, rootHash: rootHash, extensions, text, signatures };
}

/**
 * Parses the checkpoint and checks it is signed by the key; throws otherwise.
 * Pass `origin` to also pin which log the checkpoint must come from.
 */
export function verifyCheckpoint(
  note: string | Uint8Array,
  key: string,
  options: { origin?: string } = {},
): ParsedCheckpoint {
  const verifier = parseVerifierKey(key);
  const checkpoint = parseCheckpoint(note);
  if (options.origin !== undefined && checkpoint.origin !== options.origin) {
    throw new Error(`checkpoint origin "${checkpoint.origin}" is not the expected "${options.origin}"`);
  }
  checkSignatures(checkpoint, verifier);
  return checkpoint;
}

function checkSignatures(note: SignedNote, verifier: VerifierKey): void {
  const mine = note.signatures.filter((s) => s.keyName === verifier.name && s.keyId === verifier.keyId);
  if (mine.length === 0) {
    throw new Error(`note has no signature by key ${verifier.name}+${verifier.keyId}`);
  }
  const publicKey = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: verifier.publicKey.toString('base64url') },
    format: 'jwk',
  });
  const message = Buffer.from(note.text, 'utf8');
  for (const s of mine) {
    const ok = s.signature.length === ED25519_SIGNATURE_SIZE && verify(null, message, publicKey, s.signature);
    if (!ok) throw new Error(`signature by key ${verifier.name}+${verifier.keyId} does not verify`);
  }
}

function describeKey(name: string, privateKey: KeyObject): SigningKey {
  const publicKey = rawPublicKey(privateKey);
  return {
    name,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey,
    verifierKey: verifierKey(name, publicKey),
  };
}

function loadPrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    // The parser's message could echo key material; keep it out of errors.
    throw new Error('private key is not a readable PEM key');
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new Error(`private key is ${key.asymmetricKeyType ?? 'unknown'}, expected ed25519`);
  }
  return key;
}

function rawPublicKey(privateKey: KeyObject): Buffer {
  const { x } = createPublicKey(privateKey).export({ format: 'jwk' });
  return Buffer.from(x!, 'base64url');
}

/** Why a key name (or an origin we emit) is unacceptable, or undefined if fine. */
function keyNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'is not a string';
  if (name.length === 0) return 'is empty';
  if (!name.isWellFormed()) return 'is not valid Unicode';
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'contains a control character';
  if (/\s/u.test(name)) return `"${name}" contains whitespace`;
  if (name.includes('+')) return `"${name}" contains "+"`;
  return undefined;
}

function assertKeyName(name: string): void {
  const problem = keyNameProblem(name);
  if (problem !== undefined) throw new Error(`key name ${problem}`);
}

function assertPublicKey(publicKey: Uint8Array): void {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== ED25519_PUBLIC_KEY_SIZE) {
    throw new Error(`an Ed25519 public key is ${ED25519_PUBLIC_KEY_SIZE} bytes`);
  }
}

/** Decodes and checks the whole note's characters, before any splitting. */
function noteString(note: string | Uint8Array): string {
  let text: string;
  if (typeof note === 'string') {
    if (Buffer.byteLength(note, 'utf8') > MAX_NOTE_BYTES) fail('note', `is larger than ${MAX_NOTE_BYTES} bytes`);
    if (!note.isWellFormed()) fail('note', 'is not valid UTF-8 (unpaired surrogate)');
    text = note;
  } else if (note instanceof Uint8Array) {
    if (note.length > MAX_NOTE_BYTES) fail('note', `is larger than ${MAX_NOTE_BYTES} bytes`);
    try {
      // ignoreBOM keeps a BOM as text, so the signed bytes are exactly these.
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(note);
    } catch {
      fail('note', 'is not valid UTF-8');
    }
  } else {
    fail('note', 'must be a string or bytes');
  }
  assertNoteCharacters(text, 'note');
  return text;
}

function assertNoteCharacters(text: string, what: string): void {
  const bad = /[\u0000-\u0009\u000b-\u001f]/.exec(text);
  if (bad === null) return;
  const line = text.slice(0, bad.index).split('\n').length;
  const code = bad[0].charCodeAt(0);
  const hint = code === 0x0d ? ' (carriage return: CRLF line endings are not allowed)' : '';
  throw new Error(`malformed ${what}: control character U+00${hexByte(code).toUpperCase()} on line ${line}${hint}`);
}

/** Strict standard base64 with padding; undefined if not canonical. */
function decodeBase64(text: string): Buffer | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  // Re-encoding catches non-zero padding bits, which Buffer silently drops.
  return bytes.toString('base64') === text ? bytes : undefined;
}

function hexByte(n: number): string {
  return n.toString(16).padStart(2, '0');
}

function fail(what: 'note' | 'checkpoint', why: string): never {
  throw new Error(`malformed ${what}: ${why}`);
}

function badVerifierKey(why: string): never {
  throw new Error(`invalid verifier key: ${why}`);
}
