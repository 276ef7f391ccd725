import { createHash } from 'node:crypto';
import { freshBytes } from '../core/random.ts';
import type { LedgerEntry } from '../core/types.ts';

// How an entry becomes the Merkle leaf, and back.
//
// Version 1 (archives before the upgrade entry): the leaf is the whole entry, personal data
// included. Version 2: the leaf holds what the tree must prove — index, time, type, actor and
// roles, logon type, session, operation, result, grant, the messages' sha256s, the indexes an
// erasure entry erases — and a commitment, SHA-256 over a random per-entry salt and the
// personal payload (client address, mailboxes, parameters: addresses, queries, reasons). The
// payload and salt are stored beside the leaf; erasing them (GDPR Art. 17) leaves the leaf, and
// with it every proof, as it was.
export const LEDGER_VERSION = 2;

export interface PersonalPayload {
  clientIp: string | null;
  mailboxes: string[];
  parameters: Record<string, unknown>;
}

export interface SealedEntry {
  leaf: Buffer;
  payload: Buffer | null;   // canonical JSON of the PersonalPayload (version 2)
  salt: Buffer | null;
}

interface LeafV2 {
  v: 2;
  index: number;
  time: number;
  type: LedgerEntry['type'];
  actor: string;
  actorRoles: string[];
  logonType: LedgerEntry['logonType'];
  sessionId: string | null;
  operation: string;
  result: LedgerEntry['result'];
  grantId: string | null;
  messages: string[];
  erases?: number[];
  commitment: string;
}

export function sealEntry(entry: LedgerEntry, version: 1 | 2, salt: Buffer = freshBytes(32)): SealedEntry {
  if (version === 1) return { leaf: serializeEntry(entry), payload: null, salt: null };
  const payload = Buffer.from(canonicalJson({ clientIp: entry.clientIp, mailboxes: entry.objects.mailboxes, parameters: entry.parameters } satisfies PersonalPayload), 'utf8');
  const leaf: LeafV2 = {
    v: 2, index: entry.index, time: entry.time, type: entry.type, actor: entry.actor, actorRoles: entry.actorRoles, logonType: entry.logonType,
    sessionId: entry.sessionId, operation: entry.operation, result: entry.result, grantId: entry.grantId, messages: entry.objects.messages,
    erases: entry.erases, commitment: commitmentOf(salt, payload),
  };
  return { leaf: Buffer.from(canonicalJson(leaf), 'utf8'), payload, salt };
}

// The commitment a version-2 leaf makes to its payload: hex SHA-256 over the salt, then the payload.
export function commitmentOf(salt: Uint8Array, payload: Uint8Array): string {
  return createHash('sha256').update(salt).update(payload).digest('hex');
}

export function leafVersion(leaf: Uint8Array): 1 | 2 {
  return (JSON.parse(Buffer.from(leaf).toString('utf8')) as { v?: number }).v === 2 ? 2 : 1;
}

// The entry a leaf and its payload say. A version-2 entry whose payload was erased reads with no
// client address, mailboxes or parameters, and `erased: true`.
export function openEntry(leaf: Uint8Array, payload: Uint8Array | null): LedgerEntry {
  return entryOf(JSON.parse(Buffer.from(leaf).toString('utf8')), payload);
}

// The same, from a leaf already parsed (verify reads each leaf's fields first).
export function entryOf(parsed: LedgerEntry | LeafV2, payload: Uint8Array | null): LedgerEntry {
  if ((parsed as LeafV2).v !== 2) return parsed as LedgerEntry;
  const l = parsed as LeafV2;
  const p: PersonalPayload | null = payload ? JSON.parse(Buffer.from(payload).toString('utf8')) : null;
  return {
    index: l.index, time: l.time, type: l.type, actor: l.actor, actorRoles: l.actorRoles, logonType: l.logonType, sessionId: l.sessionId,
    clientIp: p?.clientIp ?? null, operation: l.operation, objects: { mailboxes: p?.mailboxes ?? [], messages: l.messages }, grantId: l.grantId,
    result: l.result, parameters: p?.parameters ?? {}, ...(l.erases ? { erases: l.erases } : {}), ...(p ? {} : { erased: true }),
  };
}

// A version-1 leaf: the whole entry in canonical JSON.
export function serializeEntry(entry: LedgerEntry): Buffer {
  return Buffer.from(canonicalJson(entry), 'utf8');
}

// JSON with object keys sorted at every level and no white space, so the same value always
// serialises, and hashes, the same.
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('ledger entries hold finite numbers only');
    if (value === undefined) return 'null';
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}
