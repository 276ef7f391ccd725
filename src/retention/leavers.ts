import type { Actor, Audit } from '../access/audit.ts';
import type { DirectoryRow } from '../access/directory-csv.ts';
import type { DirectoryLeavers, LeaversFiled } from '../access/mailbox-ownership.ts';
import type { FourEyes } from '../access/four-eyes.ts';
import type { MailboxStore } from '../access/mailbox-store.ts';
import type { Notifier } from '../access/notifier.ts';
import type { People, User } from '../access/people.ts';
import type { Clock } from '../core/clock.ts';
import { SealboxError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { LedgerOperation } from '../core/ledger-operations.ts';
import type { Tx } from '../core/transactions.ts';
import type { LedgerEntry } from '../core/types.ts';
import type { LeaverChange, LeaverState, LeaverStore } from './leaver-store.ts';
import type { RuleActor } from './retention-rules.ts';

export interface LeaverDeps {
  store: LeaverStore;
  mailboxes: MailboxStore;
  people: People;
  fourEyes: FourEyes;
  notifier: Notifier;
  clock: Clock;
  leaverMonths: number;        // retention.leaverMonths
}

type Source = LeaverChange['source'];

// Leavers (Norway's FOR-2018-07-02-1108; Datatilsynet: at most 6 months): a mailbox marked as
// belonging to someone who left on a date has its mail disposed `retention.leaverMonths` after
// that date, except what a retention rule's minimum or a legal hold keeps (the disposal plan
// decides that, src/retention/disposal.ts). Marking a mailbox as left SHORTENS retention — mail the default
// keeps for ever or for years goes months after the date, at once for a date far enough back — so
// it is how one administrator would make someone's mail disappear early. Hence every change here
// is filed by one person and applies only when a person holding the approver role who did not
// file it, is not linked to the filer (FourEyes) and does not own the mailbox approves it:
// - a leaving date, whether it comes from the API, the console or the directory import (a
//   directory is a file an administrator writes; it is no more trustworthy than the API);
// - its withdrawal (the person came back, or was never gone): it lengthens, but unapproved it would
//   be an exemption without a reason, which the law asks to be justified;
// - an exemption (keep a leaver's mail longer), with its reason and an optional end; replacing one
//   by a shorter one is a filing like any other.
// The months are fixed into the filing (`disposeFrom`), so a later config change cannot shorten
// what an approver agreed to. Each capture's retain-until stays as its ledger entry fixed it:
// the leaver rule is a reason of its own in the disposal plan, not a rewrite of history.
export class Leavers implements DirectoryLeavers {
  readonly #d: LeaverDeps;

  constructor(d: LeaverDeps) {
    this.#d = d;
  }

  get leaverMonths(): number {
    return this.#d.leaverMonths;
  }

  states(tx: Tx, mailboxIds?: readonly number[]): Promise<LeaverState[]> {
    return this.#d.store.states(tx, mailboxIds);
  }

  changes(tx: Tx): Promise<LeaverChange[]> {
    return this.#d.store.changes(tx);
  }

  // Every change filed before `until`, oldest first: what the oversight report reads a period from.
  changesBefore(tx: Tx, until: number): Promise<LeaverChange[]> {
    return this.#d.store.filedBefore(tx, until);
  }

  // The leavers whose mail is due for disposal at `now`: past their disposal date, with no
  // exemption in force.
  async due(tx: Tx, now: number): Promise<LeaverState[]> {
    return (await this.#d.store.states(tx)).filter((l) => leaverDueAt(l, now));
  }

  // A leaving date (YYYY-MM-DD, UTC) for a mailbox, filed for approval.
  async fileLeave(tx: Tx, actor: RuleActor, mailboxName: string, left: string, reason: string, source: Source): Promise<LeaverChange> {
    const { mailbox, state } = await this.#mailbox(tx, mailboxName);
    const leftOn = leavingDay(left);
    if (state?.leftOn === leftOn) throw new SealboxError('SEALBOX_ERR_CONFLICT', `mailbox ${mailbox.name} is already marked as left on ${left}`);
    return this.#file(tx, actor, { mailboxId: mailbox.id, mailbox: mailbox.name, kind: 'leave', leftOn, disposeFrom: addMonths(leftOn, this.#d.leaverMonths), exemptUntil: null, before: state, reason, source });
  }

  // The leaving date withdrawn (the person is still there, or back), filed for approval.
  async fileReturn(tx: Tx, actor: RuleActor, mailboxName: string, reason: string, source: Source): Promise<LeaverChange> {
    const { mailbox, state } = await this.#mailbox(tx, mailboxName);
    if (!state) throw new SealboxError('SEALBOX_ERR_CONFLICT', `mailbox ${mailbox.name} is not marked as left`);
    return this.#file(tx, actor, { mailboxId: mailbox.id, mailbox: mailbox.name, kind: 'return', leftOn: null, disposeFrom: null, exemptUntil: null, before: state, reason, source });
  }

  // An exemption: a leaver's mail kept past the leaver rule (until `until`, or until decided
  // otherwise), filed with its reason for approval.
  async fileExemption(tx: Tx, actor: RuleActor, mailboxName: string, until: string | null, reason: string, source: Source): Promise<LeaverChange> {
    const { mailbox, state } = await this.#mailbox(tx, mailboxName);
    if (!state) throw new SealboxError('SEALBOX_ERR_CONFLICT', `mailbox ${mailbox.name} is not marked as left: there is nothing to be exempted from`);
    const exemptUntil = until === null ? null : leavingDay(until, 'until');
    if (exemptUntil !== null && exemptUntil <= this.#d.clock.now()) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'an exemption ends in the future', { fields: ['until'] });
    return this.#file(tx, actor, { mailboxId: mailbox.id, mailbox: mailbox.name, kind: 'exempt', leftOn: null, disposeFrom: null, exemptUntil, before: state, reason, source });
  }

  // The directory's `left` column: a date that is new for the mailbox (and not waiting already)
  // is filed like any other; a row whose mailbox does not exist yet (its ownership staged) is
  // reported, not filed.
  async fileFromDirectory(tx: Tx, actor: RuleActor, rows: readonly DirectoryRow[], file: string | null): Promise<LeaversFiled> {
    const out: LeaversFiled = { filed: [], skipped: [] };
    for (const row of rows) {
      if (!row.left) continue;
      const mailbox = await this.#d.mailboxes.byName(tx, row.name);
      if (!mailbox) {
        out.skipped.push({ mailbox: row.name, left: row.left, why: 'the mailbox does not exist yet (its row waits for approval); import the file again once it does' });
        continue;
      }
      const leftOn = leavingDay(row.left);
      const [state] = await this.#d.store.states(tx, [mailbox.id]);
      if (state?.leftOn === leftOn) continue;
      if ((await this.#d.store.pending(tx, mailbox.id)).some((c) => c.kind === 'leave' && c.leftOn === leftOn)) continue;
      const c = await this.fileLeave(tx, actor, mailbox.name, row.left, `directory import${file ? ` (${file})` : ''}`, 'directory');
      out.filed.push({ id: c.id, mailbox: c.mailbox, left: row.left });
    }
    return out;
  }

  async decide(tx: Tx, approver: User, id: string, decision: 'approve' | 'deny', reason: string): Promise<LeaverChange> {
    const { store, fourEyes, mailboxes, clock } = this.#d;
    const c = await store.change(tx, id);
    if (!c) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no leaver change ${id}`);
    await fourEyes.mayDecide(tx, approver, c, { name: 'leaver change', self: 'no one approves a leaving date or exemption they filed' }, reason);
    const mailbox = await mailboxes.byName(tx, c.mailbox);
    if (mailbox?.owner === approver.name) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'no one decides on the leaving date or exemption of their own mailbox');
    // Applied as applyApproved says, which the ledger's and the report's rebuilds go by.
    if (decision === 'approve') {
      const [now] = await store.states(tx, [c.mailboxId]);
      if (stateKey(now ?? null) !== stateKey(c.before)) throw new SealboxError('SEALBOX_ERR_CONFLICT', `mailbox ${c.mailbox}'s leaving date or exemption changed since this was filed; file it again`);
      if (c.kind === 'leave') await store.setLeft(tx, c.mailboxId, { leftOn: c.leftOn!, disposeFrom: c.disposeFrom!, changeId: c.id });
      else if (c.kind === 'return') await store.clearLeft(tx, c.mailboxId);
      else await store.setExemption(tx, c.mailboxId, { changeId: c.id, until: c.exemptUntil });
    }
    await store.decideChange(tx, id, { by: approver.id, decision, reason: reason.trim(), at: clock.now() });
    const decided = (await store.change(tx, id))!;
    await this.#tellOwner(tx, decided, `${approver.name} ${decision === 'approve' ? 'approved' : 'denied'}: ${reason.trim()}`);
    return decided;
  }

  async #mailbox(tx: Tx, name: string) {
    const mailbox = await this.#d.mailboxes.byName(tx, name);
    if (!mailbox) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no mailbox ${name}`);
    const [state] = await this.#d.store.states(tx, [mailbox.id]);
    return { mailbox, state: state ?? null };
  }

  async #file(tx: Tx, actor: RuleActor, c: Omit<LeaverChange, 'id' | 'filedBy' | 'filedByLabel' | 'filedAt' | 'decidedBy' | 'decision' | 'decisionReason' | 'decidedAt'>): Promise<LeaverChange> {
    const { store, notifier, clock } = this.#d;
    if (!c.reason.trim()) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'a reason is required', { fields: ['reason'] });
    const change = { ...c, reason: c.reason.trim(), id: newId('lvr', clock.now()), filedBy: actor.user?.id ?? null, filedByLabel: actor.label, filedAt: clock.now() };
    await store.addChange(tx, change);
    const filed = (await store.change(tx, change.id))!;
    await notifier.toApprovers(tx, 'leaver.change', actor.user?.id ?? null, `Leaver change ${filed.id} for ${filed.mailbox} awaits a decision`,
      `${actor.label.replace(/^user:/, '')} asks to ${describe(filed)}.\nReason given: ${filed.reason}\nChange: ${filed.id}`);
    await this.#tellOwner(tx, filed, `${actor.label.replace(/^user:/, '')} asked for it; it waits for someone else's approval`);
    return filed;
  }

  // The mailbox's owner is told of what concerns their mail, when they still have an account.
  async #tellOwner(tx: Tx, c: LeaverChange, what: string): Promise<void> {
    const owner = (await this.#d.mailboxes.byName(tx, c.mailbox))?.owner;
    const user = owner ? await this.#d.people.byName(tx, owner) : null;
    if (!user || user.disabled) return;
    await this.#d.notifier.toPerson(tx, 'leaver.change', user, `Your mailbox ${c.mailbox}: ${c.kind === 'exempt' ? 'an exemption from the leaver rule' : 'leaving date'}`,
      `A change to ${describe(c)}.\n${what}.\nChange: ${c.id}`);
  }
}

// A leaver change filed or decided, with its ledger entry, the same from the API and the console:
// the entry names the mailbox and what the change sets; a refusal the work itself decides (no such
// mailbox, four eyes, a stale filing) is a `denied` entry with its reason.
export function recordLeaverChange(audit: Audit, actor: Actor, operation: LedgerOperation, parameters: Record<string, unknown>, work: (tx: Tx) => Promise<LeaverChange>): Promise<LeaverChange> {
  return audit.recordOrRefuse(actor, { operation, parameters }, (c: LeaverChange) => ({
    operation, mailboxes: [{ id: c.mailboxId, name: c.mailbox }], parameters: { ...parameters, change: c.id, kind: c.kind, mailbox: c.mailbox, ...changeFacts(c) },
  }), work);
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const isoDay = (t: number | null) => (t === null || !Number.isFinite(t) ? null : day(t));

function changeFacts(c: LeaverChange) {
  return c.kind === 'leave' ? { left: isoDay(c.leftOn), disposeFrom: isoDay(c.disposeFrom) } : c.kind === 'exempt' ? { until: isoDay(c.exemptUntil) } : {};
}

// A leaver and a change as the API and the console show them.
export function leaverView(l: LeaverState) {
  return { mailbox: l.mailbox, left: isoDay(l.leftOn), disposeFrom: isoDay(l.disposeFrom), exemption: l.exemption && { change: l.exemption.changeId, until: isoDay(l.exemption.until), reason: l.exemption.reason } };
}

export function leaverChangeView(c: LeaverChange) {
  return {
    id: c.id, mailbox: c.mailbox, kind: c.kind, ...changeFacts(c), reason: c.reason, source: c.source, filedBy: c.filedByLabel, filedAt: iso(c.filedAt),
    state: c.decision === 'approve' ? 'approved' : c.decision === 'deny' ? 'denied' : 'pending', decisionReason: c.decisionReason, decidedAt: iso(c.decidedAt),
  };
}

// A leaver's terms: the leaving date and the exemption in force, each with the approved change
// that set it. A row of the table (LeaverState) is one; the ledger's and the oversight report's
// rebuilds make them from the approvals alone.
export type LeaverTerms = Pick<LeaverState, 'mailbox' | 'leftOn' | 'disposeFrom' | 'changeId'> & { exemption: { changeId: string; until: number | null } | null };

// What an approved change does to the leavers in force, as decide() applies it to the table: a new
// date keeps the exemption in force, a withdrawal ends both, an exemption replaces the one before.
export function applyApproved(leavers: Map<string, LeaverTerms>, c: Pick<LeaverChange, 'id' | 'mailbox' | 'kind' | 'leftOn' | 'disposeFrom' | 'exemptUntil'>): void {
  const before = leavers.get(c.mailbox);
  if (c.kind === 'leave') leavers.set(c.mailbox, { mailbox: c.mailbox, leftOn: c.leftOn!, disposeFrom: c.disposeFrom!, changeId: c.id, exemption: before?.exemption ?? null });
  else if (c.kind === 'return') leavers.delete(c.mailbox);
  else if (c.kind === 'exempt' && before) leavers.set(c.mailbox, { ...before, exemption: { changeId: c.id, until: c.exemptUntil } });
}

// Whether a leaver's mail is due for disposal at `at`: their disposal day has come, and no
// exemption is in force.
export function leaverDueAt(l: LeaverTerms, at: number): boolean {
  return l.disposeFrom <= at && !exemptAt(l, at);
}

export function exemptAt(l: LeaverTerms, at: number): boolean {
  return l.exemption !== null && (l.exemption.until === null || l.exemption.until > at);
}

// What the ledger vouches for of a leaver, in the words of its entries (days). `sealbox verify`
// compares the table's leavers with the same rebuilt from the ledger (src/oversight/
// access-state-check.ts): a leaving date lets mail go early, so one written into the database
// without an approval must not pass unseen.
export function leaverInForce(l: LeaverTerms) {
  return { mailbox: l.mailbox, left: isoDay(l.leftOn), disposeFrom: isoDay(l.disposeFrom), change: l.changeId, exemption: l.exemption && { change: l.exemption.changeId, until: isoDay(l.exemption.until) } };
}

// The one operation a leaver replay reads (its `operations`, oversight's LedgerReplay) and applies.
const LEAVER_APPROVE = 'leaver.approve' satisfies LedgerOperation;

// The leavers in force rebuilt from the ledger alone: each `leaver.approve` entry, as
// recordLeaverChange wrote it, applied as its change was (applyApproved). A day an entry does not
// give reads as none, so it shows as a difference rather than stopping the check.
export function leaversFromLedger(): { operations: readonly LedgerOperation[]; apply(e: LedgerEntry): void; result(): LeaverTerms[] } {
  const leavers = new Map<string, LeaverTerms>();
  const time = (v: unknown) => (typeof v === 'string' ? Date.parse(v) : NaN);
  return {
    operations: [LEAVER_APPROVE],
    apply(e) {
      if (e.operation !== LEAVER_APPROVE || e.result !== 'success') return;
      const p = e.parameters as Record<string, unknown>;
      applyApproved(leavers, {
        id: String(p.change), mailbox: String(p.mailbox), kind: p.kind as LeaverChange['kind'],
        leftOn: time(p.left), disposeFrom: time(p.disposeFrom), exemptUntil: p.until == null ? null : time(p.until),
      });
    },
    result: () => [...leavers.values()],
  };
}

function stateKey(s: LeaverState | null): string {
  return s === null ? 'none' : `${s.leftOn}|${s.disposeFrom}|${s.exemption?.changeId ?? ''}|${s.exemption?.until ?? ''}`;
}

const day = (t: number) => new Date(t).toISOString().slice(0, 10);

function describe(c: LeaverChange): string {
  if (c.kind === 'leave') return `mark mailbox ${c.mailbox} as belonging to someone who left on ${day(c.leftOn!)}: its mail not kept by a rule's minimum or a legal hold is disposed from ${day(c.disposeFrom!)}`;
  if (c.kind === 'return') return `withdraw the leaving date of mailbox ${c.mailbox}: its mail follows retention again`;
  return `exempt mailbox ${c.mailbox} from the leaver rule ${c.exemptUntil === null ? 'until decided otherwise' : `until ${day(c.exemptUntil)}`}`;
}

// A day as YYYY-MM-DD (UTC), as ms epoch of its start.
export function leavingDay(text: string, field = 'left'): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  const t = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || !Number.isFinite(t) || day(t) !== text.trim() || Number(m[1]) < 1970) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `"${text}" is not a date (YYYY-MM-DD)`, { fields: [field] });
  return t;
}

// Calendar months later, on the same day of the month (or the month's last day): 31 August + 6 is 28 or 29 February.
export function addMonths(t: number, months: number): number {
  const d = new Date(t);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months + 1, 0)).getUTCDate();
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, Math.min(d.getUTCDate(), last));
}
