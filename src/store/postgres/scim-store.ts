import type { Tx } from '../../core/transactions.ts';
import type { ScimGroupRecord, ScimRecord, ScimStore } from '../../directory/scim-store.ts';
import { on } from './transactions.ts';

// A userName and a group's displayName are unique whatever their case, and found in any case
// (SQLite's COLLATE NOCASE: ASCII letters folded; the schema's unique indexes are on lower()).
export class PostgresScimStore implements ScimStore {
  async userKeys(tx: Tx): Promise<{ id: string; name: string; stored: string }[]> {
    return (await on(tx).query('SELECT id, user_name, resource FROM scim_user')).map((r) => ({ id: r.id, name: r.user_name, stored: r.resource }));
  }

  async users(tx: Tx): Promise<ScimRecord[]> {
    return (await on(tx).query('SELECT * FROM scim_user ORDER BY lower(user_name), user_name')).map(toUser);
  }

  async user(tx: Tx, id: string): Promise<ScimRecord | null> {
    const r = await on(tx).one('SELECT * FROM scim_user WHERE id = $1', [id]);
    return r ? toUser(r) : null;
  }

  async userByName(tx: Tx, userName: string): Promise<ScimRecord | null> {
    const r = await on(tx).one('SELECT * FROM scim_user WHERE lower(user_name) = lower($1)', [userName]);
    return r ? toUser(r) : null;
  }

  async putUser(tx: Tx, u: ScimRecord): Promise<void> {
    await on(tx).query(`INSERT INTO scim_user (id, user_name, external_id, resource, created_at, modified_at) VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (id) DO UPDATE SET user_name = excluded.user_name, external_id = excluded.external_id, resource = excluded.resource, modified_at = excluded.modified_at`,
    [u.id, u.name, u.externalId, JSON.stringify(u.resource), u.createdAt, u.modifiedAt]);
  }

  async deleteUser(tx: Tx, id: string): Promise<boolean> {
    return (await on(tx).run('DELETE FROM scim_user WHERE id = $1', [id])) === 1;
  }

  async groups(tx: Tx): Promise<ScimGroupRecord[]> {
    return (await on(tx).query('SELECT * FROM scim_group ORDER BY lower(display_name), display_name')).map(toGroup);
  }

  async group(tx: Tx, id: string): Promise<ScimGroupRecord | null> {
    const r = await on(tx).one('SELECT * FROM scim_group WHERE id = $1', [id]);
    return r ? toGroup(r) : null;
  }

  async groupByName(tx: Tx, displayName: string): Promise<ScimGroupRecord | null> {
    const r = await on(tx).one('SELECT * FROM scim_group WHERE lower(display_name) = lower($1)', [displayName]);
    return r ? toGroup(r) : null;
  }

  async putGroup(tx: Tx, g: ScimGroupRecord): Promise<void> {
    await on(tx).query(`INSERT INTO scim_group (id, display_name, external_id, members, created_at, modified_at) VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name, external_id = excluded.external_id, members = excluded.members, modified_at = excluded.modified_at`,
    [g.id, g.name, g.externalId, JSON.stringify(g.members), g.createdAt, g.modifiedAt]);
  }

  async deleteGroup(tx: Tx, id: string): Promise<boolean> {
    return (await on(tx).run('DELETE FROM scim_group WHERE id = $1', [id])) === 1;
  }
}

function toUser(r: Record<string, any>): ScimRecord {
  return { id: r.id, name: r.user_name, externalId: r.external_id ?? null, resource: JSON.parse(r.resource), createdAt: r.created_at, modifiedAt: r.modified_at };
}

function toGroup(r: Record<string, any>): ScimGroupRecord {
  return { id: r.id, name: r.display_name, externalId: r.external_id ?? null, members: JSON.parse(r.members), createdAt: r.created_at, modifiedAt: r.modified_at };
}
