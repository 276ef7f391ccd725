import type { Clock } from '../core/clock.ts';
import { SealboxError } from '../core/errors.ts';
import type { Tx } from '../core/transactions.ts';
import type { NoticeStore } from './notice-store.ts';
import type { User } from './people.ts';

export const MAX_NOTICE_CHARS = 20_000;

export interface NoticeText {
  text: string;
  version: number;        // grows with each change: a changed text is acknowledged anew
  updatedAt: number;
  updatedBy: string;
}

// The archiving notice: the administrator's text telling employees that their mail is archived,
// why, and who may read it under which rules. Every signed-in person sees the current version
// until they acknowledge it; the callers record setting and acknowledging in the ledger.
export class ArchivingNotice {
  readonly #store: NoticeStore;
  readonly #clock: Clock;

  constructor(store: NoticeStore, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  current(tx: Tx): Promise<NoticeText | null> {
    return this.#store.current(tx);
  }

  async set(tx: Tx, text: string, by: User): Promise<NoticeText> {
    const trimmed = text.trim();
    if (trimmed.length > MAX_NOTICE_CHARS) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `the notice is longer than ${MAX_NOTICE_CHARS} characters`);
    const notice = { text: trimmed, version: ((await this.current(tx))?.version ?? 0) + 1, updatedAt: this.#clock.now(), updatedBy: by.name };
    await this.#store.save(tx, notice);
    return notice;
  }

  acknowledgedAt(tx: Tx, user: User, version: number): Promise<number | null> {
    return this.#store.acknowledgedAt(tx, user.id, version);
  }

  // Acknowledging a version that is no longer current is refused: the person has not seen the text in force.
  async acknowledge(tx: Tx, user: User, version: number): Promise<number> {
    const current = await this.current(tx);
    if (!current || !current.text) throw new SealboxError('SEALBOX_ERR_CONFLICT', 'there is no archiving notice to acknowledge');
    if (current.version !== version) throw new SealboxError('SEALBOX_ERR_CONFLICT', `the notice changed (version ${current.version} is in force, not ${version}); read it again`);
    const at = this.#clock.now();
    await this.#store.acknowledge(tx, user.id, version, at);
    return (await this.acknowledgedAt(tx, user, version))!;
  }

  acknowledgements(tx: Tx, version: number): Promise<number> {
    return this.#store.acknowledgements(tx, version);
  }
}
