import type { LedgerOperation } from '../core/ledger-operations.ts';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import type { Transactions, Tx } from '../core/transactions.ts';
import type { LedgerEntry } from '../core/types.ts';
import type { Actor, Audit } from '../access/audit.ts';
import type { Grants } from '../access/grants.ts';
import type { Notifier } from '../access/notifier.ts';
import type { People } from '../access/people.ts';
import type { Alert } from './alert-rules.ts';
import { AlertRules } from './alert-rules.ts';
import { highImpact } from './high-impact.ts';
import { userOf } from './ledger-history.ts';
import type { ReportDeps } from './oversight-report.ts';
import { buildReport, reportText } from './oversight-report.ts';
import type { ReviewQueue } from './review-queue.ts';
import { isSampled } from './review-sampler.ts';

export interface SweepDeps extends ReportDeps {
  // The metadata store's transactions, for what the sweep reads and keeps without a ledger entry.
  meta: Transactions;
  audit: Audit;
  notifier: Notifier;
  reviews: ReviewQueue;
  clock: Clock;
  log: Logger;
  // The ledger check (tree and signatures); returns the problems found. Run outside any
  // transaction: it opens its own.
  verifyLedger: () => Promise<string[]>;
  // The random sample's seed when the config names none: kept apart from the database (serve: a
  // 0600 file beside the keys), since whoever knows it can tell which grants will be reviewed.
  sampleSeed: () => string;
}

const SYSTEM: Actor = { user: null, logonType: 'system', sessionId: null, clientIp: null, userAgent: null, label: 'system:oversight' };
const PERIOD = { daily: 86_400_000, weekly: 7 * 86_400_000 } as const;

// The looking that oversight does, on a timer in `serve`: it reads the ledger from where it last
// stopped and queues every high-impact action for review, applies the alert rules, draws the
// random sample of grants that have closed, re-verifies the ledger now and then, and sends the
// digests when due. Each step reads its cursor and commits its work with it in one transaction,
// so a crash repeats nothing.
export class OversightSweep {
  readonly #d: SweepDeps;
  readonly #rules: AlertRules;
  readonly #cfg: Config['oversight'];
  #running: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(d: SweepDeps) {
    this.#d = d;
    this.#cfg = d.config;
    this.#rules = new AlertRules(d.store, d.config);
  }

  start(): void {
    // kick() logs a failure; the next tick retries.
    this.#timer = setInterval(() => void this.kick().catch(() => {}), this.#cfg.sweepSeconds * 1000);
    this.#timer.unref();
    void this.kick().catch(() => {});
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#running?.catch(() => {});
  }

  kick(): Promise<void> {
    return (this.#running ??= this.run().catch((err) => { this.#d.log.error({ err }, 'oversight sweep failed; will retry'); throw err; }).finally(() => { this.#running = null; }));
  }

  async run(): Promise<void> {
    while (await this.#ledgerTail() > 0);
    await this.#sampleClosedGrants();
    await this.#verify();
    await this.#digests();
  }

  // The sample's seed: from the config, or made once and kept, so the draw can be redone.
  seed(): string {
    return this.#cfg.sampleSeed ?? this.#d.sampleSeed();
  }

  async #ledgerTail(): Promise<number> {
    // Review items and alerts commit with the cursor; each names the ledger entry it came from.
    // The alerts raised are a ledger entry of their own; every step on an item is one too.
    const alertEntry = ({ raised }: { raised: Alert[] }) => raised.length === 0 ? null : {
      operation: 'alert.raise' as const, grantId: raised.length === 1 ? raised[0].requestId : null,
      parameters: { alerts: raised.map((a) => ({ id: a.id, rule: a.rule, ledgerIndex: a.ledgerIndex, grantId: a.requestId })) },
    };
    const { read } = await this.#d.audit.record(SYSTEM, alertEntry, async (tx) => {
      const cursor = Number((await this.#d.store.getSetting(tx, 'oversight.cursor')) ?? -1);
      const entries = await this.#d.history.entriesAfter(tx, cursor, 500);
      const raised: Alert[] = [];
      for (const e of entries) {
        if (e.actor === SYSTEM.label) continue;
        const why = highImpact(e, this.#cfg.bulkSearchResults);
        if (why) await this.#d.reviews.add(tx, { id: `rev_hi_${e.index}`, kind: 'high-impact', requestId: e.grantId, subjectUserId: await this.#userId(tx, e), reason: `${why}${typeof e.parameters.name === 'string' ? `: ${e.parameters.name}` : ''} (ledger entry ${e.index})`, ledgerIndex: e.index });
        for (const a of await this.#rules.check(tx, e)) if (await this.#raise(tx, a, e)) raised.push(a);
      }
      if (entries.length > 0) await this.#d.store.setSetting(tx, 'oversight.cursor', String(entries.at(-1)!.index));
      return { raised, read: entries.length };
    });
    return read;
  }

  // Once per alert id: an outbox message to the auditors (mail and signed webhooks), a review
  // item, and the alert row itself — in the caller's transaction, beside a ledger entry.
  async #raise(tx: Tx, a: Alert, e: LedgerEntry | null): Promise<boolean> {
    const now = this.#d.clock.now();
    if (!(await this.#d.store.addAlert(tx, a, now))) return false;
    await this.#d.notifier.toAuditors(tx, `alert.${a.rule}`, `Sealbox alert: ${a.rule}`, `${a.text}\n\nLedger entry: ${a.ledgerIndex ?? '-'}\nGrant: ${a.requestId ?? '-'}\nRaised: ${new Date(now).toISOString()}\n`);
    await this.#d.reviews.add(tx, { id: `rev_alert_${a.id}`, kind: 'alert', requestId: a.requestId, subjectUserId: e ? await this.#userId(tx, e) : null, reason: a.text, ledgerIndex: a.ledgerIndex });
    return true;
  }

  async #sampleClosedGrants(): Promise<void> {
    const now = this.#d.clock.now();
    const rate = this.#cfg.sampleRate;
    const entry = ({ considered, picked }: { considered: string[]; picked: string[] }) => considered.length === 0 ? null : { operation: 'review.sample' as const, parameters: { rate, considered, picked } };
    await this.#d.audit.record(SYSTEM, entry, async (tx) => {
      const closed = await this.#d.store.closedGrantsNotDrawn(tx, now, 1000);
      const picked: string[] = [];
      if (closed.length === 0) return { considered: [], picked };
      const seed = this.seed();
      for (const c of closed) {
        const hit = isSampled(seed, c.id, rate);
        await this.#d.store.recordDraw(tx, c.id, hit, now);
        if (hit && await this.#d.reviews.add(tx, { id: `rev_sample_${c.id}`, kind: 'sample', requestId: c.id, subjectUserId: c.requesterId, reason: `random sample of closed grants (${Math.round(rate * 1000) / 10} %)` })) picked.push(c.id);
      }
      return { considered: closed.map((c) => c.id), picked };
    });
  }

  async #verify(): Promise<void> {
    const now = this.#d.clock.now();
    const last = Number((await this.#d.meta.read((tx) => this.#d.store.getSetting(tx, 'oversight.verifiedAt'))) ?? 0);
    if (now - last < this.#cfg.verifyEveryMinutes * 60_000) return;
    let problems: string[];
    try {
      problems = await this.#d.verifyLedger();
    } catch (err) {
      problems = [`the ledger could not be verified: ${(err as Error).message}`];
    }
    if (problems.length === 0) {
      await this.#d.meta.write((tx) => this.#d.store.setSetting(tx, 'oversight.verifiedAt', String(now)));
      return;
    }
    // A failure is written down (and alerted) once per distinct set of problems.
    this.#d.log.error({ problems: problems.slice(0, 20) }, 'ledger verification failed');
    const id = `verify-failure:${hashText(problems.join('\n'))}`;
    const entry = (raised: boolean) => raised ? { operation: 'ledger.verify-failed' as const, parameters: { problems: problems.slice(0, 50) } } : null;
    await this.#d.audit.record(SYSTEM, entry, async (tx) => {
      await this.#d.store.setSetting(tx, 'oversight.verifiedAt', String(now));
      if (await this.#d.store.hasAlert(tx, id)) return false;
      return this.#raise(tx, { id, rule: 'verify-failure', text: `The ledger failed verification (${problems.length} problem(s)):\n${problems.slice(0, 50).join('\n')}`, requestId: null, ledgerIndex: null, subject: null }, null);
    });
  }

  // Each digest is decided due, made, sent and its period moved on in one transaction, recorded
  // when sent.
  async #digests(): Promise<void> {
    const now = this.#d.clock.now();
    // The start of the period the digest is due for, or null when it is not due yet.
    const due = async (tx: Tx, key: string, schedule: 'daily' | 'weekly'): Promise<number | null> => {
      const last = await this.#d.store.getSetting(tx, key);
      if (last === null) {
        await this.#d.store.setSetting(tx, key, String(now));   // the first period starts now
        return null;
      }
      return now - Number(last) >= PERIOD[schedule] ? Number(last) : null;
    };
    const auditors = this.#cfg.auditorDigest;
    if (auditors !== 'off') {
      const entry = (from: number | null) => from === null ? null : { operation: 'digest.auditors' as const, parameters: { from, to: now } };
      await this.#d.audit.record(SYSTEM, entry, async (tx) => {
        const from = await due(tx, 'oversight.digest.auditors', auditors);
        if (from === null) return null;
        await this.#d.notifier.toAuditors(tx, 'digest.auditors', `Sealbox ${auditors} oversight digest`, await this.#auditorDigest(tx, from, now));
        await this.#d.store.setSetting(tx, 'oversight.digest.auditors', String(now));
        return from;
      });
    }
    const owners = this.#cfg.ownerDigest;
    if (owners !== 'off') {
      const entry = (sent: { from: number; n: number } | null) => sent === null ? null : { operation: 'digest.owners' as const, parameters: { from: sent.from, to: now, sent: sent.n } };
      await this.#d.audit.record(SYSTEM, entry, async (tx) => {
        const from = await due(tx, 'oversight.digest.owners', owners);
        if (from === null) return null;
        const n = await this.#ownerDigests(tx, from, now);
        await this.#d.store.setSetting(tx, 'oversight.digest.owners', String(now));
        return { from, n };
      });
    }
  }

  async #auditorDigest(tx: Tx, from: number, to: number): Promise<string> {
    const open = (await this.#d.reviews.list(tx)).filter((i) => i.state !== 'closed');
    const alerts = await this.#d.store.alertCounts(tx, from, to);
    // The digest's period ends now: `to` is also the moment its states are given at.
    return reportText(await buildReport(tx, this.#d, { from, to }, to)) + [
      '', `Alerts raised: ${alerts.length ? alerts.map((a) => `${a.rule} ${a.n}`).join(', ') : 'none'}`,
      `Review queue: ${open.length} item(s) not closed (${open.filter((i) => i.state === 'open').length} unclaimed)`,
    ].join('\n') + '\n';
  }

  // Each owner hears of access by others to their mailboxes, as each mailbox's notification
  // policy allows: not at all ("none", with its legal basis), or only once its delay has passed.
  async #ownerDigests(tx: Tx, from: number, to: number): Promise<number> {
    const lines = new Map<string, string[]>();
    for (const m of await this.#d.store.mailboxes(tx)) {
      if (m.owner === null) continue;
      const policy = await this.#d.notifier.policy(tx, m.id);
      if (policy.notifyMode === 'none') continue;
      const delay = policy.notifyMode === 'after' ? (policy.notifyAfterDays ?? 0) * 86_400_000 : 0;
      for await (const e of this.#d.history.actionsBetween(tx, from - delay, to - delay)) {
        if (e.type !== 'access' || e.result !== 'success' || !e.objects.mailboxes.includes(m.name) || e.actor === `user:${m.owner}`) continue;
        const r = e.grantId ? await this.#request(tx, e.grantId) : null;
        const line = `  ${new Date(e.time).toISOString()}  ${userOf(e.actor) ?? e.actor}  ${e.operation}${e.objects.messages.length ? ` (${e.objects.messages.length} message(s))` : ''}  mailbox ${m.name}` +
          (r ? `  request ${r.id}, purpose ${await this.#d.notifier.purposeWords(tx, r.purpose)}, ticket ${r.ticket ?? '-'}` : '');
        lines.set(m.owner, [...(lines.get(m.owner) ?? []), line]);
      }
    }
    let sent = 0;
    for (const [owner, list] of lines) {
      const user = await this.#d.people.byName(tx, owner);
      if (!user) continue;
      await this.#d.notifier.toPerson(tx, 'digest.owner', user, 'Who accessed your archived mailbox', `These accesses to your archived mail by others were recorded:\n\n${list.join('\n')}\n\nSee the full list on the "Who accessed my mailbox" page.\n`);
      sent++;
    }
    return sent;
  }

  async #request(tx: Tx, id: string): Promise<{ id: string; purpose: string; ticket: string | null } | null> {
    try {
      return await this.#d.grants.get(tx, id);
    } catch {
      return null;
    }
  }

  async #userId(tx: Tx, e: LedgerEntry): Promise<number | null> {
    const name = userOf(e.actor);
    return name ? (await this.#d.people.byName(tx, name))?.id ?? null : null;
  }
}

function hashText(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16);
}
