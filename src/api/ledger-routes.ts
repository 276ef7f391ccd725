import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Principal } from '../access/credentials.ts';
import { SealboxError } from '../core/errors.ts';
import type { Tx } from '../core/transactions.ts';
import type { LedgerEntry } from '../core/types.ts';
import { checkpointHistory } from '../ledger/checkpoint-history.ts';
import type { StoredEntry } from '../ledger/ledger.ts';
import { actorContext } from './principal.ts';
import type { RouteTable } from './route-table.ts';
import type { Services } from './services.ts';

// The ledger for the people who oversee it: entries filtered and exported (auditors), and the
// history of signed checkpoints with each one's verdict (auditors and admins). Reading or
// exporting the ledger is itself an entry.

// ISO 8601, or milliseconds since 1970. Checked here, converted where it is used (a transform
// would not show in the OpenAPI document).
const toTime = (value: string): number => (/^\d+$/.test(value) ? Number(value) : Date.parse(value));
const time = z.string().max(40).refine((v) => Number.isFinite(toTime(v)), { message: 'not a time (ISO 8601, or milliseconds since 1970)' });

const filters = {
  from: z.coerce.number().int().min(0).default(0),                 // entries with index >= from
  to: z.coerce.number().int().min(0).optional(),                   // … and < to
  actor: z.string().min(1).max(200).optional(),                    // a user name, or an actor as recorded (system:…)
  mailbox: z.string().min(1).max(320).optional(),
  operation: z.string().min(1).max(100).optional(),
  type: z.enum(['capture', 'access', 'admin', 'system']).optional(),
  result: z.enum(['success', 'denied', 'error']).optional(),
  grant: z.string().min(1).max(100).optional(),
  since: time.optional(),
  until: time.optional(),
  order: z.enum(['asc', 'desc']).default('asc'),
};

const entriesQuery = z.strictObject({ ...filters, limit: z.coerce.number().int().min(1).max(1000).default(100) });
const exportQuery = z.strictObject({ ...filters, format: z.enum(['json', 'csv']).default('json'), limit: z.coerce.number().int().min(1).max(100_000).default(100_000) });

const checkpointsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  before: z.coerce.number().int().min(0).optional(),             // checkpoints of a smaller size
});

type Filters = z.infer<typeof entriesQuery>;

export function ledgerRoutes(routes: RouteTable, s: Services, verifierKey: string): void {
  const overseer = (req: FastifyRequest, p: Principal) => ({ ...actorContext(req, p), user: p.user, logonType: 'admin' as const });
  const auditors = { reason: 'not an auditor', message: 'only auditors may do this' } as const;

  routes.add({
    method: 'GET', url: '/api/v1/ledger/entries', tag: 'ledger', query: entriesQuery,
    auth: { scope: 'ledger', roles: ['auditor'], refusal: { ...auditors, operation: 'ledger.read', parameters: ({ query }) => recorded(query) } },
    summary: 'ledger entries (auditors), filtered by index range, actor, mailbox, operation, type, result, grant and time (since/until); reading the ledger is itself an entry',
    handler: async (req, _reply, { query, p }) => {
      const ctx = overseer(req, p);
      return s.audit.record(ctx, { operation: 'ledger.read', parameters: recorded(query) }, async (tx) => {
        return { entries: (await select(tx, s, query, query.limit)).map(withLeaf) };
      });
    },
  });

  routes.add({
    method: 'GET', url: '/api/v1/ledger/export', tag: 'ledger', query: exportQuery,
    auth: { scope: 'ledger', roles: ['auditor'], refusal: { ...auditors, operation: 'ledger.export', parameters: ({ query }) => recorded(query) } },
    summary: 'the entries the same filters find, as a download: JSON (with each leaf) or CSV (auditors); the export is itself an entry',
    handler: async (req, reply, { query, p }) => {
      const ctx = overseer(req, p);
      const body = await s.audit.record(ctx, (r: { count: number }) => ({ operation: 'ledger.export', parameters: { ...recorded(query), entries: r.count } }), async (tx) => {
        const entries = await select(tx, s, query, query.limit);
        const text = query.format === 'csv' ? csv(entries.map((e) => e.entry))
          : JSON.stringify({ exportedAt: new Date(s.clock.now()).toISOString(), filters: recorded(query), entries: entries.map(withLeaf) }, null, 1) + '\n';
        return { text, count: entries.length };
      });
      const stamp = new Date(s.clock.now()).toISOString().replace(/[:.]/g, '-');
      reply.type(query.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8')
        .header('content-disposition', `attachment; filename="sealbox-ledger-${stamp}.${query.format}"`)
        .header('x-sealbox-entries', String(body.count));
      return body.text;
    },
  });

  // The ledger's public parts, open to witnesses and monitors.
  routes.add({
    method: 'GET', url: '/api/v1/ledger/checkpoint', tag: 'ledger', auth: 'none', summary: 'the latest signed checkpoint (C2SP tlog-checkpoint note)',
    handler: async (_req, reply) => {
      const checkpoint = await s.stores.meta.read((tx) => s.stores.meta.latestCheckpoint(tx));
      if (!checkpoint) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', 'no checkpoint has been signed yet');
      reply.type('text/plain; charset=utf-8');
      return checkpoint.note;
    },
  });

  routes.add({
    method: 'GET', url: '/api/v1/ledger/public-key', tag: 'ledger', auth: 'none', summary: "the verifier key of the ledger's checkpoints",
    handler: async (_req, reply) => {
      reply.type('text/plain; charset=utf-8');
      return verifierKey + '\n';
    },
  });

  // One is signed every ledger.checkpointEverySeconds while entries come in: half a million a
  // year, so they come a page at a time.
  routes.add({
    method: 'GET', url: '/api/v1/ledger/checkpoints', tag: 'ledger', query: checkpointsQuery,
    auth: { scope: 'ledger', roles: ['auditor', 'admin'], refusal: { operation: 'ledger.checkpoints', reason: 'not an auditor or an admin', message: 'only auditors and admins may do this' } },
    summary: 'signed checkpoints, newest first, a page at a time (limit, before a size), each with its status: signature valid with the verifier key, and consistent with the ledger as it is now (auditors and admins)',
    handler: async (req, _reply, { query, p }) => {
      const ctx = overseer(req, p);
      const asked = recorded(query);
      return s.audit.record(ctx, (r: { checkpoints: unknown[] }) => ({ operation: 'ledger.checkpoints', parameters: { ...asked, checkpoints: r.checkpoints.length } }), async (tx) => {
        const { meta } = s.stores;
        const page = await meta.checkpointsBefore(tx, query.before ?? null, query.limit + 1);
        const shown = page.slice(0, query.limit);
        return {
          ledgerSize: await meta.ledgerSize(tx), verifierKey, total: await meta.checkpointCount(tx),
          checkpoints: await checkpointHistory(tx, meta, shown, { verifierKey, origin: s.ledger.origin }),
          // The `before` of the next (older) page, while there is one.
          older: page.length > query.limit ? shown.at(-1)!.size : null,
        };
      });
    },
  });
}

// What the ledger records about a read of itself: the filters as given.
function recorded(query: Partial<Filters> & Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined));
}

function select(tx: Tx, s: Services, f: Omit<Filters, 'limit'>, limit: number): Promise<StoredEntry[]> {
  return s.stores.meta.entries(tx, {
    from: f.from, to: f.to, since: f.since === undefined ? undefined : toTime(f.since), until: f.until === undefined ? undefined : toTime(f.until),
    type: f.type, actor: f.actor && (f.actor.includes(':') ? f.actor : `user:${f.actor}`), operation: f.operation, result: f.result,
    grantId: f.grant, mailbox: f.mailbox, order: f.order, limit,
  });
}

const CSV_COLUMNS = ['index', 'time', 'type', 'actor', 'actorRoles', 'logonType', 'sessionId', 'clientIp', 'operation', 'mailboxes', 'messages', 'grantId', 'result', 'parameters'] as const;

function csv(entries: LedgerEntry[]): string {
  const cell = (value: unknown): string => {
    let text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
    // A spreadsheet must not take an actor's or a parameter's text for a formula.
    if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const lines = [CSV_COLUMNS.join(',')];
  for (const e of entries) {
    lines.push([
      e.index, new Date(e.time).toISOString(), e.type, e.actor, e.actorRoles.join(' '), e.logonType, e.sessionId, e.clientIp, e.operation,
      e.objects.mailboxes.join(' '), e.objects.messages.join(' '), e.grantId, e.result, Object.keys(e.parameters).length ? e.parameters : '',
    ].map(cell).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

// An entry as read, with the leaf the tree holds and (version 2) the salt and payload it commits
// to, base64: what an auditor needs to check the entry against a proof without Sealbox.
function withLeaf(e: StoredEntry) {
  return { ...e.entry, leaf: e.leaf.toString('base64'), ...(e.payload ? { salt: e.salt!.toString('base64'), payload: e.payload.toString('base64') } : {}) };
}
