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

  constructor(settings: SettingStore, base: Config['access']) {
    this.#settings = settings;
    this.#base = base;
    this.#current = base;
  }

  async load(tx: Tx): Promise<this> {
    const stored = await this.#settings.getSetting(tx, KEY);
    this.#current = stored ? accessPolicySchema.parse({ ...this.#base, ...JSON.parse(stored) }) : this.#base;
    return this;
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
      const detail = issue.code === 'unrecognized_keys' ? `unknown key "${issue.keys[0]}"` : `"${issue.path.join('.')}": ${issue.message}`;
      throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `policy: ${detail}`);
    }
    return parsed.data;
  }

  // Replaces the overrides.
  async set(tx: Tx, overrides: Record<string, unknown>): Promise<Config['access']> {
    const next = this.preview(overrides);
    await this.#settings.setSetting(tx, KEY, JSON.stringify(overrides));
    const before = this.#current;
    tx.onRollback(() => (this.#current = before));
    this.#current = next;
    return next;
  }
}
