import type { Actor, Audit } from '../access/audit.ts';
import type { Clock } from '../core/clock.ts';
import type { Transactions } from '../core/transactions.ts';
import type { LedgerStore } from '../ledger/ledger.ts';
import { disposalCertificate } from './disposal-certificate.ts';
import type { DisposalCertificate } from './disposal-certificate.ts';
import { SealboxError } from '../core/errors.ts';
import type { IndexStore } from '../index/index-store.ts';
import type { SearchIndex } from '../index/search-index.ts';
import type { BlobStore } from '../store/blob-store.ts';
import type { DisposalStore } from './disposal-store.ts';
import type { LegalHolds } from './legal-holds.ts';

export interface DisposalDeps {
  meta: Transactions & LedgerStore;
  store: DisposalStore;
  index: IndexStore;
  blobs: BlobStore;
  audit: Audit;
  clock: Clock;
  holds: LegalHolds;
  search: SearchIndex;
}

// What a run would do, or did: the messages whose retention has ended that go, those a legal
// hold keeps, and those kept because they are not indexed yet (a hold's scope is judged on the
// index: a message it cannot see is never disposed).
export interface DisposalPlan {
  at: number;
  due: { sha256: string; retainedUntil: number; policy: string }[];
  held: { sha256: string; holds: string[] }[];
  unindexed: string[];
  holdsInForce: string[];
}

// Retention acting on its own, as the ledger names it.
export const RETENTION_ACTOR: Actor = { user: null, label: 'system:retention', roles: ['system'], logonType: 'system', sessionId: null, clientIp: null, userAgent: null };

export interface DisposalOutcome {
  disposed: string[];           // sha256s destroyed now
  ledgerIndex: number | null;   // the dispose entry that names them
  erased: number;               // messages whose bytes and index rows were removed (this run's and earlier ones')
  bytesKept: number;            // of those, how many the blob store could not cut out yet (their keys are destroyed)
  purged: boolean;              // the stores' files hold nothing of them any more
  failed: { messageRowId: number; error: string }[];   // still queued: their keys are destroyed, the next run tries again
}

// Destroys messages, by policy, so that nothing of them can be read again (NIST SP 800-88
// cryptographic erase, then the bytes too): one dispose entry names them all, and their data
// keys are destroyed in the same transaction, so a message is either readable and not recorded
// as disposed, or recorded and unreadable. Their index rows and blob bytes go after that, from
// a queue a crash cannot lose. Deciding which messages may go (retention, holds) is the
// caller's; this class destroys what it is given.
export class Disposal {
  readonly #d: DisposalDeps;

  constructor(d: DisposalDeps) {
    this.#d = d;
  }

  // The messages whose retention has ended by now (at most `limit`), sorted by what becomes of them.
  async plan(limit = 10_000): Promise<DisposalPlan> {
    const { meta, store, holds, search, clock } = this.#d;
    const at = clock.now();
    const { expired, scopes } = await meta.read(async (tx) => ({ expired: await store.expired(tx, at, limit), scopes: await holds.activeScopes(tx) }));
    const plan: DisposalPlan = { at, due: [], held: [], unindexed: [], holdsInForce: scopes.map((s) => s.hold.id).sort() };
    for (const e of expired) {
      if (await search.document(e.messageRowId) === null) {
        plan.unindexed.push(e.sha256);
        continue;
      }
      const by: string[] = [];
      for (const { hold, scope } of scopes) if (await search.findInScope(e.sha256, scope) !== null) by.push(hold.id);
      if (by.length > 0) plan.held.push({ sha256: e.sha256, holds: by });
      else plan.due.push({ sha256: e.sha256, retainedUntil: e.retainedUntil, policy: policyOf(e.rules) });
    }
    return plan;
  }

  // Disposes of what the plan says is due, one dispose entry per policy. Each transaction checks
  // again that no hold was placed or released since the plan was made (else it refuses: run
  // again) and that every receipt of each message is still past its retention.
  async run(actor: Actor = RETENTION_ACTOR, limit?: number): Promise<{ plan: DisposalPlan; outcomes: DisposalOutcome[] }> {
    const plan = await this.plan(limit);
    const byPolicy = new Map<string, string[]>();
    for (const d of plan.due) byPolicy.set(d.policy, [...(byPolicy.get(d.policy) ?? []), d.sha256]);
    const outcomes: DisposalOutcome[] = [];
    for (const [policy, shas] of byPolicy) outcomes.push(await this.dispose(shas, policy, actor, { holdsInForce: plan.holdsInForce, expiredBy: plan.at }));
    if (outcomes.length === 0) await this.erase();   // a crash's leftovers
    return { plan, outcomes };
  }

  async dispose(sha256s: readonly string[], policy: string, actor: Actor = RETENTION_ACTOR, checks: { holdsInForce?: string[]; expiredBy?: number } = {}): Promise<DisposalOutcome> {
    const { meta, store, audit, clock } = this.#d;
    const { disposed, ledgerIndex } = await audit.record(actor,
      (r: { disposed: string[]; erases: number[] }) => (r.disposed.length === 0 ? null : { operation: 'dispose', messages: r.disposed, parameters: { policy, count: r.disposed.length }, erases: r.erases }),
      async (tx) => {
        if (checks.holdsInForce && (await store.activeHoldIds(tx)).join() !== checks.holdsInForce.join()) {
          throw new SealboxError('SEALBOX_ERR_CONFLICT', 'a legal hold was placed or released while disposal was deciding: nothing was disposed; run it again');
        }
        // After the ledger caught up (Audit.record): the size is the index the entry gets.
        const ledgerIndex = await meta.ledgerSize(tx);
        const disposed = await store.markDisposed(tx, [...new Set(sha256s)], { at: clock.now(), ledgerIndex, policy, expiredBy: checks.expiredBy });
        // Who sent them to whom goes with them: the capture entries' payloads are erased by the
        // dispose entry itself (their leaves, and every proof, stay), and the receipts' envelopes
        // with them. A version-1 capture entry holds its envelope in its leaf: it stays, and so
        // does its receipt's copy, which verify compares with it.
        const erasable: { captureRowId: number; ledgerIndex: number }[] = [];
        for (const c of await store.capturesOf(tx, disposed)) if ((await meta.entry(tx, c.ledgerIndex))?.payload) erasable.push(c);
        await store.clearCaptureDetails(tx, erasable.map((c) => c.captureRowId));
        return { disposed, ledgerIndex, erases: erasable.map((c) => c.ledgerIndex) };
      });
    return { disposed, ledgerIndex: disposed.length > 0 ? ledgerIndex : null, ...await this.erase() };
  }

  // The certificate of what was disposed in [since, until), proven against the latest signed
  // checkpoint (disposal-certificate.ts); handing it out is itself an entry.
  certificate(actor: Actor, period: { since?: number; until?: number }, ledger: { origin: string; verifierKey: string }): Promise<DisposalCertificate> {
    const { meta, audit, clock } = this.#d;
    const parameters = { since: period.since ?? null, until: period.until ?? null };
    return audit.record(actor, (c: DisposalCertificate) => ({ operation: 'disposal.certificate', messages: [], parameters: { ...parameters, entries: c.disposed.entries, disposed: c.disposed.messages } }),
      (tx) => disposalCertificate(tx, meta, { ...ledger, ...period, now: clock.now() }));
  }

  // Removes the queued bytes and index rows (of this run, and any a crash left), then makes
  // sure the stores' files keep nothing of them.
  async erase(): Promise<Omit<DisposalOutcome, 'disposed' | 'ledgerIndex'>> {
    const { meta, store, index, blobs } = this.#d;
    const failed: DisposalOutcome['failed'] = [];
    let erased = 0;
    let bytesKept = 0;
    for (;;) {
      const queued = await meta.read((tx) => store.queuedErasures(tx, 200));
      if (queued.length === 0) break;
      let progress = false;
      for (const q of queued) {
        try {
          // The same bytes archived again meanwhile: the message is back, and its index rows are its own.
          if (q.stillDisposed) await index.write((tx) => index.removeDocument(tx, q.messageRowId, q.captureRowIds));
          if (!await blobs.erase(q.blobRef)) bytesKept++;
          await meta.write((tx) => store.erasureDone(tx, q.id));
          erased++;
          progress = true;
        } catch (err) {
          failed.push({ messageRowId: q.messageRowId, error: (err as Error).message });
        }
      }
      if (!progress) break;
    }
    const purged = erased === 0 || ((await index.purgeRemoved()) && (await store.purgeRemoved()));
    return { erased, bytesKept, purged, failed };
  }
}

// The policy a message went under: the rules its receipts were retained by (the default named
// as retention.defaultDays), as the dispose entry and the certificate name it.
function policyOf(rules: (string | null)[]): string {
  return [...new Set(rules.map((r) => (r === null ? 'retention.defaultDays' : `rule ${r}`)))].sort().join(' + ');
}
