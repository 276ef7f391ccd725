import type { FiledRequest, GrantStore } from '../../access/grant-store.ts';
import type { AccessRequest, RequestMailbox } from '../../access/grants.ts';
import type { Tx } from '../../core/transactions.ts';
import { on } from './transactions.ts';

// An access request is a row with its mailboxes (ids) and permissions as JSON arrays; each
// approval is a row of its own.
export class PostgresGrantStore implements GrantStore {
  async insert(tx: Tx, r: FiledRequest): Promise<void> {
    await on(tx).query(`INSERT INTO access_request (id, requester_id, purpose, justification, ticket, mailboxes, date_from, date_to, fixed_query, permissions,
      duration_seconds, approvals_needed, breakglass, created_at, lapses_at, approved_at, starts_at, ends_at, extends) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
    [r.id, r.requesterId, r.purpose, r.justification, r.ticket, JSON.stringify(r.mailboxes.map((m) => m.id)),
      r.dateFrom, r.dateTo, r.fixedQuery, JSON.stringify(r.permissions), r.durationSeconds, r.approvalsNeeded, r.breakglass ? 1 : 0, r.createdAt,
      r.lapsesAt, r.approvedAt, r.startsAt, r.endsAt, r.extends]);
  }

  async get(tx: Tx, id: string): Promise<AccessRequest | null> {
    const row = await on(tx).one('SELECT * FROM access_request WHERE id = $1', [id]);
    return row ? this.#toRequest(tx, row) : null;
  }

  async list(tx: Tx, filter: { requesterId?: number }): Promise<AccessRequest[]> {
    const rows = filter.requesterId === undefined
      ? await on(tx).query('SELECT * FROM access_request ORDER BY created_at DESC, id DESC')
      : await on(tx).query('SELECT * FROM access_request WHERE requester_id = $1 ORDER BY created_at DESC, id DESC', [filter.requesterId]);
    const requests: AccessRequest[] = [];
    for (const r of rows) requests.push(await this.#toRequest(tx, r));
    return requests;
  }

  async addApproval(tx: Tx, requestId: string, a: AccessRequest['approvals'][number]): Promise<void> {
    await on(tx).query('INSERT INTO approval (request_id, approver_id, decision, reason, at) VALUES ($1, $2, $3, $4, $5)', [requestId, a.approverId, a.decision, a.reason, a.at]);
  }

  async deny(tx: Tx, requestId: string, at: number): Promise<void> {
    await on(tx).query('UPDATE access_request SET denied_at = $1 WHERE id = $2', [at, requestId]);
  }

  async approve(tx: Tx, requestId: string, at: number, window: { startsAt: number; endsAt: number }): Promise<void> {
    await on(tx).query('UPDATE access_request SET approved_at = $1, starts_at = $2, ends_at = $3 WHERE id = $4', [at, window.startsAt, window.endsAt, requestId]);
  }

  async revoke(tx: Tx, requestId: string, at: number, byUserId: number): Promise<void> {
    await on(tx).query('UPDATE access_request SET revoked_at = $1, revoked_by = $2 WHERE id = $3', [at, byUserId, requestId]);
  }

  async mailbox(tx: Tx, nameOrAddress: string): Promise<RequestMailbox | null> {
    const key = nameOrAddress.trim().toLowerCase();
    const row = (await on(tx).one('SELECT id, name, owner, sensitivity FROM mailbox WHERE lower(name) = $1 ORDER BY id LIMIT 1', [key]))
      ?? (await on(tx).one('SELECT m.id, m.name, m.owner, m.sensitivity FROM mailbox_address a JOIN mailbox m ON m.id = a.mailbox_id WHERE a.address = $1', [key]));
    return row ? { id: row.id, name: row.name, owner: row.owner, sensitivity: row.sensitivity } : null;
  }

  async sensitivities(tx: Tx): Promise<string[]> {
    return (await on(tx).query<{ sensitivity: string }>('SELECT DISTINCT sensitivity FROM mailbox WHERE sensitivity IS NOT NULL')).map((r) => r.sensitivity);
  }

  // Under the id oversight's review routes know it by: rev_<request id>.
  async openBreakglassReview(tx: Tx, requestId: string, subjectUserId: number, at: number): Promise<void> {
    await on(tx).query("INSERT INTO review_item (id, kind, request_id, subject_user_id, created_at, state) VALUES ($1, 'breakglass', $2, $3, $4, 'open')", [`rev_${requestId}`, requestId, subjectUserId, at]);
  }

  async #toRequest(tx: Tx, row: Record<string, any>): Promise<AccessRequest> {
    const ids = JSON.parse(row.mailboxes) as number[];
    const found = new Map((await on(tx).query('SELECT id, name, owner, sensitivity FROM mailbox WHERE id = ANY($1::bigint[])', [ids])).map((m) => [m.id as number, m]));
    const mailboxes = ids.map((id) => {
      const m = found.get(id);
      return { id, name: m?.name ?? `#${id}`, owner: m?.owner ?? null, sensitivity: m?.sensitivity ?? null };
    });
    const approvals = (await on(tx).query('SELECT approver_id, decision, reason, at FROM approval WHERE request_id = $1 ORDER BY at, seq', [row.id]))
      .map((a) => ({ approverId: a.approver_id, decision: a.decision, reason: a.reason, at: a.at }));
    return {
      id: row.id, requesterId: row.requester_id, purpose: row.purpose, justification: row.justification, ticket: row.ticket, mailboxes,
      dateFrom: row.date_from, dateTo: row.date_to, fixedQuery: row.fixed_query, permissions: JSON.parse(row.permissions),
      durationSeconds: row.duration_seconds, approvalsNeeded: row.approvals_needed, breakglass: Boolean(row.breakglass),
      createdAt: row.created_at, lapsesAt: row.lapses_at, deniedAt: row.denied_at, approvedAt: row.approved_at,
      startsAt: row.starts_at, endsAt: row.ends_at, revokedAt: row.revoked_at, extends: row.extends ?? null, approvals,
    };
  }
}
