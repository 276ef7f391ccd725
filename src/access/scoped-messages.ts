import type { Scope } from './access-decision.ts';

// Reading a message by its sha256 asks the index whether the reader's scope covers it.
export interface ScopedMessages {
  // The message's index row when the scope covers it (its mailboxes, dates and fixed query), else null.
  rowOf(sha256: string, scope: Scope): number | null;
}
