// One command's work, loaded only when that command runs (see ../main.ts).
import { consoleOperator } from '../../access/audit.ts';
import type { DisposalPlan } from '../../retention/disposal.ts';
import { withArchive } from '../archive-access.ts';
import type { CliOptions } from '../archive-access.ts';

// `sealbox dispose`: what retention lets go now, and with --run, gone (as the console operator).
export function dispose(o: CliOptions): Promise<void> {
  return withArchive(o, async ({ services: s }) => {
    if (!o.run) {
      const plan = await s.disposal.plan();
      process.stdout.write(o.json ? JSON.stringify(plan) + '\n' : planText(plan, 'would dispose of'));
      return;
    }
    const { plan, outcomes } = await s.disposal.run(consoleOperator());
    if (o.json) {
      process.stdout.write(JSON.stringify({ ...plan, outcomes }) + '\n');
      return;
    }
    process.stdout.write(planText(plan, 'disposed of'));
    for (const r of outcomes) process.stdout.write(`ledger entry ${r.ledgerIndex}: ${r.disposed.length} messages${r.bytesKept ? ` (${r.bytesKept} of them: key destroyed, bytes left to compaction)` : ''}\n`);
    const failed = outcomes.flatMap((r) => r.failed);
    if (failed.length > 0) process.stdout.write(`${failed.length} disposed messages could not be erased yet (their keys are destroyed; the next run tries again): ${failed.map((f) => f.error).join('; ')}\n`);
  });
}

function planText(plan: DisposalPlan, verb: string): string {
  const lines = [`${verb} ${plan.due.length} messages past their retention (at ${new Date(plan.at).toISOString()})`];
  for (const d of plan.due) lines.push(`  ${d.sha256}  retained until ${new Date(d.retainedUntil).toISOString().slice(0, 10)}  ${d.policy}`);
  if (plan.held.length > 0) lines.push(`kept by legal holds: ${plan.held.length}`, ...plan.held.map((h) => `  ${h.sha256}  ${h.holds.join(', ')}`));
  if (plan.leavers.length > 0) lines.push(`leavers whose mail is due: ${plan.leavers.map((l) => `${l.mailbox} (left ${l.left}, from ${l.disposeFrom})`).join(', ')}`);
  if (plan.keptByRule.length > 0) lines.push(`leavers' mail a retention rule's minimum keeps: ${plan.keptByRule.length}`);
  if (plan.unindexed.length > 0) lines.push(`kept until indexed (a hold's scope is judged on the index): ${plan.unindexed.length}`);
  return lines.join('\n') + '\n';
}
