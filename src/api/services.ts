import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import { AccountRecovery } from '../access/account-recovery.ts';
import { ArchivingNotice } from '../access/archiving-notice.ts';
import { CodeAddresses } from '../access/enrolment-codes.ts';
import { MailboxOwnership } from '../access/mailbox-ownership.ts';
import { Notifier } from '../access/notifier.ts';
import type { PolicyInForce } from '../access/policy.ts';
import type { OpenIndex } from '../index/open-index.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { AuditorViews } from '../oversight/auditor-views.ts';
import { ReviewQueue } from '../oversight/review-queue.ts';
import type { Stores } from '../store/open-stores.ts';
import { Disposal } from '../retention/disposal.ts';
import { RetentionRules } from '../retention/retention-rules.ts';
import { LegalHolds } from '../retention/legal-holds.ts';
import { ObjectHolds } from '../retention/object-holds.ts';
import { SubjectRequests } from '../retention/subject-requests.ts';
import { DisposalRequests } from '../retention/disposal-requests.ts';
import { Leavers } from '../retention/leavers.ts';
import { OpenIdProviders } from '../access/openid-providers.ts';
import { RoleChanges } from '../access/role-changes.ts';
import { SsoLinks } from '../access/sso-links.ts';
import { SsoPeople } from '../access/sso-people.ts';
import { SsoSignIn } from '../access/sso-sign-in.ts';
import { DirectorySync } from '../directory/directory-sync.ts';
import { CaptureRetention } from '../retention/capture-retention.ts';
import { ScimDirectory } from '../directory/scim-directory.ts';
import { contentServices } from './content-services.ts';

export type Services = Awaited<ReturnType<typeof accessServices>>;

// The governed-access stage, assembled once for the API and the CLI alike.
export async function accessServices(config: Config, stores: Stores, ledger: Ledger, index: OpenIndex, clock: Clock, log: Logger) {
  // Content access first (./content-services.ts): the policy, people, grants, decisions, audit.
  const base = await contentServices(config, stores, ledger, index, clock, log);
  const { policy, people, mailboxes, links, fourEyes, grants, audit, search, credentials } = base;
  const current: PolicyInForce = (tx) => policy.inForce(tx);
  const codeAddresses = new CodeAddresses(mailboxes, config.internalDomains);
  const notifier = new Notifier({ store: stores.repos.notifications, inbox: stores.repos.inbox, people, clock, config: config.notify, purposeLabels: async (tx) => (await current(tx)).purposeLabels, addressesOf: (tx, u) => codeAddresses.secret(tx, u) });
  const recovery = new AccountRecovery({ recoveries: stores.repos.recoveries, people, addresses: codeAddresses, fourEyes, links, notifier, clock, policy: current });
  const leavers = new Leavers({ store: stores.repos.leavers, mailboxes, people, fourEyes, notifier, clock, leaverMonths: config.retention.leaverMonths });
  const holds = new LegalHolds({ store: stores.repos.holds, mailboxes, people, fourEyes, notifier, clock });
  // The rules as capture applies them, to judge a directory row by (src/access/mailbox-ownership.ts).
  const captureRetention = new CaptureRetention(stores.repos.retention, { defaultDays: config.retention.defaultDays, internalDomains: config.internalDomains });
  const ownership = new MailboxOwnership({ leavers, holds, retention: captureRetention, mailboxes, changes: stores.repos.ownership, people, fourEyes, notifier, policy: current, addresses: codeAddresses, clock });
  const retention = new RetentionRules({ store: stores.repos.retention, fourEyes, notifier, clock, defaultDays: config.retention.defaultDays });
  // Sign-in through OpenID providers, and the roles their groups ask for (src/access/sso-people.ts).
  const roleChanges = new RoleChanges({ store: stores.repos.roleChanges, people, fourEyes, notifier, credentials: stores.repos.credentials, recovery, clock });
  const ssoStore = stores.repos.sso;
  const ssoPeople = new SsoPeople({ store: ssoStore, people, roleChanges, ownership, mailboxes, notifier, clock, roleGroups: config.sso.roleGroups });
  const openIdProviders = new OpenIdProviders(config.sso.providers);
  const sso = new SsoSignIn({ providers: openIdProviders, store: ssoStore, ssoPeople, people, credentials, audit, db: stores.meta, clock });
  // People with an account here linking it to their own account at a provider (src/access/sso-links.ts).
  const ssoLinks = new SsoLinks({ providers: openIdProviders, signIn: sso, store: ssoStore, people, audit, notifier, db: stores.meta, clock, roleGroups: config.sso.roleGroups });
  // Directory sync from LDAP and SCIM (src/directory/): the same rules as the import and SSO.
  const directory = new DirectorySync({
    store: stores.repos.directory, audit, mailboxes, people, ownership, roleChanges, leavers, notifier, clock,
    roleGroups: config.sso.roleGroups, maxRemovalShare: config.directory.maxRemovalShare,
  });
  const scim = new ScimDirectory({ store: stores.repos.scim, sync: directory, audit, db: stores.meta, clock });
  const notice = new ArchivingNotice(stores.repos.notices, clock);
  // What oversight reads and keeps; the sweep in `serve` is built from the same.
  const oversightStores = {
    store: stores.repos.oversight, reviewStore: stores.repos.reviews,
    history: stores.repos.history, dates: index.dates, links, meta: stores.meta,
  };
  const disposal = new Disposal({ meta: stores.meta, store: stores.repos.disposal, index: index.store, blobs: stores.blobs, audit, clock, holds, leavers, search });
  const disposalRequests = new DisposalRequests({ store: stores.repos.disposalRequests, meta: stores.meta, fourEyes, notifier, clock, holds, search, disposal });
  const subjects = new SubjectRequests({ store: stores.repos.subjects, meta: stores.meta, fourEyes, notifier, clock, holds, search, disposal, audit });
  // Object storage with legal holds (blobs.kind "s3"): holds carried down to the objects.
  const legalHold = stores.blobs.legalHold?.bind(stores.blobs);
  const objectHolds = legalHold ? new ObjectHolds({ db: stores.meta, store: stores.repos.objectHolds, holds, search, legalHold, clock }) : null;
  const reviews = new ReviewQueue({ store: oversightStores.reviewStore, history: oversightStores.history, audit, people, clock });
  const oversight = new AuditorViews({ ...oversightStores, grants, people, leavers, audit, clock, config: config.oversight });
  return { ...base, recovery, codeAddresses, ownership, retention, holds, notifier, reviews, oversight, oversightStores, notice, disposal, disposalRequests, subjects, leavers, roleChanges, sso, ssoLinks, directory, scim, objectHolds };
}
