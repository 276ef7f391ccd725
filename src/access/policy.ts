import type { z } from 'zod';
import type { Config } from '../core/config.ts';
import { accessPolicySchema } from '../core/config.ts';
import { SealboxError } from '../core/errors.ts';
import type { Clock } from '../core/clock.ts';
import type { Transactions, Tx } from '../core/transactions.ts';
import type { SettingStore } from './setting-store.ts';

const KEY = 'policy.access';

// How old the policy may be where it is read outside a transaction (the rate limits, the cookie
// flag): a change committed by any process applies there within this.
export const RECENT_POLICY_MS = 1000;

// The policy as a transaction sees it, for the code that decides by it.
export type PolicyInForce = (tx: Tx) => Promise<Config['access']>;

interface Seen {
  stored: string | null;
  overrides: Record<string, unknown>;
  policy: Config['access'];
}

// The access policy in force: the config file's, overridden by what admins set through the API
// (kept in the database, each change a ledger entry by the caller). Several processes share the
// database (the console beside the server, several servers on one PostgreSQL archive), and any of
// them may change it: so nothing here keeps a copy for deciding. Every decision reads the row in
// the transaction it decides in (inForce); only the parsing is kept, for as long as the row is
// unchanged.
export class Policy {
  readonly #settings: SettingStore;
  readonly #db: Transactions;
  readonly #base: Config['access'];
  readonly #clock: Clock;
  #seen: Seen;
  #recent: { at: number; policy: Config['access'] } | null = null;
  #reading: Promise<Config['access']> | null = null;

  constructor(d: { settings: SettingStore; db: Transactions; base: Config['access']; clock: Clock }) {
    this.#settings = d.settings;
    this.#db = d.db;
    this.#base = d.base;
    this.#clock = d.clock;
    this.#seen = { stored: null, overrides: {}, policy: d.base };
  }

  // The policy as `tx` sees it: what every process had committed when tx read its row. The bound
  // is the deciding transaction itself: a decision never uses a policy older than its own
  // transaction (today writes across nodes also take one lock, WRITE_LOCK in
  // store/postgres/transactions.ts, so nothing newer commits before a deciding write does).
  // Every decision that follows the policy takes it from here, in its own transaction.
  async inForce(tx: Tx): Promise<Config['access']> {
    return (await this.#read(tx)).policy;
  }

  // What admins set through the API on top of the config file (a form changing one key sends
  // these with it, since a change replaces them).
  async overrides(tx: Tx): Promise<Record<string, unknown>> {
    return { ...(await this.#read(tx)).overrides };
  }

  // The policy read outside any transaction, at most RECENT_POLICY_MS old: for what is not a
  // decision on a person's access but must follow a change all the same (the per-client rate
  // limits, the Secure flag of a cookie). One read at a time serves every caller waiting for it.
  async recent(): Promise<Config['access']> {
    const now = this.#clock.now();
    const r = this.#recent;
    // A clock set back counts as too old.
    if (r && now >= r.at && now - r.at < RECENT_POLICY_MS) return r.policy;
    return (this.#reading ??= this.#db.read((tx) => this.inForce(tx))
      .then((policy) => {
        this.#recent = { at: now, policy };
        return policy;
      })
      .finally(() => { this.#reading = null; }));
  }

  // The policy these overrides would put in force (they replace the earlier ones); unknown keys
  // and bad values are refused with the key named.
  preview(overrides: Record<string, unknown>): Config['access'] {
    const parsed = accessPolicySchema.safeParse({ ...this.#base, ...overrides });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      if (issue.code === 'unrecognized_keys') throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `policy: unknown key "${issue.keys[0]}"`, { fields: [issue.keys[0]] });
      // The key, for a form to show the words by its field.
      throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `policy: "${issue.path.join('.')}": ${inWords(issue)}`, { fields: [String(issue.path[0])] });
    }
    return parsed.data;
  }

  // Replaces the overrides; the policy they put in force.
  async set(tx: Tx, overrides: Record<string, unknown>): Promise<Config['access']> {
    const next = this.preview(overrides);
    await this.#settings.setSetting(tx, KEY, JSON.stringify(overrides));
    // This process's next read outside a transaction reads it anew.
    this.#recent = null;
    return next;
  }

  async #read(tx: Tx): Promise<Seen> {
    const stored = await this.#settings.getSetting(tx, KEY);
    const seen = this.#seen;
    if (stored === seen.stored) return seen;
    const overrides = stored ? JSON.parse(stored) as Record<string, unknown> : {};
    const fresh = { stored, overrides, policy: accessPolicySchema.parse({ ...this.#base, ...overrides }) };
    this.#seen = fresh;
    return fresh;
  }
}

// zod's words for a bad value ("Too small: expected number to be >0"), said for people.
function inWords(issue: z.core.$ZodIssue): string {
  const n = (v: unknown) => String(v);
  switch (issue.code) {
    case 'too_small':
      if (issue.origin === 'array') return issue.minimum === 1 ? 'needs at least one' : `needs at least ${n(issue.minimum)}`;
      return issue.inclusive ? `must be at least ${n(issue.minimum)}` : `must be more than ${n(issue.minimum)}`;
    case 'too_big':
      return issue.inclusive ? `must be at most ${n(issue.maximum)}` : `must be less than ${n(issue.maximum)}`;
    case 'invalid_type':
      return issue.expected === 'int' ? 'must be a whole number' : `must be ${issue.expected === 'array' ? 'a list' : issue.expected === 'record' || issue.expected === 'object' ? 'a set of names and values' : `a ${issue.expected}`}`;
    case 'not_multiple_of':
      return 'must be a whole number';
    default:
      return issue.message;
  }
}
