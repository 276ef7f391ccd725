import { z } from 'zod';
import type { Tx } from '../core/transactions.ts';
import { SealboxError } from '../core/errors.ts';
import { parseDirectoryCsv } from '../access/directory-csv.ts';
import { importParameters } from '../access/mailbox-ownership.ts';
import type { ImportOutcome } from '../access/mailbox-ownership.ts';
import type { OwnershipChangeRecord } from '../access/ownership-change-store.ts';
import type { Role } from '../access/roles.ts';
import { leaverView } from '../retention/leavers.ts';
import { actorContext } from './principal.ts';
import type { RouteTable } from './route-table.ts';
import type { Services } from './services.ts';

// Who may look mailboxes up: those who file, decide on or oversee requests. The directory says
// whose mailbox it is and under which addresses, never anything about its content.
const DIRECTORY_ROLES: readonly Role[] = ['requester', 'approver', 'auditor', 'admin', 'records', 'breakglass'];

export function mailboxRoutes(routes: RouteTable, s: Services): void {
  const mailboxIds = async (tx: Tx, names: string[]) => {
    const ids = new Map<string, number | null>();
    for (const name of names) ids.set(name, await s.ownership.mailboxId(tx, name));
    return ids;
  };

  routes.add({
    method: 'GET', url: '/api/v1/mailboxes', tag: 'mailboxes',
    auth: {
      scope: 'requests', roles: DIRECTORY_ROLES,
      refusal: { operation: 'mailbox.list', logonType: 'owner', reason: 'not a requester, approver, auditor, admin or records manager', message: 'only requesters, approvers, auditors, admins and records managers look up mailboxes', parameters: ({ query }) => ({ q: query.q }) },
    },
    summary: 'mailboxes whose name, display name (a word of it) or an address starts with q (requesters, approvers, auditors, admins, records managers); no content; each with the day its person left (null: still there); admins, records managers and auditors also see sensitivity, department, notification policy and the leaver rule\'s disposal date and exemption',
    query: z.strictObject({ q: z.string().max(320).default(''), limit: z.coerce.number().int().min(1).max(500).default(20), offset: z.coerce.number().int().min(0).default(0) }),
    handler: async (_req, _reply, { query, p }) => {
      const full = p.user.roles.some((r) => r === 'admin' || r === 'records' || r === 'auditor');
      return s.db.read(async (tx) => {
        const found = await s.mailboxes.search(tx, query.q, { limit: query.limit, offset: query.offset });
        const policies = full ? await s.notifier.policies(tx, found.map((m) => m.id)) : null;
        // Whoever may look a mailbox up learns whether its person left (a request on a leaver's
        // mailbox is a different matter); admins, records managers and auditors also see until when it is kept.
        const leavers = new Map((await s.leavers.states(tx, found.map((m) => m.id))).map((l) => [l.mailboxId, leaverView(l)]));
        return {
          mailboxes: found.map((m) => ({
            name: m.name, displayName: m.displayName, owner: m.owner, addresses: m.addresses, left: leavers.get(m.id)?.left ?? null,
            ...(policies ? { sensitivity: m.sensitivity, department: m.department, auto: m.auto, notification: policies.get(m.id), leaver: leavers.get(m.id) ?? null } : {}),
          })),
        };
      });
    },
  });

  routes.add({
    method: 'POST', url: '/api/v1/mailboxes/import', tag: 'mailboxes',
    auth: { scope: 'admin', roles: ['admin'], refusal: { operation: 'mailboxes.import', reason: 'not an admin', message: 'only admins import the directory', parameters: ({ body }) => ({ file: body.fileName ?? null }) } },
    summary: 'import the directory (admins): CSV text with a header row (addresses, display_name, owner, sensitivity, manager, department, name, left) as `sealbox mailboxes import` reads it; any bad line rejects the whole file; rows that would give someone mail, move an address out of a custodian mailbox of a legal hold or keep mail less long under the retention rules are staged for approval by someone else (`staged`); a new leaving date (`left`, YYYY-MM-DD) is filed for an approver, not applied',
    body: z.strictObject({ csv: z.string().min(1), fileName: z.string().max(255).optional() }),
    handler: async (req, _reply, { body, p }) => {
      const ctx = { ...actorContext(req, p), user: p.user, logonType: 'admin' as const };
      const rows = parseDirectoryCsv(body.csv);
      // Rows that give someone mail they could not read before are staged for someone else's
      // approval (src/access/mailbox-ownership.ts); the rest apply now. Both are in the entry.
      const result = await s.audit.record(ctx, (r: ImportOutcome & { ids: Map<string, number | null> }) => ({
        operation: 'mailboxes.import',
        mailboxes: r.applied.map((m) => ({ id: r.ids.get(m.name)!, name: m.name })),
        parameters: importParameters(r, body.fileName ?? null),
      }), async (tx) => {
        const outcome = await s.ownership.import(tx, { user: p.user, label: `user:${p.user.name}` }, rows, body.fileName ?? null);
        return { ...outcome, ids: await mailboxIds(tx, outcome.applied.map((m) => m.name)) };
      });
      // A file that names leaving dates is answered with what was filed of them (and what was not).
      return { mailboxes: result.mailboxes, addresses: result.addresses, staged: result.staged, ...(rows.some((r) => r.left) ? { leavers: result.leavers } : {}) };
    },
  });

  routes.add({
    method: 'GET', url: '/api/v1/ownership-changes', tag: 'mailboxes',
    auth: { scope: 'admin', roles: ['admin', 'approver', 'auditor'], refusal: { operation: 'ownership.list', reason: 'not an admin, approver or auditor', message: 'only admins, approvers and auditors see ownership changes' } },
    summary: 'directory changes waiting for approval (a mailbox or address given to a new owner) and past decisions (admins, approvers, auditors)',
    handler: async () => ({ changes: (await s.db.read((tx) => s.ownership.list(tx))).map(ownershipView) }),
  });

  for (const decision of ['approve', 'deny'] as const) {
    routes.add({
      method: 'POST', url: `/api/v1/ownership-changes/:id/${decision}`, tag: 'mailboxes',
      // MailboxOwnership.decide holds to the same roles for any other caller.
      auth: { scope: 'admin', roles: ['admin', 'approver'], refusal: { operation: `ownership.${decision}`, message: 'only admins and approvers decide on ownership changes', parameters: ({ params }) => ({ change: params.id }) } },
      summary: `${decision} a staged ownership change, with a reason (admins and approvers; never the one who staged it, nor the new owner, nor anyone linked to either); the previous owner is told`,
      body: z.strictObject({ reason: z.string().min(1).max(2000) }),
      handler: async (req, _reply, { body, params, p }) => {
        const id = params.id;
        const ctx = { ...actorContext(req, p), user: p.user, logonType: 'admin' as const };
        try {
          const c = await s.audit.record(ctx, (c: OwnershipChangeRecord & { mailboxId: number | null }) => ({
            operation: `ownership.${decision}`, mailboxes: c.mailboxId === null ? [] : [{ id: c.mailboxId, name: c.mailbox }],
            parameters: { change: id, from: c.ownerBefore, to: c.ownerAfter, addresses: c.gains.map((g) => g.address), reason: body.reason, ...(decision === 'approve' ? { owners: { [c.mailbox]: c.ownerAfter } } : {}) },
          }), async (tx) => {
            const c = await s.ownership.decide(tx, p.user, id, decision, body.reason);
            return { ...c, mailboxId: await s.ownership.mailboxId(tx, c.mailbox) };
          });
          return ownershipView(c);
        } catch (err) {
          if (err instanceof SealboxError && err.code !== 'SEALBOX_ERR_LEDGER') await s.audit.denied(ctx, { operation: `ownership.${decision}`, parameters: { change: id } }, err.message);
          throw err;
        }
      },
    });
  }
}

function ownershipView(c: OwnershipChangeRecord) {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    id: c.id, mailbox: c.mailbox, ownerBefore: c.ownerBefore, ownerAfter: c.ownerAfter || null, addresses: c.row.addresses, gains: c.gains, why: c.why,
    state: c.decision === 'approve' ? 'approved' : c.decision === 'deny' ? 'denied' : 'pending',
    stagedBy: c.stagedByLabel, stagedAt: iso(c.stagedAt), decisionReason: c.decisionReason, decidedAt: iso(c.decidedAt),
  };
}
