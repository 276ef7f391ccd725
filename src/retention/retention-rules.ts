import type { AuditEvent } from '../access/audit.ts';
import { departmentProblem } from '../access/directory-csv.ts';
import type { FourEyes } from '../access/four-eyes.ts';
import type { Notifier } from '../access/notifier.ts';
import type { User } from '../access/people.ts';
import type { Clock } from '../core/clock.ts';
import { SealboxError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { Tx } from '../core/transactions.ts';
import { canonicalJson } from '../ledger/ledger-entry.ts';
import { ruleTerms, whyItShortens } from './retention-policy.ts';
import { DIRECTIONS } from './retention-store.ts';
import type { Direction, RetentionChangeRecord, RetentionRule, RetentionStore } from './retention-store.ts';

// Who changes a rule: a signed-in person, or the console (the command line).
export interface RuleActor {
  user: User | null;
  label: string;              // user:NAME or os:NAME
}

export interface RuleInput {
  id?: string;                 // an existing rule to change; absent: a new rule
  name: string;
  mailboxes?: string[];
  sensitivities?: string[];
  departments?: string[];
  domains?: string[];
  directions?: Direction[];
  days: number | null;         // null: for ever
  minDays?: number;            // the least the mail is kept (at most `days`); absent: as long as `days`
}

// A rule change applied at once (it can only lengthen what mail is kept), or filed for approval.
export type RuleOutcome =
  | { applied: true; rule: RetentionRule | null; before: RetentionRule | null }
  | { applied: false; change: RetentionChangeRecord };

export interface RetentionDeps {
  store: RetentionStore;
  fourEyes: FourEyes;
  notifier: Notifier;
  clock: Clock;
  defaultDays: number | null;  // retention.defaultDays
}

// Retention rules and their changes. Shortening retention is how an administrator would make
// mail go away early, so any change that could give some mail a shorter retention than it gets
// today (under the rules now in force and the default), or a lower minimum (which lets the leaver
// schedule, an erasure or an early disposal take it sooner), and any removal, is filed by one
// person and decided by a different one holding the approver role, never linked to the filer
// (FourEyes). A change that can only lengthen applies at once. The captures already made keep the
// retain-until fixed when they were committed, whatever happens to the rules afterwards.
export class RetentionRules {
  readonly #d: RetentionDeps;
  readonly #store: RetentionStore;

  constructor(d: RetentionDeps) {
    this.#d = d;
    this.#store = d.store;
  }

  get defaultDays(): number | null {
    return this.#d.defaultDays;
  }

  rules(tx: Tx): Promise<RetentionRule[]> {
    return this.#store.rules(tx);
  }

  changes(tx: Tx): Promise<RetentionChangeRecord[]> {
    return this.#store.changes(tx);
  }

  change(tx: Tx, id: string): Promise<RetentionChangeRecord | null> {
    return this.#store.change(tx, id);
  }

  async set(tx: Tx, actor: RuleActor, input: RuleInput, note: string | null): Promise<RuleOutcome> {
    const before = input.id ? await this.#store.rule(tx, input.id) : null;
    if (input.id && !before) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no retention rule ${input.id}`);
    const after = ruleOf(input, before?.id ?? newId('ret', this.#d.clock.now()));
    const why = whyItShortens(before, after, this.#d.defaultDays);
    if (why === null) {
      await this.#store.putRule(tx, after, this.#d.clock.now());
      return { applied: true, rule: after, before };
    }
    return { applied: false, change: await this.#file(tx, actor, 'set', after.id, before, after, why, note) };
  }

  async remove(tx: Tx, actor: RuleActor, id: string, note: string | null): Promise<RuleOutcome> {
    const before = await this.#store.rule(tx, id);
    if (!before) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no retention rule ${id}`);
    return { applied: false, change: await this.#file(tx, actor, 'remove', id, before, null, whyItShortens(before, null, this.#d.defaultDays)!, note) };
  }

  async decide(tx: Tx, approver: User, id: string, decision: 'approve' | 'deny', reason: string): Promise<RetentionChangeRecord> {
    const c = await this.#store.change(tx, id);
    if (!c) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no retention change ${id}`);
    await this.#d.fourEyes.mayDecide(tx, approver, c, { name: 'retention change', self: 'no one approves a retention change they filed' }, reason);
    if (decision === 'approve') {
      const now = await this.#store.rule(tx, c.ruleId);
      if (canonicalJson(now) !== canonicalJson(c.before)) throw new SealboxError('SEALBOX_ERR_CONFLICT', `retention rule ${c.ruleId} changed since this was filed; file it again`);
      if (c.after) await this.#store.putRule(tx, c.after, this.#d.clock.now());
      else await this.#store.removeRule(tx, c.ruleId);
    }
    await this.#store.decideChange(tx, id, { by: approver.id, decision, reason: reason.trim(), at: this.#d.clock.now() });
    return (await this.#store.change(tx, id))!;
  }

  async #file(tx: Tx, actor: RuleActor, kind: RetentionChangeRecord['kind'], ruleId: string, before: RetentionRule | null, after: RetentionRule | null, why: string, note: string | null): Promise<RetentionChangeRecord> {
    const change = { id: newId('rch', this.#d.clock.now()), kind, ruleId, before, after, why, note, filedBy: actor.user?.id ?? null, filedByLabel: actor.label, filedAt: this.#d.clock.now() };
    await this.#store.addChange(tx, change);
    const what = after ? `${before ? 'change' : 'add'} retention rule "${after.name}" (${ruleTerms(after)})` : `remove retention rule "${before!.name}"`;
    await this.#d.notifier.toApprovers(tx, 'retention.change', actor.user?.id ?? null, `Retention change ${change.id} awaits a decision`,
      `${actor.label.replace(/^user:/, '')} asks to ${what}.\nWhy it needs approval: ${why}\n${note ? `Reason given: ${note}\n` : ''}Change: ${change.id}`);
    return (await this.#store.change(tx, change.id))!;
  }
}

function ruleOf(input: RuleInput, id: string): RetentionRule {
  const list = (v: string[] | undefined, lower = false) => [...new Set((v ?? []).map((s) => (lower ? s.trim().toLowerCase() : s.trim())).filter((s) => s !== ''))].sort();
  const rule: RetentionRule = {
    id, name: input.name.trim(), mailboxes: list(input.mailboxes), sensitivities: list(input.sensitivities), departments: list(input.departments),
    domains: list(input.domains, true), directions: list(input.directions) as Direction[], days: input.days,
    ...(input.minDays === undefined ? {} : { minDays: input.minDays }),
  };
  if (!rule.name) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'a retention rule needs a name', { fields: ['name'] });
  if (rule.days !== null && (!Number.isInteger(rule.days) || rule.days < 1 || rule.days > 100_000)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'days must be a whole number from 1 to 100000, or null for ever', { fields: ['days'] });
  if (rule.minDays !== undefined && (!Number.isInteger(rule.minDays) || rule.minDays < 0 || rule.minDays > (rule.days ?? 100_000))) {
    throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `the minimum (minDays) must be a whole number from 0 to ${rule.days === null ? '100000' : `the rule's days (${rule.days})`}, or left out to keep the mail at least as long as days`, { fields: ['minDays'] });
  }
  for (const d of rule.directions) if (!DIRECTIONS.includes(d)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `direction must be one of ${DIRECTIONS.join(', ')}, got "${d}"`, { fields: ['directions'] });
  for (const d of rule.departments) {
    const wrong = departmentProblem(d);
    if (wrong) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `department "${d}" ${wrong}`, { fields: ['departments'] });
  }
  // The default is the rule for mail that matches nothing: a rule says which mail it is for.
  if (rule.mailboxes.length + rule.sensitivities.length + rule.departments.length + rule.domains.length + rule.directions.length === 0) {
    throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'a retention rule names mailboxes, sensitivities, departments, domains or directions (mail matching no rule follows retention.defaultDays)', { fields: ['mailboxes', 'sensitivities', 'departments', 'domains', 'directions'] });
  }
  return rule;
}

// What the ledger says of a rule change: applied at once (retention.set) or filed (retention.file).
export function ruleChangeEvent(r: RuleOutcome, note: string | null): AuditEvent {
  if (r.applied) return { operation: 'retention.set', parameters: { rule: r.rule, before: r.before, ...(note ? { note } : {}) } };
  const c = r.change;
  return { operation: 'retention.file', parameters: { change: c.id, kind: c.kind, rule: c.after, before: c.before, why: c.why, ...(note ? { note } : {}) } };
}

// A change as the API and the console show it.
export function changeView(c: RetentionChangeRecord) {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    id: c.id, kind: c.kind, ruleId: c.ruleId, before: c.before, after: c.after, why: c.why, note: c.note,
    state: c.decision === 'approve' ? 'approved' : c.decision === 'deny' ? 'denied' : 'pending',
    filedBy: c.filedByLabel, filedAt: iso(c.filedAt), decisionReason: c.decisionReason, decidedAt: iso(c.decidedAt),
  };
}
