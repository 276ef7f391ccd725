import { randomUUID } from 'node:crypto';
import type { Actor, Audit } from '../access/audit.ts';
import type { Clock } from '../core/clock.ts';
import { SealboxError } from '../core/errors.ts';
import type { Transactions, Tx } from '../core/transactions.ts';
import type { DirectorySync } from './directory-sync.ts';
import { isAddress, sealboxUserName } from './directory-snapshot.ts';
import type { DirectoryPerson, DirectorySnapshot } from './directory-snapshot.ts';
import type { ScimGroupRecord, ScimRecord, ScimStore } from './scim-store.ts';

export const SCIM_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const SCIM_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const SCIM_ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const SCIM_LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const SCIM_PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

type Json = Record<string, any>;

export interface ScimDeps {
  store: ScimStore;
  sync: DirectorySync;
  audit: Audit;
  db: Transactions;
  clock: Clock;
}

export interface PatchOperation {
  op: string;
  path?: string;
  value?: unknown;
}

// Attribute names as RFC 7643 spells them: SCIM names are case-insensitive, and providers write
// them in any case (Entra ID: "Replace", "DisplayName" at times).
const KNOWN = ['userName', 'displayName', 'active', 'emails', 'name', 'externalId', 'title', 'nickName', 'preferredLanguage', 'locale', 'timezone',
  'givenName', 'familyName', 'formatted', 'middleName', 'department', 'manager', 'employeeNumber', 'members', 'phoneNumbers', 'addresses', 'userType', 'value', 'type', 'primary'];

// SCIM 2.0 (RFC 7643/7644) for identity providers that push (Entra ID, Okta): users and groups
// kept as the provider wrote them, and each change followed, in the same transaction, by a
// directory sync from all of them (DirectorySync, source "scim"): the same plan, the same rules,
// the same ledger entries as an LDAP sync. A user's userName is their Sealbox user name (an address
// or user principal name by its local part); `active: false` or a DELETE makes them a leaver;
// group members get the roles sso.roleGroups gives the group's displayName.
export class ScimDirectory {
  readonly #d: ScimDeps;

  constructor(d: ScimDeps) {
    this.#d = d;
  }

  // Reads.

  async user(id: string): Promise<Json> {
    return this.#d.db.read(async (tx) => this.#userOut(tx, await this.#user(tx, id)));
  }

  async users(filter: string | undefined, startIndex: number, count: number): Promise<Json> {
    return this.#d.db.read(async (tx) => {
      const f = parseFilter(filter, ['userName', 'externalId', 'id']);
      const all = (await this.#d.store.users(tx)).filter((u) => !f || matches(f, { userName: u.name, externalId: u.externalId, id: u.id }));
      return list(await Promise.all(page(all, startIndex, count).map((u) => this.#userOut(tx, u))), all.length, startIndex);
    });
  }

  async group(id: string, withMembers = true): Promise<Json> {
    return this.#d.db.read(async (tx) => this.#groupOut(tx, await this.#group(tx, id), withMembers));
  }

  async groups(filter: string | undefined, startIndex: number, count: number, withMembers = true): Promise<Json> {
    return this.#d.db.read(async (tx) => {
      const f = parseFilter(filter, ['displayName', 'externalId', 'id']);
      const all = (await this.#d.store.groups(tx)).filter((g) => !f || matches(f, { displayName: g.name, externalId: g.externalId, id: g.id }));
      return list(await Promise.all(page(all, startIndex, count).map((g) => this.#groupOut(tx, g, withMembers))), all.length, startIndex);
    });
  }

  // Writes: each one the provider's change and the sync it causes, in one transaction.

  createUser(actor: Actor, body: unknown): Promise<Json> {
    return this.#write(actor, 'POST /Users', async (tx) => {
      const resource = userResource(body);
      const now = this.#d.clock.now();
      const user: ScimRecord = { id: randomUUID(), name: resource.userName, externalId: resource.externalId ?? null, resource, createdAt: now, modifiedAt: now };
      await this.#unique(tx, user);
      await this.#d.store.putUser(tx, user);
      return this.#userOut(tx, user);
    });
  }

  replaceUser(actor: Actor, id: string, body: unknown): Promise<Json> {
    return this.#write(actor, 'PUT /Users', async (tx) => {
      const before = await this.#user(tx, id);
      const resource = userResource(body);
      const user = { ...before, name: resource.userName, externalId: resource.externalId ?? null, resource, modifiedAt: this.#d.clock.now() };
      await this.#unique(tx, user);
      await this.#d.store.putUser(tx, user);
      return this.#userOut(tx, user);
    });
  }

  patchUser(actor: Actor, id: string, body: unknown): Promise<Json> {
    return this.#write(actor, 'PATCH /Users', async (tx) => {
      const before = await this.#user(tx, id);
      const resource = structuredClone(before.resource);
      for (const o of operations(body)) patchAttribute(resource, o.op, o.path, o.value);
      const checked = userResource(resource);
      const user = { ...before, name: checked.userName, externalId: checked.externalId ?? null, resource: checked, modifiedAt: this.#d.clock.now() };
      await this.#unique(tx, user);
      await this.#d.store.putUser(tx, user);
      return this.#userOut(tx, user);
    });
  }

  deleteUser(actor: Actor, id: string): Promise<void> {
    return this.#write(actor, 'DELETE /Users', async (tx) => {
      await this.#user(tx, id);
      await this.#d.store.deleteUser(tx, id);
      for (const g of await this.#d.store.groups(tx)) {
        if (g.members.includes(id)) await this.#d.store.putGroup(tx, { ...g, members: g.members.filter((m) => m !== id), modifiedAt: this.#d.clock.now() });
      }
    });
  }

  createGroup(actor: Actor, body: unknown): Promise<Json> {
    return this.#write(actor, 'POST /Groups', async (tx) => {
      const b = object(body);
      const now = this.#d.clock.now();
      const group: ScimGroupRecord = { id: randomUUID(), name: displayName(b.displayName), externalId: optionalString(b.externalId, 'externalId'), members: await this.#members(tx, b.members ?? []), createdAt: now, modifiedAt: now };
      await this.#uniqueGroup(tx, group);
      await this.#d.store.putGroup(tx, group);
      return this.#groupOut(tx, group, true);
    });
  }

  replaceGroup(actor: Actor, id: string, body: unknown): Promise<Json> {
    return this.#write(actor, 'PUT /Groups', async (tx) => {
      const before = await this.#group(tx, id);
      const b = object(body);
      const group = { ...before, name: displayName(b.displayName), externalId: optionalString(b.externalId, 'externalId'), members: await this.#members(tx, b.members ?? []), modifiedAt: this.#d.clock.now() };
      await this.#uniqueGroup(tx, group);
      await this.#d.store.putGroup(tx, group);
      return this.#groupOut(tx, group, true);
    });
  }

  // Entra ID's shapes: {"op":"Add"|"Remove","path":"members","value":[{"value":ID}]},
  // {"op":"Remove","path":"members[value eq \"ID\"]"}, {"op":"Replace","path":"displayName",…},
  // and a replace without a path whose value is an object of attributes.
  patchGroup(actor: Actor, id: string, body: unknown): Promise<void> {
    return this.#write(actor, 'PATCH /Groups', async (tx) => {
      const group = { ...await this.#group(tx, id) };
      for (const o of operations(body)) {
        const op = o.op.toLowerCase();
        const path = o.path?.trim() ?? '';
        const filtered = /^members\[value eq "([^"]+)"\]$/i.exec(path);
        if (filtered && op === 'remove') group.members = group.members.filter((m) => m !== filtered[1]);
        else if (/^members$/i.test(path)) {
          if (op === 'remove' && o.value === undefined) group.members = [];
          else {
            const ids = await this.#members(tx, o.value);
            group.members = op === 'add' ? [...new Set([...group.members, ...ids])] : op === 'remove' ? group.members.filter((m) => !ids.includes(m)) : ids;
          }
        } else if (/^displayName$/i.test(path) && op !== 'remove') group.name = displayName(o.value);
        else if (/^externalId$/i.test(path)) group.externalId = op === 'remove' ? null : optionalString(o.value, 'externalId');
        else if (path === '' && op !== 'remove' && o.value && typeof o.value === 'object' && !Array.isArray(o.value)) {
          for (const [k, v] of Object.entries(o.value as Json)) {
            if (/^displayName$/i.test(k)) group.name = displayName(v);
            else if (/^externalId$/i.test(k)) group.externalId = optionalString(v, 'externalId');
            else if (/^members$/i.test(k)) group.members = op === 'add' ? [...new Set([...group.members, ...await this.#members(tx, v)])] : await this.#members(tx, v);
            else throw invalid(`"${k}" is no attribute of a group Sealbox keeps`, 'invalidPath');
          }
        } else throw invalid(`${o.op} of "${o.path ?? ''}" is not supported on a group`, 'invalidPath');
      }
      group.modifiedAt = this.#d.clock.now();
      await this.#uniqueGroup(tx, group);
      await this.#d.store.putGroup(tx, group);
    });
  }

  deleteGroup(actor: Actor, id: string): Promise<void> {
    return this.#write(actor, 'DELETE /Groups', async (tx) => {
      await this.#group(tx, id);
      await this.#d.store.deleteGroup(tx, id);
    });
  }

  // The directory as SCIM has it, for the planner.
  async snapshot(tx: Tx): Promise<DirectorySnapshot> {
    return this.#snapshotOf(await this.#d.store.users(tx), await this.#d.store.groups(tx));
  }

  #snapshotOf(users: ScimRecord[], groups: ScimGroupRecord[]): DirectorySnapshot {
    const names = new Map(users.map((u) => [u.id, sealboxUserName(u.name)]));
    const people: DirectoryPerson[] = [];
    const skipped: DirectorySnapshot['skipped'] = [];
    const seen = new Set<string>();
    for (const u of users) {
      const userName = names.get(u.id)!;
      const r = u.resource as Json;
      if (!userName || seen.has(userName)) {
        skipped.push({ entry: `scim:${u.id}`, why: userName ? `${userName} is named by another SCIM user too` : `"${u.name}" cannot be a Sealbox user name` });
        continue;
      }
      const addresses = emailsOf(r);
      if (addresses.length === 0 && isAddress(u.name)) addresses.push(u.name.toLowerCase());
      if (addresses.length === 0) {
        skipped.push({ entry: `scim:${u.id}`, why: 'no e-mail address' });
        continue;
      }
      seen.add(userName);
      const ext = (r[SCIM_ENTERPRISE] ?? {}) as Json;
      const managerId = typeof ext.manager === 'string' ? ext.manager : ext.manager?.value;
      people.push({
        userName, addresses, disabled: r.active === false,
        displayName: typeof r.displayName === 'string' ? r.displayName : r.name?.formatted ?? ([r.name?.givenName, r.name?.familyName].filter(Boolean).join(' ') || null),
        manager: managerId ? names.get(managerId) ?? null : null,
        department: typeof ext.department === 'string' && ext.department ? ext.department : null,
        groups: groups.filter((g) => g.members.includes(u.id)).map((g) => g.name).sort(),
      });
    }
    return { source: 'scim', people, shared: [], skipped };
  }

  // The provider's change, then the sync of the people it changed as the directory sees them (their
  // addresses, manager's name, groups, state; someone gone or renamed by it too): the others are as
  // the requests before left them, so a request costs what it changes, not the whole directory.
  async #write<T>(actor: Actor, request: string, change: (tx: Tx) => Promise<T>): Promise<T> {
    return this.#d.audit.recordEach(actor, async (tx) => {
      const store = this.#d.store;
      const keysBefore = new Map((await store.userKeys(tx)).map((k) => [k.id, k]));
      const groupsBefore = await store.groups(tx);
      const result = await change(tx);
      const users = await store.users(tx);
      const groups = await store.groups(tx);
      // The users the change touched: written, made or deleted; joined or left a group (all of a
      // group renamed or deleted); and, as their manager's name may have changed, their reports.
      const touched = new Set<string>();
      for (const u of users) if (keysBefore.get(u.id)?.stored !== JSON.stringify(u.resource) || keysBefore.get(u.id)?.name !== u.name) touched.add(u.id);
      const ids = new Set(users.map((u) => u.id));
      for (const id of keysBefore.keys()) if (!ids.has(id)) touched.add(id);
      const groupAfter = new Map(groups.map((g) => [g.id, g]));
      for (const g of [...groupsBefore, ...groups.filter((x) => !groupsBefore.some((b) => b.id === x.id))]) {
        const was = groupsBefore.find((b) => b.id === g.id);
        const now = groupAfter.get(g.id);
        if (!was || !now || was.name !== now.name) for (const m of [...(was?.members ?? []), ...(now?.members ?? [])]) touched.add(m);
        else for (const m of [...was.members.filter((x) => !now.members.includes(x)), ...now.members.filter((x) => !was.members.includes(x))]) touched.add(m);
      }
      for (const u of users) {
        const manager = ((u.resource as Json)[SCIM_ENTERPRISE] as Json | undefined)?.manager;
        if (touched.has(typeof manager === 'string' ? manager : manager?.value)) touched.add(u.id);
      }
      const only = new Set<string>();
      for (const u of users) if (touched.has(u.id)) only.add(sealboxUserName(u.name) ?? '');
      for (const id of touched) { const k = keysBefore.get(id); if (k) only.add(sealboxUserName(k.name) ?? ''); }
      const sync = await this.#d.sync.syncIn(tx, actor, this.#snapshotOf(users, groups), { only });
      if (sync.result.state === 'stopped') throw new SealboxError('SEALBOX_ERR_CONFLICT', sync.result.message ?? 'the mass-removal guard stopped this change');
      for (const e of sync.events) if (e.operation === 'directory.sync') e.parameters = { ...e.parameters, request };
      return { result, events: sync.events };
    });
  }

  async #user(tx: Tx, id: string): Promise<ScimRecord> {
    const u = await this.#d.store.user(tx, id);
    if (!u) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no SCIM user ${id}`);
    return u;
  }

  async #group(tx: Tx, id: string): Promise<ScimGroupRecord> {
    const g = await this.#d.store.group(tx, id);
    if (!g) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no SCIM group ${id}`);
    return g;
  }

  // A userName is unique, and so is the Sealbox user name it becomes.
  async #unique(tx: Tx, user: ScimRecord): Promise<void> {
    const name = sealboxUserName(user.name);
    const other = (await this.#d.store.userKeys(tx)).find((u) => u.id !== user.id && (u.name.toLowerCase() === user.name.toLowerCase() || sealboxUserName(u.name) === name));
    if (other) throw new SealboxError('SEALBOX_ERR_CONFLICT', `userName "${user.name}" is taken${other.name.toLowerCase() === user.name.toLowerCase() ? '' : ` (it is the Sealbox user ${name}, as "${other.name}" is)`}`);
  }

  async #uniqueGroup(tx: Tx, group: ScimGroupRecord): Promise<void> {
    const other = await this.#d.store.groupByName(tx, group.name);
    if (other && other.id !== group.id) throw new SealboxError('SEALBOX_ERR_CONFLICT', `displayName "${group.name}" is taken`);
  }

  // Members as user ids; a group of groups is not kept (roles come from direct membership).
  async #members(tx: Tx, value: unknown): Promise<string[]> {
    const items = Array.isArray(value) ? value : [value];
    const ids: string[] = [];
    for (const m of items) {
      const id = typeof m === 'string' ? m : (m as Json)?.value;
      if (typeof id !== 'string' || !id) throw invalid('a member is {"value": USER_ID}');
      if (!await this.#d.store.user(tx, id)) throw invalid(`no SCIM user ${id} to be a member`);
      ids.push(id);
    }
    return [...new Set(ids)];
  }

  async #userOut(tx: Tx, u: ScimRecord): Promise<Json> {
    const groups = (await this.#d.store.groups(tx)).filter((g) => g.members.includes(u.id)).map((g) => ({ value: g.id, display: g.name }));
    return {
      ...u.resource, schemas: [SCIM_USER, ...(u.resource[SCIM_ENTERPRISE] ? [SCIM_ENTERPRISE] : [])], id: u.id, groups,
      meta: { resourceType: 'User', created: new Date(u.createdAt).toISOString(), lastModified: new Date(u.modifiedAt).toISOString(), location: `/scim/v2/Users/${u.id}` },
    };
  }

  async #groupOut(tx: Tx, g: ScimGroupRecord, withMembers: boolean): Promise<Json> {
    const members = withMembers ? await Promise.all(g.members.map(async (id) => ({ value: id, display: (await this.#d.store.user(tx, id))?.name ?? id }))) : undefined;
    return {
      schemas: [SCIM_GROUP], id: g.id, ...(g.externalId ? { externalId: g.externalId } : {}), displayName: g.name, ...(members ? { members } : {}),
      meta: { resourceType: 'Group', created: new Date(g.createdAt).toISOString(), lastModified: new Date(g.modifiedAt).toISOString(), location: `/scim/v2/Groups/${g.id}` },
    };
  }
}

// Bad input: 400 with the SCIM error type (RFC 7644 §3.12) in the message's prefix.
function invalid(detail: string, scimType = 'invalidValue'): SealboxError {
  return new SealboxError('SEALBOX_ERR_BAD_INPUT', `${scimType}: ${detail}`);
}

function object(body: unknown): Json {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalid('the body is a JSON object', 'invalidSyntax');
  return body as Json;
}

function optionalString(v: unknown, field: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || v.length > 256) throw invalid(`${field} is a string of at most 256 characters`);
  return v;
}

function displayName(v: unknown): string {
  if (typeof v !== 'string' || !v.trim() || v.length > 256) throw invalid('displayName is a string of 1–256 characters');
  return v.trim();
}

// A user as kept: the provider's attributes, checked: a userName that can be a Sealbox user name,
// e-mail addresses that are addresses, active a boolean ("True"/"False" as some providers send).
function userResource(body: unknown): Json & { userName: string; externalId?: string } {
  const r: Json = { ...object(body) };
  delete r.id;
  delete r.meta;
  delete r.schemas;
  delete r.groups;
  if (typeof r.userName !== 'string' || !r.userName.trim() || r.userName.length > 256) throw invalid('userName is required: a string of 1–256 characters');
  r.userName = r.userName.trim();
  if (!sealboxUserName(r.userName)) throw invalid(`userName "${r.userName}" cannot be a Sealbox user name (its part before any @: 1–64 of a-z 0-9 . _ -)`);
  optionalString(r.externalId, 'externalId');
  if (r.externalId === null) delete r.externalId;
  if (typeof r.active === 'string' && /^(true|false)$/i.test(r.active)) r.active = r.active.toLowerCase() === 'true';
  if (r.active !== undefined && typeof r.active !== 'boolean') throw invalid('active is true or false');
  if (r.displayName !== undefined && r.displayName !== null && typeof r.displayName !== 'string') throw invalid('displayName is a string');
  if (r.emails !== undefined) {
    if (!Array.isArray(r.emails)) throw invalid('emails is a list');
    for (const e of r.emails) if (!e || typeof e.value !== 'string' || !isAddress(e.value.trim())) throw invalid(`"${e?.value}" is not an e-mail address`);
  }
  const ext = r[SCIM_ENTERPRISE];
  if (ext !== undefined) {
    if (!ext || typeof ext !== 'object') throw invalid(`${SCIM_ENTERPRISE} is an object`);
    if (typeof ext.manager === 'string') ext.manager = ext.manager ? { value: ext.manager } : undefined;
    if (ext.department !== undefined && ext.department !== null && typeof ext.department !== 'string') throw invalid('department is a string');
    if (typeof ext.department === 'string' && (ext.department.length > 100 || ext.department.includes(';') || /\p{Cc}/u.test(ext.department))) throw invalid('department is one name of at most 100 characters, without ";" or control characters');
  }
  return r as Json & { userName: string };
}

// The primary address first, then the others, lowercased.
function emailsOf(r: Json): string[] {
  const emails = Array.isArray(r.emails) ? [...r.emails] as Json[] : [];
  emails.sort((a, b) => Number(Boolean(b.primary)) - Number(Boolean(a.primary)));
  return [...new Set(emails.map((e) => String(e.value).trim().toLowerCase()).filter(isAddress))];
}

function operations(body: unknown): PatchOperation[] {
  const b = object(body);
  const ops = b.Operations ?? b.operations;
  if (!Array.isArray(ops) || ops.length === 0) throw invalid(`a PATCH body is a ${SCIM_PATCH} with Operations`, 'invalidSyntax');
  return ops.map((o: Json) => {
    if (!o || typeof o.op !== 'string' || !['add', 'replace', 'remove'].includes(o.op.toLowerCase())) throw invalid('each operation has an op: add, replace or remove', 'invalidSyntax');
    if (o.path !== undefined && typeof o.path !== 'string') throw invalid('path is a string', 'invalidPath');
    return { op: o.op.toLowerCase(), path: o.path, value: o.value };
  });
}

const canonical = (obj: Json, name: string) => Object.keys(obj).find((k) => k.toLowerCase() === name.toLowerCase()) ?? KNOWN.find((k) => k.toLowerCase() === name.toLowerCase()) ?? name;

// One PATCH operation on a user (RFC 7644 §3.5.2): a path with sub-attributes (name.givenName), a
// value filter (emails[type eq "work"].value), the enterprise extension's URN prefix, or none
// (the value is an object of attributes, as Entra ID sends `replace` of active).
export function patchAttribute(r: Json, op: string, path: string | undefined, value: unknown): void {
  if (!path) {
    if (op === 'remove' || !value || typeof value !== 'object' || Array.isArray(value)) throw invalid('an operation without a path is an add or replace of an object of attributes', 'noTarget');
    for (const [k, v] of Object.entries(value as Json)) patchAttribute(r, op, k, v);
    return;
  }
  let target = r;
  let rest = path.trim();
  if (rest.toLowerCase() === SCIM_ENTERPRISE.toLowerCase()) {
    if (op === 'remove') delete r[SCIM_ENTERPRISE];
    else r[SCIM_ENTERPRISE] = { ...(r[SCIM_ENTERPRISE] ?? {}), ...object(value) };
    return;
  }
  if (rest.toLowerCase().startsWith(`${SCIM_ENTERPRISE.toLowerCase()}:`)) {
    target = (r[SCIM_ENTERPRISE] ??= {});
    rest = rest.slice(SCIM_ENTERPRISE.length + 1);
  } else if (rest.toLowerCase().startsWith(`${SCIM_USER.toLowerCase()}:`)) rest = rest.slice(SCIM_USER.length + 1);
  const filtered = /^(\w+)\[(\w+) eq "([^"]*)"\](?:\.(\w+))?$/.exec(rest);
  if (filtered) {
    const [, attr, field, wanted, sub] = filtered;
    const key = canonical(target, attr);
    const items: Json[] = Array.isArray(target[key]) ? target[key] : (target[key] = []);
    const hit = (e: Json) => String(e[canonical(e, field)] ?? '').toLowerCase() === wanted.toLowerCase();
    if (op === 'remove') {
      if (sub) for (const e of items.filter(hit)) delete e[canonical(e, sub)];
      else target[key] = items.filter((e) => !hit(e));
      return;
    }
    if (!items.some(hit)) items.push({ [canonical({}, field)]: wanted });
    for (const e of items.filter(hit)) {
      if (sub) e[canonical(e, sub)] = value;
      else Object.assign(e, object(value));
    }
    return;
  }
  if (!/^\w+(\.\w+)?$/.test(rest)) throw invalid(`path "${path}" is not one Sealbox understands`, 'invalidPath');
  const parts = rest.split('.');
  let obj = target;
  for (const part of parts.slice(0, -1)) {
    const key = canonical(obj, part);
    if (!obj[key] || typeof obj[key] !== 'object') {
      if (op === 'remove') return;
      obj[key] = {};
    }
    obj = obj[key];
  }
  const last = canonical(obj, parts.at(-1)!);
  if (op === 'remove') delete obj[last];
  else if (op === 'add' && Array.isArray(obj[last])) obj[last] = [...obj[last], ...(Array.isArray(value) ? value : [value])];
  else obj[last] = value;
}

interface Filter { attribute: string; value: string }

// `attribute eq "value"`, the one filter providers send to find a resource (RFC 7644 §3.4.2.2).
function parseFilter(filter: string | undefined, attributes: string[]): Filter | null {
  if (filter === undefined || filter.trim() === '') return null;
  const m = /^\s*(\w+)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$/i.exec(filter);
  const attribute = m ? attributes.find((a) => a.toLowerCase() === m[1].toLowerCase()) : undefined;
  if (!m || !attribute) throw invalid(`filter "${filter}": Sealbox answers ${attributes.map((a) => `${a} eq "…"`).join(', ')}`, 'invalidFilter');
  return { attribute, value: m[2].replace(/\\(.)/g, '$1') };
}

function matches(f: Filter, values: Record<string, string | null>): boolean {
  const v = values[f.attribute];
  // userName and displayName compare case-insensitively (caseExact false in RFC 7643); ids exactly.
  return v !== null && (f.attribute === 'id' || f.attribute === 'externalId' ? v === f.value : v.toLowerCase() === f.value.toLowerCase());
}

function page<T>(all: T[], startIndex: number, count: number): T[] {
  return all.slice(Math.max(startIndex, 1) - 1, Math.max(startIndex, 1) - 1 + count);
}

function list(resources: Json[], total: number, startIndex: number): Json {
  return { schemas: [SCIM_LIST], totalResults: total, startIndex: Math.max(startIndex, 1), itemsPerPage: resources.length, Resources: resources };
}
