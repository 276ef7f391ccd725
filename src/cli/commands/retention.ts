// One command's work, loaded only when that command runs (see ../main.ts).
import { consoleOperator } from '../../access/audit.ts';
import type { Services } from '../../api/services.ts';
import { SealboxError } from '../../core/errors.ts';
import type { Tx } from '../../core/transactions.ts';
import { ruleTerms } from '../../retention/retention-policy.ts';
import { changeView, ruleChangeEvent } from '../../retention/retention-rules.ts';
import type { RuleOutcome } from '../../retention/retention-rules.ts';
import type { Direction, RetentionRule } from '../../retention/retention-store.ts';
import { withArchive } from '../archive-access.ts';
import type { CliOptions } from '../archive-access.ts';

const kept = (days: number | null) => (days === null ? 'for ever' : `${days} days`);

function ruleLine(r: RetentionRule): string {
  const what = [
    r.mailboxes.length ? `mailboxes ${r.mailboxes.join(', ')}` : '', r.sensitivities.length ? `sensitivity ${r.sensitivities.join(', ')}` : '',
    r.departments.length ? `department ${r.departments.join(', ')}` : '', r.domains.length ? `domains ${r.domains.join(', ')}` : '', r.directions.length ? `${r.directions.join(', ')} mail` : '',
  ].filter(Boolean).join('; ');
  return `${r.id}  ${r.name}: ${ruleTerms(r)} (${what})`;
}

// `sealbox retention list`.
export function list(o: CliOptions): Promise<void> {
  return withArchive(o, async ({ services: s }) => {
    const { rules, changes } = await s.db.read(async (tx) => ({ rules: await s.retention.rules(tx), changes: await s.retention.changes(tx) }));
    if (o.json) {
      process.stdout.write(JSON.stringify({ defaultDays: s.retention.defaultDays, rules, changes: changes.map(changeView) }) + '\n');
      return;
    }
    process.stdout.write(`mail matching no rule: ${kept(s.retention.defaultDays)} (retention.defaultDays)\n`);
    for (const r of rules) process.stdout.write(ruleLine(r) + '\n');
    for (const c of changes.filter((c) => c.decision === null)) {
      process.stdout.write(`pending ${c.id}: ${c.kind === 'remove' ? `remove ${c.ruleId}` : ruleLine(c.after!)} — ${c.why}; filed by ${c.filedByLabel}\n`);
    }
  });
}

// `sealbox retention set` and `sealbox retention remove`: recorded as the console operator;
// what could shorten retention is filed for an approver (web app or API) to decide.
export function set(o: CliOptions): Promise<void> {
  if ((o.days === undefined) === !o.forever) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'give either --days N or --forever');
  return change(o, (s, tx, operator) => s.retention.set(tx, operator, {
    id: o.rule, name: o.name, mailboxes: o.mailbox, sensitivities: o.sensitivity, departments: o.department, domains: o.domain, directions: o.direction as Direction[] | undefined,
    days: o.forever ? null : o.days, minDays: o.minDays,
  }, o.note ?? null));
}

export function remove(rule: string, o: CliOptions): Promise<void> {
  return change(o, (s, tx, operator) => s.retention.remove(tx, operator, rule, o.note ?? null));
}

type Work = (s: Services, tx: Tx, operator: ReturnType<typeof consoleOperator>) => Promise<RuleOutcome>;

function change(o: CliOptions, work: Work): Promise<void> {
  return withArchive(o, async ({ services: s }) => {
    const operator = consoleOperator();
    const r = await s.audit.record(operator, (r: RuleOutcome) => ruleChangeEvent(r, o.note ?? null), (tx) => work(s, tx, operator));
    if (r.applied) process.stdout.write(`applied: ${ruleLine(r.rule!)}\n`);
    else process.stdout.write(`filed ${r.change.id} (${r.change.why}): an approver decides it (POST /api/v1/retention/changes/${r.change.id}/approve)\n`);
  });
}
