import type { Tx } from '../core/transactions.ts';
import { canonicalJson } from '../ledger/ledger-entry.ts';
import type { LedgerHistory } from './ledger-history.ts';
import { inventoryFromLedger, liveInventory } from './permission-inventory.ts';

type Deps = Parameters<typeof liveInventory>[1] & { history: LedgerHistory };

// Who can read what according to the tables the decisions are made from, against the same
// rebuilt from the ledger alone. The ledger is covered by the tree and its signed checkpoints;
// the tables are not. A grant widened or lengthened, an owner or a content token added, a
// break-glass role given by editing the database: each shows up here as a difference, named.
// Both sides are read in the caller's transaction, so they see the same moment.
export async function accessStateProblems(tx: Tx, d: Deps): Promise<string[]> {
  const live = await liveInventory(tx, d);
  const ledger = await inventoryFromLedger(tx, d.history, live.at);
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
  return problems;
}
