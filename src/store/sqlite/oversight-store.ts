import type { Alert } from '../../oversight/alert-rules.ts';
import type { LiveToken, OversightMailbox, OversightStore } from '../../oversight/oversight-store.ts';
import type { SqliteMetadataStore } from './metadata-store.ts';
import { on } from './transactions.ts';
import type { Tx } from '../../core/transactions.ts';

export class SqliteOversightStore implements OversightStore {
  readonly #meta: SqliteMetadataStore;

  constructor(meta: SqliteMetadataStore) {
    this.#meta = meta;
  }

  async getSetting(tx: Tx, key: string): Promise<string | null> {
    return await this.#meta.getSetting(tx, key);
  }

  async setSetting(tx: Tx, key: string, value: string): Promise<void> {
    await this.#meta.setSetting(tx, key, value);
  }

  async addAlert(tx: Tx, a: Alert, at: number): Promise<boolean> {
    const r = on(tx).prepare('INSERT OR IGNORE INTO alert (id, rule, ledger_index, request_id, created_at, text) VALUES (?, ?, ?, ?, ?, ?)').run(a.id, a.rule, a.ledgerIndex, a.requestId, at, a.text);
    return Number(r.changes) > 0;
  }

  async hasAlert(tx: Tx, id: string): Promise<boolean> {
    return on(tx).prepare('SELECT 1 FROM alert WHERE id = ?').get(id) !== undefined;
  }

  async alertCounts(tx: Tx, from: number, to: number): Promise<{ rule: string; n: number }[]> {
    return on(tx).prepare('SELECT rule, COUNT(*) AS n FROM alert WHERE created_at >= ? AND created_at < ? GROUP BY rule ORDER BY rule').all(from, to) as { rule: string; n: number }[];
  }

  async addMessagesRead(tx: Tx, grantId: string, sha256s: string[]): Promise<number> {
    const add = on(tx).prepare('INSERT OR IGNORE INTO grant_message (request_id, sha256) VALUES (?, ?)');
    for (const sha of sha256s) add.run(grantId, sha);
    return Number((on(tx).prepare('SELECT COUNT(*) AS n FROM grant_message WHERE request_id = ?').get(grantId) as { n: number }).n);
  }

  async closedGrantsNotDrawn(tx: Tx, now: number, limit: number): Promise<{ id: string; requesterId: number }[]> {
    return (on(tx).prepare(`SELECT r.id, r.requester_id FROM access_request r LEFT JOIN grant_sample g ON g.request_id = r.id
      WHERE g.request_id IS NULL AND r.breakglass = 0 AND r.approved_at IS NOT NULL AND (r.revoked_at IS NOT NULL OR r.ends_at <= ?) ORDER BY r.id LIMIT ?`).all(now, limit) as { id: string; requester_id: number }[])
      .map((r) => ({ id: r.id, requesterId: Number(r.requester_id) }));
  }

  async recordDraw(tx: Tx, grantId: string, sampled: boolean, at: number): Promise<void> {
    on(tx).prepare('INSERT INTO grant_sample (request_id, sampled, at) VALUES (?, ?, ?)').run(grantId, sampled ? 1 : 0, at);
  }

  async extendsOf(tx: Tx, grantId: string): Promise<string | null> {
    return (on(tx).prepare('SELECT extends FROM access_request WHERE id = ?').get(grantId) as { extends: string | null } | undefined)?.extends ?? null;
  }

  async mailbox(tx: Tx, name: string): Promise<OversightMailbox | null> {
    const row = on(tx).prepare('SELECT id, name, owner, sensitivity, manager FROM mailbox WHERE name = ?').get(name) as Record<string, any> | undefined;
    return row ? toMailbox(row) : null;
  }

  async mailboxes(tx: Tx): Promise<OversightMailbox[]> {
    return (on(tx).prepare('SELECT id, name, owner, sensitivity, manager FROM mailbox ORDER BY id').all() as Record<string, any>[]).map(toMailbox);
  }

  async manages(tx: Tx, manager: string, person: string): Promise<boolean> {
    return on(tx).prepare('SELECT 1 FROM mailbox WHERE owner = ? AND manager = ? LIMIT 1').get(person, manager) !== undefined;
  }

  async liveTokens(tx: Tx, at: number): Promise<LiveToken[]> {
    return (on(tx).prepare('SELECT t.id, u.name AS user, t.scopes, t.expires_at FROM api_token t JOIN user u ON u.id = t.user_id WHERE t.revoked_at IS NULL AND t.expires_at > ? AND u.disabled = 0').all(at) as Record<string, any>[])
      .map((t) => ({ id: t.id, user: t.user, scopes: JSON.parse(t.scopes) as string[], expiresAt: Number(t.expires_at) }));
  }
}

function toMailbox(r: Record<string, any>): OversightMailbox {
  return { id: Number(r.id), name: r.name, owner: r.owner ?? null, sensitivity: r.sensitivity ?? null, manager: r.manager ?? null };
}
