import type { PersonLink, PersonLinkStore } from '../../access/person-link-store.ts';
import type { Tx } from '../../core/transactions.ts';
import { on } from './transactions.ts';

export class PostgresPersonLinkStore implements PersonLinkStore {
  async record(tx: Tx, link: PersonLink): Promise<void> {
    if (link.actorId === link.subjectId) return;
    await on(tx).query('INSERT INTO person_link (actor_id, subject_id, kind, at) VALUES ($1, $2, $3, $4)', [link.actorId, link.subjectId, link.kind, link.at]);
  }

  async touching(tx: Tx, ids: number[]): Promise<PersonLink[]> {
    if (ids.length === 0) return [];
    return (await on(tx).query('SELECT actor_id, subject_id, kind, at FROM person_link WHERE actor_id = ANY($1::bigint[]) OR subject_id = ANY($1::bigint[]) ORDER BY at, seq', [ids]))
      .map((r) => ({ actorId: r.actor_id, subjectId: r.subject_id, kind: r.kind, at: r.at }));
  }
}
