// Words indexes of their own for the biggest mailboxes (PostgreSQL; issue 17).
//
// Within a mailbox a search ANDs the mailbox's scope lexemes into its tsquery (search-index.ts),
// and the GIN index intersects the words' posting lists with the mailbox's: in the busiest
// mailbox of a 10 M archive that list holds 1.9 M entries, and the intersection was 60–83 ms of
// the slowest searches (README, Scale-out). A mailbox holding at least `minShare` of the
// documents (and `minDocuments`) gets a partial GIN index of its documents' words,
//   CREATE INDEX … ON doc USING gin (words) WHERE words @@ '<its scope lexemes ORed>'::tsquery
// recorded in mailbox_words (migration 0017). A search within that mailbox states the predicate
// as a clause of its own, which PostgreSQL proves the index's predicate from and then reads
// that index alone, with the words the query looks for: their posting lists there hold the
// mailbox's documents only. The clause is a true condition in any case, so a search is right
// whichever index the planner reads.
//
// Kept by the node holding the archive's duties (index-worker.ts), one pass at a time across
// the nodes (an advisory lock): built with CREATE INDEX CONCURRENTLY, so mail goes on being
// indexed meanwhile (minutes for two million documents); rebuilt under a new name when the
// mailbox's addresses change (until then a search uses it only for addresses it was built with);
// dropped when the mailbox falls below half the thresholds. The shares are the planner's
// statistics of participation.address (ANALYZE's most common values), not a count: nothing is
// read from the tables to decide.
import pg from 'pg';
import type { PostgresMetadataStore } from '../../store/postgres/metadata-store.ts';
import { scopeLexeme } from './words.ts';

export interface MailboxIndexPolicy {
  minShare: number;       // of all documents, for a mailbox to get an index of its own
  minDocuments: number;   // and at least this many documents
  most: number;           // indexes of mailboxes at most
}

// At 10 M documents an index of its own took the searches within a mailbox of 97,000 (1 %) from
// 76 to 30 ms for a common word, within the busiest (19 %) from 136 to 27 ms for the slowest
// (README, Scale-out). Each costs disk (457–835 B a document in it at 10 M, more the smaller the
// mailbox, against 350 for the whole index), a build reads the whole table twice, and each of the
// mailbox's new documents is written to two GIN indexes.
export const MAILBOX_INDEXES: MailboxIndexPolicy = { minShare: 0.005, minDocuments: 50_000, most: 8 };

const PREFIX = 'doc_words_m';

// The predicate of a mailbox's index, and the clause a search states: the addresses' scope
// lexemes ORed, as a tsquery (the same text for both, so PostgreSQL sees the same constant).
export function mailboxPredicate(addresses: readonly string[]): string {
  return addresses.map(scopeLexeme).join(' | ');
}

// Whether an index is the words' GIN index or one of a mailbox's.
export function isWordsIndex(name: string): boolean {
  return name === 'doc_words' || name.startsWith(PREFIX);
}

export interface MailboxIndexChanges {
  built: { mailboxId: number; index: string; documents: number; ms: number }[];
  dropped: string[];
}

export class MailboxIndexes {
  readonly #meta: PostgresMetadataStore;
  readonly #policy: MailboxIndexPolicy;
  #backend: number | null = null;   // the server process of a pass in hand
  #stopped = false;

  constructor(meta: PostgresMetadataStore, policy: MailboxIndexPolicy = MAILBOX_INDEXES) {
    this.#meta = meta;
    this.#policy = policy;
  }

  // One pass: the indexes the mailboxes deserve now built, those they no longer deserve dropped.
  // null: another node is at it.
  async keep(): Promise<MailboxIndexChanges | null> {
    if (this.#stopped) return null;
    await this.#meta.ready();   // the schema's migrations
    const client = await this.#meta.pool.connect();
    client.on('error', () => {});   // a lost connection fails the statement in hand
    try {
      // A build whose node died ends within a second (PostgreSQL otherwise notices a vanished
      // client only when it next writes to it), and lets go of the lock.
      this.#backend = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid, set_config('client_connection_check_interval', '1s', false)")).rows[0]!.pid;
      const locked = (await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock(hashtext('sealbox.mailbox-words.' || current_schema())) AS ok")).rows[0]!.ok;
      return locked ? await this.#pass(client) : null;
    } finally {
      // Not back to the pool: the connection holds this pass's setting and lock, both let go
      // as it closes.
      this.#backend = null;
      client.release(true);
    }
  }

  // Cancels a pass in hand (the server stops): a build cancelled leaves an invalid index, which
  // the next pass drops.
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#backend !== null) await this.#meta.pool.query('SELECT pg_cancel_backend($1)', [this.#backend]).catch(() => {});
  }

  async #pass(client: pg.PoolClient): Promise<MailboxIndexChanges> {
    const changes: MailboxIndexChanges = { built: [], dropped: [] };
    const drop = async (name: string) => {
      await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${pg.escapeIdentifier(name)}`);
      changes.dropped.push(name);
    };
    // Left by a pass cut off: built and never recorded, or never finished.
    const strays = await client.query<{ name: string }>(`SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = 'doc'::regclass AND starts_with(c.relname, $1)
        AND (NOT i.indisvalid OR c.relname NOT IN (SELECT index_name FROM mailbox_words))`, [PREFIX]);
    for (const s of strays.rows) await drop(s.name);

    const { rows: mailboxes } = await client.query<{ mailbox_id: string; addresses: string[]; documents: number; total: number; stats: boolean }>(`
      WITH s AS (SELECT u.address, u.freq FROM pg_stats st, unnest(st.most_common_vals::text::text[], st.most_common_freqs) AS u(address, freq)
                 WHERE st.schemaname = current_schema() AND st.tablename = 'participation' AND st.attname = 'address')
      SELECT a.mailbox_id, array_agg(a.address ORDER BY a.address) AS addresses,
        COALESCE(SUM(s.freq), 0) * (SELECT reltuples FROM pg_class WHERE oid = 'participation'::regclass) AS documents,
        (SELECT reltuples FROM pg_class WHERE oid = 'doc'::regclass) AS total, EXISTS (SELECT 1 FROM s) AS stats
      FROM mailbox_address a LEFT JOIN s ON s.address = a.address GROUP BY a.mailbox_id`);
    // No statistics yet (a new or just restored database): nothing is known, nothing changes.
    if (!mailboxes.some((m) => m.stats) || !(Number(mailboxes[0]!.total) > 0)) return changes;
    const total = Number(mailboxes[0]!.total);
    const deserves = (documents: number, factor: number) => documents >= this.#policy.minDocuments * factor && documents / total >= this.#policy.minShare * factor;
    const now = new Map(mailboxes.map((m) => [Number(m.mailbox_id), { addresses: m.addresses, documents: Number(m.documents) }]));
    const { rows: have } = await client.query<{ mailbox_id: string; index_name: string; addresses: string[] }>('SELECT mailbox_id, index_name, addresses FROM mailbox_words');

    // Kept while the mailbox holds half the thresholds and the same addresses.
    const kept = new Set<number>();
    const replace = new Map<number, string>();
    for (const h of have) {
      const id = Number(h.mailbox_id);
      const m = now.get(id);
      if (m && deserves(m.documents, 0.5) && sameSet(m.addresses, h.addresses)) kept.add(id);
      else if (m && deserves(m.documents, 1)) replace.set(id, h.index_name);
      else {
        await client.query('DELETE FROM mailbox_words WHERE mailbox_id = $1', [id]);
        await drop(h.index_name);
      }
    }
    const wanted = [...now].filter(([id, m]) => !kept.has(id) && deserves(m.documents, 1))
      .sort((a, b) => b[1].documents - a[1].documents).slice(0, Math.max(0, this.#policy.most - kept.size));
    for (const [id, m] of wanted) {
      if (this.#stopped) break;
      const started = performance.now();
      const name = `${PREFIX}${id}_${Date.now().toString(36)}`;
      const predicate = mailboxPredicate(m.addresses);
      await client.query(`CREATE INDEX CONCURRENTLY ${pg.escapeIdentifier(name)} ON doc USING gin (words) WITH (gin_pending_list_limit = 1024)
        WHERE words @@ ${pg.escapeLiteral(predicate)}::tsquery`);
      await client.query(`INSERT INTO mailbox_words (mailbox_id, index_name, addresses, predicate, documents, built_at) VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (mailbox_id) DO UPDATE SET index_name = excluded.index_name, addresses = excluded.addresses, predicate = excluded.predicate,
          documents = excluded.documents, built_at = excluded.built_at`, [id, name, m.addresses, predicate, Math.round(m.documents), Date.now()]);
      changes.built.push({ mailboxId: id, index: name, documents: Math.round(m.documents), ms: performance.now() - started });
      const old = replace.get(id);
      if (old !== undefined) await drop(old);
    }
    // A replacement not built (more mailboxes than `most`): its old index goes.
    for (const [id, old] of replace) {
      if (changes.built.some((b) => b.mailboxId === id) || this.#stopped) continue;
      await client.query('DELETE FROM mailbox_words WHERE mailbox_id = $1', [id]);
      await drop(old);
    }
    return changes;
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
