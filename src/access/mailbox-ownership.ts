import type { Clock } from '../core/clock.ts';
import { SealboxError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { Tx } from '../core/transactions.ts';
import { domainOf, span } from '../retention/retention-policy.ts';
import type { RetentionPolicy } from '../retention/retention-policy.ts';
import type { AddressMailbox } from '../retention/retention-store.ts';
import type { DirectoryRow } from './directory-csv.ts';
import { codeToOwner } from './enrolment-codes.ts';
import type { CodeAddresses } from './enrolment-codes.ts';
import type { FourEyes } from './four-eyes.ts';
import type { Mailbox, MailboxStore } from './mailbox-store.ts';
import type { Notifier } from './notifier.ts';
import type { OwnershipChangeRecord, OwnershipChangeStore } from './ownership-change-store.ts';
import type { People, User } from './people.ts';
import type { PolicyInForce } from './policy.ts';

// Leaving dates named by the directory (its `left` column), filed for someone else's approval by
// the leavers stage (src/retention/leavers.ts): marking someone as left shortens their mail's retention.
export interface DirectoryLeavers {
  fileFromDirectory(tx: Tx, actor: DirectoryActor, rows: readonly DirectoryRow[], file: string | null): Promise<LeaversFiled>;
}

export interface LeaversFiled {
  filed: { id: string; mailbox: string; left: string }[];
  skipped: { mailbox: string; left: string; why: string }[];
}

// The mailboxes legal holds in force name as custodians: their mail is what a hold keeps.
export interface HeldMailboxes {
  custodians(tx: Tx): Promise<Map<number, string[]>>;   // mailbox id → ids of the holds naming it
}

// The retention rules in force, to tell whether a row keeps the mail to come less long.
export interface RetentionInForce {
  policy(tx: Tx): Promise<RetentionPolicy>;
}

export interface OwnershipDeps {
  leavers?: DirectoryLeavers;
  holds?: HeldMailboxes;
  retention?: RetentionInForce;
  mailboxes: MailboxStore;
  changes: OwnershipChangeStore;
  people: People;
  fourEyes: FourEyes;
  notifier: Notifier;
  policy: PolicyInForce;
  addresses: CodeAddresses;
  clock: Clock;
}

// Who is changing the directory: a signed-in person, or the console (the command line).
export interface DirectoryActor {
  user: User | null;
  label: string;              // user:NAME or os:NAME
}

export interface StagedChange {
  id: string;
  mailbox: string;
  ownerBefore: string | null;
  ownerAfter: string;
  gains: { address: string; from: string | null }[];
  why: string;
}

export interface ImportOutcome {
  mailboxes: number;          // rows applied now
  addresses: number;
  applied: DirectoryRow[];
  staged: StagedChange[];
  leavers: LeaversFiled;
}

// What an import's ledger entry says of it, the same from the console and the API: the owners,
// managers and departments in force from here on (a past inventory is rebuilt from the owners; a
// department says which retention rule new mail falls under), the rows staged for approval, and
// the leaving dates filed (never applied by the import: src/retention/leavers.ts).
export function importParameters(r: ImportOutcome, file: string | null): Record<string, unknown> {
  const attribute = (k: 'owner' | 'manager' | 'department') => Object.fromEntries(r.applied.filter((m) => m[k]).map((m) => [m.name, m[k]]));
  return {
    file, mailboxes: r.mailboxes, addresses: r.addresses, owners: attribute('owner'), managers: attribute('manager'),
    ...(r.applied.some((m) => m.department) ? { departments: attribute('department') } : {}),
    staged: r.staged.map((c) => ({ id: c.id, mailbox: c.mailbox, from: c.ownerBefore, to: c.ownerAfter, why: c.why })),
    ...(r.leavers.filed.length + r.leavers.skipped.length > 0 ? { leavers: r.leavers } : {}),
  };
}

// Ownership is access: an owner reads every message of their mailbox's addresses. A directory row
// that would let someone read archived mail they could not read before waits for someone else's
// approval, when it takes a mailbox or an address from another owner, when the person making
// the change would become the owner, when the new owner is linked to them (created, enrolled or
// given roles by them lately: FourEyes), when an admin made the new owner's account through the
// API and it is enrolled (that admin was handed its first code; that admin never approves it),
// or when it changes a sensitivity already set. A mailbox with no owner yet gets its first owner
// at once; an account not enrolled yet that gets mail this way gets a new code by mail
// (enrolment-codes.ts). A row that takes an address out of a legal hold's custodian mailbox, or that
// would keep mail to come less long under the retention rules in force, waits too. The previous
// owner is told.
export class MailboxOwnership {
  readonly #d: OwnershipDeps;
  readonly #mailboxes: MailboxStore;
  readonly #changes: OwnershipChangeStore;

  constructor(d: OwnershipDeps) {
    this.#d = d;
    this.#mailboxes = d.mailboxes;
    this.#changes = d.changes;
  }

  // Plans, applies what may apply now and stages the rest; the caller's transaction holds it all.
  async import(tx: Tx, actor: DirectoryActor, rows: DirectoryRow[], file: string | null = null): Promise<ImportOutcome> {
    const applied: DirectoryRow[] = [];
    const staged: StagedChange[] = [];
    // The mailboxes legal holds in force keep, read once for the whole file.
    const custodians = await this.#d.holds?.custodians(tx) ?? new Map<number, string[]>();
    for (const row of rows) {
      const why = await this.#needsApproval(tx, actor, row, custodians);
      if (!why) {
        applied.push(row);
        continue;
      }
      staged.push(await this.#stage(tx, actor, row, why));
    }
    // Owners the rows give mail they could not read before (read before the rows apply).
    const gainers = new Set<string>();
    for (const row of applied) if (row.owner && (await this.#gains(tx, row, row.owner)).length > 0) gainers.add(row.owner);
    for (const row of applied) await this.#mailboxes.apply(tx, row);
    for (const owner of gainers) await this.#handOver(tx, owner);
    const leavers = this.#d.leavers && rows.some((r) => r.left) ? await this.#d.leavers.fileFromDirectory(tx, actor, rows, file) : { filed: [], skipped: [] };
    return { mailboxes: applied.length, addresses: applied.reduce((n, row) => n + row.addresses.length, 0), applied, staged, leavers };
  }

  // Stages the row whatever it changes, for a reason the caller gives: a sign-in through an
  // identity provider names a verified address of a mailbox the directory does not give to the
  // person (whoever runs the provider can set anyone's address), so even a mailbox without an
  // owner waits for someone else.
  async stage(tx: Tx, actor: DirectoryActor, row: DirectoryRow & { owner: string }, why: string): Promise<StagedChange> {
    return this.#stage(tx, actor, row, { ownerAfter: row.owner, gains: await this.#gains(tx, row, row.owner), text: why });
  }

  // Whether a change giving `mailbox` to `owner` waits already or was denied (a refusal stands:
  // it is not filed again by the same cause).
  async filedFor(tx: Tx, mailbox: string, owner: string): Promise<boolean> {
    return (await this.#changes.notApprovedFor(tx, mailbox)).some((c) => c.ownerAfter === owner);
  }

  // Whether this very row waits for approval or was refused already.
  async filedRow(tx: Tx, row: DirectoryRow): Promise<boolean> {
    const key = rowKey(row);
    return (await this.#changes.notApprovedFor(tx, row.name)).some((c) => rowKey(c.row) === key);
  }

  async #stage(tx: Tx, actor: DirectoryActor, row: DirectoryRow, why: { ownerAfter: string; gains: StagedChange['gains']; text: string }): Promise<StagedChange> {
    const now = this.#d.clock.now();
    const current = await this.#mailboxes.byName(tx, row.name);
    const change: StagedChange = { id: newId('own', now), mailbox: row.name, ownerBefore: current?.owner ?? null, ownerAfter: why.ownerAfter, gains: why.gains, why: why.text };
    await this.#changes.add(tx, { ...change, row, stagedBy: actor.user?.id ?? null, stagedByLabel: actor.label, stagedAt: now });
    await this.#tell(tx, change, `${actor.label.replace(/^user:/, '')} proposes`, 'waits for approval by someone else');
    return change;
  }

  // The addresses the row's mailbox would bring `ownerAfter`: each one not theirs already, and whose it is now.
  async #gains(tx: Tx, row: DirectoryRow, ownerAfter: string): Promise<StagedChange['gains']> {
    const current = await this.#mailboxes.byName(tx, row.name);
    const gains: StagedChange['gains'] = [];
    for (const address of new Set([...(current?.addresses ?? []), ...row.addresses])) {
      const from = (await this.#mailboxes.holderOf(tx, address))?.owner ?? null;
      if (from !== ownerAfter) gains.push({ address, from });
    }
    return gains;
  }

  async decide(tx: Tx, approver: User, id: string, decision: 'approve' | 'deny', reason: string): Promise<OwnershipChangeRecord> {
    const c = await this.#changes.get(tx, id);
    if (!c) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no ownership change ${id}`);
    if (!approver.roles.some((r) => r === 'admin' || r === 'approver')) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'only admins and approvers decide on ownership changes');
    if (c.stagedBy === approver.id) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'no one approves an ownership change they staged');
    if (c.ownerAfter === approver.name) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'no one approves their own ownership of a mailbox');
    const owner = c.ownerAfter ? await this.#d.people.byName(tx, c.ownerAfter) : null;
    if (owner && (await this.#d.fourEyes.makerChain(tx, owner.id)).includes(approver.id)) {
      throw new SealboxError('SEALBOX_ERR_FORBIDDEN', `you made ${owner.name}'s account (or the account that made it), so its first enrolment code came to you, and you do not approve giving it mail`);
    }
    for (const other of [c.stagedBy, owner?.id ?? null]) {
      const linked = other === null ? null : await this.#d.fourEyes.linked(tx, approver.id, other);
      if (linked) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', `four eyes means two people: ${linked}`);
    }
    if (!reason.trim()) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'a reason is required');
    if (c.decision !== null) throw new SealboxError('SEALBOX_ERR_CONFLICT', `ownership change ${id} was already ${c.decision === 'approve' ? 'approved' : 'denied'}`);
    if (decision === 'approve' && ((await this.#mailboxes.byName(tx, c.mailbox))?.owner ?? null) !== c.ownerBefore) {
      throw new SealboxError('SEALBOX_ERR_CONFLICT', `mailbox ${c.mailbox} changed owner since this was staged; stage it again`);
    }
    await this.#changes.decide(tx, id, { by: approver.id, decision, reason: reason.trim(), at: this.#d.clock.now() });
    if (decision === 'approve') {
      await this.#mailboxes.apply(tx, c.row);
      if (c.ownerAfter && c.gains.length > 0) await this.#handOver(tx, c.ownerAfter);
    }
    await this.#tell(tx, c, `${approver.name} ${decision === 'approve' ? 'approved' : 'denied'}`, decision === 'approve' ? 'is in force from now on' : 'does not happen', reason.trim());
    return (await this.#changes.get(tx, id))!;
  }

  get(tx: Tx, id: string): Promise<OwnershipChangeRecord | null> {
    return this.#changes.get(tx, id);
  }

  list(tx: Tx): Promise<OwnershipChangeRecord[]> {
    return this.#changes.list(tx);
  }

  // The addresses the row takes from another mailbox, with that mailbox (one that mail made for
  // an address included).
  async #moves(tx: Tx, row: DirectoryRow): Promise<{ address: string; from: Mailbox }[]> {
    const moves: { address: string; from: Mailbox }[] = [];
    for (const address of row.addresses) {
      const holder = await this.#mailboxes.holderOf(tx, address);
      const from = holder && holder.name !== row.name ? await this.#mailboxes.byName(tx, holder.name) : null;
      if (from) moves.push({ address, from });
    }
    return moves;
  }

  // Why the row would keep mail less long under the retention rules in force, if it would: for
  // every address it concerns, its mail's retention or minimum (in any direction) under the
  // mailbox it has now against the one the row makes — the mailbox's own addresses when the row
  // sets or changes its department or sensitivity, an address moved here from another mailbox
  // (one that mail made for it included), and an address the archive holds no mailbox for yet.
  // A first department is no exception: otherwise an admin could give a mailbox without one a
  // department whose rule keeps mail a year, alone.
  async #keepsLess(tx: Tx, row: DirectoryRow, current: Mailbox | null, moves: readonly { address: string; from: Mailbox }[]): Promise<string | null> {
    const policy = await this.#d.retention?.policy(tx);
    if (!policy) return null;
    const after = { mailbox: row.name, sensitivity: row.sensitivity ?? current?.sensitivity ?? null, department: row.department ?? current?.department ?? null };
    const of = (m: Mailbox) => ({ mailbox: m.name, sensitivity: m.sensitivity, department: m.department });
    const changes: { address: string; before: Omit<AddressMailbox, 'address'> | null; what: string }[] = [];
    if (current && (after.department !== current.department || after.sensitivity !== current.sensitivity)) {
      const what = after.department === current.department ? `sets the sensitivity ${after.sensitivity}`
        : current.department ? `changes the department ${current.department} to ${after.department}` : `sets the department ${after.department}`;
      for (const address of current.addresses) changes.push({ address, before: of(current), what });
    }
    for (const { address, from } of moves) changes.push({ address, before: of(from), what: `moves ${address} from ${from.name}` });
    for (const address of row.addresses) {
      if (!current?.addresses.includes(address) && !moves.some((m) => m.address === address)) changes.push({ address, before: null, what: `adds ${address}` });
    }
    const days = (t: number | null) => (t === null ? 'for ever' : `${Math.round(t / 86_400_000)} days`);
    for (const { address, before, what } of changes) {
      for (const direction of ['inbound', 'outbound', 'internal', null] as const) {
        const terms = (m: Omit<AddressMailbox, 'address'> | null) => policy.termsOf({ known: true, addresses: [address], domains: [domainOf(address)], direction, mailboxes: m ? [{ address, ...m }] : [] }, 0);
        const was = terms(before);
        const will = terms(after);
        if (span(will.retainUntil) < span(was.retainUntil) || span(will.keepUntil) < span(was.keepUntil)) {
          return `${what}, so that its mail${direction ? ` (${direction})` : ''} would be kept ${days(will.retainUntil)} instead of ${days(was.retainUntil)}${will.keepUntil !== will.retainUntil || was.keepUntil !== was.retainUntil ? `, at least ${days(will.keepUntil)} instead of ${days(was.keepUntil)}` : ''}`;
        }
      }
    }
    return null;
  }

  // Why the row takes an address away from a custodian mailbox of a hold in force, if it does.
  #leavesHold(moves: readonly { address: string; from: Mailbox }[], custodians: ReadonlyMap<number, string[]>): string | null {
    const moved = moves.flatMap(({ address, from }) => (custodians.has(from.id) ? [`${address} from ${from.name} (legal hold ${custodians.get(from.id)!.join(', ')})`] : []));
    return moved.length ? `moves addresses out of a custodian's mailbox, and their mail out of its legal hold: ${moved.join('; ')}` : null;
  }

  async mailboxId(tx: Tx, name: string): Promise<number | null> {
    return (await this.#mailboxes.byName(tx, name))?.id ?? null;
  }

  async #needsApproval(tx: Tx, actor: DirectoryActor, row: DirectoryRow, custodians: ReadonlyMap<number, string[]>): Promise<{ ownerAfter: string; gains: StagedChange['gains']; text: string } | null> {
    const current = await this.#mailboxes.byName(tx, row.name);
    const ownerAfter = row.owner ?? current?.owner ?? null;
    // A hold covers its custodians' mail by the addresses their mailboxes have: an address moved
    // to another mailbox takes its mail out of the hold, and past its retention disposal takes it.
    // Retention rules may match a mailbox, its department or sensitivity: the row could make the
    // mail it receives from then on go sooner. Neither is one person's call.
    const moves = await this.#moves(tx, row);
    const kept = this.#leavesHold(moves, custodians) ?? await this.#keepsLess(tx, row, current, moves);
    if (kept) return { ownerAfter: ownerAfter ?? '', gains: ownerAfter === null ? [] : await this.#gains(tx, row, ownerAfter), text: kept };
    const sensitivityChange = current?.sensitivity && row.sensitivity && row.sensitivity !== current.sensitivity;
    if (ownerAfter === null) return sensitivityChange ? { ownerAfter: '', gains: [], text: `changes the sensitivity ${current!.sensitivity} to ${row.sensitivity}` } : null;
    const gains = await this.#gains(tx, row, ownerAfter);
    const takenFrom = [...new Set(gains.map((g) => g.from).filter((f): f is string => f !== null))];
    if (takenFrom.length > 0) return { ownerAfter, gains, text: `takes addresses or the mailbox from ${takenFrom.join(', ')}` };
    if (gains.length > 0 && actor.user?.name === ownerAfter) return { ownerAfter, gains, text: 'the person making the change would become the owner' };
    const owner = await this.#d.people.byName(tx, ownerAfter);
    const linked = gains.length > 0 && actor.user && owner ? await this.#d.fourEyes.linked(tx, actor.user.id, owner.id) : null;
    if (linked) return { ownerAfter, gains, text: `the new owner is linked to the person making the change (${linked})` };
    // An admin who made the account through the API was handed its first code, and may have
    // enrolled as the person: someone else confirms that the account is the owner's. (One not
    // enrolled yet gets a new code by mail instead: #handOver.)
    const makers = gains.length > 0 && owner?.enrolled ? await this.#d.fourEyes.makers(tx, owner.id) : [];
    if (makers.length > 0) {
      const names = await this.#d.people.names(tx);
      return { ownerAfter, gains, text: `the new owner's account was made by ${makers.map(names).join(', ')}, who was handed its first enrolment code` };
    }
    if (sensitivityChange) return { ownerAfter, gains, text: `changes the sensitivity ${current!.sensitivity} to ${row.sensitivity}` };
    return null;
  }

  // Mail given to an account whose first code an admin holds and which is not enrolled yet: that
  // code ends, and a new one goes to the mailboxes' addresses (src/access/enrolment-codes.ts).
  async #handOver(tx: Tx, owner: string): Promise<void> {
    await codeToOwner(tx, { ...this.#d, makers: (t, id) => this.#d.fourEyes.makers(t, id) }, owner);
  }

  async #tell(tx: Tx, c: StagedChange | OwnershipChangeRecord, lead: string, outcome: string, reason?: string): Promise<void> {
    const text = `${lead} that mailbox ${c.mailbox} be owned by ${c.ownerAfter || '(unchanged)'}${c.ownerBefore ? ` instead of ${c.ownerBefore}` : ''}; this ${outcome}.\n`
      + `${c.gains.length ? `Addresses: ${c.gains.map((g) => `${g.address}${g.from ? ` (from ${g.from})` : ''}`).join(', ')}\n` : ''}Why it needs approval: ${c.why}\n${reason ? `Reason: ${reason}\n` : ''}Change: ${c.id}`;
    const told = new Map<number, User>();
    for (const name of [c.ownerBefore, ...c.gains.map((g) => g.from)]) {
      const u = name ? await this.#d.people.byName(tx, name) : null;
      if (u) told.set(u.id, u);
    }
    for (const u of told.values()) await this.#d.notifier.toPerson(tx, 'mailbox.ownership', u, `Ownership of mailbox ${c.mailbox}`, text);
    if (!reason) await this.#d.notifier.toUsers(tx, 'mailbox.ownership', (await this.#d.people.list(tx)).filter((u) => !u.disabled && !told.has(u.id) && u.roles.some((r) => r === 'admin' || r === 'approver')), `Ownership change ${c.id} for ${c.mailbox} awaits a decision`, text);
  }
}

function rowKey(r: DirectoryRow): string {
  return JSON.stringify([r.name, [...r.addresses].sort(), r.displayName, r.owner, r.sensitivity, r.manager, r.department ?? null, r.left ?? null]);
}
