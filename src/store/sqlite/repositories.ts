import type { MetadataRepositories } from '../repositories.ts';
import { SqliteAccountRecoveryStore } from './account-recovery-store.ts';
import { SqliteCaptureQueue } from './capture-queue.ts';
import { SqliteCredentialStore } from './credential-store.ts';
import { SqliteDirectoryStore } from './directory-store.ts';
import { SqliteDisposalRequestStore } from './disposal-request-store.ts';
import { SqliteDisposalStore } from './disposal-store.ts';
import { SqliteExportJobStore } from './export-job-store.ts';
import { SqliteGrantStore } from './grant-store.ts';
import { SqliteHoldStore } from './hold-store.ts';
import { SqliteInboxStore } from './inbox-store.ts';
import { SqliteLeaverStore } from './leaver-store.ts';
import { SqliteLedgerHistory } from './ledger-history.ts';
import { SqliteMailboxStore } from './mailbox-store.ts';
import type { SqliteMetadataStore } from './metadata-store.ts';
import { SqliteNoticeStore } from './notice-store.ts';
import { SqliteNotificationStore } from './notification-store.ts';
import { SqliteObjectHoldStore } from './object-hold-store.ts';
import { SqliteOversightStore } from './oversight-store.ts';
import { SqliteOwnershipChangeStore } from './ownership-change-store.ts';
import { SqlitePeopleStore } from './people-store.ts';
import { SqlitePersonLinkStore } from './person-link-store.ts';
import { SqliteRetentionStore } from './retention-store.ts';
import { SqliteReviewStore } from './review-store.ts';
import { SqliteRoleChangeStore } from './role-change-store.ts';
import { SqliteScimStore } from './scim-store.ts';
import { SqliteSsoStore } from './sso-store.ts';
import { SqliteSubjectStore } from './subject-store.ts';

// Every SQLite repository over one metadata store. They keep no state of their own (each call
// runs on the tx it is given), so one of each serves the whole process.
export function sqliteRepositories(meta: SqliteMetadataStore): MetadataRepositories {
  return {
    people: new SqlitePeopleStore(meta), credentials: new SqliteCredentialStore(meta), recoveries: new SqliteAccountRecoveryStore(meta),
    mailboxes: new SqliteMailboxStore(meta), links: new SqlitePersonLinkStore(meta), grants: new SqliteGrantStore(meta),
    notifications: new SqliteNotificationStore(meta), inbox: new SqliteInboxStore(meta), ownership: new SqliteOwnershipChangeStore(meta),
    roleChanges: new SqliteRoleChangeStore(), sso: new SqliteSsoStore(), notices: new SqliteNoticeStore(meta), reviews: new SqliteReviewStore(meta),
    oversight: new SqliteOversightStore(meta), history: new SqliteLedgerHistory(meta), captures: new SqliteCaptureQueue(meta),
    leavers: new SqliteLeaverStore(), retention: new SqliteRetentionStore(meta), holds: new SqliteHoldStore(), disposal: new SqliteDisposalStore(meta),
    disposalRequests: new SqliteDisposalRequestStore(), subjects: new SqliteSubjectStore(), objectHolds: new SqliteObjectHoldStore(),
    directory: new SqliteDirectoryStore(), scim: new SqliteScimStore(), exportJobs: new SqliteExportJobStore(),
  };
}
