import type { Actor, Audit, AuditEvent } from '../access/audit.ts';
import type { DirectoryRow } from '../access/directory-csv.ts';
import { importParameters } from '../access/mailbox-ownership.ts';
import type { DirectoryActor, ImportOutcome, MailboxOwnership, StagedChange } from '../access/mailbox-ownership.ts';
import type { MailboxStore } from '../access/mailbox-store.ts';
import type { Notifier } from '../access/notifier.ts';
import type { People } from '../access/people.ts';
import type { RoleChanges } from '../access/role-changes.ts';
import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { newId } from '../core/ids.ts';
import type { Tx } from '../core/transactions.ts';
import type { Leavers } from '../retention/leavers.ts';
import { planDirectory } from './directory-plan.ts';
import type { DirectoryChange } from './directory-plan.ts';
import type { DirectorySnapshot, DirectorySource } from './directory-snapshot.ts';
import type { DirectoryStore, DirectorySyncRecord } from './directory-store.ts';

export interface DirectorySyncDeps {
  store: DirectoryStore;
  audit: Audit;
  mailboxes: MailboxStore;
  people: People;
  ownership: MailboxOwnership;
  roleChanges: RoleChanges;
  leavers: Leavers;
  notifier: Notifier;
  clock: Clock;
  roleGroups: Config['sso']['roleGroups'];
  maxRemovalShare: number;
}

// A change as a sync record shows it: what it was, and what came of it.
export type ChangeView = Record<string, unknown> & { kind: DirectoryChange['kind']; outcome: string };

export interface SyncResult extends Omit<DirectorySyncRecord, 'changes'> {
  changes: ChangeView[];
  message: string | null;      // why a sync stopped
}

// The one way a directory changes Sealbox, whether LDAP was read or an identity provider pushed
// over SCIM: plan the difference (directory-plan.ts), then apply each change by the rule that
// governs it elsewhere, in one transaction with its ledger entries:
// - mailbox rows through the directory import (MailboxOwnership): one that gives someone mail they
//   could not read before in the ways the CSV import stages is staged for someone else's approval;
//   so is, whatever the import would say, a mailbox the directory gives to an administrator (the
//   administrator may run the directory);
// - roles through sso.roleGroups as at a sign-in: owner and requester at once, every other role
//   filed for an approver (RoleChanges), a role no group gives any more removed at once;
// - a person disabled in or gone from the directory: their account disabled (at once: it widens
//   nothing) and a leaving date filed for an approver (Leavers), once;
// - a sync that would disable or mark as gone more than `maxRemovalShare` of the people the
//   directory named (and more than one) stops before changing anything, and is recorded as stopped.
// The directory never creates a Sealbox account (nobody would be handed its credential): a person
// is created at their first sign-in through a provider, and finds the directory's mailbox theirs.
export class DirectorySync {
  readonly #d: DirectorySyncDeps;

  constructor(d: DirectorySyncDeps) {
    this.#d = d;
  }

  // A sync in a transaction of its own, with its ledger entries.
  async run(actor: Actor, snapshot: DirectorySnapshot, options: { dryRun?: boolean; confirm?: boolean } = {}): Promise<SyncResult> {
    return this.#d.audit.recordEach(actor, (tx) => this.syncIn(tx, actor, snapshot, options));
  }

  // A sync in the caller's transaction (SCIM: the provider's change and the sync it causes commit
  // together, or neither does); the caller writes the entries (Audit.recordEach).
  // `only`: plan and apply just these people (planDirectory), for a change that touched only them.
  async syncIn(tx: Tx, actor: Actor, snapshot: DirectorySnapshot, options: { dryRun?: boolean; confirm?: boolean; only?: ReadonlySet<string> } = {}): Promise<{ result: SyncResult; events: AuditEvent[] }> {
    const { clock, store } = this.#d;
    const dryRun = Boolean(options.dryRun);
    const label = actor.user ? `user:${actor.user.name}` : actor.label ?? 'system:directory';
    const by: DirectoryActor = { user: actor.user, label };
    const now = clock.now();
    const plan = await planDirectory(tx, this.#d, snapshot, new Date(now).toISOString().slice(0, 10), now, options.only);
    const share = plan.known === 0 ? 0 : plan.removals / plan.known;
    // One removal never stops a sync (a SCIM request removes one person; so may a small directory).
    const stop = !dryRun && !options.confirm && plan.removals > 1 && share > this.#d.maxRemovalShare;
    const events: AuditEvent[] = [];
    let views: ChangeView[];
    let state: DirectorySyncRecord['state'];
    let message: string | null = null;
    if (dryRun || stop) {
      views = plan.changes.map((c) => view(c, dryRun ? 'would apply' : 'not applied'));
      state = dryRun ? 'dry-run' : 'stopped';
      if (stop) message = `this sync would disable or mark as gone ${plan.removals} of ${plan.known} people (${Math.round(share * 100)}%, more than directory.maxRemovalShare ${Math.round(this.#d.maxRemovalShare * 100)}%): nothing was changed; check the directory, then run it again with confirmation`;
    } else {
      views = await this.#apply(tx, by, snapshot.source, plan.changes, events);
      // A leaving date not filed (its mailbox waits for approval) is tried again next time.
      const notFiled = new Set(views.filter((v) => v.kind === 'leave' && v.outcome.startsWith('not filed')).map((v) => v.mailbox));
      for (const l of plan.links) await store.saveLink(tx, notFiled.has(l.mailbox) && l.state === 'disabled' ? { ...l, leftOn: null } : l);
      state = 'applied';
    }
    const summary = {
      people: snapshot.people.length, shared: snapshot.shared.length, skipped: plan.skipped.length, changes: plan.changes.length,
      removals: plan.removals, known: plan.known,
      staged: views.filter((v) => v.outcome.startsWith('staged') || v.outcome.startsWith('filed')).length,
    };
    const record: DirectorySyncRecord = { id: newId('dsync', now), source: snapshot.source, actor: label, startedAt: now, dryRun, state, summary, changes: views, skipped: plan.skipped };
    await store.addSync(tx, record);
    // A scheduled sync that found nothing to do leaves no entry: there is nothing to account for.
    if (state !== 'applied' || plan.changes.length > 0) {
      events.push({ operation: 'directory.sync', parameters: { sync: record.id, source: snapshot.source, state, dryRun, ...summary, ...(message ? { reason: message } : {}) } });
    }
    return { result: { ...record, changes: views, message }, events };
  }

  syncs(tx: Tx, limit = 20): Promise<DirectorySyncRecord[]> {
    return this.#d.store.syncs(tx, limit);
  }

  async #apply(tx: Tx, by: DirectoryActor, source: DirectorySource, changes: DirectoryChange[], events: AuditEvent[]): Promise<ChangeView[]> {
    const { people, ownership, roleChanges, leavers, mailboxes, notifier } = this.#d;
    const outcomes = new Map<DirectoryChange, string>();
    const label = `directory:${source}`;

    // Mailboxes: the import's rules, and an administrator's gain staged whatever they say.
    const rows: DirectoryRow[] = [];
    const staged: StagedChange[] = [];
    for (const c of changes) {
      if (c.kind !== 'mailbox') continue;
      const owner = c.row.owner ? await people.byName(tx, c.row.owner) : null;
      const current = await mailboxes.byName(tx, c.mailbox);
      if (owner?.roles.includes('admin') && current?.owner !== owner.name) {
        const s = await ownership.stage(tx, by, { ...c.row, owner: owner.name }, `the directory (${source}) gives this mailbox to ${owner.name}, an administrator, who may run the directory`);
        staged.push(s);
        outcomes.set(c, `staged ${s.id}: ${s.why}`);
      } else rows.push(c.row);
    }
    const leaveRows: DirectoryRow[] = changes.flatMap((c) => (c.kind === 'leave' ? [{ name: c.mailbox, addresses: [], displayName: null, owner: null, sensitivity: null, manager: null, left: c.left }] : []));
    if (rows.length + staged.length + leaveRows.length > 0) {
      const imported = rows.length > 0 ? await ownership.import(tx, by, rows, label) : { mailboxes: 0, addresses: 0, applied: [], staged: [], leavers: { filed: [], skipped: [] } };
      const filed = leaveRows.length > 0 ? await leavers.fileFromDirectory(tx, by, leaveRows, label) : { filed: [], skipped: [] };
      const outcome: ImportOutcome = { ...imported, staged: [...imported.staged, ...staged], leavers: filed };
      for (const c of changes) {
        if (c.kind === 'mailbox' && !outcomes.has(c)) {
          const s = imported.staged.find((x) => x.mailbox === c.mailbox);
          outcomes.set(c, s ? `staged ${s.id}: ${s.why}` : 'applied');
        }
        if (c.kind === 'leave') {
          const f = filed.filed.find((x) => x.mailbox === c.mailbox);
          const skip = filed.skipped.find((x) => x.mailbox === c.mailbox);
          outcomes.set(c, f ? `filed ${f.id} for an approver` : skip ? `not filed: ${skip.why}` : 'already so');
        }
      }
      const ids: { id: number; name: string }[] = [];
      for (const m of imported.applied) ids.push({ id: (await mailboxes.byName(tx, m.name))!.id, name: m.name });
      events.push({ operation: 'mailboxes.import', mailboxes: ids, parameters: { ...importParameters(outcome, label), source } });
    }

    for (const c of changes) {
      if (c.kind === 'return') {
        const mailbox = await mailboxes.byName(tx, c.mailbox);
        const [state] = mailbox ? await leavers.states(tx, [mailbox.id]) : [];
        if (!state) {
          outcomes.set(c, 'no leaving date in force');
          continue;
        }
        const filed = await leavers.fileReturn(tx, by, c.mailbox, `enabled again in the directory (${source})`, 'directory');
        events.push({ operation: 'leaver.file', mailboxes: [{ id: filed.mailboxId, name: filed.mailbox }], parameters: { change: filed.id, kind: filed.kind, mailbox: filed.mailbox, source } });
        outcomes.set(c, `filed ${filed.id} for an approver`);
      } else if (c.kind === 'disable') {
        await people.setDisabled(tx, c.user, true);
        events.push({ operation: 'user.disable', parameters: { name: c.user, reason: c.why, source } });
        outcomes.set(c, 'applied');
      } else if (c.kind === 'roles') {
        const { user } = await people.setRoles(tx, c.user, c.to, { none: true });
        events.push({ operation: 'user.roles', parameters: { name: c.user, from: c.from, to: c.to, source, groups: c.groups } });
        await notifier.toPerson(tx, 'account.roles', user, 'Your Sealbox roles changed',
          `Your groups in the directory changed your Sealbox roles from ${c.from.join(', ') || 'none'} to ${c.to.join(', ') || 'none'}.`);
        outcomes.set(c, 'applied');
      } else if (c.kind === 'role.cancel') {
        const user = (await people.byName(tx, c.user))!;
        const record = (await roleChanges.pendingFor(tx, user.id)).find((x) => x.id === c.change)!;
        await roleChanges.cancel(tx, record, `no longer in a group in the directory (${source}) that gives ${c.role}`);
        events.push({ operation: 'user.role.cancel', parameters: { name: c.user, role: c.role, change: c.change, source } });
        outcomes.set(c, 'applied');
      } else if (c.kind === 'role.file') {
        const user = (await people.byName(tx, c.user))!;
        const filed = await roleChanges.file(tx, user, c.role, c.why, { id: by.user?.id ?? null, label });
        if (filed) events.push({ operation: 'user.role.file', parameters: { name: c.user, role: c.role, change: filed.id, why: c.why, source } });
        outcomes.set(c, filed ? `filed ${filed.id} for an approver` : 'waits already');
      }
    }
    return changes.map((c) => view(c, outcomes.get(c) ?? 'applied'));
  }
}

function view(c: DirectoryChange, outcome: string): ChangeView {
  if (c.kind === 'mailbox') {
    const { row, ...rest } = c;
    return { ...rest, owner: row.owner, addresses: row.addresses, displayName: row.displayName, manager: row.manager, department: row.department ?? null, outcome };
  }
  return { ...c, outcome };
}
