import type { PersonLink, PersonLinkStore } from '../../access/person-link-store.ts';
import type { SqliteMetadataStore } from './metadata-store.ts';
import { on } from './transactions.ts';
import type { Tx } from '../../core/transactions.ts';

export class SqlitePersonLinkStore implements PersonLinkStore {
  readonly #meta: SqliteMetadataStore;

  constructor(meta: SqliteMetadataStore) {
    this.#meta = meta;
  }

  async record(tx: Tx, link: PersonLink): Promise<void> {
    if (link.actorId === link.subjectId) return;
    on(tx).prepare('INSERT INTO person_link (actor_id, subject_id, kind, at) VALUES (?, ?, ?, ?)').run(link.actorId, link.subjectId, link.kind, link.at);
  }

  async touching(tx: Tx, ids: number[]): Promise<PersonLink[]> {
    if (ids.length === 0) return [];
    const marks = ids.map(() => '?').join(', ');
    return (on(tx).prepare(`SELECT actor_id, subject_id, kind, at FROM person_link WHERE actor_id IN (${marks}) OR subject_id IN (${marks}) ORDER BY at`)
      .all(...ids, ...ids) as Record<string, any>[])
      .map((r) => ({ actorId: Number(r.actor_id), subjectId: Number(r.subject_id), kind: r.kind, at: Number(r.at) }));
  }
}
