import type { Tx } from '../core/transactions.ts';
// created: the account's maker was handed its first enrolment code; mailed: made through the API,
// its code mailed to the person's own mailboxes (src/access/enrolment-codes.ts), never seen by the
// maker.
export type LinkKind = 'created' | 'mailed' | 'roles' | 'recovery';

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
