import type { ComponentType } from 'react';
import type { Me, Role } from './session.ts';
import { AccessesPage } from './pages/accesses-page.tsx';
import { AccountPage } from './pages/account-page.tsx';
import { AdminPage } from './pages/admin-page.tsx';
import { ApprovalsPage } from './pages/approvals-page.tsx';
import { HomePage } from './pages/home-page.tsx';
import { InvestigationPage } from './pages/investigation-page.tsx';
import { LedgerPage } from './pages/ledger-page.tsx';
import { MailboxMessagePage } from './pages/mailbox-message-page.tsx';
import { NotificationsPage } from './pages/notifications-page.tsx';
import { MyMailboxPage } from './pages/my-mailbox-page.tsx';
import { OversightPage } from './pages/oversight-page.tsx';
import { RequestsPage } from './pages/requests-page.tsx';
import { RetentionPage } from './pages/retention-page.tsx';
import { ReviewsPage } from './pages/reviews-page.tsx';

// The app's pages. To add one:
//   1. write `src/web/pages/<name>-page.tsx` exporting a component that takes PageProps and
//      starts with <PageTitle> (it sets the document title and takes the focus on navigation);
//   2. add one line below: its path (":param" segments arrive in props.params), title, the roles
//      that see it (in the navigation, and allowed to open it: 'any' for every signed-in user),
//      and `nav: false` to keep it out of the navigation (detail pages).
// The order here is the navigation's order. Pages fetch through `api` (src/web/api.ts), which
// adds the CSRF header and turns {error:{code,message}} into an ApiError to show with
// <ErrorNote>. The server checks every rule again: roles here only decide what is offered.
export interface PageProps {
  params: Record<string, string>;
  query: URLSearchParams;
}

export interface PageRoute {
  path: string;
  title: string;
  roles: readonly Role[] | 'any';
  nav?: boolean;
  when?: (me: Me) => boolean;   // offered in the navigation only when this holds (e.g. owns a mailbox)
  page: ComponentType<PageProps>;
}

export const ROUTES: PageRoute[] = [
  { path: '/', title: 'Start', roles: 'any', page: HomePage },
  { path: '/notifications', title: 'Notifications', roles: 'any', page: NotificationsPage },
  { path: '/mailbox', title: 'My mailbox', roles: 'any', when: (me) => me.mailboxes.length > 0, page: MyMailboxPage },
  { path: '/mailbox/:sha256', title: 'Message', roles: 'any', nav: false, page: MailboxMessagePage },
  { path: '/accesses', title: 'Who accessed my mailbox', roles: 'any', when: (me) => me.mailboxes.length > 0, page: AccessesPage },
  { path: '/requests', title: 'Requests', roles: ['requester', 'breakglass'], page: RequestsPage },
  { path: '/approvals', title: 'Approvals', roles: ['approver', 'admin'], page: ApprovalsPage },
  { path: '/investigation', title: 'Investigation', roles: ['requester', 'breakglass'], page: InvestigationPage },
  { path: '/ledger', title: 'Ledger', roles: ['auditor', 'admin'], page: LedgerPage },
  { path: '/reviews', title: 'Review queue', roles: ['approver', 'auditor'], page: ReviewsPage },
  { path: '/oversight', title: 'Oversight', roles: ['auditor'], page: OversightPage },
  // Records managers (and admins) file, approvers decide, auditors read.
  { path: '/retention', title: 'Retention', roles: ['records', 'admin', 'approver', 'auditor'], page: RetentionPage },
  { path: '/admin', title: 'Administration', roles: ['admin', 'auditor'], page: AdminPage },
  // Reached from the start page (and where a link to an identity provider comes back to).
  { path: '/account', title: 'Account', roles: 'any', nav: false, page: AccountPage },
];
