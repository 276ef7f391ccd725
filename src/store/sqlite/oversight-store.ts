import type { Alert } from '../../oversight/alert-rules.ts';
import type { LiveToken, OversightMailbox, OversightStore } from '../../oversight/oversight-store.ts';
import type { SqliteMetadataStore } from './metadata-store.ts';

export class SqliteOversightStore implements OversightStore {
  readonly #meta: SqliteMetadataStore;

  constructor(meta: SqliteMetadataStore) {
    this.#meta = meta;
  }

  getSetting(key: string): string | null {
    return this.#meta.getSetting(key);
  }

  setSetting(key: string, value: string): void {
    this.#meta.setSetting(key, value);
  }

  addAlert(a: Alert, at: number): boolean {
    const r = this.#meta.prepare('INSERT OR IGNORE INTO alert (id, rule, ledger_index, request_id, created_at, text) VALUES (?, ?, ?, ?, ?, ?)').run(a.id, a.rule, a.ledgerIndex, a.requestId, at, a.text);
    return Number(r.changes) > 0;
  }

  hasAlert(id: string): boolean {
    return this.#meta.prepare('SELECT 1 FROM alert WHERE id = ?').get(id) !== undefined;
  }

  alertCounts(from: number, to: number): { rule: string; n: number }[] {
    return this.#meta.prepare('SELECT rule, COUNT(*) AS n FROM alert WHERE created_at >= ? AND created_at < ? GROUP BY rule ORDER BY rule').all(from, to) as { rule: string; n: number }[];
  }

  addMessagesRead(grantId: string, sha256s: string[]): number {
    const add = this.#meta.prepare('INSERT OR IGNORE INTO grant_message (request_id, sha256) VALUES (?, ?)');
    for (const sha of sha256s) add.run(grantId, sha);
    return Number((this.#meta.prepare('SELECT COUNT(*) AS n FROM grant_message WHERE request_id = ?').get(grantId) as { n: number }).n);
  }

  closedGrantsNotDrawn(now: number, limit: number): { id: string; requesterId: number }[] {
    return (this.#meta.prepare(`SELECT r.id, r.requester_id FROM access_request r LEFT JOIN grant_sample g ON g.request_id = r.id
      WHERE g.request_id IS NULL AND r.breakglass = 0 AND r.approved_at IS NOT NULL AND (r.revoked_at IS NOT NULL OR r.ends_at <= ?) ORDER BY r.id LIMIT ?`).all(now, limit) as { id: string; requester_id: number }[])
      .map((r) => ({ id: r.id, requesterId: Number(r.requester_id) }));
  }

  recordDraw(grantId: string, sampled: boolean, at: number): void {
    this.#meta.prepare('INSERT INTO grant_sample (request_id, sampled, at) VALUES (?, ?, ?)').run(grantId, sampled ? 1 : 0, at);
  }

  extendsOf(grantId: string): string | null {
    return (this.#meta.prepare('SELECT extends FROM access_request WHERE id = ?').get(grantId) as { extends: string | null } | undefined)?.extends ?? null;
  }

  mailbox(name: string): OversightMailbox | null {
    const row = this.#meta.prepare('SELECT id, name, owner, sensitivity, manager FROM mailbox WHERE name = ?').get(name) as Record<string, any> | undefined;
    return row ? toMailbox(row) : null;
  }

  mailboxes(): OversightMailbox[] {
    return (this.#meta.prepare('SELECT id, name, owner, sensitivity, manager FROM mailbox ORDER BY id').all() as Record<string, any>[]).map(toMailbox);
  }

  manages(manager: string, person: string): boolean {
    return this.#meta.prepare('SELECT 1 FROM mailbox WHERE owner = ? AND manager = ? LIMIT 1').get(person, manager) !== undefined;
  }

  liveTokens(at: number): LiveToken[] {
    return (this.#meta.prepare('SELECT t.id, u.name AS user, t.scopes, t.expires_at FROM api_token t JOIN user u ON u.id = t.user_id WHERE t.revoked_at IS NULL AND t.expires_at > ? AND u.disabled = 0').all(at) as Record<string, any>[])
      .map((t) => ({ id: t.id, user: t.user, scopes: JSON.parse(t.scopes) as string[], expiresAt: Number(t.expires_at) }));
  }
}

function toMailbox(r: Record<string, any>): OversightMailbox {
  return { id: Number(r.id), name: r.name, owner: r.owner ?? null, sensitivity: r.sensitivity ?? null, manager: r.manager ?? null };
}
