import type { Clock } from '../core/clock.ts';
import { SealboxError } from '../core/errors.ts';
import type { Tx } from '../core/transactions.ts';
import type { AccessRequest, Grants, Permission } from './grants.ts';
import { stateOf } from './grants.ts';
import type { People, User } from './people.ts';

export interface Scope {
  logonType: 'owner' | 'delegated' | 'breakglass';
  grant: AccessRequest | null;
  mailboxes: { id: number; name: string }[];
  dateFrom: number | null;
  dateTo: number | null;
  fixedQuery: string | null;
}

// The one access-decision point: a person reads archived content either as the owner of the
// mailboxes concerned or under an active grant of their own that carries the permission.
// Nobody else, admins included. Time is read once, here. Every read is decided on the present:
// the person is read again (a session's or token's copy may be older than a role change or a
// disable), and a grant is used only while its holder still has the role that filed it.
export class AccessDecision {
  readonly #grants: Grants;
  readonly #people: People;
  readonly #clock: Clock;

  constructor(grants: Grants, people: People, clock: Clock) {
    this.#grants = grants;
    this.#people = people;
    this.#clock = clock;
  }

  async decide(tx: Tx, caller: User, permission: Permission, grantId: string | null | undefined): Promise<Scope> {
    const user = await this.#people.byId(tx, caller.id);
    if (!user || user.disabled) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'this account is disabled');
    if (grantId) {
      let grant: AccessRequest;
      try {
        grant = await this.#grants.get(tx, grantId);
      } catch {
        throw new SealboxError('SEALBOX_ERR_FORBIDDEN', `grant ${grantId} does not exist`);
      }
      if (grant.requesterId !== user.id) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', `grant ${grantId} was not given to you`);
      const state = stateOf(grant, this.#clock.now());
      if (state !== 'active') throw new SealboxError('SEALBOX_ERR_FORBIDDEN', `grant ${grantId} is ${state}, not active`);
      if (!grant.permissions.includes(permission)) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', `grant ${grantId} does not allow ${permission}`);
      const role = grant.breakglass ? 'breakglass' : 'requester';
      if (!user.roles.includes(role)) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', `grant ${grantId} needs the ${role} role, which you no longer hold`);
      return {
        logonType: grant.breakglass ? 'breakglass' : 'delegated', grant, mailboxes: grant.mailboxes.map(({ id, name }) => ({ id, name })),
        dateFrom: grant.dateFrom, dateTo: grant.dateTo, fixedQuery: grant.fixedQuery,
      };
    }
    const owned = await this.#people.ownedMailboxes(tx, user);
    if (owned.length > 0 && !user.roles.includes('owner')) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'reading your own mailbox needs the owner role, which you do not hold now');
    if (owned.length === 0) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'you own no mailbox here; reading anyone else\'s mail needs an active grant (pass its id)');
    return { logonType: 'owner', grant: null, mailboxes: owned, dateFrom: null, dateTo: null, fixedQuery: null };
  }
}
