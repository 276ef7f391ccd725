import type { ScimGroupRecord, ScimRecord, ScimStore } from '../../directory/scim-store.ts';
import type { Tx } from '../../core/transactions.ts';
import { on } from './transactions.ts';

export class SqliteScimStore implements ScimStore {
  async users(tx: Tx): Promise<ScimRecord[]> {
    return (on(tx).prepare('SELECT * FROM scim_user ORDER BY user_name').all() as Record<string, any>[]).map(toUser);
  }

  async userKeys(tx: Tx): Promise<{ id: string; name: string; stored: string }[]> {
    return (on(tx).prepare('SELECT id, user_name, resource FROM scim_user').all() as Record<string, any>[]).map((r) => ({ id: r.id, name: r.user_name, stored: r.resource }));
  }

  async user(tx: Tx, id: string): Promise<ScimRecord | null> {
    const r = on(tx).prepare('SELECT * FROM scim_user WHERE id = ?').get(id) as Record<string, any> | undefined;
    return r ? toUser(r) : null;
  }

  async userByName(tx: Tx, userName: string): Promise<ScimRecord | null> {
    const r = on(tx).prepare('SELECT * FROM scim_user WHERE user_name = ?').get(userName) as Record<string, any> | undefined;
    return r ? toUser(r) : null;
  }

  async putUser(tx: Tx, u: ScimRecord): Promise<void> {
    on(tx).prepare(`INSERT INTO scim_user (id, user_name, external_id, resource, created_at, modified_at) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET user_name = excluded.user_name, external_id = excluded.external_id, resource = excluded.resource, modified_at = excluded.modified_at`)
      .run(u.id, u.name, u.externalId, JSON.stringify(u.resource), u.createdAt, u.modifiedAt);
  }

  async deleteUser(tx: Tx, id: string): Promise<boolean> {
    return Number(on(tx).prepare('DELETE FROM scim_user WHERE id = ?').run(id).changes) === 1;
  }

  async groups(tx: Tx): Promise<ScimGroupRecord[]> {
    return (on(tx).prepare('SELECT * FROM scim_group ORDER BY display_name').all() as Record<string, any>[]).map(toGroup);
  }

  async group(tx: Tx, id: string): Promise<ScimGroupRecord | null> {
    const r = on(tx).prepare('SELECT * FROM scim_group WHERE id = ?').get(id) as Record<string, any> | undefined;
    return r ? toGroup(r) : null;
  }

  async groupByName(tx: Tx, displayName: string): Promise<ScimGroupRecord | null> {
    const r = on(tx).prepare('SELECT * FROM scim_group WHERE display_name = ?').get(displayName) as Record<string, any> | undefined;
    return r ? toGroup(r) : null;
  }

  async putGroup(tx: Tx, g: ScimGroupRecord): Promise<void> {
    on(tx).prepare(`INSERT INTO scim_group (id, display_name, external_id, members, created_at, modified_at) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name, external_id = excluded.external_id, members = excluded.members, modified_at = excluded.modified_at`)
      .run(g.id, g.name, g.externalId, JSON.stringify(g.members), g.createdAt, g.modifiedAt);
  }

  async deleteGroup(tx: Tx, id: string): Promise<boolean> {
    return Number(on(tx).prepare('DELETE FROM scim_group WHERE id = ?').run(id).changes) === 1;
  }
}

function toUser(r: Record<string, any>): ScimRecord {
  return { id: r.id, name: r.user_name, externalId: r.external_id ?? null, resource: JSON.parse(r.resource), createdAt: Number(r.created_at), modifiedAt: Number(r.modified_at) };
}

function toGroup(r: Record<string, any>): ScimGroupRecord {
  return { id: r.id, name: r.display_name, externalId: r.external_id ?? null, members: JSON.parse(r.members), createdAt: Number(r.created_at), modifiedAt: Number(r.modified_at) };
}
