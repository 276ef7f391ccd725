import { userInfo } from 'node:os';
import { systemClock } from '../core/clock.ts';
import { loadConfig } from '../core/config.ts';
import type { Config } from '../core/config.ts';
import { SealboxError } from '../core/errors.ts';
import { FourEyes } from '../access/four-eyes.ts';
import { MailboxOwnership } from '../access/mailbox-ownership.ts';
import { Notifier } from '../access/notifier.ts';
import type { People } from '../access/people.ts';
import { Policy } from '../access/policy.ts';
import { accessServices } from '../api/services.ts';
import { openIndexDb } from '../index/sqlite/index-db.ts';
import type { SearchIndex } from '../index/search-index.ts';
import { SqliteSearchIndex } from '../index/sqlite/search-index.ts';
import { Ledger } from '../ledger/ledger.ts';
import { openStores } from '../store/open-stores.ts';
import type { Stores } from '../store/open-stores.ts';
import { SqliteMailboxStore } from '../store/sqlite/mailbox-store.ts';
import { SqliteNotificationStore } from '../store/sqlite/notification-store.ts';
import { SqliteOwnershipChangeStore } from '../store/sqlite/ownership-change-store.ts';
import { SqlitePersonLinkStore } from '../store/sqlite/person-link-store.ts';

// What the commands share: the config from their flags, the archive opened for reading or for
// an operator's change, and a person identified by an API token.

// Commander's parsed options: each command reads the ones it declared.
export type CliOptions = Record<string, any>;

export const configOf = (o: { data?: string; config?: string; smtp?: string; lmtp?: string; http?: string; milter?: string }): Config =>
  loadConfig(o.config, { data: o.data, smtp: o.smtp, lmtp: o.lmtp, http: o.http, milter: o.milter });

// The console appends entries (operator changes, refusals) but never signs: the server does.
export function ledgerFor(stores: Stores, config: Config): Ledger {
  return new Ledger({
    store: stores.meta, origin: config.ledger.origin, clock: systemClock,
    sign: () => { throw new SealboxError('SEALBOX_ERR_INTERNAL', 'checkpoints are signed by the server'); },
  });
}

export function openSearch(stores: Stores): SearchIndex {
  return new SqliteSearchIndex(openIndexDb(stores.paths.index, stores.paths.meta));
}

// Content is read on the command line exactly as over HTTP: as the owner of the mailboxes, or
// under an active grant of one's own, identified by an API token; every read is in the ledger.
export function openReader(o: { token?: string; data?: string; config?: string }, scope: 'content' | 'ledger' = 'content') {
  const config = configOf(o);
  const stores = openStores(config, { create: false });
  const indexDb = openIndexDb(stores.paths.index, stores.paths.meta);
  const services = accessServices(config, stores, ledgerFor(stores, config), indexDb, systemClock);
  const close = () => {
    indexDb.close();
    stores.close();
  };
  const token = o.token ?? process.env.SEALBOX_TOKEN;
  const principal = token ? services.credentials.token(token) : null;
  if (!principal || !principal.scopes!.includes(scope)) {
    // A refused token that names someone (revoked, expired, a forged secret, lacking the scope)
    // is recorded as over HTTP before the refusal is answered.
    const command = `sealbox ${process.argv[2] ?? ''}`.trim();
    const cli = { clientIp: null, userAgent: `sealbox-cli (${userInfo().username})` };
    try {
      if (principal) {
        services.audit.denied({ ...cli, sessionId: principal.sessionId, user: principal.user, logonType: 'owner' }, { operation: 'token.use', parameters: { route: command, tokenId: principal.sessionId, scopes: principal.scopes } }, `token lacks the "${scope}" scope`);
      } else if (token) {
        const refused = services.credentials.refusedToken(token);
        if (refused) services.audit.denied({ ...cli, sessionId: refused.tokenId, user: refused.user, logonType: 'owner' }, { operation: 'token.use', parameters: { route: command, tokenId: refused.tokenId } }, refused.why);
      }
    } finally {
      close();
    }
    if (!token) throw new SealboxError('SEALBOX_ERR_AUTH', `this needs your API token: --token TOKEN or SEALBOX_TOKEN (create one with: sealbox tokens create --name YOU --scope ${scope})`);
    if (!principal) throw new SealboxError('SEALBOX_ERR_AUTH', 'API token is unknown, expired or revoked');
    throw new SealboxError('SEALBOX_ERR_FORBIDDEN', `this API token lacks the "${scope}" scope`);
  }
  const ctx = { sessionId: principal.sessionId, clientIp: null, userAgent: `sealbox-cli (${userInfo().username})` };
  return { services, user: principal.user, ctx, close };
}

// The directory's ownership rules for the console (the same as the API's).
export function directoryOwnership(stores: Stores, config: Config, people: People): MailboxOwnership {
  const policy = new Policy(stores.meta, config.access);
  const fourEyes = new FourEyes(new SqlitePersonLinkStore(stores.meta), people, systemClock, () => policy.current());
  return new MailboxOwnership({
    mailboxes: new SqliteMailboxStore(stores.meta), changes: new SqliteOwnershipChangeStore(stores.meta), people, fourEyes,
    notifier: new Notifier(new SqliteNotificationStore(stores.meta), people, systemClock, config.notify), clock: systemClock,
  });
}
