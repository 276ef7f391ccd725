import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import { AccessDecision } from '../access/access-decision.ts';
import { AccountRecovery } from '../access/account-recovery.ts';
import { ArchivingNotice } from '../access/archiving-notice.ts';
import { Audit } from '../access/audit.ts';
import { ContentAccess } from '../access/content-access.ts';
import { Credentials } from '../access/credentials.ts';
import { FourEyes } from '../access/four-eyes.ts';
import { Grants } from '../access/grants.ts';
import { MailboxOwnership } from '../access/mailbox-ownership.ts';
import type { MailboxStore } from '../access/mailbox-store.ts';
import { Notifier } from '../access/notifier.ts';
import { People } from '../access/people.ts';
import type { PersonLinkStore } from '../access/person-link-store.ts';
import { Policy } from '../access/policy.ts';
import { ExtractorPool } from '../index/extract/extractor-pool.ts';
import { SqliteSearchIndex } from '../index/sqlite/search-index.ts';
import { SqliteMessageDates } from '../index/sqlite/message-dates.ts';
import type { IndexDatabase } from '../index/sqlite/index-db.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { AuditorViews } from '../oversight/auditor-views.ts';
import { ReviewQueue } from '../oversight/review-queue.ts';
import type { Stores } from '../store/open-stores.ts';
import { SqliteAccountRecoveryStore } from '../store/sqlite/account-recovery-store.ts';
import { SqliteCredentialStore } from '../store/sqlite/credential-store.ts';
import { SqliteGrantStore } from '../store/sqlite/grant-store.ts';
import { SqliteInboxStore } from '../store/sqlite/inbox-store.ts';
import { SqliteLedgerHistory } from '../store/sqlite/ledger-history.ts';
import { SqliteMailboxStore } from '../store/sqlite/mailbox-store.ts';
import { SqliteNoticeStore } from '../store/sqlite/notice-store.ts';
import { SqliteNotificationStore } from '../store/sqlite/notification-store.ts';
import { SqliteOversightStore } from '../store/sqlite/oversight-store.ts';
import { SqliteOwnershipChangeStore } from '../store/sqlite/ownership-change-store.ts';
import { SqlitePeopleStore } from '../store/sqlite/people-store.ts';
import { SqlitePersonLinkStore } from '../store/sqlite/person-link-store.ts';
import { SqliteRetentionStore } from '../store/sqlite/retention-store.ts';
import { SqliteReviewStore } from '../store/sqlite/review-store.ts';
import { Disposal } from '../retention/disposal.ts';
import { SqliteDisposalStore } from '../store/sqlite/disposal-store.ts';
import { SqliteIndexStore } from '../index/sqlite/index-store.ts';
import { RetentionRules } from '../retention/retention-rules.ts';
import { LegalHolds } from '../retention/legal-holds.ts';
import { ObjectHolds } from '../retention/object-holds.ts';
import { SqliteObjectHoldStore } from '../store/sqlite/object-hold-store.ts';
import { SubjectRequests } from '../retention/subject-requests.ts';
import { DisposalRequests } from '../retention/disposal-requests.ts';
import { SqliteDisposalRequestStore } from '../store/sqlite/disposal-request-store.ts';
import { SqliteSubjectStore } from '../store/sqlite/subject-store.ts';
import { SqliteHoldStore } from '../store/sqlite/hold-store.ts';
import { Leavers } from '../retention/leavers.ts';
import { SqliteLeaverStore } from '../store/sqlite/leaver-store.ts';
import { OpenIdProviders } from '../access/openid-providers.ts';
import { RoleChanges } from '../access/role-changes.ts';
import { SsoLinks } from '../access/sso-links.ts';
import { SsoPeople } from '../access/sso-people.ts';
import { SsoSignIn } from '../access/sso-sign-in.ts';
import { SqliteRoleChangeStore } from '../store/sqlite/role-change-store.ts';
import { SqliteSsoStore } from '../store/sqlite/sso-store.ts';
import { DirectorySync } from '../directory/directory-sync.ts';
import { SqliteDirectoryStore } from '../store/sqlite/directory-store.ts';
import { ScimDirectory } from '../directory/scim-directory.ts';
import { SqliteScimStore } from '../store/sqlite/scim-store.ts';

export type Services = Awaited<ReturnType<typeof accessServices>>;

// People and their sign-in, for the API and for the console commands that need nothing else.
export function peopleOf(stores: Stores, clock: Clock, policy: () => Config['access']): People {
  return new People({
    store: new SqlitePeopleStore(stores.meta), credentials: new SqliteCredentialStore(stores.meta), recoveries: new SqliteAccountRecoveryStore(stores.meta),
    mailboxes: new SqliteMailboxStore(stores.meta), keys: stores.keys, clock, policy, db: stores.meta,
  });
}

// The governed-access stage, assembled once for the API and the CLI alike.
export async function accessServices(config: Config, stores: Stores, ledger: Ledger, indexDb: IndexDatabase, clock: Clock, log: Logger) {
  const policy = await stores.meta.read((tx) => new Policy(stores.meta, config.access).load(tx));
  const current = () => policy.current();
  const people = peopleOf(stores, clock, current);
  const mailboxes: MailboxStore = new SqliteMailboxStore(stores.meta);
  const links: PersonLinkStore = new SqlitePersonLinkStore(stores.meta);
  const fourEyes = new FourEyes(links, people, clock, current);
  const grants = new Grants(new SqliteGrantStore(stores.meta), clock, current, fourEyes);
  const notifier = new Notifier({ store: new SqliteNotificationStore(stores.meta), inbox: new SqliteInboxStore(stores.meta), people, clock, config: config.notify, purposeLabels: () => current().purposeLabels });
  const recovery = new AccountRecovery({ recoveries: new SqliteAccountRecoveryStore(stores.meta), people, fourEyes, links, notifier, clock, policy: current });
  const leavers = new Leavers({ store: new SqliteLeaverStore(), mailboxes, people, fourEyes, notifier, clock, leaverMonths: config.retention.leaverMonths });
  const ownership = new MailboxOwnership({ leavers, mailboxes, changes: new SqliteOwnershipChangeStore(stores.meta), people, fourEyes, notifier, clock });
  const retention = new RetentionRules({ store: new SqliteRetentionStore(stores.meta), fourEyes, notifier, clock, defaultDays: config.retention.defaultDays });
  const holds = new LegalHolds({ store: new SqliteHoldStore(), mailboxes, people, fourEyes, notifier, clock });
  const audit = new Audit(stores.meta, ledger);
  const decision = new AccessDecision(grants, people, clock);
  const search = new SqliteSearchIndex(indexDb);
  const credentials = new Credentials(new SqliteCredentialStore(stores.meta), people, clock, () => current().sessionHours);
  // Sign-in through OpenID providers, and the roles their groups ask for (src/access/sso-people.ts).
  const roleChanges = new RoleChanges({ store: new SqliteRoleChangeStore(), people, fourEyes, notifier, credentials: new SqliteCredentialStore(stores.meta), clock });
  const ssoStore = new SqliteSsoStore();
  const ssoPeople = new SsoPeople({ store: ssoStore, people, roleChanges, ownership, mailboxes, notifier, clock, roleGroups: config.sso.roleGroups });
  const openIdProviders = new OpenIdProviders(config.sso.providers);
  const sso = new SsoSignIn({ providers: openIdProviders, store: ssoStore, ssoPeople, people, credentials, audit, db: stores.meta, clock });
  // People with an account here linking it to their own account at a provider (src/access/sso-links.ts).
  const ssoLinks = new SsoLinks({ providers: openIdProviders, signIn: sso, store: ssoStore, people, audit, notifier, db: stores.meta, clock, roleGroups: config.sso.roleGroups });
  // Directory sync from LDAP and SCIM (src/directory/): the same rules as the import and SSO.
  const directory = new DirectorySync({
    store: new SqliteDirectoryStore(), audit, mailboxes, people, ownership, roleChanges, leavers, notifier, clock,
    roleGroups: config.sso.roleGroups, maxRemovalShare: config.directory.maxRemovalShare,
  });
  const scim = new ScimDirectory({ store: new SqliteScimStore(), sync: directory, audit, db: stores.meta, clock });
  const notice = new ArchivingNotice(new SqliteNoticeStore(stores.meta), clock);
  // Its processes start when an attachment's text is first shown, and idle ones keep nothing running.
  const ocr = config.index.ocr ? config.index.ocrLanguages : null;
  const extractor = new ExtractorPool({ log: log.child({ component: 'extractor' }), ocr });
  const content = new ContentAccess({ decision, audit, search, reader: stores.reader, meta: stores.meta, people, extract: (file) => extractor.extract(file), ocr: ocr !== null });
  // What oversight reads and keeps; the sweep in `serve` is built from the same.
  const oversightStores = {
    store: new SqliteOversightStore(stores.meta), reviewStore: new SqliteReviewStore(stores.meta),
    history: new SqliteLedgerHistory(stores.meta), dates: new SqliteMessageDates(indexDb), links, meta: stores.meta,
  };
  const disposal = new Disposal({ meta: stores.meta, store: new SqliteDisposalStore(stores.meta), index: new SqliteIndexStore(indexDb), blobs: stores.blobs, audit, clock, holds, leavers, search });
  const disposalRequests = new DisposalRequests({ store: new SqliteDisposalRequestStore(), meta: stores.meta, fourEyes, notifier, clock, holds, search, disposal });
  const subjects = new SubjectRequests({ store: new SqliteSubjectStore(), meta: stores.meta, fourEyes, notifier, clock, holds, search, disposal, audit });
  // Object storage with legal holds (blobs.kind "s3"): holds carried down to the objects.
  const legalHold = stores.blobs.legalHold?.bind(stores.blobs);
  const objectHolds = legalHold ? new ObjectHolds({ db: stores.meta, store: new SqliteObjectHoldStore(), holds, search, legalHold, clock }) : null;
  const reviews = new ReviewQueue({ store: oversightStores.reviewStore, history: oversightStores.history, audit, people, clock });
  const oversight = new AuditorViews({ ...oversightStores, grants, people, leavers, audit, clock, config: config.oversight });
  return { config, stores, db: stores.meta, ledger, clock, policy, people, mailboxes, links, fourEyes, recovery, ownership, retention, holds, grants, notifier, audit, decision, search, credentials, content, reviews, oversight, oversightStores, indexDb, notice, disposal, disposalRequests, subjects, leavers, roleChanges, sso, ssoLinks, directory, scim, objectHolds };
}
