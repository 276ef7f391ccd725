import type { Tx } from '../core/transactions.ts';
export type LinkKind = 'created' | 'roles' | 'recovery';

export interface PersonLink {
  actorId: number;
  subjectId: number;
  kind: LinkKind;
  at: number;
}

// Who created whom, changed whose roles, approved whose account recovery: the links that make
// two accounts one person's hands for a while (src/access/four-eyes.ts decides with them).
export interface PersonLinkStore {
  // A link of someone to themselves is not kept.
  record(tx: Tx, link: PersonLink): Promise<void>;
  // Every link that touches one of these people, any time, oldest first.
  touching(tx: Tx, ids: number[]): Promise<PersonLink[]>;
}
