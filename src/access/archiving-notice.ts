import type { Clock } from '../core/clock.ts';
import { SealboxError } from '../core/errors.ts';
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

  current(): NoticeText | null {
    return this.#store.current();
  }

  set(text: string, by: User): NoticeText {
    const trimmed = text.trim();
    if (trimmed.length > MAX_NOTICE_CHARS) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `the notice is longer than ${MAX_NOTICE_CHARS} characters`);
    const notice = { text: trimmed, version: (this.current()?.version ?? 0) + 1, updatedAt: this.#clock.now(), updatedBy: by.name };
    this.#store.save(notice);
    return notice;
  }

  acknowledgedAt(user: User, version: number): number | null {
    return this.#store.acknowledgedAt(user.id, version);
  }

  // Acknowledging a version that is no longer current is refused: the person has not seen the text in force.
  acknowledge(user: User, version: number): number {
    const current = this.current();
    if (!current || !current.text) throw new SealboxError('SEALBOX_ERR_CONFLICT', 'there is no archiving notice to acknowledge');
    if (current.version !== version) throw new SealboxError('SEALBOX_ERR_CONFLICT', `the notice changed (version ${current.version} is in force, not ${version}); read it again`);
    const at = this.#clock.now();
    this.#store.acknowledge(user.id, version, at);
    return this.acknowledgedAt(user, version)!;
  }

  acknowledgements(version: number): number {
    return this.#store.acknowledgements(version);
  }
}
