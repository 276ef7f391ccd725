import type { Config } from '../core/config.ts';
import { accessPolicySchema } from '../core/config.ts';
import { SealboxError } from '../core/errors.ts';
import type { SettingStore } from './setting-store.ts';

const KEY = 'policy.access';

// The access policy in force: the config file's, overridden by what admins set through the API
// (kept in the database, each change a ledger entry by the caller).
export class Policy {
  readonly #settings: SettingStore;
  readonly #base: Config['access'];
  #cached: Config['access'] | null = null;

  constructor(settings: SettingStore, base: Config['access']) {
    this.#settings = settings;
    this.#base = base;
  }

  current(): Config['access'] {
    if (this.#cached) return this.#cached;
    const stored = this.#settings.getSetting(KEY);
    this.#cached = stored ? accessPolicySchema.parse({ ...this.#base, ...JSON.parse(stored) }) : this.#base;
    return this.#cached;
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
  set(overrides: Record<string, unknown>): Config['access'] {
    this.preview(overrides);
    this.#settings.setSetting(KEY, JSON.stringify(overrides));
    this.#cached = null;
    return this.current();
  }
}
