import type { DirectoryRow } from '../../access/directory-csv.ts';
import type { Mailbox, MailboxStore } from '../../access/mailbox-store.ts';
import type { Tx } from '../../core/transactions.ts';
import type { PostgresMetadataStore } from './metadata-store.ts';
import { on } from './transactions.ts';

export class PostgresMailboxStore implements MailboxStore {
  readonly #meta: PostgresMetadataStore;

  constructor(meta: PostgresMetadataStore) {
    this.#meta = meta;
  }

  async byName(tx: Tx, name: string): Promise<Mailbox | null> {
    const row = await on(tx).one('SELECT * FROM mailbox WHERE name = $1', [name]);
    if (!row) return null;
    const addresses = (await on(tx).query<{ address: string }>('SELECT address FROM mailbox_address WHERE mailbox_id = $1 ORDER BY address', [row.id])).map((a) => a.address);
    return toMailbox(row, addresses);
  }

  async holderOf(tx: Tx, address: string): Promise<{ name: string; owner: string | null } | null> {
    const row = await on(tx).one('SELECT m.name, m.owner FROM mailbox_address a JOIN mailbox m ON m.id = a.mailbox_id WHERE a.address = $1', [address.toLowerCase()]);
    return row ? { name: row.name, owner: row.owner } : null;
  }

  async ownedBy(tx: Tx, owner: string): Promise<{ id: number; name: string }[]> {
    return (await on(tx).query('SELECT id, name FROM mailbox WHERE owner = $1 ORDER BY id', [owner])).map((r) => ({ id: r.id, name: r.name }));
  }

  async search(tx: Tx, text: string, page: { limit: number; offset: number }): Promise<Mailbox[]> {
    const prefix = text.trim().toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`) + '%';
    const rows = await on(tx).query(`SELECT id, name, display_name, owner, sensitivity, department, auto FROM mailbox
      WHERE lower(name) LIKE $1 ESCAPE '\\' OR lower(display_name) LIKE $1 ESCAPE '\\' OR lower(display_name) LIKE '% ' || $1 ESCAPE '\\'
        OR id IN (SELECT mailbox_id FROM mailbox_address WHERE address LIKE $1 ESCAPE '\\')
      ORDER BY auto, name LIMIT $2 OFFSET $3`, [prefix, page.limit, page.offset]);
    const result: Mailbox[] = [];
    for (const r of rows) {
      result.push(toMailbox(r, (await on(tx).query<{ address: string }>('SELECT address FROM mailbox_address WHERE mailbox_id = $1 ORDER BY address LIMIT 20', [r.id])).map((a) => a.address)));
    }
    return result;
  }

  async apply(tx: Tx, row: DirectoryRow): Promise<void> {
    const id = await this.#meta.upsertMailbox(tx, { name: row.name, displayName: row.displayName, owner: row.owner, sensitivity: row.sensitivity, manager: row.manager, department: row.department, auto: false });
    for (const a of row.addresses) await this.#meta.setMailboxAddress(tx, a, id);
  }
}

function toMailbox(row: Record<string, any>, addresses: string[]): Mailbox {
  return { id: row.id, name: row.name, displayName: row.display_name, owner: row.owner, sensitivity: row.sensitivity, department: row.department ?? null, manager: row.manager ?? null, auto: Boolean(row.auto), addresses };
}
