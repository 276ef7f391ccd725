// One command's work, loaded only when that command runs (see ../main.ts).
import { consoleOperator } from '../../access/audit.ts';
import { SealboxError } from '../../core/errors.ts';
import type { SyncResult } from '../../directory/directory-sync.ts';
import { syncFromLdap } from '../../directory/ldap-sync.ts';
import { withArchive } from '../archive-access.ts';
import type { CliOptions } from '../archive-access.ts';

// `sealbox directory sync [--dry-run] [--confirm] [--json]`, as the console operator: what would
// give someone a role, a mailbox or a leaving date is filed for someone else's approval.
export function sync(o: CliOptions): Promise<void> {
  return withArchive(o, async ({ config, services }) => {
    const result = await syncFromLdap(config, services.directory, consoleOperator(), { dryRun: Boolean(o.dryRun), confirm: Boolean(o.confirm) });
    if (o.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else printSync(result);
    if (result.state === 'stopped') throw new SealboxError('SEALBOX_ERR_CONFLICT', `${result.message} (sealbox directory sync --confirm)`);
  });
}

function printSync(r: SyncResult): void {
  for (const c of r.changes) process.stdout.write(`${describe(c)}: ${c.outcome}\n`);
  for (const s of r.skipped) process.stdout.write(`skipped ${s.entry}: ${s.why}\n`);
  const verb = r.state === 'dry-run' ? 'would make' : r.state === 'stopped' ? 'stopped before' : 'made';
  process.stdout.write(`sync ${r.id} (${r.source}): ${r.summary.people} people, ${r.summary.shared} shared mailboxes; ${verb} ${r.summary.changes} change(s), ${r.summary.staged} waiting for approval\n`);
}

function describe(c: SyncResult['changes'][number]): string {
  switch (c.kind) {
    case 'mailbox': return `mailbox ${c.mailbox} (${(c.what as string[]).join(', ')}) owner ${c.owner ?? '(unchanged)'}`;
    case 'leave': return `leaver ${c.user} (${c.mailbox}) left on ${c.left}: ${c.why}`;
    case 'return': return `returned ${c.user} (${c.mailbox})`;
    case 'disable': return `disable ${c.user}: ${c.why}`;
    case 'roles': return `roles of ${c.user}: ${(c.from as string[]).join(', ') || 'none'} to ${(c.to as string[]).join(', ') || 'none'}`;
    case 'role.file': return `role ${c.role} for ${c.user}: ${c.why}`;
    case 'role.cancel': return `role ${c.role} for ${c.user} no longer asked for`;
  }
}
