import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import type { AccessRequest } from './grants.ts';
import type { InboxNotice, InboxStore } from './inbox-store.ts';
import type { NotificationFailure, NotificationStore } from './notification-store.ts';
import type { People, User } from './people.ts';
import { isSubjectOf } from './request-visibility.ts';

export interface MailboxPolicy {
  notifyMode: 'before' | 'after' | 'none';
  notifyAfterDays: number | null;
  legalBasis: string | null;
  notifyAlso: string[];
}

// Whether notices reach people by mail, and if not why: start-up says it, system health shows it.
export interface NotificationDelivery {
  mail: { relay: string | null; state: 'unset' | 'failing' | 'ok'; problem: string | null };
  failures: NotificationFailure[];
}

const DEFAULT_POLICY: MailboxPolicy = { notifyMode: 'before', notifyAfterDays: null, legalBasis: null, notifyAlso: [] };

const INBOX_LIMIT = 200;

// Decides who is told what about access, and puts the messages in a durable outbox inside the
// caller's transaction: a decision and its notifications commit together or not at all. Every
// notice to a person is also put in that person's inbox in the app, in the same transaction, so
// a person is told even where mail is not delivered (no notify.smtp, a relay down, no address).
export class Notifier {
  readonly #store: NotificationStore;
  readonly #inbox: InboxStore;
  readonly #people: People;
  readonly #clock: Clock;
  readonly #config: Config['notify'];

  constructor(d: { store: NotificationStore; inbox: InboxStore; people: People; clock: Clock; config: Config['notify'] }) {
    this.#store = d.store;
    this.#inbox = d.inbox;
    this.#people = d.people;
    this.#clock = d.clock;
    this.#config = d.config;
  }

  // A person's own notices in the app; there is no way to ask for someone else's.
  inboxOf(user: User): { unread: number; notices: InboxNotice[] } {
    const now = this.#clock.now();
    return { unread: this.#inbox.unread(user.id, now), notices: this.#inbox.list(user.id, now, INBOX_LIMIT) };
  }

  // Marks the person's own notices read: ids not theirs are refused, exactly like missing ones.
  markRead(user: User, ids: number[]): { notTheirs: number[] } {
    return this.#inbox.markRead(user.id, ids, this.#clock.now());
  }

  policy(mailboxId: number): MailboxPolicy {
    return this.#store.mailboxPolicy(mailboxId) ?? DEFAULT_POLICY;
  }

  setPolicy(mailboxId: number, policy: MailboxPolicy): void {
    this.#store.setMailboxPolicy(mailboxId, policy);
  }

  // The outbox as system health shows it.
  backlog(): { waiting: number; due: number; failing: number } {
    return this.#store.backlog(this.#clock.now());
  }

  delivery(): NotificationDelivery {
    const failures = this.#store.failures();
    const mailFailing = failures.filter((f) => f.channel === 'mail');
    const relay = this.#config.smtp;
    if (!relay) {
      return { mail: { relay, state: 'unset', problem: 'notify.smtp is not set, so no notice is mailed: approvers, owners and requesters are told only in the app (Notifications), when they next sign in. To mail them too, set notify.smtp to the HOST:PORT of a mail relay in the config file.' }, failures };
    }
    if (mailFailing.length > 0) {
      const count = mailFailing.reduce((n, f) => n + f.failing, 0);
      const latest = mailFailing.at(-1)!.lastError;
      return { mail: { relay, state: 'failing', problem: `mail through notify.smtp (${relay}) is failing: ${count} notice${count === 1 ? '' : 's'} not delivered (last error: ${latest}). Check that the relay is reachable and accepts mail from ${this.#config.from}.` }, failures };
    }
    return { mail: { relay, state: 'ok', problem: null }, failures };
  }

  // Approvers and auditors are told of a request unless they are its subject (they own a mailbox
  // in its scope): the subject learns of it only as the mailbox's policy says, below.
  requestFiled(r: AccessRequest, requester: User): void {
    const to = this.#withRole('approver').filter((u) => u.id !== requester.id && !isSubjectOf(u, r));
    this.#send('request.filed', to, `Access request ${r.id} awaits a decision`, describe(r, requester, `${requester.name} asks for access.`));
  }

  decided(r: AccessRequest, requester: User, decision: 'approve' | 'deny', by: User, reason: string): void {
    this.#send(`request.${decision === 'approve' ? 'approved' : 'denied'}`, [requester], `Access request ${r.id} ${decision === 'approve' ? 'approved' : 'denied'} by ${by.name}`, describe(r, requester, `Reason: ${reason}`));
    if (decision === 'approve' && r.approvedAt !== null) this.grantStarted(r, requester);
  }

  // The people whose mailboxes are in scope, as each mailbox's policy says; auditors for sensitive ones.
  grantStarted(r: AccessRequest, requester: User): void {
    const now = this.#clock.now();
    for (const m of r.mailboxes) {
      const policy = this.policy(m.id);
      const owner = m.owner ? this.#people.byName(m.owner) : null;
      const text = describe(r, requester, `Your mailbox ${m.name} may be accessed from ${iso(r.startsAt)} until ${iso(r.endsAt)}.`);
      if (policy.notifyMode === 'before' && owner) this.#send('mailbox.access-granted', [owner], `Access to your mailbox ${m.name}`, text);
      if (policy.notifyMode === 'after' && owner) this.#send('mailbox.access-granted', [owner], `Access to your mailbox ${m.name}`, text, (r.endsAt ?? now) + (policy.notifyAfterDays ?? 0) * 86_400_000);
      if (policy.notifyAlso.length > 0) this.#sendTo('mailbox.access-granted', policy.notifyAlso, `Access to mailbox ${m.name}`, text);
      if (m.sensitivity) this.#send('mailbox.sensitive-access', this.#withRole('auditor').filter((u) => !isSubjectOf(u, r)), `Access granted to sensitive mailbox ${m.name} (${m.sensitivity})`, text);
    }
  }

  breakglass(r: AccessRequest, holder: User): void {
    const to = [...this.#withRole('approver'), ...this.#withRole('auditor')].filter((u) => u.id !== holder.id && !isSubjectOf(u, r));
    const subject = `BREAK-GLASS: ${holder.name} opened emergency access (${r.id})`;
    this.#send('breakglass.opened', to, subject, describe(r, holder, 'A review of this access is required.'));
    this.#sendTo('breakglass.opened', this.#config.auditors, subject, describe(r, holder, 'A review of this access is required.'));
    this.grantStarted(r, holder);
  }

  // Oversight alerts and the auditors' digest: auditor users, notify.auditors and the webhooks.
  toAuditors(kind: string, subject: string, body: string): void {
    this.#toInbox(kind, this.#withRole('auditor'), subject, body);
    this.#sendTo(kind, [...this.#withRole('auditor').map((u) => u.email).filter((e): e is string => Boolean(e)), ...this.#config.auditors], subject, body);
  }

  // One person's own notice (a mailbox owner's digest, their account's recovery): by mail and in
  // their inbox, never to the webhooks. `mailOnly` for a secret (a recovery code), which must not
  // be readable by whoever holds the person's session or an API token of theirs.
  toPerson(kind: string, user: User, subject: string, body: string, options: { mailOnly?: boolean } = {}): void {
    if (!options.mailOnly) this.#toInbox(kind, [user], subject, body);
    if (user.email) this.#sendTo(kind, [user.email], subject, body, undefined, false);
  }

  // People told of a change to an account or to who owns a mailbox (those asked to decide).
  toUsers(kind: string, users: User[], subject: string, body: string): void {
    this.#send(kind, users, subject, body);
  }

  #withRole(role: string): User[] {
    return this.#people.list().filter((u) => u.roles.includes(role as never) && !u.disabled);
  }

  #send(kind: string, users: User[], subject: string, body: string, notBefore?: number): void {
    this.#toInbox(kind, users, subject, body, notBefore);
    this.#sendTo(kind, users.map((u) => u.email).filter((e): e is string => Boolean(e)), subject, body, notBefore);
  }

  // Delayed like the mail (a policy's N days after the grant): hidden from the person until then.
  #toInbox(kind: string, users: User[], subject: string, body: string, notBefore?: number): void {
    const now = this.#clock.now();
    if (users.length > 0) this.#inbox.put({ kind, userIds: users.map((u) => u.id), subject, body, createdAt: now, visibleFrom: notBefore ?? now });
  }

  #sendTo(kind: string, addresses: string[], subject: string, body: string, notBefore?: number, webhooks = true): void {
    const now = this.#clock.now();
    const recipients = [...new Set(addresses), ...(webhooks ? this.#config.webhooks.map((w) => w.url) : [])];
    this.#store.enqueue({ kind, recipients, subject, body, createdAt: now, notBefore: notBefore ?? now });
  }
}

function describe(r: AccessRequest, requester: User, lead: string): string {
  return [
    lead, '',
    `Request:       ${r.id}${r.breakglass ? ' (break-glass)' : ''}`,
    `Requested by:  ${requester.displayName ?? requester.name} (${requester.name})`,
    `Purpose:       ${r.purpose}`,
    `Ticket:        ${r.ticket ?? '-'}`,
    `Justification: ${r.justification}`,
    `Mailboxes:     ${r.mailboxes.map((m) => m.name).join(', ')}`,
    `Dates:         ${r.dateFrom === null ? 'any' : iso(r.dateFrom).slice(0, 10)} to ${r.dateTo === null ? 'any' : iso(r.dateTo - 1).slice(0, 10)}`,
    `Permissions:   ${r.permissions.join(', ')}`,
    `Duration:      ${r.durationSeconds / 3600} h`,
  ].join('\n');
}

function iso(t: number | null): string {
  return t === null ? '-' : new Date(t).toISOString();
}
