// One command's work, loaded only when that command runs (see ../main.ts).
import { SealboxError } from '../../core/errors.ts';
import { reportCsv, reportText } from '../../oversight/oversight-report.ts';
import { openReader } from '../archive-access.ts';
import type { CliOptions } from '../archive-access.ts';

// `sealbox report` and `sealbox inventory`: auditors only, each reading in the ledger.
export async function report(o: CliOptions): Promise<void> {
  const when = (v: string | undefined, flag: string) => {
    if (v === undefined) return undefined;
    const t = Date.parse(v);
    if (!Number.isFinite(t)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `${flag} "${v}" is not an ISO date or time`);
    return t;
  };
  const period = { from: when(o.from, '--from'), to: when(o.to, '--to') };
  const r = await openReader(o, 'ledger');
  try {
    const report = await r.archive.services.oversight.report({ ...r.ctx, user: r.user, logonType: 'admin' }, period);
    process.stdout.write(o.format === 'json' ? JSON.stringify(report, null, 2) + '\n' : o.format === 'csv' ? reportCsv(report) : reportText(report));
  } finally {
    r.close();
  }
}

export async function inventory(o: CliOptions): Promise<void> {
  const at = o.at === undefined ? undefined : Date.parse(o.at);
  if (at !== undefined && !Number.isFinite(at)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `--at "${o.at}" is not an ISO date or time`);
  const r = await openReader(o, 'ledger');
  try {
    const inv = await r.archive.services.oversight.inventory({ ...r.ctx, user: r.user, logonType: 'admin' }, at);
    if (o.json) return void process.stdout.write(JSON.stringify(inv, null, 2) + '\n');
    const iso = (t: number) => new Date(t).toISOString();
    process.stdout.write(`Permission inventory at ${iso(inv.at)} (${inv.source === 'live' ? 'live' : 'rebuilt from the ledger'})\n\nGrants in force:\n`);
    for (const g of inv.grants) process.stdout.write(`  ${g.id}  ${g.holder}  ${g.mailboxes.join(', ')}  ${g.permissions.join('+')}  until ${iso(g.endsAt)} (${Math.round(g.secondsLeft / 60)} min left)${g.breakglass ? '  BREAK-GLASS' : ''}\n`);
    if (inv.grants.length === 0) process.stdout.write('  none\n');
    process.stdout.write(`\nBreak-glass holders: ${inv.breakglassHolders.join(', ') || 'none'}\n\nOwners:\n`);
    for (const m of inv.owners) process.stdout.write(`  ${m.mailbox}  ${m.owner}\n`);
    process.stdout.write('\nAPI tokens with the content scope:\n');
    for (const t of inv.contentTokens) process.stdout.write(`  ${t.id}  ${t.user}  ${t.scopes.join(', ')}  until ${iso(t.expiresAt)}\n`);
    if (inv.contentTokens.length === 0) process.stdout.write('  none\n');
  } finally {
    r.close();
  }
}
