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
import type { DisposalStore, ExpiredMessage } from './disposal-store.ts';
import { keptByRule } from './kept-by-rule.ts';
import type { KeptBy } from './kept-by-rule.ts';
import type { HoldsInForce, LegalHolds } from './legal-holds.ts';
import type { Leavers } from './leavers.ts';

// What keeps a message from going early: the legal holds in force covering it, else a rule's minimum.
export type EarlyKeep = { sha256: string; holds: string[] } | { sha256: string; rule: KeptBy };

export interface DisposalDeps {
  meta: Transactions & LedgerStore;
  store: DisposalStore;
  index: IndexStore;
  blobs: BlobStore;
  audit: Audit;
  clock: Clock;
  holds: LegalHolds;
  leavers: Leavers;
  search: SearchIndex;
}

// What a run would do, or did: the messages whose retention has ended, or that belong only to
// leavers whose mail is due, that go; those a legal hold keeps; a leaver's mail a rule's minimum
// still keeps; and those kept because they are not indexed yet (a hold's scope, and whose mail a
// message is, are judged on the index: a message it cannot see is never disposed).
export interface DisposalPlan {
  at: number;
  due: { sha256: string; retainedUntil: number; policy: string }[];
  held: { sha256: string; holds: string[] }[];
  keptByRule: ({ sha256: string } & KeptBy)[];
  unindexed: string[];
  holdsInForce: string[];
  // The leavers whose mail is due now (past their disposal date, no exemption in force).
  leavers: { mailboxId: number; mailbox: string; left: string; disposeFrom: string }[];
  indexedThrough: number;       // the last capture row the index covered when the plan looked
  // Expired mail up to this retain-until was found held by an earlier run, under the same holds
  // and custodians' addresses, and was not read again (a run's plan only; null: read from the start).
  heldUpTo: number | null;
}

// How long a run may start after the held mail an earlier run found, before it reads all of it
// again: what no key below can tell (a reindex that takes a message out of a hold's query).
const HELD_HEAD_MS = 7 * 86_400_000;

// Retention acting on its own, as the ledger names it.
export const RETENTION_ACTOR: Actor = { user: null, label: 'system:retention', roles: ['system'], logonType: 'system', sessionId: null, clientIp: null, userAgent: null };

// A dispose entry as the ledger records it: when, by whom (RETENTION_ACTOR on its schedule, a
// person or the console otherwise), under which policy (null once its payload was erased), how
// many messages.
export interface DisposalRecord {
  index: number;
  time: number;
  actor: string;
  policy: string | null;
  messages: number;
}

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
  // Where the held mail at the head of the expired list ended when a run last read it: every
  // expired message up to `through` (in the order expired() reads) was covered by a hold in force,
  // with the holds and their custodians' addresses as `key` says. Mail that expires later comes
  // after it (a receipt's retain-until is never moved earlier), so the next run reads on from
  // there instead of asking the holds about all of it again: a hold over a million expired
  // messages cost about 45 s a run. In memory: a restarted server reads it all once.
  #heldHead: { key: string; through: ExpiredMessage; since: number } | null = null;

  constructor(d: DisposalDeps) {
    this.#d = d;
  }

  // The one place that decides what may go now (at most `limit` of each kind), sorted by what
  // becomes of them. A message is due when
  // - every receipt is past the retain-until its ledger entry fixed (retention), or
  // - it belongs only to leavers (every mailbox taking part in it, by the index, is one whose
  //   leaving date + retention.leaverMonths has passed and that has no exemption in force) and no
  //   rule's minimum keeps it (keptByRule: past it, a rule's longer maximum does not, nor does the
  //   default: the leaver rule exists to cut them short). Mail that also belongs to a mailbox of
  //   someone still there (or of a leaver not yet due) stays;
  // and either way no legal hold covers it and it is indexed. The retain-until of each receipt is
  // never rewritten: the leaver rule is a reason of its own, named in the dispose entry.
  // Expired mail is read a page at a time, the longest expired first, until `limit` of it may go
  // or there is no more: held or unindexed mail that expired first does not stall what comes
  // after it (a hold on a big mailbox can keep more than a plan's fill for years).
  // `resume`: read on from where the held mail an earlier run found ends (a run does; a preview
  // lists everything held).
  async plan(limit = 10_000, options: { resume?: boolean } = {}): Promise<DisposalPlan> {
    const { meta, store, holds, leavers, search, clock } = this.#d;
    const at = clock.now();
    // The index's cursor first: whatever it then says of a message covers at least those receipts.
    const indexedThrough = await search.cursor();
    const { expired, held, due, resumed } = await meta.read(async (tx) => {
      const held = await holds.inForce(tx, search);
      const last = this.#heldHead;
      const resumed = options.resume && last?.key === held.key && at - last.since < HELD_HEAD_MS ? last : null;
      return { held, resumed, expired: await store.expired(tx, at, limit, resumed?.through ?? null), due: await leavers.due(tx, at) };
    });
    const day = (t: number) => new Date(t).toISOString().slice(0, 10);
    const plan: DisposalPlan = {
      at, due: [], held: [], keptByRule: [], unindexed: [], holdsInForce: held.ids,
      leavers: due.map((l) => ({ mailboxId: l.mailboxId, mailbox: l.mailbox, left: day(l.leftOn), disposeFrom: day(l.disposeFrom) })), indexedThrough,
      heldUpTo: resumed?.through.retainedUntil ?? null,
    };
    // The held mail at the head: up to the first message not held (due, or not indexed yet).
    let head = resumed?.through ?? null;
    let inHead = true;
    for (let page = expired; ;) {
      const indexed = await search.indexed(page.map((e) => e.messageRowId));
      const byHold = await held.covering(page.filter((e) => indexed.has(e.messageRowId)).map((e) => e.sha256));
      for (const e of page) {
        if (!indexed.has(e.messageRowId)) {
          inHead = false;
          if (plan.unindexed.length < limit) plan.unindexed.push(e.sha256);
          continue;
        }
        const by = byHold.get(e.sha256);
        if (by) {
          if (inHead) head = e;
          if (plan.held.length < limit) plan.held.push({ sha256: e.sha256, holds: by });
        } else {
          inHead = false;
          if (plan.due.length < limit) plan.due.push({ sha256: e.sha256, retainedUntil: e.retainedUntil, policy: policyOf(e.rules) });
        }
      }
      if (page.length < limit || plan.due.length >= limit) break;
      const last = page.at(-1)!;
      page = await meta.read((tx) => store.expired(tx, at, limit, last));
    }
    if (options.resume) this.#heldHead = head ? { key: held.key, through: head, since: resumed?.since ?? at } : null;
    if (due.length === 0) return plan;

    // What the expiry above placed is not placed again as a leaver's (an expired message further
    // on than it read is: both reasons hold, and the holds are asked either way).
    const leaver = new Map(due.map((l) => [l.mailboxId, l]));
    const seen = new Set([...plan.due.map((d) => d.sha256), ...plan.held.map((h) => h.sha256), ...plan.unindexed]);
    const theirs = (await search.messagesOnlyOf([...leaver.keys()], limit)).filter((m) => !seen.has(m.sha256));
    const facts = new Map((await meta.read((tx) => store.minimaOf(tx, theirs.map((m) => m.sha256)))).map((f) => [f.sha256, f]));
    const byHold = await held.covering(theirs.map((m) => m.sha256));
    for (const m of theirs) {
      const f = facts.get(m.sha256);
      if (!f) continue;   // disposed already, its index rows not yet removed
      const kept = keptByRule(f.receipts, at);
      // A receipt the index has not covered may name a mailbox of someone still there.
      if (f.lastCaptureRowId > indexedThrough) plan.unindexed.push(m.sha256);
      else if (kept) plan.keptByRule.push({ sha256: m.sha256, ...kept });
      else {
        const by = byHold.get(m.sha256);
        const theirLeavers = m.mailboxes.map((id) => leaver.get(id)!);
        if (by) plan.held.push({ sha256: m.sha256, holds: by });
        else plan.due.push({ sha256: m.sha256, retainedUntil: Math.max(...theirLeavers.map((l) => l.disposeFrom)), policy: theirLeavers.map((l) => `leaver ${l.mailbox} (left ${day(l.leftOn)})`).sort().join(' + ') });
      }
    }
    return plan;
  }

  // Disposes of what the plan says is due, one dispose entry per policy. Each transaction checks
  // again that no hold was placed or released since the plan was made (else it refuses: run
  // again) and that every receipt of each message is still past its retention.
  async run(actor: Actor = RETENTION_ACTOR, limit?: number): Promise<{ plan: DisposalPlan; outcomes: DisposalOutcome[] }> {
    const plan = await this.plan(limit, { resume: true });
    const byPolicy = new Map<string, string[]>();
    for (const d of plan.due) byPolicy.set(d.policy, [...(byPolicy.get(d.policy) ?? []), d.sha256]);
    const outcomes: DisposalOutcome[] = [];
    const leaversDue = plan.leavers.map((l) => l.mailboxId);
    for (const [policy, shas] of byPolicy) {
      outcomes.push(await this.dispose(shas, policy, actor, policy.startsWith('leaver ')
        ? { holdsInForce: plan.holdsInForce, minimumAt: plan.at, leaver: { due: leaversDue, indexedThrough: plan.indexedThrough, at: plan.at } }
        : { holdsInForce: plan.holdsInForce, expiredBy: plan.at }));
    }
    if (outcomes.length === 0) await this.erase();   // a crash's leftovers
    return { plan, outcomes };
  }

  // Which of these may go before their retention ends (an erasure, an early disposal), and what
  // keeps each of the others: the legal holds in force that cover it, else the rule whose minimum
  // still runs at `at` (keptByRule). In the order given.
  async earlyKeeps(sha256s: readonly string[], at: number, held: HoldsInForce): Promise<{ go: string[]; kept: EarlyKeep[] }> {
    const { meta, store } = this.#d;
    const byRule = new Map<string, KeptBy>();
    for (const f of await meta.read((tx) => store.minimaOf(tx, sha256s))) {
      const k = keptByRule(f.receipts, at);
      if (k) byRule.set(f.sha256, k);
    }
    const byHold = await held.covering(sha256s);
    const go: string[] = [];
    const kept: EarlyKeep[] = [];
    for (const sha256 of sha256s) {
      const holds = byHold.get(sha256) ?? [];
      const rule = byRule.get(sha256);
      if (holds.length > 0) kept.push({ sha256, holds });
      else if (rule) kept.push({ sha256, rule });
      else go.push(sha256);
    }
    return { go, kept };
  }

  // `minimumAt`: what a rule's minimum keeps then is left out, judged again in the transaction
  // (a receipt may have arrived since the caller looked). `leaver`: the message goes as a
  // leaver's; its transaction checks again that the same leavers are due (no exemption approved,
  // no date withdrawn meanwhile) and that no receipt arrived since the index was read.
  async dispose(sha256s: readonly string[], policy: string, actor: Actor = RETENTION_ACTOR, checks: { holdsInForce?: string[]; expiredBy?: number; minimumAt?: number; leaver?: { due: number[]; indexedThrough: number; at: number } } = {}): Promise<DisposalOutcome> {
    const { meta, store, audit, clock, leavers } = this.#d;
    const { disposed, ledgerIndex } = await audit.record(actor,
      (r: { disposed: string[]; erases: number[] }) => (r.disposed.length === 0 ? null : { operation: 'dispose', messages: r.disposed, parameters: { policy, count: r.disposed.length }, erases: r.erases }),
      async (tx) => {
        if (checks.holdsInForce && (await store.activeHoldIds(tx)).join() !== checks.holdsInForce.join()) {
          throw new SealboxError('SEALBOX_ERR_CONFLICT', 'a legal hold was placed or released while disposal was deciding: nothing was disposed; run it again');
        }
        if (checks.leaver && (await leavers.due(tx, checks.leaver.at)).map((l) => l.mailboxId).join() !== checks.leaver.due.join()) {
          throw new SealboxError('SEALBOX_ERR_CONFLICT', 'a leaving date or an exemption changed while disposal was deciding: nothing was disposed; run it again');
        }
        // After the ledger caught up (Audit.record): the size is the index the entry gets.
        const ledgerIndex = await meta.ledgerSize(tx);
        let go = [...new Set(sha256s)];
        if (checks.minimumAt !== undefined) {
          const kept = new Set((await store.minimaOf(tx, go)).filter((f) => keptByRule(f.receipts, checks.minimumAt!)).map((f) => f.sha256));
          go = go.filter((s) => !kept.has(s));
        }
        const disposed = await store.markDisposed(tx, go, { at: clock.now(), ledgerIndex, policy, expiredBy: checks.expiredBy, receivedThrough: checks.leaver?.indexedThrough });
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

  // The latest dispose entries, newest first: retention's runs (one entry per policy), early
  // disposals and erasures. The ledger is the record; nothing else keeps runs. (Every dispose
  // entry is of type system, whoever the actor: the type narrows the scan before its leaf is read.)
  async recent(limit: number): Promise<DisposalRecord[]> {
    const { meta } = this.#d;
    const entries = await meta.read((tx) => meta.entries(tx, { type: 'system', operation: 'dispose', result: 'success', order: 'desc', limit }));
    return entries.map(({ entry: e }) => ({
      index: e.index, time: e.time, actor: e.actor, policy: typeof e.parameters.policy === 'string' ? e.parameters.policy : null, messages: e.objects.messages.length,
    }));
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
