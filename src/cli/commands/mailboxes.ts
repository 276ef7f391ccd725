// One command's work, loaded only when that command runs (see ../main.ts).
import { readFileSync } from 'node:fs';
import { parseDirectoryCsv } from '../../access/directory-csv.ts';
import type { DirectoryRow } from '../../access/directory-csv.ts';
import { consoleOperator } from '../../access/audit.ts';
import { importParameters } from '../../access/mailbox-ownership.ts';
import type { ImportOutcome } from '../../access/mailbox-ownership.ts';
import type { Services } from '../../api/services.ts';
import { withArchive } from '../archive-access.ts';
import type { CliOptions } from '../archive-access.ts';

// `sealbox mailboxes import FILE`.
export function importDirectory(file: string, o: CliOptions): Promise<void> {
  const rows = parseDirectoryCsv(readFileSync(file, 'utf8'));
  return withArchive(o, async ({ services }) => {
    const result = await importAtConsole(services, rows, file);
    for (const c of result.staged) process.stdout.write(`staged ${c.id}: ${c.mailbox} to ${c.ownerAfter || '(owner unchanged)'}${c.ownerBefore ? ` from ${c.ownerBefore}` : ''} (${c.why}); someone else approves it\n`);
    for (const l of result.leavers.filed) process.stdout.write(`filed ${l.id}: ${l.mailbox} left on ${l.left}; an approver decides it\n`);
    for (const l of result.leavers.skipped) process.stdout.write(`not filed: ${l.mailbox} left on ${l.left} (${l.why})\n`);
    process.stdout.write(`imported ${result.mailboxes} mailbox(es) with ${result.addresses} address(es)\n`);
  });
}

// The directory as the console operator imports it, recorded in the ledger; the in-process tests
// (test/support/in-process.ts) import theirs through it as well.
export async function importAtConsole({ ownership, mailboxes, audit }: Services, rows: DirectoryRow[], file: string): Promise<ImportOutcome> {
  const operator = consoleOperator();
  // The entry names the mailboxes applied with their ids, which the work looks up (an event reads nothing).
  const { outcome } = await audit.record(operator, ({ outcome: r, applied }: { outcome: ImportOutcome; applied: { id: number; name: string }[] }) => ({
    operation: 'mailboxes.import', mailboxes: applied, parameters: importParameters(r, file),
  }), async (tx) => {
    const outcome = await ownership.import(tx, operator, rows, file); // rows that would let someone read more wait for approval
    const applied: { id: number; name: string }[] = [];
    for (const m of outcome.applied) applied.push({ id: (await mailboxes.byName(tx, m.name))!.id, name: m.name });
    return { outcome, applied };
  });
  return outcome;
}
