import type { DirectoryRow } from '../../access/directory-csv.ts';
import type { Mailbox, MailboxStore } from '../../access/mailbox-store.ts';
import type { SqliteMetadataStore } from './metadata-store.ts';
import { on } from './transactions.ts';
import type { Tx } from '../../core/transactions.ts';

export class SqliteMailboxStore implements MailboxStore {
  readonly #meta: SqliteMetadataStore;

  constructor(meta: SqliteMetadataStore) {
    this.#meta = meta;
  }

  async byName(tx: Tx, name: string): Promise<Mailbox | null> {
    const row = on(tx).prepare('SELECT * FROM mailbox WHERE name = ?').get(name) as Record<string, any> | undefined;
    if (!row) return null;
    const addresses = (on(tx).prepare('SELECT address FROM mailbox_address WHERE mailbox_id = ?').all(row.id) as { address: string }[]).map((a) => a.address);
    return toMailbox(row, addresses);
  }

  async holderOf(tx: Tx, address: string): Promise<{ name: string; owner: string | null } | null> {
    const row = on(tx).prepare('SELECT m.name, m.owner FROM mailbox_address a JOIN mailbox m ON m.id = a.mailbox_id WHERE a.address = ?').get(address.toLowerCase()) as Record<string, any> | undefined;
    return row ? { name: row.name, owner: row.owner } : null;
  }

  async ownedBy(tx: Tx, owner: string): Promise<{ id: number; name: string }[]> {
    return (on(tx).prepare('SELECT id, name FROM mailbox WHERE owner = ? ORDER BY id').all(owner) as Record<string, any>[]).map((r) => ({ id: Number(r.id), name: r.name }));
  }

  async search(tx: Tx, text: string, page: { limit: number; offset: number }): Promise<Mailbox[]> {
    const prefix = text.trim().toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`) + '%';
    const rows = on(tx).prepare(`SELECT id, name, display_name, owner, sensitivity, department, auto FROM mailbox
      WHERE lower(name) LIKE ?1 ESCAPE '\\' OR lower(display_name) LIKE ?1 ESCAPE '\\' OR lower(display_name) LIKE '% ' || ?1 ESCAPE '\\'
        OR id IN (SELECT mailbox_id FROM mailbox_address WHERE address LIKE ?1 ESCAPE '\\')
      ORDER BY auto, name LIMIT ?2 OFFSET ?3`).all(prefix, page.limit, page.offset) as Record<string, any>[];
    const addresses = on(tx).prepare('SELECT address FROM mailbox_address WHERE mailbox_id = ? ORDER BY address LIMIT 20');
    return rows.map((r) => toMailbox(r, (addresses.all(r.id) as { address: string }[]).map((a) => a.address)));
  }

  async apply(tx: Tx, row: DirectoryRow): Promise<void> {
    const id = await this.#meta.upsertMailbox(tx, { name: row.name, displayName: row.displayName, owner: row.owner, sensitivity: row.sensitivity, manager: row.manager, department: row.department, auto: false });
    for (const a of row.addresses) await this.#meta.setMailboxAddress(tx, a, id);
  }
}

function toMailbox(row: Record<string, any>, addresses: string[]): Mailbox {
  return { id: Number(row.id), name: row.name, displayName: row.display_name, owner: row.owner, sensitivity: row.sensitivity, department: row.department ?? null, manager: row.manager ?? null, auto: Boolean(row.auto), addresses };
}
