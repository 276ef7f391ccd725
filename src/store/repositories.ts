import type { AccountRecoveryStore } from '../access/account-recovery-store.ts';
import type { CredentialStore } from '../access/credential-store.ts';
import type { GrantStore } from '../access/grant-store.ts';
import type { InboxStore } from '../access/inbox-store.ts';
import type { MailboxStore } from '../access/mailbox-store.ts';
import type { NoticeStore } from '../access/notice-store.ts';
import type { NotificationStore } from '../access/notification-store.ts';
import type { OwnershipChangeStore } from '../access/ownership-change-store.ts';
import type { PeopleStore } from '../access/people-store.ts';
import type { PersonLinkStore } from '../access/person-link-store.ts';
import type { RoleChangeStore } from '../access/role-change-store.ts';
import type { SsoStore } from '../access/sso-store.ts';
import type { DirectoryStore } from '../directory/directory-store.ts';
import type { ScimStore } from '../directory/scim-store.ts';
import type { ExportJobStore } from '../export/export-job-store.ts';
import type { CaptureQueue } from '../index/capture-queue.ts';
import type { LedgerHistory } from '../oversight/ledger-history.ts';
import type { OversightStore } from '../oversight/oversight-store.ts';
import type { ReviewStore } from '../oversight/review-store.ts';
import type { DisposalRequestStore } from '../retention/disposal-request-store.ts';
import type { DisposalStore } from '../retention/disposal-store.ts';
import type { HoldStore } from '../retention/hold-store.ts';
import type { LeaverStore } from '../retention/leaver-store.ts';
import type { ObjectHoldStore } from '../retention/object-hold-store.ts';
import type { RetentionStore } from '../retention/retention-store.ts';
import type { SubjectStore } from '../retention/subject-store.ts';

// Every metadata repository of one backend, handed out from one object (openStores builds it
// with the backend's metadata store): the services take their stores from here, never by naming a
// backend's classes, so a second backend (src/store/postgres/repositories.ts) changes no caller.
export interface MetadataRepositories {
  people: PeopleStore;
  credentials: CredentialStore;
  recoveries: AccountRecoveryStore;
  mailboxes: MailboxStore;
  links: PersonLinkStore;
  grants: GrantStore;
  notifications: NotificationStore;
  inbox: InboxStore;
  ownership: OwnershipChangeStore;
  roleChanges: RoleChangeStore;
  sso: SsoStore;
  notices: NoticeStore;
  reviews: ReviewStore;
  oversight: OversightStore;
  history: LedgerHistory;
  captures: CaptureQueue;
  leavers: LeaverStore;
  retention: RetentionStore;
  holds: HoldStore;
  disposal: DisposalStore;
  disposalRequests: DisposalRequestStore;
  subjects: SubjectStore;
  objectHolds: ObjectHoldStore;
  directory: DirectoryStore;
  scim: ScimStore;
  exportJobs: ExportJobStore;
}
