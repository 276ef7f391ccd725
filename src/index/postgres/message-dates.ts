import type { MessageDates } from '../../oversight/message-dates.ts';
import type { PostgresMetadataStore } from '../../store/postgres/metadata-store.ts';
import { on, type PostgresTransactions } from '../../store/postgres/transactions.ts';
import { indexTransactions } from './index-store.ts';

// The search index's dates on PostgreSQL (see ../sqlite/message-dates.ts), in one read: the
// sha256s go as one array parameter, however many.
export class PostgresMessageDates implements MessageDates {
  readonly #tx: PostgresTransactions;

  constructor(meta: PostgresMetadataStore, transactions: PostgresTransactions = indexTransactions(meta)) {
    this.#tx = transactions;
  }

  datesOf(sha256s: readonly string[]): Promise<Map<string, number | null>> {
    const unique = [...new Set(sha256s)];
    return this.#tx.read(async (tx) => {
      const dates = new Map<string, number | null>(unique.map((sha) => [sha, null]));
      const rows = await on(tx).query<{ sha256: string; date: number | null }>('SELECT sha256, date FROM doc WHERE sha256 = ANY($1::text[])', [unique]);
      for (const r of rows) dates.set(r.sha256, r.date === null ? null : Number(r.date));
      return dates;
    });
  }
}
