import type { FiledRequest, GrantStore } from '../../access/grant-store.ts';
import type { AccessRequest, RequestMailbox } from '../../access/grants.ts';
import type { SqliteMetadataStore } from './metadata-store.ts';
import { on } from './transactions.ts';
import type { Tx } from '../../core/transactions.ts';

// An access request is a row with its mailboxes (ids) and permissions as JSON arrays; each
// approval is a row of its own.
export class SqliteGrantStore implements GrantStore {
  readonly #meta: SqliteMetadataStore;

  constructor(meta: SqliteMetadataStore) {
    this.#meta = meta;
  }

  async insert(tx: Tx, r: FiledRequest): Promise<void> {
    on(tx).prepare(`INSERT INTO access_request (id, requester_id, purpose, justification, ticket, mailboxes, date_from, date_to, fixed_query, permissions,
      duration_seconds, approvals_needed, breakglass, created_at, lapses_at, approved_at, starts_at, ends_at, extends) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(r.id, r.requesterId, r.purpose, r.justification, r.ticket, JSON.stringify(r.mailboxes.map((m) => m.id)),
        r.dateFrom, r.dateTo, r.fixedQuery, JSON.stringify(r.permissions), r.durationSeconds, r.approvalsNeeded, r.breakglass ? 1 : 0, r.createdAt,
        r.lapsesAt, r.approvedAt, r.startsAt, r.endsAt, r.extends);
  }

  async get(tx: Tx, id: string): Promise<AccessRequest | null> {
    const row = on(tx).prepare('SELECT * FROM access_request WHERE id = ?').get(id) as Record<string, any> | undefined;
    return row ? this.#toRequest(tx, row) : null;
  }

  async list(tx: Tx, filter: { requesterId?: number }): Promise<AccessRequest[]> {
    const rows = filter.requesterId === undefined
      ? on(tx).prepare('SELECT * FROM access_request ORDER BY created_at DESC, id DESC').all()
      : on(tx).prepare('SELECT * FROM access_request WHERE requester_id = ? ORDER BY created_at DESC, id DESC').all(filter.requesterId);
    return (rows as Record<string, any>[]).map((r) => this.#toRequest(tx, r));
  }

  async addApproval(tx: Tx, requestId: string, a: AccessRequest['approvals'][number]): Promise<void> {
    on(tx).prepare('INSERT INTO approval (request_id, approver_id, decision, reason, at) VALUES (?, ?, ?, ?, ?)').run(requestId, a.approverId, a.decision, a.reason, a.at);
  }

  async deny(tx: Tx, requestId: string, at: number): Promise<void> {
    on(tx).prepare('UPDATE access_request SET denied_at = ? WHERE id = ?').run(at, requestId);
  }

  async approve(tx: Tx, requestId: string, at: number, window: { startsAt: number; endsAt: number }): Promise<void> {
    on(tx).prepare('UPDATE access_request SET approved_at = ?, starts_at = ?, ends_at = ? WHERE id = ?').run(at, window.startsAt, window.endsAt, requestId);
  }

  async revoke(tx: Tx, requestId: string, at: number, byUserId: number): Promise<void> {
    on(tx).prepare('UPDATE access_request SET revoked_at = ?, revoked_by = ? WHERE id = ?').run(at, byUserId, requestId);
  }

  async mailbox(tx: Tx, nameOrAddress: string): Promise<RequestMailbox | null> {
    const key = nameOrAddress.trim().toLowerCase();
    const row = (on(tx).prepare('SELECT id, name, owner, sensitivity FROM mailbox WHERE lower(name) = ?').get(key)
      ?? on(tx).prepare('SELECT m.id, m.name, m.owner, m.sensitivity FROM mailbox_address a JOIN mailbox m ON m.id = a.mailbox_id WHERE a.address = ?').get(key)) as any;
    return row ? { id: Number(row.id), name: row.name, owner: row.owner, sensitivity: row.sensitivity } : null;
  }

  async sensitivities(tx: Tx): Promise<string[]> {
    return (on(tx).prepare('SELECT DISTINCT sensitivity FROM mailbox WHERE sensitivity IS NOT NULL').all() as { sensitivity: string }[]).map((r) => r.sensitivity);
  }

  // Under the id oversight's review routes know it by: rev_<request id>.
  async openBreakglassReview(tx: Tx, requestId: string, subjectUserId: number, at: number): Promise<void> {
    on(tx).prepare("INSERT INTO review_item (id, kind, request_id, subject_user_id, created_at, state) VALUES (?, 'breakglass', ?, ?, ?, 'open')")
      .run(`rev_${requestId}`, requestId, subjectUserId, at);
  }

  #toRequest(tx: Tx, row: Record<string, any>): AccessRequest {
    const ids = JSON.parse(row.mailboxes) as number[];
    const mailboxes = ids.map((id) => {
      const m = on(tx).prepare('SELECT id, name, owner, sensitivity FROM mailbox WHERE id = ?').get(id) as any;
      return { id, name: m?.name ?? `#${id}`, owner: m?.owner ?? null, sensitivity: m?.sensitivity ?? null };
    });
    const approvals = (on(tx).prepare('SELECT approver_id, decision, reason, at FROM approval WHERE request_id = ? ORDER BY at, rowid').all(row.id) as any[])
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
