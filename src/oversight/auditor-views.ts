import type { LedgerOperation } from '../core/ledger-operations.ts';
import type { Clock } from '../core/clock.ts';
import type { Transactions } from '../core/transactions.ts';
import { SealboxError } from '../core/errors.ts';
import type { Actor, Audit } from '../access/audit.ts';
import type { User } from '../access/people.ts';
import { inventoryFromLedger, liveInventory } from './permission-inventory.ts';
import type { ReportDeps } from './oversight-report.ts';
import { buildReport } from './oversight-report.ts';

export interface AuditorViewDeps extends ReportDeps {
  audit: Audit;
  clock: Clock;
  meta: Transactions;
}

// What auditors read — the permission inventory and the reports — for the API and the CLI
// alike: auditors only, and each reading is itself a ledger entry (a refusal too). A reading
// walks the ledger, so it is made in a read transaction and recorded after it, before it is
// handed out: a walk over a long ledger never holds up the writers (captures included), and a
// reading that cannot be recorded is not served.
export class AuditorViews {
  readonly #d: AuditorViewDeps;

  constructor(d: AuditorViewDeps) {
    this.#d = d;
  }

  async inventory(actor: Actor & { user: User }, at?: number) {
    await this.#auditor(actor, 'oversight.inventory', { at: at ?? null });
    const inv = await this.#d.meta.read((tx) => (at === undefined ? liveInventory(tx, this.#d) : inventoryFromLedger(tx, this.#d.history, at)));
    const reading = { ...inv, grants: inv.grants.map((g) => ({ ...g, secondsLeft: Math.max(0, Math.round((g.endsAt - inv.at) / 1000)) })) };
    return this.#d.audit.record(actor, { operation: 'oversight.inventory', parameters: { at: at ?? null } }, async () => reading);
  }

  // The period a report covers, as its entry records it: by default the 30 days up to now.
  period(asked: { from?: number; to?: number }): { from: number; to: number } {
    const to = asked.to ?? this.#d.clock.now();
    return { from: asked.from ?? to - 30 * 86_400_000, to };
  }

  async report(actor: Actor & { user: User }, asked: { from?: number; to?: number }) {
    const { from, to } = this.period(asked);
    if (!(from < to)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'the period must start before it ends (from < to)');
    await this.#auditor(actor, 'oversight.report', { from, to });
    const report = await this.#d.meta.read((tx) => buildReport(tx, this.#d, { from, to }, this.#d.clock.now()));
    return this.#d.audit.record(actor, { operation: 'oversight.report', parameters: { from, to } }, async () => report);
  }

  async #auditor(actor: Actor & { user: User }, operation: LedgerOperation, parameters: Record<string, unknown>): Promise<void> {
    if (actor.user.roles.includes('auditor')) return;
    await this.#d.audit.denied(actor, { operation, parameters }, 'not an auditor');
    throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'only auditors read the permission inventory and the reports');
  }
}
