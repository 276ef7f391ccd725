import { userInfo } from 'node:os';
import type { LedgerEntry, LogonType } from '../core/types.ts';
import { SealboxError } from '../core/errors.ts';
import { LEDGER_OPERATIONS } from '../core/ledger-operations.ts';
import type { LedgerOperation } from '../core/ledger-operations.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { Transactions, Tx } from '../core/transactions.ts';
import type { User } from './people.ts';

// Who is acting, as the ledger records it.
export interface Actor {
  user: User | null;
  logonType: LogonType;
  sessionId: string | null;
  clientIp: string | null;
  userAgent: string | null;
  label?: string;            // who acts when no person does (e.g. system:oversight)
  roles?: readonly string[]; // and the roles it acts in
}

// The person at the server's console (sealbox users add, mailboxes import): named by the
// operating-system account, acting as the operator.
export function consoleOperator(): Actor & { label: string } {
  return { user: null, label: `os:${userInfo().username}`, roles: ['operator'], logonType: 'admin', sessionId: null, clientIp: null, userAgent: null };
}

// What happened, named from the registry (core/ledger-operations.ts), which also gives the entry's type.
export interface AuditEvent {
  operation: LedgerOperation;
  mailboxes?: { id: number; name: string }[];
  messages?: string[];
  grantId?: string | null;
  parameters?: Record<string, unknown>;
  // Earlier entries whose personal payloads this one erases (Ledger.append).
  erases?: number[];
}

// What the Audit needs from storage: the work's transaction, and the links that find an entry
// again by mailbox and by grant, written with it.
export interface AuditStore extends Transactions {
  linkEntry(tx: Tx, index: number, mailboxIds: readonly number[], grantId: string | null): Promise<void>;
}

// The one writer of ledger entries about people's actions (captures are appended by the archive
// writer, in their batch): each in the same transaction as the work it describes; if the entry
// cannot be written, the work is rolled back and its result is never handed out.
export class Audit {
  readonly #store: AuditStore;
  readonly #ledger: Ledger;

  constructor(store: AuditStore, ledger: Ledger) {
    this.#store = store;
    this.#ledger = ledger;
  }

  // `event` may look at the result and return null when there is nothing to record.
  async record<T>(actor: Actor, event: AuditEvent | ((result: T) => AuditEvent | null | Promise<AuditEvent | null>), work: (tx: Tx) => Promise<T>): Promise<T> {
    try {
      return await this.#store.write(async (tx) => {
        await this.#ledger.catchUp(tx);
        const result = await work(tx);
        const e = typeof event === 'function' ? await event(result) : event;
        if (e) await this.#append(tx, actor, e, 'success');
        return result;
      });
    } catch (err) {
      if (err instanceof SealboxError) throw err;
      throw new SealboxError('SEALBOX_ERR_LEDGER', undefined, { cause: err });
    }
  }

  // As record, for work that makes several changes at once (a person made by their first sign-in
  // through a provider, their roles, what waits for approval): each change its own entry, in the
  // order given, all in the work's transaction.
  async recordEach<T>(actor: Actor, work: (tx: Tx) => Promise<{ result: T; events: AuditEvent[] }>): Promise<T> {
    try {
      return await this.#store.write(async (tx) => {
        await this.#ledger.catchUp(tx);
        const { result, events } = await work(tx);
        for (const e of events) await this.#append(tx, actor, e, 'success');
        return result;
      });
    } catch (err) {
      if (err instanceof SealboxError) throw err;
      throw new SealboxError('SEALBOX_ERR_LEDGER', undefined, { cause: err });
    }
  }

  // As record; a refusal the work itself decides (four eyes, a state that does not allow it: any
  // SealboxError but the ledger's own) is recorded too, as `refused` with its reason, and rethrown.
  async recordOrRefuse<T>(actor: Actor, refused: AuditEvent, event: AuditEvent | ((result: T) => AuditEvent | null | Promise<AuditEvent | null>), work: (tx: Tx) => Promise<T>): Promise<T> {
    try {
      return await this.record(actor, event, work);
    } catch (err) {
      if (err instanceof SealboxError && err.code !== 'SEALBOX_ERR_LEDGER') await this.denied(actor, refused, err.message);
      throw err;
    }
  }

  // A refused attempt is evidence too.
  async denied(actor: Actor, event: AuditEvent, reason: string): Promise<void> {
    try {
      await this.#store.write(async (tx) => {
        await this.#ledger.catchUp(tx);
        await this.#append(tx, actor, { ...event, parameters: { ...event.parameters, reason } }, 'denied');
      });
    } catch (err) {
      throw new SealboxError('SEALBOX_ERR_LEDGER', undefined, { cause: err });
    }
  }

  async #append(tx: Tx, actor: Actor, event: AuditEvent, result: LedgerEntry['result']): Promise<LedgerEntry> {
    const entry = await this.#ledger.append(tx, {
      type: LEDGER_OPERATIONS[event.operation].type, actor: actor.user ? `user:${actor.user.name}` : actor.label ?? 'anonymous', actorRoles: [...(actor.user?.roles ?? actor.roles ?? [])],
      logonType: actor.logonType, sessionId: actor.sessionId, clientIp: actor.clientIp, operation: event.operation,
      objects: { mailboxes: (event.mailboxes ?? []).map((m) => m.name), messages: event.messages ?? [] },
      grantId: event.grantId ?? null, result,
      parameters: { ...(actor.userAgent ? { userAgent: actor.userAgent } : {}), ...event.parameters },
      ...(event.erases?.length ? { erases: event.erases } : {}),
    });
    await this.#store.linkEntry(tx, entry.index, (event.mailboxes ?? []).map((m) => m.id), entry.grantId);
    return entry;
  }
}
