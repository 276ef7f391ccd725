import type { Tx } from '../core/transactions.ts';
import type { LedgerEntry } from '../core/types.ts';
import { SealboxError } from '../core/errors.ts';
import type { AccessRequest } from './grants.ts';
import type { MailboxPolicy } from './notifier.ts';
import type { User } from './people.ts';

// Whether a mailbox's owner may see an access by someone else on their transparency page yet.
// The mailbox's notification policy decides, as it does for the notification itself: "before"
// at once; "after" only once the grant is over and its N days have passed (an investigation
// under way is not tipped off); "none" (a recorded legal basis) not at all.
export function ownerMaySee(policy: MailboxPolicy, grant: AccessRequest | null, now: number): boolean {
  if (policy.notifyMode === 'before') return true;
  if (policy.notifyMode === 'none') return false;
  if (!grant) return true;
  const ended = grant.revokedAt ?? (grant.endsAt !== null && grant.endsAt <= now ? grant.endsAt : null);
  if (ended === null) return false;
  return now >= ended + (policy.notifyAfterDays ?? 0) * 86_400_000;
}

// The ledger entries of access to the owner's mailboxes read for the page, newest first. A
// longer history than this is cut, and the answer says so (`truncated`).
export const TRANSPARENCY_ENTRIES = 20_000;

// The operations that read one message: a viewer's one opening is a view, its body and its
// evidence (and maybe its raw bytes or remote content), so they count as one message read.
const READS = new Set(['view', 'body', 'evidence', 'raw', 'remote-content', 'attachment-text']);
// The parts of a message read, said in this order whatever order the page fetched them in.
const PART_ORDER = ['view', 'body', 'evidence', 'conversation', 'raw', 'remote-content', 'attachment-text'];

export interface TransparencyDeps {
  ofMailbox(tx: Tx, mailboxIds: readonly number[], limit: number): Promise<{ entry: LedgerEntry }[]>;
  grant(tx: Tx, id: string): Promise<AccessRequest>;
  policies(tx: Tx, mailboxIds: Iterable<number>): Promise<Map<number, MailboxPolicy>>;
  owned(tx: Tx, user: User): Promise<{ id: number; name: string }[]>;
  person(tx: Tx, name: string): Promise<User | null>;
  // Which of the mailboxes hold at least one of the messages (the search index's link).
  mailboxesHolding(sha256s: readonly string[], mailboxIds: readonly number[]): Promise<Set<number>>;
  now(): number;
}

// One access entry as the owner may see it: the mailboxes of theirs it touched.
export interface SeenAccess {
  index: number; time: string; actor: string; operation: string; result: string; logonType: string;
  mailboxes: string[]; messages: number;
  request: RequestSummary | null;
}

export interface RequestSummary { id: string; purpose: string; ticket: string | null; justification: string; breakglass: boolean }

// What one person did under one request (or, with no request, on their own: refused attempts),
// counted as the person did it, not as the pages they used asked the server.
export interface AccessGroup {
  request: RequestSummary | null;
  person: { name: string; displayName: string };
  emergency: boolean;          // break-glass
  first: string; last: string; // the first and the last access seen
  mailboxes: string[];
  searches: number;
  messagesRead: number;        // distinct messages of the owner's opened (view, body, evidence, raw, remote content, conversation)
  downloads: number;           // of those, downloaded as .eml
  exports: number;             // export runs
  messagesExported: number;    // distinct messages of the owner's in them
  refused: number;             // attempts refused
  details: AccessDetail[];     // oldest first
}

export type AccessDetail =
  | { kind: 'search'; time: string; query: string | null; thread: boolean; results: number; mailboxes: string[] }
  | { kind: 'read'; time: string; last: string; sha256: string; parts: string[]; mailboxes: string[] }
  | { kind: 'export'; time: string; query: string | null; messages: number; mailboxes: string[] }
  // An export job cancelled before it was done: of the messages of theirs it was to export, how
  // far it got (messages packed of all it was to export); none of it was handed out.
  | { kind: 'export-cancelled'; time: string; query: string | null; messages: number; done: number; of: number; mailboxes: string[] }
  | { kind: 'refused'; time: string; operation: string; mailboxes: string[] };

export interface OwnerAccesses {
  mailboxes: string[];
  requests: AccessGroup[];     // newest activity first
  accesses: SeenAccess[];      // every entry, newest first (the API's flat list)
  truncated: boolean;
}

// "Who accessed my mailbox": every access to the owner's mailboxes by someone else that each
// mailbox's notification policy lets them see now (ownerMaySee, per mailbox), as entries and
// grouped by request. The owner's own reads are left out.
export async function ownerAccesses(d: TransparencyDeps, tx: Tx, owner: User): Promise<OwnerAccesses> {
  const owned = await d.owned(tx, owner);
  if (owned.length === 0) return { mailboxes: [], requests: [], accesses: [], truncated: false };
  const policies = await d.policies(tx, owned.map((o) => o.id));
  const now = d.now();
  const grants = new Map<string, AccessRequest | null>();
  const grantOf = async (id: string | null) => {
    if (!id) return null;
    if (!grants.has(id)) grants.set(id, await d.grant(tx, id).catch(notFound));
    return grants.get(id)!;
  };
  const rows = await d.ofMailbox(tx, owned.map((m) => m.id), TRANSPARENCY_ENTRIES);
  const seen = new Set<number>();
  const shownEntries: { e: LedgerEntry; shown: string[]; grant: AccessRequest | null }[] = [];
  for (const { entry: e } of rows) {
    if (seen.has(e.index) || e.type !== 'access' || e.actor === `user:${owner.name}`) continue;
    seen.add(e.index);
    const grant = await grantOf(e.grantId);
    // Each mailbox's notification policy says when its owner may learn of an access (delayed, or never with a legal basis).
    const shown = e.objects.mailboxes.filter((m) => owned.some((o) => o.name === m && ownerMaySee(policies.get(o.id)!, grant, now)));
    if (shown.length > 0) shownEntries.push({ e, shown, grant });
  }

  // Which messages are the owner's: those in a mailbox of theirs that may be shown. A search
  // or export under a grant over several mailboxes counts only these.
  const shownIds = owned.filter((o) => shownEntries.some((s) => s.shown.includes(o.name))).map((o) => o.id);
  const mine = new Set<string>();
  const named = new Set(shownEntries.filter(({ e }) => e.result === 'success').flatMap(({ e }) => typeof e.parameters.thread === 'string' ? [...e.objects.messages, e.parameters.thread] : e.objects.messages));
  for (const sha of named) if ((await d.mailboxesHolding([sha], shownIds)).size > 0) mine.add(sha);
  const isMine = (sha: string) => mine.has(sha);

  const groups = new Map<string, AccessGroup & { read: Map<string, Extract<AccessDetail, { kind: 'read' }>>; exported: Set<string> }>();
  const people = new Map<string, { name: string; displayName: string }>();
  for (const { e, shown, grant } of [...shownEntries].reverse()) {
    const time = new Date(e.time).toISOString();
    const actor = e.actor.replace(/^user:/, '');
    if (!people.has(e.actor)) {
      const user = e.actor.startsWith('user:') ? await d.person(tx, actor) : null;
      people.set(e.actor, { name: actor, displayName: user?.displayName || actor });
    }
    const key = `${e.grantId ?? ''}\n${e.actor}`;
    let g = groups.get(key);
    if (!g) {
      g = {
        request: grant && summary(grant), person: people.get(e.actor)!, emergency: grant?.breakglass ?? e.logonType === 'breakglass',
        first: time, last: time, mailboxes: [], searches: 0, messagesRead: 0, downloads: 0, exports: 0, messagesExported: 0, refused: 0, details: [],
        read: new Map(), exported: new Set(),
      };
      groups.set(key, g);
    }
    g.last = time;
    const group = g;
    // One message opened: its first and last access, and the parts of it that were fetched.
    const read = (sha256: string, part: string, at: string, mailboxes: string[]) => {
      let r = group.read.get(sha256);
      if (!r) {
        r = { kind: 'read', time: at, last: at, sha256, parts: [], mailboxes: [] };
        group.read.set(sha256, r);
        group.details.push(r);
      }
      r.last = at;
      if (!r.parts.includes(part)) r.parts.push(part);
      for (const m of mailboxes) if (!r.mailboxes.includes(m)) r.mailboxes.push(m);
    };
    for (const m of shown) if (!g.mailboxes.includes(m)) g.mailboxes.push(m);
    const query = typeof e.parameters.query === 'string' ? e.parameters.query : null;
    if (e.result !== 'success') {
      g.refused++;
      g.details.push({ kind: 'refused', time, operation: e.operation, mailboxes: shown });
    } else if (e.operation === 'search' && typeof e.parameters.thread === 'string') {
      // The viewer lists a message's conversation as it opens it (recorded as a search): part of
      // reading that message, not a search the person made. A conversation of a message that is
      // not the owner's (a thread across mailboxes) is said without naming that message.
      const thread = e.parameters.thread;
      if (isMine(thread)) read(thread, 'conversation', time, shown);
      else g.details.push({ kind: 'search', time, query: null, thread: true, results: e.objects.messages.filter(isMine).length, mailboxes: shown });
    } else if (e.operation === 'search') {
      g.searches++;
      g.details.push({ kind: 'search', time, query, thread: false, results: e.objects.messages.filter(isMine).length, mailboxes: shown });
    } else if (e.operation === 'export') {
      const messages = e.objects.messages.filter(isMine);
      g.exports++;
      for (const m of messages) g.exported.add(m);
      g.details.push({ kind: 'export', time, query, messages: messages.length, mailboxes: shown });
    } else if (e.operation === 'export.cancel') {
      const count = (v: unknown) => (typeof v === 'number' ? v : 0);
      g.details.push({ kind: 'export-cancelled', time, query, messages: e.objects.messages.filter(isMine).length, done: count(e.parameters.messagesDone), of: count(e.parameters.messagesTotal), mailboxes: shown });
    } else if (READS.has(e.operation)) {
      for (const sha256 of e.objects.messages) read(sha256, e.operation, time, shown);
    }
  }

  for (const g of groups.values()) for (const r of g.read.values()) r.parts.sort((a, b) => PART_ORDER.indexOf(a) - PART_ORDER.indexOf(b));
  const requests = [...groups.values()].map(({ read, exported, ...g }) => ({
    ...g, messagesRead: read.size, downloads: [...read.values()].filter((r) => r.parts.includes('raw')).length, messagesExported: exported.size,
  })).sort((a, b) => b.last.localeCompare(a.last));
  const accesses = shownEntries.map(({ e, shown, grant }) => ({
    index: e.index, time: new Date(e.time).toISOString(), actor: e.actor.replace(/^user:/, ''), operation: e.operation, result: e.result, logonType: e.logonType,
    mailboxes: shown, messages: e.objects.messages.length, request: grant && summary(grant),
  }));
  return { mailboxes: owned.map((m) => m.name), requests, accesses, truncated: rows.length >= TRANSPARENCY_ENTRIES };
}

function summary(grant: AccessRequest): RequestSummary {
  return { id: grant.id, purpose: grant.purpose, ticket: grant.ticket, justification: grant.justification, breakglass: grant.breakglass };
}

// A grant an entry names that is not there (never expected) shows as no request; any other fault is thrown.
function notFound(err: unknown): null {
  if (err instanceof SealboxError && err.code === 'SEALBOX_ERR_NOT_FOUND') return null;
  throw err;
}
