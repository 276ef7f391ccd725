// One command's work, loaded only when that command runs (see ../main.ts).
import { readFileSync } from 'node:fs';
import { systemClock } from '../../core/clock.ts';
import { parseDirectoryCsv } from '../../access/directory-csv.ts';
import { Policy } from '../../access/policy.ts';
import { peopleOf } from '../../api/services.ts';
import { openStores } from '../../store/open-stores.ts';
import { configOf, directoryOwnership, ledgerFor } from '../archive-access.ts';
import type { CliOptions } from '../archive-access.ts';

// `sealbox mailboxes import FILE`.
export function importDirectory(file: string, o: CliOptions): void {
  const config = configOf(o);
  const rows = parseDirectoryCsv(readFileSync(file, 'utf8'));
  const stores = openStores(config, { create: false });
  try {
    const ledger = ledgerFor(stores, config);
    const policy = new Policy(stores.meta, config.access);
    const ownership = directoryOwnership(stores, config, peopleOf(stores, systemClock, () => policy.current()));
    const result = stores.meta.transaction(() => {
      ledger.catchUp();
      // Rows that would let someone read mail they could not read before wait for approval.
      const r = ownership.import({ user: null, label: `os:${process.env.USER ?? 'unknown'}` }, rows);
      ledger.append({
        type: 'admin', actor: `os:${process.env.USER ?? 'unknown'}`, actorRoles: ['operator'], logonType: 'admin', sessionId: null, clientIp: null,
        operation: 'mailboxes.import', objects: { mailboxes: r.applied.map((m) => m.name), messages: [] }, grantId: null, result: 'success',
        // owners and managers in force from here on: a past inventory is rebuilt from the ledger
        parameters: {
          file, mailboxes: r.mailboxes, addresses: r.addresses,
          owners: Object.fromEntries(r.applied.filter((m) => m.owner).map((m) => [m.name, m.owner])), managers: Object.fromEntries(r.applied.filter((m) => m.manager).map((m) => [m.name, m.manager])),
          staged: r.staged.map((c) => ({ id: c.id, mailbox: c.mailbox, from: c.ownerBefore, to: c.ownerAfter, why: c.why })),
        },
      });
      return r;
    });
    for (const c of result.staged) process.stdout.write(`staged ${c.id}: ${c.mailbox} to ${c.ownerAfter || '(owner unchanged)'}${c.ownerBefore ? ` from ${c.ownerBefore}` : ''} (${c.why}); someone else approves it\n`);
    process.stdout.write(`imported ${result.mailboxes} mailbox(es) with ${result.addresses} address(es)\n`);
  } finally {
    stores.close();
  }
}
