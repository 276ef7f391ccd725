import type { Tx } from '../core/transactions.ts';
import { canonicalJson } from '../ledger/ledger-entry.ts';
import type { Leavers } from '../retention/leavers.ts';
import { leaverInForce, leaversFromLedger } from '../retention/leavers.ts';
import type { LedgerHistory } from './ledger-history.ts';
import { replayLedger } from './ledger-history.ts';
import { inventoryReplay, liveInventory } from './permission-inventory.ts';

type Deps = Parameters<typeof liveInventory>[1] & { history: LedgerHistory; leavers: Pick<Leavers, 'states'> };

// Who can read what, and whose mail goes early, according to the tables the decisions are made
// from, against the same rebuilt from the ledger alone. The ledger is covered by the tree and its
// signed checkpoints; the tables are not. A grant widened or lengthened, an owner or a content
// token added, a break-glass role given, a leaving date set or moved, an exemption ended by
// editing the database: each shows up here as a difference, named. Both sides are read in the
// caller's transaction, so they see the same moment; the ledger is read once for all of them.
export async function accessStateProblems(tx: Tx, d: Deps): Promise<string[]> {
  const live = await liveInventory(tx, d);
  const inventory = inventoryReplay(live.at);
  const leavers = leaversFromLedger();
  await replayLedger(tx, d.history, live.at, [inventory, leavers]);
  const ledger = inventory.result();
  const problems: string[] = [];
  const compare = <T>(what: string, key: (x: T) => string, a: T[], b: T[]) => {
    const fromLedger = new Map(b.map((x) => [key(x), canonicalJson(x)]));
    for (const x of a) {
      const k = key(x);
      const l = fromLedger.get(k);
      if (l === undefined) problems.push(`access state: ${what} ${k} is in the database but no ledger entry gives it: ${canonicalJson(x)}`);
      else if (l !== canonicalJson(x)) problems.push(`access state: ${what} ${k} in the database differs from the ledger: database ${canonicalJson(x)}, ledger ${l}`);
      fromLedger.delete(k);
    }
    for (const [k, l] of fromLedger) problems.push(`access state: ${what} ${k} is in the ledger but not in the database: ${l}`);
  };
  compare('grant', (g) => g.id, live.grants, ledger.grants);
  compare('break-glass holder', (n) => n, live.breakglassHolders, ledger.breakglassHolders);
  compare('owner of mailbox', (o) => o.mailbox, live.owners, ledger.owners);
  compare('content token', (t) => t.id, live.contentTokens, ledger.contentTokens);
  compare('leaving date of mailbox', (l) => l.mailbox, (await d.leavers.states(tx)).map(leaverInForce), leavers.result().map(leaverInForce));
  return problems;
}
