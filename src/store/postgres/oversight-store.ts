import type { Alert } from '../../oversight/alert-rules.ts';
import type { LiveToken, OversightMailbox, OversightStore } from '../../oversight/oversight-store.ts';
import type { Tx } from '../../core/transactions.ts';
import type { PostgresMetadataStore } from './metadata-store.ts';
import { on } from './transactions.ts';

export class PostgresOversightStore implements OversightStore {
  readonly #meta: PostgresMetadataStore;

  constructor(meta: PostgresMetadataStore) {
    this.#meta = meta;
  }

  async getSetting(tx: Tx, key: string): Promise<string | null> {
    return await this.#meta.getSetting(tx, key);
  }

  async setSetting(tx: Tx, key: string, value: string): Promise<void> {
    await this.#meta.setSetting(tx, key, value);
  }

  async addAlert(tx: Tx, a: Alert, at: number): Promise<boolean> {
    return (await on(tx).run('INSERT INTO alert (id, rule, ledger_index, request_id, created_at, text) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING',
      [a.id, a.rule, a.ledgerIndex, a.requestId, at, a.text])) > 0;
  }

  async hasAlert(tx: Tx, id: string): Promise<boolean> {
    return (await on(tx).one('SELECT 1 FROM alert WHERE id = $1', [id])) !== undefined;
  }

  async alertCounts(tx: Tx, from: number, to: number): Promise<{ rule: string; n: number }[]> {
    return (await on(tx).query<{ rule: string; n: number }>('SELECT rule, COUNT(*) AS n FROM alert WHERE created_at >= $1 AND created_at < $2 GROUP BY rule ORDER BY rule', [from, to]))
      .map((r) => ({ rule: r.rule, n: r.n }));
  }

  async addMessagesRead(tx: Tx, grantId: string, sha256s: string[]): Promise<number> {
    if (sha256s.length > 0) await on(tx).query('INSERT INTO grant_message (request_id, sha256) SELECT DISTINCT $1::text, unnest($2::text[]) ON CONFLICT DO NOTHING', [grantId, sha256s]);
    return (await on(tx).one<{ n: number }>('SELECT COUNT(*) AS n FROM grant_message WHERE request_id = $1', [grantId]))!.n;
  }

  async closedGrantsNotDrawn(tx: Tx, now: number, limit: number): Promise<{ id: string; requesterId: number }[]> {
    return (await on(tx).query(`SELECT r.id, r.requester_id FROM access_request r LEFT JOIN grant_sample g ON g.request_id = r.id
      WHERE g.request_id IS NULL AND r.breakglass = 0 AND r.approved_at IS NOT NULL AND (r.revoked_at IS NOT NULL OR r.ends_at <= $1) ORDER BY r.id LIMIT $2`, [now, limit]))
      .map((r) => ({ id: r.id, requesterId: r.requester_id }));
  }

  async recordDraw(tx: Tx, grantId: string, sampled: boolean, at: number): Promise<void> {
    await on(tx).query('INSERT INTO grant_sample (request_id, sampled, at) VALUES ($1, $2, $3)', [grantId, sampled ? 1 : 0, at]);
  }

  async extendsOf(tx: Tx, grantId: string): Promise<string | null> {
    return (await on(tx).one<{ extends: string | null }>('SELECT extends FROM access_request WHERE id = $1', [grantId]))?.extends ?? null;
  }

  async mailbox(tx: Tx, name: string): Promise<OversightMailbox | null> {
    const row = await on(tx).one('SELECT id, name, owner, sensitivity, manager FROM mailbox WHERE name = $1', [name]);
    return row ? toMailbox(row) : null;
  }

  async mailboxes(tx: Tx): Promise<OversightMailbox[]> {
    return (await on(tx).query('SELECT id, name, owner, sensitivity, manager FROM mailbox ORDER BY id')).map(toMailbox);
  }

  async manages(tx: Tx, manager: string, person: string): Promise<boolean> {
    return (await on(tx).one('SELECT 1 FROM mailbox WHERE owner = $1 AND manager = $2 LIMIT 1', [person, manager])) !== undefined;
  }

  async liveTokens(tx: Tx, at: number): Promise<LiveToken[]> {
    return (await on(tx).query('SELECT t.id, u.name AS "user", t.scopes, t.expires_at FROM api_token t JOIN "user" u ON u.id = t.user_id WHERE t.revoked_at IS NULL AND t.expires_at > $1 AND u.disabled = 0 ORDER BY t.created_at, t.id', [at]))
      .map((t) => ({ id: t.id, user: t.user, scopes: JSON.parse(t.scopes) as string[], expiresAt: t.expires_at }));
  }
}

function toMailbox(r: Record<string, any>): OversightMailbox {
  return { id: r.id, name: r.name, owner: r.owner ?? null, sensitivity: r.sensitivity ?? null, manager: r.manager ?? null };
}
