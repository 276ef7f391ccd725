import type { Envelope } from '../core/types.ts';
import type { AddressMailbox, Direction, RetentionRule } from './retention-store.ts';

const DAY = 86_400_000;

// What a capture shows about whom it concerns, judged from its envelope alone (the headers are
// the sender's to write, and are parsed only later). `known: false`: it has no envelope (an
// import), so no rule can be ruled out.
export type CaptureFacts =
  | { known: true; addresses: string[]; domains: string[]; mailboxes: AddressMailbox[]; direction: Direction | null }
  | { known: false };

export interface Retention {
  retainUntil: number | null;   // ms epoch; null: kept for ever
  ruleId: string | null;        // the rule that gave it; null: the default
}

// What a capture is given when it is committed, fixed in its row and its ledger entry: its
// retention, and its minimum (the longest minimum of its rules), before which nothing but its
// retention's end takes it; after it, the leaver schedule, an erasure or an early disposal may.
export interface CaptureTerms extends Retention {
  keepUntil: number | null;     // ms epoch; null: for ever
  keepRule: string | null;      // the rule that gave it; null: the default
}

// The addresses of an envelope, lowercased: MAIL FROM (unless the null sender) and every RCPT TO.
export function envelopeAddresses(envelope: Envelope): string[] {
  const all = [envelope.mailFrom, ...envelope.rcptTo.map((r) => r.address)].filter((a): a is string => !!a && a.includes('@'));
  return [...new Set(all.map((a) => a.trim().toLowerCase()))];
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

// Inbound: from outside (the null sender counts as outside). Internal: from an internal domain to
// internal domains only. Outbound: from an internal domain to anyone outside. Without internal
// domains configured there is no inside: the direction is unknown and direction rules match nothing.
export function directionOf(envelope: Envelope, internalDomains: ReadonlySet<string>): Direction | null {
  if (internalDomains.size === 0) return null;
  const from = envelope.mailFrom && envelope.mailFrom.includes('@') ? domainOf(envelope.mailFrom) : null;
  if (from === null || !internalDomains.has(from)) return 'inbound';
  return envelope.rcptTo.every((r) => internalDomains.has(domainOf(r.address))) ? 'internal' : 'outbound';
}

// How long mail is kept, from the rules as they are: the longest retention of the rules a capture
// matches wins; a capture matching none follows the default (null: for ever). A capture without an
// envelope could match any rule, or none: it is kept as long as the longest of them and the default,
// so that no rule it might fall under is ever cut short for want of an envelope. Its minimum is the
// longest minimum of the same rules, or, where the default gives the retain-until, the default's
// days: never later than the retain-until, and the same when no rule gives a minimum of its own.
export class RetentionPolicy {
  readonly rules: readonly RetentionRule[];
  readonly defaultDays: number | null;

  constructor(rules: readonly RetentionRule[], defaultDays: number | null) {
    this.rules = rules;
    this.defaultDays = defaultDays;
  }

  // Whether any rule needs to know the mailboxes of a capture's addresses.
  get needsMailboxes(): boolean {
    return this.rules.some((r) => r.mailboxes.length > 0 || r.sensitivities.length > 0 || r.departments.length > 0);
  }

  retentionOf(facts: CaptureFacts, receivedAt: number): Retention {
    let best = this.#longest(facts, (r) => r.days);
    // Without an envelope the default is a candidate too: the capture may match no rule at all.
    if (best !== null && !facts.known && span(this.defaultDays) > span(best.days)) best = null;
    return { retainUntil: later(receivedAt, best ? best.days : this.defaultDays), ruleId: best?.id ?? null };
  }

  termsOf(facts: CaptureFacts, receivedAt: number): CaptureTerms {
    const retention = this.retentionOf(facts, receivedAt);
    if (retention.ruleId === null) return { ...retention, keepUntil: retention.retainUntil, keepRule: null };
    // A rule gives the retain-until: the default does not compete for the minimum, where it
    // would only take the rules' minimums away from an import it does not keep longer.
    const best = this.#longest(facts, minimumDays)!;
    return { ...retention, keepUntil: later(receivedAt, minimumDays(best)), keepRule: best.id };
  }

  // The rule the capture may fall under that keeps it longest by `daysOf` (the first of equals).
  #longest(facts: CaptureFacts, daysOf: (rule: RetentionRule) => number | null): RetentionRule | null {
    let best: RetentionRule | null = null;
    for (const rule of this.rules) {
      if (facts.known && !matches(rule, facts)) continue;
      if (best === null || span(daysOf(rule)) > span(daysOf(best))) best = rule;
    }
    return best;
  }
}

const later = (receivedAt: number, days: number | null) => (days === null ? null : receivedAt + days * DAY);

// The least a rule keeps the mail it matches, in days (null: for ever).
export function minimumDays(rule: RetentionRule): number | null {
  return rule.minDays ?? rule.days;
}

function matches(rule: RetentionRule, facts: Extract<CaptureFacts, { known: true }>): boolean {
  if (rule.mailboxes.length > 0 && !facts.mailboxes.some((m) => rule.mailboxes.includes(m.mailbox))) return false;
  if (rule.sensitivities.length > 0 && !facts.mailboxes.some((m) => m.sensitivity !== null && rule.sensitivities.includes(m.sensitivity))) return false;
  if (rule.departments.length > 0 && !facts.mailboxes.some((m) => m.department !== null && rule.departments.includes(m.department))) return false;
  if (rule.domains.length > 0 && !facts.domains.some((d) => rule.domains.includes(d))) return false;
  if (rule.directions.length > 0 && (facts.direction === null || !rule.directions.includes(facts.direction))) return false;
  return true;
}

// Days as a length that compares: for ever is longer than any number of days.
export function span(days: number | null): number {
  return days === null ? Infinity : days;
}

const KINDS = ['mailboxes', 'sensitivities', 'departments', 'domains', 'directions'] as const;

// Whether `a` matches at least every capture `b` matches (judged kind by kind, so it may say
// no where a closer look would say yes: then the change waits for approval, never the reverse).
function covers(a: RetentionRule, b: RetentionRule): boolean {
  return KINDS.every((k) => a[k].length === 0 || (b[k].length > 0 && (b[k] as string[]).every((v) => (a[k] as string[]).includes(v))));
}

const said = (days: number | null) => (days === null ? 'for ever' : `${days} days`);

// A rule's terms in words: "365 days", or "at least 30 days, at most 365 days".
export function ruleTerms(rule: RetentionRule): string {
  return rule.minDays === undefined ? said(rule.days) : `at least ${said(rule.minDays)}, at most ${said(rule.days)}`;
}

// Why changing rule `before` into `after` (null: a rule added, or removed) could give some mail a
// shorter retention than it gets today, or a lower minimum (which lets a leaver's schedule, an
// erasure or an early disposal take it sooner), or null when it can only lengthen them (or change
// nothing but the name). Removing a rule always needs approval. A rule added needs none for its
// minimum: the mail it matches had either a longer rule's (which still wins) or the default's,
// which keeps nothing from those.
export function whyItShortens(before: RetentionRule | null, after: RetentionRule | null, defaultDays: number | null): string | null {
  if (after === null) return 'removes a rule: the mail it kept follows the other rules or the default';
  if (before === null) {
    return span(after.days) < span(defaultDays) ? `keeps the mail it matches ${said(after.days)}, less than the default (${said(defaultDays)})` : null;
  }
  if (span(after.days) < span(before.days)) return `shortens the rule from ${said(before.days)} to ${said(after.days)}`;
  if (span(minimumDays(after)) < span(minimumDays(before))) return `lowers the rule's minimum from ${said(minimumDays(before))} to ${said(minimumDays(after))}`;
  if (!covers(after, before)) return 'matches less mail than before: what it no longer matches follows the other rules or the default';
  if (!covers(before, after) && span(after.days) < span(defaultDays)) return `matches more mail, keeping it ${said(after.days)}, less than the default (${said(defaultDays)})`;
  return null;
}
