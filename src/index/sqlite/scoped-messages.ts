import type { DatabaseSync } from 'node:sqlite';
import type { Scope } from '../../access/access-decision.ts';
import { scopeCondition } from '../../access/access-decision.ts';
import type { ScopedMessages } from '../../access/scoped-messages.ts';

// The index database as openIndexDb opens it (the main database attached as "meta"). The
// composition root hands it on without looking inside.
export type IndexDatabase = DatabaseSync;

export class SqliteScopedMessages implements ScopedMessages {
  readonly #db: IndexDatabase;

  constructor(db: IndexDatabase) {
    this.#db = db;
  }

  rowOf(sha256: string, scope: Scope): number | null {
    const cond = scopeCondition(scope);
    const row = this.#db.prepare(`SELECT d.id FROM doc d WHERE d.sha256 = ? AND ${cond.where}`).get(sha256, ...cond.params) as { id: number } | undefined;
    return row ? Number(row.id) : null;
  }
}
