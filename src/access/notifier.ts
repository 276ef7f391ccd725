import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import type { AccessRequest } from './grants.ts';
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

// Decides who is told what about access, and puts the messages in a durable outbox inside the
// caller's transaction: a decision and its notifications commit together or not at all.
export class Notifier {
  readonly #store: NotificationStore;
  readonly #people: People;
  readonly #clock: Clock;
  readonly #config: Config['notify'];

  constructor(store: NotificationStore, people: People, clock: Clock, config: Config['notify']) {
    this.#store = store;
    this.#people = people;
    this.#clock = clock;
    this.#config = config;
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
      return { mail: { relay, state: 'unset', problem: 'notify.smtp is not set, so no notice is mailed: approvers are not mailed of requests awaiting them, owners of access to their mailboxes, requesters of decisions. Set notify.smtp to the HOST:PORT of a mail relay in the config file.' }, failures };
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
    this.#sendTo(kind, [...this.#withRole('auditor').map((u) => u.email).filter((e): e is string => Boolean(e)), ...this.#config.auditors], subject, body);
  }

  // One person's own digest (a mailbox owner's): by mail only, never to the webhooks.
  toPerson(kind: string, user: User, subject: string, body: string): void {
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
    this.#sendTo(kind, users.map((u) => u.email).filter((e): e is string => Boolean(e)), subject, body, notBefore);
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
