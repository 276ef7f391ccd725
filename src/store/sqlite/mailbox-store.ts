import type { DirectoryRow } from '../../access/directory-csv.ts';
import type { Mailbox, MailboxStore } from '../../access/mailbox-store.ts';
import type { SqliteMetadataStore } from './metadata-store.ts';

export class SqliteMailboxStore implements MailboxStore {
  readonly #meta: SqliteMetadataStore;

  constructor(meta: SqliteMetadataStore) {
    this.#meta = meta;
  }

  byName(name: string): Mailbox | null {
    const row = this.#meta.prepare('SELECT * FROM mailbox WHERE name = ?').get(name) as Record<string, any> | undefined;
    if (!row) return null;
    const addresses = (this.#meta.prepare('SELECT address FROM mailbox_address WHERE mailbox_id = ?').all(row.id) as { address: string }[]).map((a) => a.address);
    return toMailbox(row, addresses);
  }

  holderOf(address: string): { name: string; owner: string | null } | null {
    const row = this.#meta.prepare('SELECT m.name, m.owner FROM mailbox_address a JOIN mailbox m ON m.id = a.mailbox_id WHERE a.address = ?').get(address.toLowerCase()) as Record<string, any> | undefined;
    return row ? { name: row.name, owner: row.owner } : null;
  }

  ownedBy(owner: string): { id: number; name: string }[] {
    return (this.#meta.prepare('SELECT id, name FROM mailbox WHERE owner = ? ORDER BY id').all(owner) as Record<string, any>[]).map((r) => ({ id: Number(r.id), name: r.name }));
  }

  search(text: string, page: { limit: number; offset: number }): Mailbox[] {
    const prefix = text.trim().toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`) + '%';
    const rows = this.#meta.prepare(`SELECT id, name, display_name, owner, sensitivity, auto FROM mailbox
      WHERE lower(name) LIKE ?1 ESCAPE '\\' OR lower(display_name) LIKE ?1 ESCAPE '\\' OR lower(display_name) LIKE '% ' || ?1 ESCAPE '\\'
        OR id IN (SELECT mailbox_id FROM mailbox_address WHERE address LIKE ?1 ESCAPE '\\')
      ORDER BY auto, name LIMIT ?2 OFFSET ?3`).all(prefix, page.limit, page.offset) as Record<string, any>[];
    const addresses = this.#meta.prepare('SELECT address FROM mailbox_address WHERE mailbox_id = ? ORDER BY address LIMIT 20');
    return rows.map((r) => toMailbox(r, (addresses.all(r.id) as { address: string }[]).map((a) => a.address)));
  }

  apply(row: DirectoryRow): void {
    const id = this.#meta.upsertMailbox({ name: row.name, displayName: row.displayName, owner: row.owner, sensitivity: row.sensitivity, manager: row.manager, auto: false });
    for (const a of row.addresses) this.#meta.setMailboxAddress(a, id);
  }
}

function toMailbox(row: Record<string, any>, addresses: string[]): Mailbox {
  return { id: Number(row.id), name: row.name, displayName: row.display_name, owner: row.owner, sensitivity: row.sensitivity, auto: Boolean(row.auto), addresses };
}
