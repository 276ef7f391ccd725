import type { Clock } from '../core/clock.ts';
import { SealboxError } from '../core/errors.ts';
import { compileQuery, parseQuery } from '../index/search-query.ts';
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

  decide(caller: User, permission: Permission, grantId: string | null | undefined): Scope {
    const user = this.#people.byId(caller.id);
    if (!user || user.disabled) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'this account is disabled');
    if (grantId) {
      let grant: AccessRequest;
      try {
        grant = this.#grants.get(grantId);
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
    const owned = this.#people.ownedMailboxes(user);
    if (owned.length > 0 && !user.roles.includes('owner')) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'reading your own mailbox needs the owner role, which you do not hold now');
    if (owned.length === 0) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'you own no mailbox here; reading anyone else\'s mail needs an active grant (pass its id)');
    return { logonType: 'owner', grant: null, mailboxes: owned, dateFrom: null, dateTo: null, fixedQuery: null };
  }
}

// The scope as a SQL condition over the index (`doc d`, main database attached as `meta`): the
// mailboxes, the date window and the grant's fixed query, for searches and reads by id alike.
// The fixed query is compiled on its own, never pasted into the user's query text, so no
// parenthesis or OR in what the user types can step outside it.
export function scopeCondition(scope: Scope): { where: string; params: (string | number)[] } {
  const ids = scope.mailboxes.map((m) => m.id);
  const parts = [`d.id IN (SELECT p.doc_id FROM participation p WHERE p.address IN (SELECT address FROM meta.mailbox_address WHERE mailbox_id IN (${ids.map(() => '?').join(', ')})))`];
  const params: (string | number)[] = [...ids];
  if (scope.dateFrom !== null) {
    parts.push('d.date >= ?');
    params.push(scope.dateFrom);
  }
  if (scope.dateTo !== null) {
    parts.push('d.date < ?');
    params.push(scope.dateTo);
  }
  if (scope.fixedQuery !== null) {
    const fixed = compileQuery(parseQuery(scope.fixedQuery));
    parts.push(`(${fixed.where})`);
    params.push(...fixed.params);
  }
  return { where: parts.join(' AND '), params };
}
