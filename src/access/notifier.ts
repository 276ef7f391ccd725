import { sealedFor } from './subject-access.ts';
import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { purposeWords } from '../core/purpose-words.ts';
import type { Tx } from '../core/transactions.ts';
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
  readonly #purposeLabels: (tx: Tx) => Promise<Record<string, string>>;
  readonly #addressesOf: (tx: Tx, user: User) => Promise<string[]>;

  // addressesOf: where a person's mail goes (CodeAddresses: the mailboxes the directory gives
  // them, else the address their account was made with); by default that address.
  constructor(d: { store: NotificationStore; inbox: InboxStore; people: People; clock: Clock; config: Config['notify']; purposeLabels?: (tx: Tx) => Promise<Record<string, string>>; addressesOf?: (tx: Tx, user: User) => Promise<string[]> }) {
    this.#store = d.store;
    this.#inbox = d.inbox;
    this.#people = d.people;
    this.#clock = d.clock;
    this.#config = d.config;
    this.#purposeLabels = d.purposeLabels ?? (async () => ({}));
    this.#addressesOf = d.addressesOf ?? (async (_tx, u) => (u.email ? [u.email] : []));
  }

  // A purpose as people read it (the policy's label, or words made from the slug).
  async purposeWords(tx: Tx, slug: string): Promise<string> {
    return purposeWords(slug, await this.#purposeLabels(tx));
  }

  // A person's own notices in the app; there is no way to ask for someone else's.
  async inboxOf(tx: Tx, user: User): Promise<{ unread: number; notices: InboxNotice[] }> {
    const now = this.#clock.now();
    return { unread: await this.#inbox.unread(tx, user.id, now), notices: await this.#inbox.list(tx, user.id, now, INBOX_LIMIT) };
  }

  // Marks the person's own notices read: ids not theirs are refused, exactly like missing ones.
  markRead(tx: Tx, user: User, ids: number[]): Promise<{ notTheirs: number[] }> {
    return this.#inbox.markRead(tx, user.id, ids, this.#clock.now());
  }

  async policy(tx: Tx, mailboxId: number): Promise<MailboxPolicy> {
    return (await this.#store.mailboxPolicy(tx, mailboxId)) ?? DEFAULT_POLICY;
  }

  // Every mailbox's policy that one decision needs, looked up once each.
  async policies(tx: Tx, mailboxIds: Iterable<number>): Promise<Map<number, MailboxPolicy>> {
    const policies = new Map<number, MailboxPolicy>();
    for (const id of mailboxIds) if (!policies.has(id)) policies.set(id, await this.policy(tx, id));
    return policies;
  }

  setPolicy(tx: Tx, mailboxId: number, policy: MailboxPolicy): Promise<void> {
    return this.#store.setMailboxPolicy(tx, mailboxId, policy);
  }

  // The outbox as system health shows it.
  backlog(tx: Tx): Promise<{ waiting: number; due: number; failing: number }> {
    return this.#store.backlog(tx, this.#clock.now());
  }

  async delivery(tx: Tx): Promise<NotificationDelivery> {
    const failures = await this.#store.failures(tx);
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
  async requestFiled(tx: Tx, r: AccessRequest, requester: User): Promise<void> {
    const to = (await this.#withRole(tx, 'approver')).filter((u) => u.id !== requester.id && !isSubjectOf(u, r));
    await this.#send(tx, 'request.filed', to, `Access request ${r.id} awaits a decision`, describe(r, requester, `${requester.name} asks for access.`, await this.purposeWords(tx, r.purpose)));
  }

  async decided(tx: Tx, r: AccessRequest, requester: User, decision: 'approve' | 'deny', by: User, reason: string): Promise<void> {
    // A data subject's request denied stays sealed to its filer (subject-access.ts sealedFor).
    await this.#send(tx, `request.${decision === 'approve' ? 'approved' : 'denied'}`, [requester], `Access request ${r.id} ${decision === 'approve' ? 'approved' : 'denied'} by ${by.name}`, describe(r, requester, `Reason: ${reason}`, await this.purposeWords(tx, r.purpose), sealedFor(requester, r)));
    if (decision === 'approve' && r.approvedAt !== null) await this.grantStarted(tx, r, requester);
  }

  // The people whose mailboxes are in scope, as each mailbox's policy says; auditors for sensitive ones.
  async grantStarted(tx: Tx, r: AccessRequest, requester: User): Promise<void> {
    const now = this.#clock.now();
    for (const m of r.mailboxes) {
      const policy = await this.policy(tx, m.id);
      const owner = m.owner ? await this.#people.byName(tx, m.owner) : null;
      const text = describe(r, requester, `Your mailbox ${m.name} may be accessed from ${iso(r.startsAt)} until ${iso(r.endsAt)}.`, await this.purposeWords(tx, r.purpose));
      if (policy.notifyMode === 'before' && owner) await this.#send(tx, 'mailbox.access-granted', [owner], `Access to your mailbox ${m.name}`, text);
      if (policy.notifyMode === 'after' && owner) await this.#send(tx, 'mailbox.access-granted', [owner], `Access to your mailbox ${m.name}`, text, (r.endsAt ?? now) + (policy.notifyAfterDays ?? 0) * 86_400_000);
      if (policy.notifyAlso.length > 0) await this.#sendTo(tx, 'mailbox.access-granted', policy.notifyAlso, `Access to mailbox ${m.name}`, text);
      if (m.sensitivity) await this.#send(tx, 'mailbox.sensitive-access', (await this.#withRole(tx, 'auditor')).filter((u) => !isSubjectOf(u, r)), `Access granted to sensitive mailbox ${m.name} (${m.sensitivity})`, text);
    }
  }

  async breakglass(tx: Tx, r: AccessRequest, holder: User): Promise<void> {
    const to = [...await this.#withRole(tx, 'approver'), ...await this.#withRole(tx, 'auditor')].filter((u) => u.id !== holder.id && !isSubjectOf(u, r));
    const subject = `BREAK-GLASS: ${holder.name} opened emergency access (${r.id})`;
    await this.#send(tx, 'breakglass.opened', to, subject, describe(r, holder, 'A review of this access is required.', await this.purposeWords(tx, r.purpose)));
    await this.#sendTo(tx, 'breakglass.opened', this.#config.auditors, subject, describe(r, holder, 'A review of this access is required.', await this.purposeWords(tx, r.purpose)));
    await this.grantStarted(tx, r, holder);
  }

  // Oversight alerts and the auditors' digest: auditor users, notify.auditors and the webhooks.
  async toAuditors(tx: Tx, kind: string, subject: string, body: string): Promise<void> {
    const auditors = await this.#withRole(tx, 'auditor');
    await this.#toInbox(tx, kind, auditors, subject, body);
    await this.#sendTo(tx, kind, [...new Set([...await this.#mailOf(tx, auditors), ...this.#config.auditors])], subject, body);
  }

  // One person's own notice (a mailbox owner's digest, their account's recovery): by mail and in
  // their inbox, never to the webhooks. `mailOnly` for a secret (a recovery code), which must not
  // be readable by whoever holds the person's session or an API token of theirs.
  // `to`: the addresses to mail instead of the person's own (addressesOf).
  async toPerson(tx: Tx, kind: string, user: User, subject: string, body: string, options: { mailOnly?: boolean; to?: string[] } = {}): Promise<void> {
    if (!options.mailOnly) await this.#toInbox(tx, kind, [user], subject, body);
    const to = options.to ?? await this.#addressesOf(tx, user);
    if (to.length > 0) await this.#sendTo(tx, kind, to, subject, body, undefined, false);
  }

  // People told of a change to an account or to who owns a mailbox (those asked to decide).
  toUsers(tx: Tx, kind: string, users: User[], subject: string, body: string): Promise<void> {
    return this.#send(tx, kind, users, subject, body);
  }

  // A change filed for someone else's decision: every approver but the one who filed it.
  async toApprovers(tx: Tx, kind: string, filedBy: number | null, subject: string, body: string): Promise<void> {
    await this.#send(tx, kind, (await this.#withRole(tx, 'approver')).filter((u) => u.id !== filedBy), subject, body);
  }

  async #withRole(tx: Tx, role: string): Promise<User[]> {
    return (await this.#people.list(tx)).filter((u) => u.roles.includes(role as never) && !u.disabled);
  }

  async #send(tx: Tx, kind: string, users: User[], subject: string, body: string, notBefore?: number): Promise<void> {
    await this.#toInbox(tx, kind, users, subject, body, notBefore);
    await this.#sendTo(tx, kind, await this.#mailOf(tx, users), subject, body, notBefore);
  }

  // Where these people's mail goes, each address once.
  async #mailOf(tx: Tx, users: User[]): Promise<string[]> {
    const out = new Set<string>();
    for (const u of users) for (const a of await this.#addressesOf(tx, u)) out.add(a);
    return [...out];
  }

  // Delayed like the mail (a policy's N days after the grant): hidden from the person until then.
  async #toInbox(tx: Tx, kind: string, users: User[], subject: string, body: string, notBefore?: number): Promise<void> {
    const now = this.#clock.now();
    if (users.length > 0) await this.#inbox.put(tx, { kind, userIds: users.map((u) => u.id), subject, body, createdAt: now, visibleFrom: notBefore ?? now });
  }

  async #sendTo(tx: Tx, kind: string, addresses: string[], subject: string, body: string, notBefore?: number, webhooks = true): Promise<void> {
    const now = this.#clock.now();
    const recipients = [...new Set(addresses), ...(webhooks ? this.#config.webhooks.map((w) => w.url) : [])];
    await this.#store.enqueue(tx, { kind, recipients, subject, body, createdAt: now, notBefore: notBefore ?? now });
  }
}

function describe(r: AccessRequest, requester: User, lead: string, purpose: string, sealed = false): string {
  return [
    lead, '',
    `Request:       ${r.id}${r.breakglass ? ' (break-glass)' : ''}`,
    `Requested by:  ${requester.displayName ?? requester.name} (${requester.name})`,
    `Purpose:       ${purpose}`,
    `Ticket:        ${r.ticket ?? '-'}`,
    `Justification: ${r.justification}`,
    `Mailboxes:     ${sealed ? 'those holding the person\'s mail (shown once approved)' : r.mailboxes.map((m) => m.name).join(', ')}`,
    `Dates:         ${r.dateFrom === null ? 'any' : iso(r.dateFrom).slice(0, 10)} to ${r.dateTo === null ? 'any' : iso(r.dateTo - 1).slice(0, 10)}`,
    `Permissions:   ${r.permissions.join(', ')}`,
    `Duration:      ${r.durationSeconds / 3600} h`,
  ].join('\n');
}

function iso(t: number | null): string {
  return t === null ? '-' : new Date(t).toISOString();
}
