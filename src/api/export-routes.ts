import { z } from 'zod';
import { MAX_REQUEST_QUERY } from '../access/grants.ts';
import { OTHER_PARTIES } from '../access/subject-access.ts';
import { SealboxError } from '../core/errors.ts';
import type { ExportJob } from '../export/export-job-store.ts';
import type { ExportJobs } from '../export/export-jobs.ts';
import { MIN_VOLUME_BYTES } from '../export/zip-volumes.ts';
import { actorContext } from './principal.ts';
import type { RouteTable } from './route-table.ts';
import type { Services } from './services.ts';

const JOB_ID = /^exp_[0-9a-z]{9}[0-9a-f]{16}$/;
const HOLD_ID = /^hold_[0-9a-z]{9}[0-9a-f]{16}$/;

// Export jobs (src/export/export-jobs.ts): evidence packages made by the server in the background
// under a grant that carries export; each caller sees their own.
export function exportRoutes(routes: RouteTable, _s: Services, exports: ExportJobs): void {
  routes.add({
    method: 'POST', url: '/api/v1/exports', tag: 'content', auth: { scope: 'content' }, status: 202,
    summary: 'start an export job: an evidence package of what the search finds in an active grant\'s scope (the grant must carry export), newest first, at most limit, made by the server in the background and zipped in volumes of at most volumeBytes (default export.volumeBytes), with mbox: true also one mboxrd file per custodian; its start is recorded in the ledger (export.job) with the messages it will export',
    body: z.strictObject({
      q: z.string().min(1).max(MAX_REQUEST_QUERY), grant: z.string().min(1), limit: z.number().int().min(1).max(100_000).default(10_000),
      note: z.string().max(500).optional(), volumeBytes: z.number().int().min(MIN_VOLUME_BYTES).max(2 ** 50).optional(), mbox: z.boolean().default(false),
      otherParties: z.enum(OTHER_PARTIES).optional(),
    }),
    handler: async (req, reply, { body, p }) => {
      const job = await exports.start(actorContext(req, p), p.user, { query: body.q, grantId: body.grant, limit: body.limit, note: body.note, volumeBytes: body.volumeBytes, mboxPerCustodian: body.mbox, otherParties: body.otherParties });
      reply.status(202);
      return jobJson(job);
    },
  });

  routes.add({
    method: 'POST', url: '/api/v1/holds/:id/export', tag: 'content', auth: { scope: 'content' }, status: 202,
    summary: 'start an export job of a case: what legal hold :id covers (its custodians\' mail in its window, matching its query), under an active grant of yours that carries export and covers all of that (the custodians among its mailboxes, the hold\'s window within its own, its fixed query none or the hold\'s); otherwise 403, recorded denied. The package\'s custody.json and README.txt name the hold',
    body: z.strictObject({
      grant: z.string().min(1), limit: z.number().int().min(1).max(100_000).default(10_000),
      note: z.string().max(500).optional(), volumeBytes: z.number().int().min(MIN_VOLUME_BYTES).max(2 ** 50).optional(), mbox: z.boolean().default(false),
    }),
    handler: async (req, reply, { body, params, p }) => {
      if (!HOLD_ID.test(params.id)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'a legal hold id is hold_ and 25 letters and digits');
      const job = await exports.startFromHold(actorContext(req, p), p.user, { holdId: params.id, grantId: body.grant, limit: body.limit, note: body.note, volumeBytes: body.volumeBytes, mboxPerCustodian: body.mbox });
      reply.status(202);
      return jobJson(job);
    },
  });

  routes.add({
    method: 'GET', url: '/api/v1/exports', tag: 'content', auth: { scope: 'content' },
    summary: 'your export jobs, newest first, with their state and progress',
    handler: async (_req, _reply, { p }) => ({ jobs: (await exports.list(p.user)).map(jobJson) }),
  });

  routes.add({
    method: 'GET', url: '/api/v1/exports/:id', tag: 'content', auth: { scope: 'content' },
    summary: 'one of your export jobs: state (queued, running, done, failed, cancelled), progress (messages and bytes), and once done its files and the export\'s ledger entry',
    handler: async (req, _reply, { p }) => jobJson(await exports.get(actorContext(req, p), p.user, param(req.params))),
  });

  routes.add({
    method: 'POST', url: '/api/v1/exports/:id/cancel', tag: 'content', auth: { scope: 'content' },
    summary: 'cancel one of your export jobs that is queued or running: it stops, and what it made is removed',
    handler: async (req, _reply, { p }) => jobJson(await exports.cancel(actorContext(req, p), p.user, param(req.params))),
  });

  routes.add({
    method: 'GET', url: '/api/v1/exports/:id/files/:name', tag: 'content', auth: { scope: 'content' },
    summary: 'download a file (a zip volume) of one of your finished export jobs; decided again (the grant still active and carrying export) and recorded in the ledger (export.download) before a byte is sent',
    handler: async (req, reply, { p }) => {
      const { name } = req.params as { name: string };
      const file = await exports.download(actorContext(req, p), p.user, param(req.params), name);
      reply.type('application/zip').header('content-length', String(file.size)).header('content-disposition', `attachment; filename="${file.name}"`);
      return reply.send(file.stream);
    },
  });
}

function param(params: unknown): string {
  const { id } = params as { id: string };
  if (!JOB_ID.test(id)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'an export job id is exp_ and 25 letters and digits');
  return id;
}

function jobJson(j: ExportJob) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: j.id, state: j.state, grant: j.grantId, query: j.query, canonicalQuery: j.canonicalQuery, limit: j.limit, note: j.note, volumeBytes: j.volumeBytes, mbox: j.mboxPerCustodian,
    createdAt: iso(j.createdAt), finishedAt: iso(j.finishedAt), startedEntry: j.startedEntry, found: j.total,
    hold: j.hold && { id: j.hold.id, name: j.hold.name, matter: j.hold.matter }, subjectAccess: j.subjectAccess,
    progress: { phase: j.phase, messages: j.messagesDone, messagesTotal: j.messages, bytes: j.bytesDone, bytesTotal: j.bytesTotal, resumed: j.resumed },
    error: j.error, ledgerIndex: j.ledgerIndex, manifestSha256: j.manifestSha256,
    files: j.files.map((f) => ({ name: f.name, size: f.size, sha256: f.sha256, messages: f.messages.length })),
  };
}
