import type { Tx } from '../core/transactions.ts';

// A SCIM user or group as the identity provider last wrote it (without id and meta).
export interface ScimRecord {
  id: string;
  name: string;                 // userName of a user, displayName of a group
  externalId: string | null;
  resource: Record<string, unknown>;
  createdAt: number;
  modifiedAt: number;
}

export interface ScimGroupRecord extends Omit<ScimRecord, 'resource'> {
  members: string[];            // user ids
}

// What SCIM keeps (src/directory/scim-directory.ts).
export interface ScimStore {
  users(tx: Tx): Promise<ScimRecord[]>;
  // Every user's id, userName and resource as stored (its JSON text, unparsed): what tells one
  // state of the users from another, cheaply.
  userKeys(tx: Tx): Promise<{ id: string; name: string; stored: string }[]>;
  user(tx: Tx, id: string): Promise<ScimRecord | null>;
  userByName(tx: Tx, userName: string): Promise<ScimRecord | null>;
  putUser(tx: Tx, user: ScimRecord): Promise<void>;
  deleteUser(tx: Tx, id: string): Promise<boolean>;
  groups(tx: Tx): Promise<ScimGroupRecord[]>;
  group(tx: Tx, id: string): Promise<ScimGroupRecord | null>;
  groupByName(tx: Tx, displayName: string): Promise<ScimGroupRecord | null>;
  putGroup(tx: Tx, group: ScimGroupRecord): Promise<void>;
  deleteGroup(tx: Tx, id: string): Promise<boolean>;
}
