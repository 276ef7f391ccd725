import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { MessageDates } from '../../oversight/message-dates.ts';

export class SqliteMessageDates implements MessageDates {
  readonly #db: DatabaseSync;
  #date: StatementSync | null = null;

  constructor(indexDb: DatabaseSync) {
    this.#db = indexDb;
  }

  dateOf(sha256: string): number | null {
    const row = (this.#date ??= this.#db.prepare('SELECT date FROM doc WHERE sha256 = ?')).get(sha256) as { date: number | null } | undefined;
    return row?.date === null || row?.date === undefined ? null : Number(row.date);
  }
}
