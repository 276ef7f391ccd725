import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { SealboxError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { parseQuery } from '../index/search-query.ts';
import type { SqliteMetadataStore } from '../store/sqlite/metadata-store.ts';
import type { FourEyes } from './four-eyes.ts';
import type { User } from './people.ts';

export const PERMISSIONS = ['search', 'read', 'export'] as const;
export type Permission = (typeof PERMISSIONS)[number];
export type GrantState = 'pending' | 'approved' | 'active' | 'expired' | 'revoked' | 'denied' | 'lapsed';

export interface AccessRequest {
  id: string;
  requesterId: number;
  purpose: string;
  justification: string;
  ticket: string | null;
  mailboxes: { id: number; name: string; owner: string | null; sensitivity: string | null }[];
  dateFrom: number | null;
  dateTo: number | null;
  fixedQuery: string | null;
  permissions: Permission[];
  durationSeconds: number;
  approvalsNeeded: number;
  breakglass: boolean;
  createdAt: number;
  lapsesAt: number;
  deniedAt: number | null;
  approvedAt: number | null;
  startsAt: number | null;
  endsAt: number | null;
  revokedAt: number | null;
  extends: string | null;
  approvals: { approverId: number; decision: 'approve' | 'deny'; reason: string; at: number }[];
}

// The one place that says what state a request is in. States that depend on time (active,
// expired, lapsed) are derived from the clock, so a grant ends by itself with nothing to run.
export function stateOf(r: AccessRequest, now: number): GrantState {
  if (r.deniedAt !== null) return 'denied';
  if (r.revokedAt !== null) return 'revoked';
  if (r.approvedAt === null) return now >= r.lapsesAt ? 'lapsed' : 'pending';
  if (now < (r.startsAt ?? r.approvedAt)) return 'approved';
  return now < r.endsAt! ? 'active' : 'expired';
}

export interface NewRequest {
  purpose: string;
  justification: string;
  ticket?: string | null;
  mailboxes: string[];          // mailbox names or addresses
  dateFrom?: string | null;     // YYYY-MM-DD (UTC), inclusive
  dateTo?: string | null;       // YYYY-MM-DD (UTC), inclusive
  query?: string | null;
  permissions: Permission[];
  durationHours: number;
  startsAt?: string | null;     // ISO time for a scheduled start
  extends?: string | null;      // an earlier grant of the same requester this one continues
}

// Access requests and grants: filing, approval by someone else, denial, revocation, break-glass.
export class Grants {
  readonly #meta: SqliteMetadataStore;
  readonly #clock: Clock;
  readonly #policy: () => Config['access'];
  readonly #fourEyes: FourEyes | null;

  constructor(meta: SqliteMetadataStore, clock: Clock, policy: () => Config['access'], fourEyes: FourEyes | null = null) {
    this.#meta = meta;
    this.#clock = clock;
    this.#policy = policy;
    this.#fourEyes = fourEyes;
  }

  file(requester: User, input: NewRequest, options: { breakglass?: boolean } = {}): AccessRequest {
    const breakglass = options.breakglass ?? false;
    const role = breakglass ? 'breakglass' : 'requester';
    if (!requester.roles.includes(role)) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', `only users with the ${role} role can ${breakglass ? 'open a break-glass grant' : 'file access requests'}`);
    if (!this.#policy().purposes.includes(input.purpose)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `purpose "${input.purpose}" is not allowed (allowed: ${this.#policy().purposes.join(', ')})`);
    if (!input.justification?.trim()) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'a justification is required');
    if (!breakglass && !input.ticket?.trim()) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'a ticket reference is required');
    if (input.permissions.length === 0) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'at least one permission (search, read, export) is required');
    for (const p of input.permissions) if (!PERMISSIONS.includes(p)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `unknown permission "${p}" (search, read, export)`);
    const maxHours = breakglass ? this.#policy().breakglassMaxMinutes / 60 : this.#policy().maxGrantHours;
    if (!(input.durationHours > 0) || input.durationHours > maxHours) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `duration must be more than 0 and at most ${maxHours} hours`);
    if (input.mailboxes.length === 0) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'name at least one mailbox');
    const mailboxes = input.mailboxes.map((m) => this.#mailbox(m));
    const dateFrom = day(input.dateFrom, 'dateFrom');
    const dateTo = input.dateTo ? day(input.dateTo, 'dateTo')! + 86_400_000 : null;
    if (dateFrom !== null && dateTo !== null && dateFrom >= dateTo) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'dateFrom must not be after dateTo');
    // A fixed query that does not parse would make the grant useless; refuse it at filing.
    if (input.query?.trim()) parseQuery(input.query.trim());
    const now = this.#clock.now();
    const startsAt = input.startsAt ? Date.parse(input.startsAt) : null;
    if (startsAt !== null && (!Number.isFinite(startsAt) || startsAt < now - 60_000)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'startsAt must be an ISO time in the future');
    if (input.extends) {
      // An extension is a new request like any other (approved again), linked so oversight can
      // see a grant kept alive by repeated extensions.
      const prior = this.#meta.prepare('SELECT requester_id, mailboxes, approved_at FROM access_request WHERE id = ?').get(input.extends) as Record<string, any> | undefined;
      if (!prior || Number(prior.requester_id) !== requester.id) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `extends: no grant ${input.extends} of yours`);
      if (prior.approved_at === null) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `extends: request ${input.extends} was never approved`);
      const before = new Set(JSON.parse(prior.mailboxes) as number[]);
      if (!mailboxes.some((m) => before.has(m.id))) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `extends: request ${input.extends} covers none of these mailboxes`);
    }
    const approvalsNeeded = Math.max(this.#policy().approvalsNeeded, ...mailboxes.map((m) => (m.sensitivity ? this.#policy().sensitivityApprovals[m.sensitivity] ?? 0 : 0)));
    const id = newId(breakglass ? 'bg' : 'req', now);
    const duration = Math.round(input.durationHours * 3600);
    this.#meta.prepare(`INSERT INTO access_request (id, requester_id, purpose, justification, ticket, mailboxes, date_from, date_to, fixed_query, permissions,
      duration_seconds, approvals_needed, breakglass, created_at, lapses_at, approved_at, starts_at, ends_at, extends) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(id, requester.id, input.purpose, input.justification.trim(), input.ticket?.trim() || null, JSON.stringify(mailboxes.map((m) => m.id)),
        dateFrom, dateTo, input.query?.trim() || null, JSON.stringify(input.permissions), duration, approvalsNeeded, breakglass ? 1 : 0, now,
        now + this.#policy().pendingLapseHours * 3600_000,
        // Break-glass needs nobody's approval: it starts now and is reviewed afterwards. A
        // scheduled start is kept: approval before it makes the grant wait for it (decide).
        breakglass ? now : null, breakglass ? now : startsAt, breakglass ? now + duration * 1000 : null, input.extends ?? null);
    return this.get(id);
  }

  decide(approver: User, id: string, decision: 'approve' | 'deny', reason: string): AccessRequest {
    const r = this.get(id);
    if (!approver.roles.includes('approver')) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'only approvers decide on access requests');
    if (r.requesterId === approver.id) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'no one can decide on their own request');
    const own = r.mailboxes.filter((m) => m.owner === approver.name);
    // Looks like a missing request: the subject of an investigation learns nothing of it here.
    if (own.length > 0) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no access request ${id}`);
    const linked = this.#fourEyes?.linked(approver.id, r.requesterId);
    if (linked) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', `four eyes means two people: ${linked}`);
    if (!reason?.trim()) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'a reason is required');
    const now = this.#clock.now();
    const state = stateOf(r, now);
    if (state !== 'pending') throw new SealboxError('SEALBOX_ERR_CONFLICT', `request ${id} is ${state}, not pending`);
    if (r.approvals.some((a) => a.approverId === approver.id)) throw new SealboxError('SEALBOX_ERR_CONFLICT', 'you have already decided on this request');
    this.#meta.prepare('INSERT INTO approval (request_id, approver_id, decision, reason, at) VALUES (?, ?, ?, ?, ?)').run(id, approver.id, decision, reason.trim(), now);
    if (decision === 'deny') this.#meta.prepare('UPDATE access_request SET denied_at = ? WHERE id = ?').run(now, id);
    else if (r.approvals.filter((a) => a.decision === 'approve').length + 1 >= r.approvalsNeeded) {
      const start = Math.max(now, r.startsAt ?? 0);
      this.#meta.prepare('UPDATE access_request SET approved_at = ?, starts_at = ?, ends_at = ? WHERE id = ?').run(now, start, start + r.durationSeconds * 1000, id);
    }
    return this.get(id);
  }

  // The requester ("I'm done"), any approver or an admin ends a grant at once.
  revoke(actor: User, id: string): AccessRequest {
    const r = this.get(id);
    if (r.requesterId !== actor.id && !actor.roles.includes('approver') && !actor.roles.includes('admin')) {
      throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'only the requester, an approver or an admin can revoke a grant');
    }
    // The subject of an investigation cannot stop it (nor learn of it by trying).
    if (r.requesterId !== actor.id && r.mailboxes.some((m) => m.owner === actor.name)) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no access request ${id}`);
    const state = stateOf(r, this.#clock.now());
    if (!['pending', 'approved', 'active'].includes(state)) throw new SealboxError('SEALBOX_ERR_CONFLICT', `request ${id} is ${state}; nothing to revoke`);
    this.#meta.prepare('UPDATE access_request SET revoked_at = ?, revoked_by = ? WHERE id = ?').run(this.#clock.now(), actor.id, id);
    return this.get(id);
  }

  get(id: string): AccessRequest {
    const row = this.#meta.prepare('SELECT * FROM access_request WHERE id = ?').get(id) as Record<string, any> | undefined;
    if (!row) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no access request ${id}`);
    return this.#toRequest(row);
  }

  list(filter: { requesterId?: number } = {}): AccessRequest[] {
    const rows = filter.requesterId === undefined
      ? this.#meta.prepare('SELECT * FROM access_request ORDER BY created_at DESC').all()
      : this.#meta.prepare('SELECT * FROM access_request WHERE requester_id = ? ORDER BY created_at DESC').all(filter.requesterId);
    return (rows as Record<string, any>[]).map((r) => this.#toRequest(r));
  }

  #mailbox(nameOrAddress: string): { id: number; name: string; owner: string | null; sensitivity: string | null } {
    const key = nameOrAddress.trim().toLowerCase();
    const row = (this.#meta.prepare('SELECT id, name, owner, sensitivity FROM mailbox WHERE lower(name) = ?').get(key)
      ?? this.#meta.prepare('SELECT m.id, m.name, m.owner, m.sensitivity FROM mailbox_address a JOIN mailbox m ON m.id = a.mailbox_id WHERE a.address = ?').get(key)) as any;
    if (!row) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `no mailbox "${nameOrAddress}"`);
    return { id: Number(row.id), name: row.name, owner: row.owner, sensitivity: row.sensitivity };
  }

  #toRequest(row: Record<string, any>): AccessRequest {
    const ids = JSON.parse(row.mailboxes) as number[];
    const mailboxes = ids.map((id) => {
      const m = this.#meta.prepare('SELECT id, name, owner, sensitivity FROM mailbox WHERE id = ?').get(id) as any;
      return { id, name: m?.name ?? `#${id}`, owner: m?.owner ?? null, sensitivity: m?.sensitivity ?? null };
    });
    const approvals = (this.#meta.prepare('SELECT approver_id, decision, reason, at FROM approval WHERE request_id = ? ORDER BY at').all(row.id) as any[])
      .map((a) => ({ approverId: Number(a.approver_id), decision: a.decision, reason: a.reason, at: Number(a.at) }));
    const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    return {
      id: row.id, requesterId: Number(row.requester_id), purpose: row.purpose, justification: row.justification, ticket: row.ticket, mailboxes,
      dateFrom: n(row.date_from), dateTo: n(row.date_to), fixedQuery: row.fixed_query, permissions: JSON.parse(row.permissions),
      durationSeconds: Number(row.duration_seconds), approvalsNeeded: Number(row.approvals_needed), breakglass: Boolean(row.breakglass),
      createdAt: Number(row.created_at), lapsesAt: Number(row.lapses_at), deniedAt: n(row.denied_at), approvedAt: n(row.approved_at),
      startsAt: n(row.starts_at), endsAt: n(row.ends_at), revokedAt: n(row.revoked_at), extends: row.extends ?? null, approvals,
    };
  }
}

function day(value: string | null | undefined, name: string): number | null {
  if (!value) return null;
  const t = /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(`${value}T00:00:00Z`) : NaN;
  if (!Number.isFinite(t)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `${name} "${value}" is not a date (YYYY-MM-DD)`);
  return t;
}
