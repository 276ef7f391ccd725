import type { LedgerOperation } from '../core/ledger-operations.ts';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
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
  audit: Audit;
  notifier: Notifier;
  reviews: ReviewQueue;
  clock: Clock;
  log: Logger;
  // The ledger check (tree and signatures); returns the problems found.
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
// digests when due. Each step commits its work with its cursor, so a crash repeats nothing.
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
    while (this.#ledgerTail() > 0);
    this.#sampleClosedGrants();
    await this.#verify();
    this.#digests();
  }

  // The sample's seed: from the config, or made once and kept, so the draw can be redone.
  seed(): string {
    return this.#cfg.sampleSeed ?? this.#d.sampleSeed();
  }

  #ledgerTail(): number {
    const cursor = Number(this.#d.store.getSetting('oversight.cursor') ?? -1);
    const entries = this.#d.history.entriesAfter(cursor, 500);
    if (entries.length === 0) return 0;
    // Review items and alerts commit with the cursor; each names the ledger entry it came from.
    // The alerts raised are a ledger entry of their own; every step on an item is one too.
    const alertEntry = (raised: Alert[]) => raised.length === 0 ? null : {
      operation: 'alert.raise' as const, grantId: raised.length === 1 ? raised[0].requestId : null,
      parameters: { alerts: raised.map((a) => ({ id: a.id, rule: a.rule, ledgerIndex: a.ledgerIndex, grantId: a.requestId })) },
    };
    this.#d.audit.record(SYSTEM, alertEntry, () => {
      const raised: Alert[] = [];
      for (const e of entries) {
        if (e.actor === SYSTEM.label) continue;
        const why = highImpact(e, this.#cfg.bulkSearchResults);
        if (why) this.#d.reviews.add({ id: `rev_hi_${e.index}`, kind: 'high-impact', requestId: e.grantId, subjectUserId: this.#userId(e), reason: `${why}${typeof e.parameters.name === 'string' ? `: ${e.parameters.name}` : ''} (ledger entry ${e.index})`, ledgerIndex: e.index });
        for (const a of this.#rules.check(e)) if (this.#raise(a, e)) raised.push(a);
      }
      this.#d.store.setSetting('oversight.cursor', String(entries.at(-1)!.index));
      return raised;
    });
    return entries.length;
  }

  // Once per alert id: an outbox message to the auditors (mail and signed webhooks), a review
  // item, and the alert row itself — in the caller's transaction, beside a ledger entry.
  #raise(a: Alert, e: LedgerEntry | null): boolean {
    const now = this.#d.clock.now();
    if (!this.#d.store.addAlert(a, now)) return false;
    this.#d.notifier.toAuditors(`alert.${a.rule}`, `Sealbox alert: ${a.rule}`, `${a.text}\n\nLedger entry: ${a.ledgerIndex ?? '-'}\nGrant: ${a.requestId ?? '-'}\nRaised: ${new Date(now).toISOString()}\n`);
    this.#d.reviews.add({ id: `rev_alert_${a.id}`, kind: 'alert', requestId: a.requestId, subjectUserId: e ? this.#userId(e) : null, reason: a.text, ledgerIndex: a.ledgerIndex });
    return true;
  }

  #sampleClosedGrants(): void {
    const now = this.#d.clock.now();
    const closed = this.#d.store.closedGrantsNotDrawn(now, 1000);
    if (closed.length === 0) return;
    const seed = this.seed();
    const rate = this.#cfg.sampleRate;
    this.#d.audit.record(SYSTEM, (picked: string[]) => ({ operation: 'review.sample', parameters: { rate, considered: closed.map((c) => c.id), picked } }), () => {
      const picked: string[] = [];
      for (const c of closed) {
        const hit = isSampled(seed, c.id, rate);
        this.#d.store.recordDraw(c.id, hit, now);
        if (hit && this.#d.reviews.add({ id: `rev_sample_${c.id}`, kind: 'sample', requestId: c.id, subjectUserId: c.requesterId, reason: `random sample of closed grants (${Math.round(rate * 1000) / 10} %)` })) picked.push(c.id);
      }
      return picked;
    });
  }

  async #verify(): Promise<void> {
    const now = this.#d.clock.now();
    const last = Number(this.#d.store.getSetting('oversight.verifiedAt') ?? 0);
    if (now - last < this.#cfg.verifyEveryMinutes * 60_000) return;
    let problems: string[];
    try {
      problems = await this.#d.verifyLedger();
    } catch (err) {
      problems = [`the ledger could not be verified: ${(err as Error).message}`];
    }
    if (problems.length === 0) {
      this.#d.store.setSetting('oversight.verifiedAt', String(now));
      return;
    }
    // A failure is written down (and alerted) once per distinct set of problems.
    this.#d.log.error({ problems: problems.slice(0, 20) }, 'ledger verification failed');
    const id = `verify-failure:${hashText(problems.join('\n'))}`;
    if (this.#d.store.hasAlert(id)) return this.#d.store.setSetting('oversight.verifiedAt', String(now));
    this.#d.audit.record(SYSTEM, { operation: 'ledger.verify-failed', parameters: { problems: problems.slice(0, 50) } }, () => {
      this.#d.store.setSetting('oversight.verifiedAt', String(now));
      this.#raise({ id, rule: 'verify-failure', text: `The ledger failed verification (${problems.length} problem(s)):\n${problems.slice(0, 50).join('\n')}`, requestId: null, ledgerIndex: null, subject: null }, null);
    });
  }

  #digests(): void {
    const now = this.#d.clock.now();
    const due = (which: 'auditors' | 'owners', schedule: 'daily' | 'weekly' | 'off'): number | null => {
      if (schedule === 'off') return null;
      const key = `oversight.digest.${which}`;
      const last = this.#d.store.getSetting(key);
      if (last === null) {
        this.#d.store.setSetting(key, String(now));   // the first period starts now
        return null;
      }
      return now - Number(last) >= PERIOD[schedule] ? Number(last) : null;
    };
    const auditorsFrom = due('auditors', this.#cfg.auditorDigest);
    if (auditorsFrom !== null) {
      this.#d.audit.record(SYSTEM, { operation: 'digest.auditors', parameters: { from: auditorsFrom, to: now } }, () => {
        this.#d.notifier.toAuditors('digest.auditors', `Sealbox ${this.#cfg.auditorDigest} oversight digest`, this.#auditorDigest(auditorsFrom, now));
        this.#d.store.setSetting('oversight.digest.auditors', String(now));
      });
    }
    const ownersFrom = due('owners', this.#cfg.ownerDigest);
    if (ownersFrom !== null) {
      this.#d.audit.record(SYSTEM, (n: number) => ({ operation: 'digest.owners', parameters: { from: ownersFrom, to: now, sent: n } }), () => {
        const n = this.#ownerDigests(ownersFrom, now);
        this.#d.store.setSetting('oversight.digest.owners', String(now));
        return n;
      });
    }
  }

  #auditorDigest(from: number, to: number): string {
    const open = this.#d.reviews.list().filter((i) => i.state !== 'closed');
    const alerts = this.#d.store.alertCounts(from, to);
    // The digest's period ends now: `to` is also the moment its states are given at.
    return reportText(buildReport(this.#d, { from, to }, to)) + [
      '', `Alerts raised: ${alerts.length ? alerts.map((a) => `${a.rule} ${a.n}`).join(', ') : 'none'}`,
      `Review queue: ${open.length} item(s) not closed (${open.filter((i) => i.state === 'open').length} unclaimed)`,
    ].join('\n') + '\n';
  }

  // Each owner hears of access by others to their mailboxes, as each mailbox's notification
  // policy allows: not at all ("none", with its legal basis), or only once its delay has passed.
  #ownerDigests(from: number, to: number): number {
    const lines = new Map<string, string[]>();
    for (const m of this.#d.store.mailboxes()) {
      if (m.owner === null) continue;
      const policy = this.#d.notifier.policy(m.id);
      if (policy.notifyMode === 'none') continue;
      const delay = policy.notifyMode === 'after' ? (policy.notifyAfterDays ?? 0) * 86_400_000 : 0;
      for (const e of this.#d.history.entriesBetween(from - delay, to - delay)) {
        if (e.type !== 'access' || e.result !== 'success' || !e.objects.mailboxes.includes(m.name) || e.actor === `user:${m.owner}`) continue;
        const r = e.grantId ? this.#request(e.grantId) : null;
        const line = `  ${new Date(e.time).toISOString()}  ${userOf(e.actor) ?? e.actor}  ${e.operation}${e.objects.messages.length ? ` (${e.objects.messages.length} message(s))` : ''}  mailbox ${m.name}` +
          (r ? `  request ${r.id}, purpose ${r.purpose}, ticket ${r.ticket ?? '-'}` : '');
        lines.set(m.owner, [...(lines.get(m.owner) ?? []), line]);
      }
    }
    let sent = 0;
    for (const [owner, list] of lines) {
      const user = this.#d.people.byName(owner);
      if (!user?.email) continue;
      this.#d.notifier.toPerson('digest.owner', user, 'Who accessed your archived mailbox', `These accesses to your archived mail by others were recorded:\n\n${list.join('\n')}\n\nSee the full list on the "Who accessed my mailbox" page.\n`);
      sent++;
    }
    return sent;
  }

  #request(id: string): { id: string; purpose: string; ticket: string | null } | null {
    try {
      return this.#d.grants.get(id);
    } catch {
      return null;
    }
  }

  #userId(e: LedgerEntry): number | null {
    const name = userOf(e.actor);
    return name ? this.#d.people.byName(name)?.id ?? null : null;
  }
}

function hashText(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16);
}
