// One command's work, loaded only when that command runs (see ../main.ts).
import { consoleOperator } from '../../access/audit.ts';
import { SealboxError } from '../../core/errors.ts';
import type { Hold } from '../../retention/hold-store.ts';
import { withArchive } from '../archive-access.ts';
import type { CliOptions } from '../archive-access.ts';

const day = (t: number | null) => (t === null ? '' : new Date(t).toISOString().slice(0, 10));

function holdLine(h: Hold): string {
  const window = h.dateFrom !== null || h.dateTo !== null ? ` ${day(h.dateFrom)}…${day(h.dateTo)}` : '';
  return `${h.id}  ${h.releasedAt === null ? 'ON' : 'released'}  ${h.name} (matter ${h.matter}): ${h.custodians.map((c) => c.name).join(', ')}${window}${h.query ? `  query: ${h.query}` : ''}`;
}

// `sealbox holds list`.
export function list(o: CliOptions): Promise<void> {
  return withArchive(o, async ({ services: s }) => {
    const holds = await s.db.read((tx) => s.holds.holds(tx));
    process.stdout.write(o.json ? JSON.stringify(holds) + '\n' : holds.map(holdLine).join('\n') + (holds.length ? '\n' : ''));
  });
}

// `sealbox holds place`: applies at once, as the console operator.
export function place(o: CliOptions): Promise<void> {
  const when = (v: string | undefined, flag: string) => {
    if (v === undefined) return null;
    const t = Date.parse(v);
    if (!Number.isFinite(t)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `${flag} "${v}" is not an ISO date or time`);
    return t;
  };
  const input = { name: o.name, matter: o.matter, custodians: o.custodian, dateFrom: when(o.from, '--from'), dateTo: when(o.to, '--to'), query: o.query ?? null };
  return withArchive(o, async ({ services: s }) => {
    const operator = consoleOperator();
    const h = await s.audit.record(operator, (h: Hold) => ({ operation: 'hold.place', parameters: { hold: h.id, name: h.name, matter: h.matter, custodians: h.custodians.map((c) => c.name), dateFrom: h.dateFrom, dateTo: h.dateTo, query: h.query } }),
      (tx) => s.holds.place(tx, operator, input));
    process.stdout.write(`placed: ${holdLine(h)}\n`);
  });
}

// `sealbox holds release`: filed for an approver (web app or API) to decide.
export function release(hold: string, o: CliOptions): Promise<void> {
  return withArchive(o, async ({ services: s }) => {
    const operator = consoleOperator();
    const r = await s.audit.record(operator, (r: { id: string }) => ({ operation: 'hold.release.file', parameters: { hold, reason: o.reason, release: r.id } }),
      (tx) => s.holds.fileRelease(tx, operator, hold, o.reason));
    process.stdout.write(`filed ${r.id}: an approver decides it (POST /api/v1/holds/releases/${r.id}/approve)\n`);
  });
}
