import type { z } from 'zod';
import type { Config } from '../core/config.ts';
import { accessPolicySchema } from '../core/config.ts';
import { SealboxError } from '../core/errors.ts';
import type { Tx } from '../core/transactions.ts';
import type { SettingStore } from './setting-store.ts';

const KEY = 'policy.access';

// The access policy in force: the config file's, overridden by what admins set through the API
// (kept in the database, each change a ledger entry by the caller). Read once when the archive
// opens (load) and kept in memory.
export class Policy {
  readonly #settings: SettingStore;
  readonly #base: Config['access'];
  #current: Config['access'];
  #overrides: Record<string, unknown> = {};

  constructor(settings: SettingStore, base: Config['access']) {
    this.#settings = settings;
    this.#base = base;
    this.#current = base;
  }

  async load(tx: Tx): Promise<this> {
    const stored = await this.#settings.getSetting(tx, KEY);
    this.#overrides = stored ? JSON.parse(stored) : {};
    this.#current = accessPolicySchema.parse({ ...this.#base, ...this.#overrides });
    return this;
  }

  // What admins set through the API on top of the config file (a form changing one key sends
  // these with it, since a change replaces them).
  overrides(): Record<string, unknown> {
    return { ...this.#overrides };
  }

  current(): Config['access'] {
    return this.#current;
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

  // Replaces the overrides.
  async set(tx: Tx, overrides: Record<string, unknown>): Promise<Config['access']> {
    const next = this.preview(overrides);
    await this.#settings.setSetting(tx, KEY, JSON.stringify(overrides));
    const before = { current: this.#current, overrides: this.#overrides };
    tx.onRollback(() => {
      this.#current = before.current;
      this.#overrides = before.overrides;
    });
    this.#current = next;
    this.#overrides = { ...overrides };
    return next;
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
