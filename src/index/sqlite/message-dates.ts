import type { MessageDates } from '../../oversight/message-dates.ts';
import type { IndexDatabase } from './index-db.ts';

// Bound parameters per statement stay well below SQLite's limit.
const CHUNK = 500;

export class SqliteMessageDates implements MessageDates {
  readonly #index: IndexDatabase;

  constructor(index: IndexDatabase) {
    this.#index = index;
  }

  datesOf(sha256s: readonly string[]): Promise<Map<string, number | null>> {
    const unique = [...new Set(sha256s)];
    return this.#index.transactions.read(async () => {
      const dates = new Map<string, number | null>(unique.map((sha) => [sha, null]));
      for (let i = 0; i < unique.length; i += CHUNK) {
        const chunk = unique.slice(i, i + CHUNK);
        const rows = this.#index.db.prepare(`SELECT sha256, date FROM doc WHERE sha256 IN (${chunk.map(() => '?').join(', ')})`).all(...chunk) as { sha256: string; date: number | null }[];
        for (const r of rows) dates.set(r.sha256, r.date === null ? null : Number(r.date));
      }
      return dates;
    });
  }
}
