import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Principal } from '../access/credentials.ts';
import type { LedgerOperation } from '../core/ledger-operations.ts';
import { SealboxError } from '../core/errors.ts';
import { addThroughApi } from '../access/enrolment-codes.ts';
import { ROLES } from '../access/people.ts';
import type { User } from '../access/people.ts';
import { FILED_ROLES } from '../access/role-changes.ts';
import type { Role } from '../access/roles.ts';
import type { Tx } from '../core/transactions.ts';
import { proveConsistency, proveInclusion } from '../ledger/ledger-proofs.ts';
import { actorContext } from './principal.ts';
import type { RouteTable } from './route-table.ts';
import type { Services } from './services.ts';
import { DiskSpace } from '../store/disk-space.ts';

export interface SystemListener {
  name: string;
  host: string;
  port: number;
}

// space: serve's monitor of the folders it writes to; without one (no listeners), the data folder.
export function adminRoutes(routes: RouteTable, s: Services, listeners: SystemListener[] = [], space?: DiskSpace): void {
  const disk = space ?? new DiskSpace([s.stores.paths.data], s.config.storage, null);
  // A role beyond owner and requester an admin gives (FILED_ROLES) waits for an approver.
  const fileRoles = async (tx: Tx, user: User, filing: Role[], by: User): Promise<FiledRole[]> => {
    const filed: FiledRole[] = [];
    for (const role of filing) {
      const c = await s.roleChanges.file(tx, user, role, `given by ${by.name} through the API`, { id: by.id, label: `user:${by.name}` });
      if (c) filed.push({ role, change: c.id });
    }
    return filed;
  };
  routes.add({
    method: 'GET', url: '/api/v1/health', tag: 'health', auth: 'none',
    summary: 'captures, messages, ledger size, last checkpoint, index lag (open, for monitoring)',
    handler: async () => {
      const meta = s.stores.meta;
      // The index's cursor first: captures committed meanwhile show as lag, never as a negative one.
      const cursor = await s.search.cursor();
      const { counts, checkpoint, lastCapture } = await meta.read(async (tx) => ({ counts: await meta.counts(tx), checkpoint: await meta.latestCheckpoint(tx), lastCapture: await meta.lastCaptureRowId(tx) }));
      return {
        status: 'ok',
        captures: counts.captures,
        messages: counts.messages,
        ledger: { size: s.ledger.size, checkpointSize: checkpoint?.size ?? null, checkpointAt: checkpoint ? new Date(checkpoint.createdAt).toISOString() : null },
        index: { lagCaptures: lastCapture - cursor },
      };
    },
  });

  routes.add({
    method: 'GET', url: '/api/v1/admin/health', tag: 'admin',
    auth: { scope: 'admin', roles: ['admin', 'auditor'], refusal: { operation: 'health.read', reason: 'not an admin or auditor', message: 'only admins and auditors see system health' } },
    summary: 'system health for admins and auditors: listeners, index lag, captures whose authentication verdicts are still being checked, messages whose attachments are still being read, the last index completeness check (`completeness`: messages, documents, missing, failing, pending, stray, when, how long), the mailboxes with a words index of their own (`mailboxIndexes`, PostgreSQL: mailbox, index, documents, bytes, builtAt), notification queue and why notices are not mailed (notify.smtp unset or failing; each failing kind with its count and last error), disk free in the data folder, ledger and last checkpoint',
    handler: async () => {
      const meta = s.stores.meta;
      const cursor = await s.search.cursor();
      const failures = await s.search.failures();
      const authPending = await s.search.pendingAuth();
      const completeness = await s.search.completeness();
      const extractionPending = await s.search.pendingExtraction();
      const mailboxIndexes = await s.search.mailboxIndexes();
      const { counts, checkpoint, lastCapture, backlog, delivery } = await meta.read(async (tx) => ({
        counts: await meta.counts(tx), checkpoint: await meta.latestCheckpoint(tx), lastCapture: await meta.lastCaptureRowId(tx),
        backlog: await s.notifier.backlog(tx), delivery: await s.notifier.delivery(tx),
      }));
      const free = disk.reading;
      const now = s.clock.now();
      return {
        listeners,
        captures: counts.captures,
        messages: counts.messages,
        index: { lagCaptures: lastCapture - cursor, indexedUpTo: cursor, lastCapture, authPending, extractionPending, failures, completeness, mailboxIndexes },
        notifications: { ...backlog, ...delivery },
        disk: { path: free.path, freeBytes: free.freeBytes, totalBytes: free.totalBytes, state: free.state, warnFreeBytes: s.config.storage.warnFreeBytes, refuseFreeBytes: s.config.storage.refuseFreeBytes },
        ledger: { size: s.ledger.size },
        checkpoint: checkpoint ? { size: checkpoint.size, at: new Date(checkpoint.createdAt).toISOString(), behind: s.ledger.size - checkpoint.size } : null,
        time: new Date(now).toISOString(),
      };
    },
  });

  routes.add({
    method: 'POST', url: '/api/v1/users', tag: 'admin',
    auth: { scope: 'admin', roles: ['admin'], refusal: { operation: 'user.add', reason: 'not an admin', message: 'only admins add users', parameters: ({ body }) => ({ name: body.name }) } },
    summary: 'add a user with roles; returns a one-time enrolment code, or mails it to the mailboxes the person owns already; every role but owner and requester is filed for an approver (`filed`), not given: the console (`sealbox users add`) names approvers, auditors and admins (admins only)',
    body: z.strictObject({ name: z.string().min(1).max(64), roles: z.array(z.enum(ROLES)).min(1), displayName: z.string().max(200).optional(), email: z.string().max(320).optional() }),
    handler: async (req, _reply, { body, p }) => {
      const ctx = { ...actorContext(req, p), user: p.user, logonType: 'admin' as const };
      // The code of someone who has no credential yet comes back to the admin who hands it on,
      // unless the person owns mailboxes already (then it is mailed to them: enrolment-codes.ts); from
      // then on the two are linked (four eyes: src/access/four-eyes.ts).
      const { roles, filing } = splitFiled(body.roles);
      if (roles.length === 0) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `${filing.join(', ')} is filed for an approver, so an account made with it needs owner or requester to start with (or add it at the console: sealbox users add)`, { fields: ['roles'] });
      const r = await s.audit.record(ctx, (r: { filed: FiledRole[] }) => ({ operation: 'user.add', parameters: { name: body.name, roles, ...(r.filed.length ? { filed: r.filed } : {}) } }), async (tx) => {
        const added = await addThroughApi(tx, { people: s.people, addresses: s.codeAddresses, notifier: s.notifier, policy: (t) => s.policy.inForce(t) }, p.user, { ...body, roles });
        await s.links.record(tx, { actorId: p.user.id, subjectId: added.user.id, kind: added.enrolmentCode === null ? 'mailed' : 'created', at: s.clock.now() });
        return { ...added, filed: await fileRoles(tx, added.user, filing, p.user) };
      });
      // A code mailed with no relay set waits in the outbox: the answer says so, and what to do.
      const unsent = s.config.notify.smtp ? {} : { mailProblem: 'notify.smtp is not set, so the mail waits in the outbox until it is; or add the person at the console (sealbox users add), which prints the code' };
      return { name: r.user.name, roles: r.user.roles, enrolmentCode: r.enrolmentCode, ...(r.codeMailedTo.length ? { codeMailedTo: r.codeMailedTo, ...unsent } : {}), ...(r.filed.length ? { filed: r.filed } : {}) };
    },
  });

  routes.add({
    method: 'GET', url: '/api/v1/users', tag: 'admin', summary: 'users and roles (admins and auditors)',
    auth: { scope: 'admin', roles: ['admin', 'auditor'], refusal: { operation: 'user.list', reason: 'not an admin or auditor', message: 'only admins and auditors list users' } },
    handler: async () => s.db.read(async (tx) => {
      const users = [];
      for (const u of await s.people.list(tx)) {
        const lockedUntil = await s.people.lockedUntil(tx, u);
        users.push({
          name: u.name, displayName: u.displayName, email: u.email, roles: u.roles, enrolled: u.enrolled, disabled: u.disabled,
          mailboxes: (await s.people.ownedMailboxes(tx, u)).map((m) => m.name),
          lockedUntil: lockedUntil === null ? null : new Date(lockedUntil).toISOString(),
        });
      }
      return { users };
    }),
  });

  // Changing a user's roles or disabling them: admins only, never their own account (no one
  // grants themselves a role, nor locks the last door behind them).
  const changesUsers = { message: 'only admins change users' } as const;
  const userChange = async (req: FastifyRequest, p: Principal, operation: LedgerOperation, name: string, parameters: Record<string, unknown>, why = 'no one changes their own roles or disables themselves') => {
    const ctx = { ...actorContext(req, p), user: p.user, logonType: 'admin' as const };
    if (p.user.name === name) {
      await s.audit.denied(ctx, { operation, parameters: { name, ...parameters } }, why);
      throw new SealboxError('SEALBOX_ERR_FORBIDDEN', why);
    }
    return ctx;
  };

  routes.add({
    method: 'POST', url: '/api/v1/users/:name/roles', tag: 'admin',
    auth: { scope: 'admin', roles: ['admin'], refusal: { ...changesUsers, operation: 'user.roles', parameters: ({ params, body }) => ({ name: params.name, roles: body.roles }) } },
    summary: "change a user's roles (admins, never their own); when the new roles need a second factor the user lacks, their sessions and tokens end and an account recovery is filed: someone else approves it and the code is mailed to the user, never returned; a new role beyond owner and requester is filed for an approver (`filed`), not given",
    body: z.strictObject({ roles: z.array(z.enum(ROLES)).min(1) }),
    handler: async (req, _reply, { body, params, p }) => {
      const name = params.name;
      const ctx = await userChange(req, p, 'user.roles', name, { roles: body.roles });
      let before: string[] | null = null;
      let to = body.roles;
      const r = await s.audit.record(ctx, (r: { recovery: string | null; filed: FiledRole[] }) => ({ operation: 'user.roles', parameters: { name, from: before, to, reEnrolment: r.recovery !== null, recovery: r.recovery, ...(r.filed.length ? { filed: r.filed } : {}) } }), async (tx) => {
        const current = await s.people.byName(tx, name);
        before = current?.roles ?? null;
        // A filed role the person holds already stays; a new one waits for an approver.
        const { filing } = splitFiled(body.roles.filter((role) => !current?.roles.includes(role)));
        to = body.roles.filter((role) => !filing.includes(role));
        if (to.length === 0) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `${filing.join(', ')} is filed for an approver, so the account keeps another role meanwhile`, { fields: ['roles'] });
        const changed = await s.people.setRoles(tx, name, to);
        await s.links.record(tx, { actorId: ctx.user.id, subjectId: changed.user.id, kind: 'roles', at: s.clock.now() });
        const recovery = !changed.needsEnrolment ? null
          : await s.recovery.pendingFor(tx, changed.user.id) ?? (await s.recovery.request(tx, ctx.user, name, `roles changed to ${to.join(', ')}: a second factor is needed`)).id;
        return { ...changed, recovery, filed: await fileRoles(tx, changed.user, filing, ctx.user) };
      });
      return { name: r.user.name, roles: r.user.roles, recovery: r.recovery, ...(r.filed.length ? { filed: r.filed } : {}) };
    },
  });

  routes.add({
    method: 'POST', url: '/api/v1/users/:name/disable', tag: 'admin',
    auth: { scope: 'admin', roles: ['admin'], refusal: { ...changesUsers, operation: ({ body }) => (body.disabled ? 'user.disable' : 'user.enable'), parameters: ({ params }) => ({ name: params.name }) } },
    summary: 'disable (or enable again) a user: their sessions and tokens stop working at once (admins, never themselves)',
    body: z.strictObject({ disabled: z.boolean(), reason: z.string().max(2000).optional() }),
    handler: async (req, _reply, { body, params, p }) => {
      const name = params.name;
      const operation = body.disabled ? 'user.disable' : 'user.enable';
      const ctx = await userChange(req, p, operation, name, {});
      const u = await s.audit.record(ctx, { operation, parameters: { name, reason: body.reason ?? null } }, (tx) => s.people.setDisabled(tx, name, body.disabled));
      return { name: u.name, roles: u.roles, disabled: u.disabled };
    },
  });

  routes.add({
    method: 'POST', url: '/api/v1/users/:name/unlock', tag: 'admin',
    auth: { scope: 'admin', roles: ['admin'], refusal: { message: 'only admins unlock accounts', operation: 'user.unlock', parameters: ({ params }) => ({ name: params.name }) } },
    summary: 'open an account locked after failed sign-ins before its lock runs out (admins, never their own); no credential changes hands, the person is told',
    body: z.strictObject({ reason: z.string().max(2000).optional() }),
    handler: async (req, _reply, { body, params, p }) => {
      const name = params.name;
      // Whoever is locked out of their own account waits, or asks another admin: an admin who
      // could unlock themselves could try passwords without end.
      const ctx = await userChange(req, p, 'user.unlock', name, {}, 'no one unlocks their own account');
      const parameters = { name, reason: body.reason ?? null };
      try {
        const r = await s.audit.record(ctx, (r: { lockedUntil: number }) => ({ operation: 'user.unlock', parameters: { ...parameters, lockedUntil: r.lockedUntil } }), async (tx) => {
          const unlocked = await s.people.unlock(tx, name);
          await s.notifier.toPerson(tx, 'account.unlocked', unlocked.user, 'Your Sealbox account was unlocked',
            `Your account had been locked after failed sign-ins; ${p.user.name} opened it again${body.reason ? `: ${body.reason}` : ''}.\n\nIf those sign-ins were not you, tell your security team: someone may be guessing your password.`);
          return unlocked;
        });
        return { name: r.user.name, lockedUntil: null };
      } catch (err) {
        if (err instanceof SealboxError && (err.code === 'SEALBOX_ERR_NOT_FOUND' || err.code === 'SEALBOX_ERR_CONFLICT')) await s.audit.denied(ctx, { operation: 'user.unlock', parameters }, err.message);
        throw err;
      }
    },
  });

  const changesPolicy = { reason: 'not an admin', message: 'only admins change policy' } as const;

  routes.add({
    method: 'GET', url: '/api/v1/policy', tag: 'admin', auth: { scope: 'admin' }, summary: 'the access policy in force',
    handler: async () => s.db.read((tx) => s.policy.inForce(tx)),
  });

  routes.add({
    method: 'GET', url: '/api/v1/policy/overrides', tag: 'admin',
    auth: { scope: 'admin' },
    summary: 'the keys admins set through the API on top of the config file (a POST replaces them all: send these with a change to keep them)',
    handler: async () => ({ overrides: await s.db.read((tx) => s.policy.overrides(tx)) }),
  });

  routes.add({
    method: 'POST', url: '/api/v1/policy', tag: 'admin',
    auth: { scope: 'admin', roles: ['admin'], refusal: { ...changesPolicy, operation: 'policy.set', parameters: ({ body }) => body } },
    summary: 'change the access policy (admins); the keys given override the config file, every change is a ledger entry',
    body: z.record(z.string(), z.unknown()),
    handler: async (req, _reply, { body, p }) => {
      const ctx = { ...actorContext(req, p), user: p.user, logonType: 'admin' as const };
      const next = s.policy.preview(body);
      const event = { operation: 'policy.set', parameters: { policy: body } } as const;
      return s.audit.recordOrRefuse(ctx, event, event, async (tx) => {
        // The safeguards of four eyes only tighten from here; loosening them is the config file's,
        // at the console (an admin could otherwise lower them and then act alone). Compared with
        // the policy as this transaction reads it: another node may have tightened it a moment ago.
        const weakened = weakenedSafeguards(await s.policy.inForce(tx), next);
        if (weakened.length > 0) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', `loosening ${weakened.join(', ')} is done in the config file at the console, not through the API`, { fields: weakened });
        return s.policy.set(tx, body);
      });
    },
  });

  routes.add({
    method: 'POST', url: '/api/v1/mailboxes/:name/policy', tag: 'admin',
    auth: { scope: 'admin', roles: ['admin'], refusal: { ...changesPolicy, operation: 'mailbox.policy', parameters: ({ params }) => ({ mailbox: params.name }) } },
    summary: "a mailbox's notification policy: owner told before access, within N days after, or not at all (with the legal basis); who else is told",
    body: z.strictObject({
      notifyMode: z.enum(['before', 'after', 'none']),
      notifyAfterDays: z.number().int().min(0).max(365).nullable().default(null),
      legalBasis: z.string().max(2000).nullable().default(null),
      notifyAlso: z.array(z.string().email()).max(20).default([]),
    }),
    handler: async (req, _reply, { body, params, p }) => {
      const name = params.name;
      const ctx = { ...actorContext(req, p), user: p.user, logonType: 'admin' as const };
      if (body.notifyMode === 'none' && !body.legalBasis?.trim()) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'not notifying the owner needs the legal basis recorded (legalBasis)');
      if (body.notifyMode === 'after' && body.notifyAfterDays === null) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'notifyMode "after" needs notifyAfterDays');
      const found = await s.db.read((tx) => s.mailboxes.byName(tx, name));
      if (!found) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no mailbox ${name}`);
      const mailbox = { id: found.id, name: found.name };
      const policy = await s.audit.record(ctx, { operation: 'mailbox.policy', mailboxes: [mailbox], parameters: body }, async (tx) => {
        await s.notifier.setPolicy(tx, mailbox.id, body);
        return s.notifier.policy(tx, mailbox.id);
      });
      return { mailbox: mailbox.name, ...policy };
    },
  });

  routes.add({
    method: 'GET', url: '/api/v1/ledger/proof/:index', tag: 'ledger', auth: 'none',
    summary: 'RFC 9162 inclusion proof of one entry in the latest signed checkpoint (or size=N)',
    query: z.strictObject({ size: z.coerce.number().int().min(1).optional() }),
    handler: async (req, _reply, { query }) => {
      const raw = (req.params as { index: string }).index;
      if (!/^\d+$/.test(raw)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `entry index "${raw}" is not a whole number`);
      return s.db.read((tx) => proveInclusion(tx, s.stores.meta, Number(raw), query.size));
    },
  });

  routes.add({
    method: 'GET', url: '/api/v1/ledger/consistency', tag: 'ledger', auth: 'none',
    summary: 'RFC 9162 consistency proof between two signed checkpoints',
    query: z.strictObject({ old: z.coerce.number().int().min(0), new: z.coerce.number().int().min(0).optional() }),
    handler: async (_req, _reply, { query }) => s.db.read((tx) => proveConsistency(tx, s.stores.meta, query.old, query.new)),
  });
}

// A role an admin gives through the API, and the role change it was filed as (FILED_ROLES).
type FiledRole = { role: Role; change: string };

function splitFiled(roles: Role[]): { roles: Role[]; filing: Role[] } {
  return { roles: roles.filter((r) => !FILED_ROLES.includes(r)), filing: roles.filter((r) => FILED_ROLES.includes(r)) };
}

// The policy keys that guard four eyes or someone else's sign-in, and which of them the next
// policy would loosen: an admin could otherwise act alone (fewer approvals, no second factor),
// keep a grant longer, or make another person's credential easier to take (cookies sent over
// plain HTTP, more password guesses, longer sessions and enrolment codes).
function weakenedSafeguards(current: Services['config']['access'], next: Services['config']['access']): string[] {
  const out: string[] = [];
  const lower = ['approvalsNeeded', 'linkedPeopleDays', 'lockoutMinutes'] as const;
  const higher = ['lockoutAttempts', 'signinPerMinute', 'sessionHours', 'enrolmentHours', 'maxGrantHours', 'breakglassMaxMinutes'] as const;
  const off = ['totpRequired', 'secureCookies'] as const;
  for (const key of lower) if (next[key] < current[key]) out.push(key);
  for (const key of higher) if (next[key] > current[key]) out.push(key);
  for (const key of off) if (!next[key] && current[key]) out.push(key);
  if (Object.entries(current.sensitivityApprovals).some(([k, v]) => (next.sensitivityApprovals[k] ?? 0) < v)) out.push('sensitivityApprovals');
  return out;
}
