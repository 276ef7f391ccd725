import type { Clock } from '../core/clock.ts';
import type { LedgerOperation } from '../core/ledger-operations.ts';
import type { Tx } from '../core/transactions.ts';
import type { LedgerEntry } from '../core/types.ts';
import type { Grants } from '../access/grants.ts';
import { stateOf } from '../access/grants.ts';
import type { People } from '../access/people.ts';
import type { LedgerHistory, LedgerReplay } from './ledger-history.ts';
import { replayLedger, userOf } from './ledger-history.ts';
import type { OversightStore } from './oversight-store.ts';

export interface InventoryGrant {
  id: string;
  holder: string;
  mailboxes: string[];
  permissions: string[];
  dateFrom: number | null;
  dateTo: number | null;
  startsAt: number;
  endsAt: number;
  breakglass: boolean;
}

// "Who can read which mailbox right now, and why": grants in force, the people who may open a
// break-glass grant, owners (who read their own), and API tokens that carry the content scope
// (of people not disabled: a disabled person's tokens stop working).
export interface Inventory {
  at: number;
  source: 'live' | 'ledger';
  grants: InventoryGrant[];
  breakglassHolders: string[];
  owners: { mailbox: string; owner: string }[];
  contentTokens: { id: string; user: string; scopes: string[]; expiresAt: number }[];
}

// Now, from the tables the decisions are made from.
export async function liveInventory(tx: Tx, d: { store: OversightStore; grants: Grants; people: People; clock: Clock }): Promise<Inventory> {
  const at = d.clock.now();
  const people = await d.people.list(tx);
  const names = new Map(people.map((u) => [u.id, u.name]));
  const name = (id: number) => names.get(id) ?? `#${id}`;
  const grants = (await d.grants.list(tx)).filter((r) => stateOf(r, at) === 'active').map((r) => ({
    id: r.id, holder: name(r.requesterId), mailboxes: r.mailboxes.map((m) => m.name), permissions: r.permissions,
    dateFrom: r.dateFrom, dateTo: r.dateTo, startsAt: r.startsAt!, endsAt: r.endsAt!, breakglass: r.breakglass,
  }));
  const breakglassHolders = people.filter((u) => u.roles.includes('breakglass') && !u.disabled).map((u) => u.name);
  const owners = (await d.store.mailboxes(tx)).flatMap((m) => (m.owner === null ? [] : [{ mailbox: m.name, owner: m.owner }]));
  const contentTokens = (await d.store.liveTokens(tx, at)).filter((t) => t.scopes.includes('content'));
  return sorted({ at, source: 'live', grants, breakglassHolders, owners, contentTokens });
}

// As of any past moment, rebuilt from the ledger alone: what the entries up to then say was
// filed, approved, revoked, created and imported. It needs nothing the server could since have
// changed in its tables.
export async function inventoryFromLedger(tx: Tx, history: LedgerHistory, at: number): Promise<Inventory> {
  const inventory = inventoryReplay(at);
  await replayLedger(tx, history, at, [inventory]);
  return inventory.result();
}

// The same, fed the entries up to `at` by whoever reads the ledger (replayLedger).
export function inventoryReplay(at: number): LedgerReplay<Inventory> {
  const requests = new Map<string, InventoryGrant & { revokedAt: number | null; approved: boolean }>();
  const roles = new Map<string, string[]>();
  const disabled = new Set<string>();
  const owners = new Map<string, string>();
  const tokens = new Map<string, { id: string; user: string; scopes: string[]; expiresAt: number; revoked: boolean }>();
  return {
    operations: INVENTORY_OPERATIONS,
    apply: (e) => apply(e, { requests, roles, owners, tokens, disabled }),
    result: () => sorted({
      at, source: 'ledger',
      grants: [...requests.values()]
        .filter((g) => g.approved && g.startsAt <= at && at < g.endsAt && (g.revokedAt === null || g.revokedAt > at))
        .map(({ revokedAt: _r, approved: _a, ...g }) => g),
      breakglassHolders: [...roles].filter(([n, r]) => r.includes('breakglass') && !disabled.has(n)).map(([n]) => n),
      owners: [...owners].map(([mailbox, owner]) => ({ mailbox, owner })),
      contentTokens: [...tokens.values()].filter((t) => !t.revoked && t.expiresAt > at && t.scopes.includes('content') && !disabled.has(t.user)).map(({ revoked: _r, ...t }) => t),
    }),
  };
}

// The operations that change the inventory: the replay reads these and no others. They are the
// cases of apply's switch, which the type checker holds to this list both ways (a case not in it
// does not compile, nor an operation in it without its case).
const INVENTORY_OPERATIONS = [
  'user.add', 'user.roles', 'user.role.approve', 'user.disable', 'user.enable', 'mailboxes.import', 'ownership.approve',
  'request.file', 'breakglass.open', 'request.approve', 'request.revoke', 'token.create', 'token.revoke',
] as const satisfies readonly LedgerOperation[];
type InventoryOperation = (typeof INVENTORY_OPERATIONS)[number];
const isInventoryOperation = (op: string): op is InventoryOperation => (INVENTORY_OPERATIONS as readonly string[]).includes(op);

function apply(e: LedgerEntry, s: {
  requests: Map<string, InventoryGrant & { revokedAt: number | null; approved: boolean }>;
  roles: Map<string, string[]>; owners: Map<string, string>; disabled: Set<string>;
  tokens: Map<string, { id: string; user: string; scopes: string[]; expiresAt: number; revoked: boolean }>;
}): void {
  const p = e.parameters as Record<string, any>;
  const operation = e.operation;
  if (!isInventoryOperation(operation)) return;
  switch (operation) {
    case 'user.add': {
      const r = Array.isArray(p.roles) ? p.roles : [p.roles];
      s.roles.set(String(p.name), r.map(String));
      for (const m of e.objects.mailboxes) s.owners.set(m, String(p.name));
      break;
    }
    case 'user.roles':
      s.roles.set(String(p.name), ((p.to ?? []) as unknown[]).map(String));
      break;
    case 'user.role.approve': {   // a filed role (a group's, or break-glass an admin gave), in force once approved
      const held = s.roles.get(String(p.name)) ?? [];
      if (typeof p.role === 'string' && !held.includes(p.role)) s.roles.set(String(p.name), [...held, p.role]);
      break;
    }
    case 'user.disable':
      s.disabled.add(String(p.name));
      // Disabling ends every token for good: enabling again brings none back.
      for (const t of s.tokens.values()) if (t.user === `user:${p.name}` || t.user === String(p.name)) t.revoked = true;
      break;
    case 'user.enable':
      s.disabled.delete(String(p.name));
      break;
    case 'mailboxes.import':
    case 'ownership.approve':   // a staged ownership change, in force once approved
      for (const [m, o] of Object.entries((p.owners ?? {}) as Record<string, string>)) s.owners.set(m, o);
      break;
    case 'request.file':
    case 'breakglass.open':
      if (!e.grantId) break;
      s.requests.set(e.grantId, {
        id: e.grantId, holder: userOf(e.actor) ?? e.actor, mailboxes: [...e.objects.mailboxes], permissions: (p.permissions ?? []) as string[],
        dateFrom: p.dateFrom ?? null, dateTo: p.dateTo ?? null, startsAt: Number(p.startsAt ?? 0), endsAt: Number(p.endsAt ?? 0),
        breakglass: e.operation === 'breakglass.open', revokedAt: null, approved: e.operation === 'breakglass.open',
      });
      break;
    case 'request.approve': {
      const g = e.grantId ? s.requests.get(e.grantId) : undefined;
      if (g && typeof p.endsAt === 'number') Object.assign(g, { approved: true, startsAt: p.startsAt, endsAt: p.endsAt });
      break;
    }
    case 'request.revoke': {
      const g = e.grantId ? s.requests.get(e.grantId) : undefined;
      if (g) g.revokedAt = e.time;
      break;
    }
    case 'token.create':
      s.tokens.set(String(p.tokenId), { id: String(p.tokenId), user: userOf(e.actor) ?? e.actor, scopes: (p.scopes ?? []) as string[], expiresAt: typeof p.expiresAt === "number" ? p.expiresAt : e.time + Number(p.days) * 86_400_000, revoked: false });
      break;
    case 'token.revoke': {
      const t = s.tokens.get(String(p.tokenId));
      if (t) t.revoked = true;
      break;
    }
    default:
      operation satisfies never;
  }
}

function sorted(inv: Inventory): Inventory {
  inv.grants.sort((a, b) => a.id.localeCompare(b.id));
  inv.breakglassHolders.sort();
  inv.owners.sort((a, b) => a.mailbox.localeCompare(b.mailbox));
  inv.contentTokens.sort((a, b) => a.id.localeCompare(b.id));
  return inv;
}
