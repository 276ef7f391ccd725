import type { MetadataRepositories } from '../repositories.ts';
import { PostgresAccountRecoveryStore } from './account-recovery-store.ts';
import { PostgresCaptureQueue } from './capture-queue.ts';
import { PostgresCredentialStore } from './credential-store.ts';
import { PostgresDirectoryStore } from './directory-store.ts';
import { PostgresDisposalRequestStore } from './disposal-request-store.ts';
import { PostgresDisposalStore } from './disposal-store.ts';
import { PostgresExportJobStore } from './export-job-store.ts';
import { PostgresGrantStore } from './grant-store.ts';
import { PostgresHoldStore } from './hold-store.ts';
import { PostgresInboxStore } from './inbox-store.ts';
import { PostgresLeaverStore } from './leaver-store.ts';
import { PostgresLedgerHistory } from './ledger-history.ts';
import { PostgresMailboxStore } from './mailbox-store.ts';
import type { PostgresMetadataStore } from './metadata-store.ts';
import { PostgresNoticeStore } from './notice-store.ts';
import { PostgresNotificationStore } from './notification-store.ts';
import { PostgresObjectHoldStore } from './object-hold-store.ts';
import { PostgresOversightStore } from './oversight-store.ts';
import { PostgresOwnershipChangeStore } from './ownership-change-store.ts';
import { PostgresPeopleStore } from './people-store.ts';
import { PostgresPersonLinkStore } from './person-link-store.ts';
import { PostgresRetentionStore } from './retention-store.ts';
import { PostgresReviewStore } from './review-store.ts';
import { PostgresRoleChangeStore } from './role-change-store.ts';
import { PostgresScimStore } from './scim-store.ts';
import { PostgresSsoStore } from './sso-store.ts';
import { PostgresSubjectStore } from './subject-store.ts';

// Every PostgreSQL repository over one metadata store, as sqliteRepositories hands out SQLite's.
export function postgresRepositories(meta: PostgresMetadataStore): MetadataRepositories {
  return {
    people: new PostgresPeopleStore(), credentials: new PostgresCredentialStore(), recoveries: new PostgresAccountRecoveryStore(),
    mailboxes: new PostgresMailboxStore(meta), links: new PostgresPersonLinkStore(), grants: new PostgresGrantStore(),
    notifications: new PostgresNotificationStore(), inbox: new PostgresInboxStore(), ownership: new PostgresOwnershipChangeStore(),
    roleChanges: new PostgresRoleChangeStore(), sso: new PostgresSsoStore(), notices: new PostgresNoticeStore(meta), reviews: new PostgresReviewStore(),
    oversight: new PostgresOversightStore(meta), history: new PostgresLedgerHistory(), captures: new PostgresCaptureQueue(meta),
    leavers: new PostgresLeaverStore(), retention: new PostgresRetentionStore(meta), holds: new PostgresHoldStore(), disposal: new PostgresDisposalStore(meta),
    disposalRequests: new PostgresDisposalRequestStore(), subjects: new PostgresSubjectStore(), objectHolds: new PostgresObjectHoldStore(),
    directory: new PostgresDirectoryStore(), scim: new PostgresScimStore(), exportJobs: new PostgresExportJobStore(),
  };
}
