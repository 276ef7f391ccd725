// One command's work, loaded only when that command runs (see ../main.ts).
import type { LedgerOperation } from '../../core/ledger-operations.ts';
import { hostname, userInfo } from 'node:os';
import { SealboxError } from '../../core/errors.ts';
import { consoleOperator } from '../../access/audit.ts';
import type { Actor } from '../../access/audit.ts';
import type { DirectoryRow } from '../../access/directory-csv.ts';
import type { ImportOutcome } from '../../access/mailbox-ownership.ts';
import type { People } from '../../access/people.ts';
import type { Role } from '../../access/roles.ts';
import type { Services } from '../../api/services.ts';
import { withArchive } from '../archive-access.ts';
import type { CliOptions } from '../archive-access.ts';

// `sealbox users add|enrol` and `sealbox tokens create`.
export function addUser(o: CliOptions): Promise<void> {
  return withArchive(o, async ({ config, services }) => {
    const { user, enrolmentCode, outcome } = await addAtConsole(services, { name: o.name, roles: o.role, displayName: o.displayName, email: o.email, owns: o.owns });
    for (const c of outcome.staged) process.stdout.write(`ownership of ${c.mailbox} staged as ${c.id} (${c.why}): someone else approves it (web app Administration, or POST /api/v1/ownership-changes/${c.id}/approve)\n`);
    const url = enrolmentLink(config.http, user.name, enrolmentCode);
    process.stdout.write(`user ${user.name} (${user.roles.join(', ')}): one-time enrolment code ${enrolmentCode}\n  valid ${config.access.enrolmentHours} h; `
      + `${url ? `enrol at ${url}\n  or: ` : 'the web app is off (http): enrol with sealbox users enrol, or '}POST /api/v1/enrol {"name": "${user.name}", "code": "${enrolmentCode}", "password": "…"}\n`);
  });
}

// The web app's enrolment page where serve listens (--http, SEALBOX_HTTP or http.listen, as serve
// reads them), or null when it is off. A wildcard address is no place to browse to: the
// machine's name stands in. The code goes in the fragment, which browsers never send: it stays
// out of request logs.
export function enrolmentLink(http: { enabled: boolean; listen: string }, name: string, code: string): string | null {
  if (!http.enabled) return null;
  const at = http.listen.lastIndexOf(':');
  const host = http.listen.slice(0, at);
  const shown = host === '0.0.0.0' || host === '[::]' || host === '::' ? hostname() : host;
  return `http://${shown}:${http.listen.slice(at + 1)}/enrol#${new URLSearchParams({ name, code })}`;
}

export interface NewUser {
  name: string;
  roles: Role[];
  displayName?: string;
  email?: string;
  owns?: string[];   // mailbox names or addresses
}

// A person added by the console operator (the only way to the first admin), with the mailboxes
// they own, recorded in the ledger; the in-process tests (test/support/in-process.ts) add
// theirs through it as well.
export async function addAtConsole({ people, mailboxes, ownership, audit }: Services, o: NewUser): Promise<Awaited<ReturnType<People['add']>> & { outcome: ImportOutcome }> {
  const operator = consoleOperator();
  // The entry names the mailboxes applied with their ids, which the work looks up (an event reads nothing).
  const { added, outcome } = await audit.record(operator, ({ outcome: r, applied }: { outcome: ImportOutcome; applied: { id: number; name: string }[] }) => ({
    operation: 'user.add', mailboxes: applied,
    parameters: { name: o.name, roles: o.roles, ...(r.staged.length ? { staged: r.staged.map((c) => ({ id: c.id, mailbox: c.mailbox, from: c.ownerBefore, why: c.why })) } : {}) },
  }), async (tx) => {
    const added = await people.add(tx, { name: o.name, roles: o.roles, displayName: o.displayName, email: o.email });
    const rows: DirectoryRow[] = [];
    for (const m of o.owns ?? []) {
      const row = (await mailboxes.byName(tx, m)) ?? (await mailboxes.holderOf(tx, String(m).toLowerCase()));
      const none = { displayName: null, sensitivity: null, manager: null, owner: o.name };
      // An address nobody has a mailbox for yet gets one of its own.
      if (!row && /^[^@\s]+@[^@\s]+$/.test(m)) rows.push({ ...none, name: String(m).toLowerCase(), addresses: [String(m).toLowerCase()] });
      else if (!row) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `no mailbox "${m}" (import the directory first: sealbox mailboxes import)`);
      else rows.push({ ...none, name: row.name, addresses: [] });
    }
    // Ownership that takes a mailbox from someone waits for approval like a directory row.
    const outcome = await ownership.import(tx, operator, rows);
    const applied: { id: number; name: string }[] = [];
    for (const m of outcome.applied) applied.push({ id: (await mailboxes.byName(tx, m.name))!.id, name: m.name });
    return { added, outcome, applied };
  });
  return { ...added, outcome };
}

export async function enrol(o: CliOptions): Promise<void> {
  const password = await readSecret();
  await asUser(o, 'user.enrol', async ({ people, audit }, ctx) => {
    const { user, totpUri, recoveryCodes } = await people.enrol(o.name, o.code, password);
    process.stdout.write(`enrolled ${user.name}${totpUri ? `\nadd this to your authenticator app, then sign in with its codes:\n${totpUri}` : ''}\n`);
    if (recoveryCodes.length) process.stdout.write(`recovery codes (each signs in once instead of a code; keep them safe, they are not shown again):\n${recoveryCodes.join('\n')}\n`);
    await audit.record({ ...ctx, user }, { operation: 'user.enrol' }, async () => null);
  });
}

export async function createToken(o: CliOptions): Promise<void> {
  const password = await readSecret();
  await asUser(o, 'token.create', async ({ people, credentials, audit }, ctx) => {
    const user = await people.authenticate(o.name, password, o.totp);
    // Created in the transaction that records it: a token the ledger does not show is never handed out.
    const created = await audit.record({ ...ctx, user }, (c: { id: string; expiresAt: number }) => ({
      operation: 'token.create', parameters: { tokenId: c.id, scopes: o.scope, days: o.days, expiresAt: c.expiresAt },
    }), (tx) => credentials.createToken(tx, user, { name: o.label, scopes: o.scope, days: o.days }));
    process.stdout.write(`${created.token}\n`);
    process.stderr.write(`token ${created.id} for ${user.name} (${o.scope.join(', ')}), expires ${new Date(created.expiresAt).toISOString()}\n`);
  });
}

// Runs a sign-in step for a person at the console, which records what it did in the ledger; a
// refusal is recorded here.
function asUser(o: CliOptions, operation: LedgerOperation, fn: (services: Services, ctx: Omit<Actor, 'user'>) => Promise<void>): Promise<void> {
  return withArchive(o, async ({ services }) => {
    const ctx = { sessionId: null, clientIp: null, userAgent: `sealbox-cli (${userInfo().username})`, logonType: 'owner' as const };
    try {
      await fn(services, ctx);
    } catch (err) {
      if (err instanceof SealboxError && err.code !== 'SEALBOX_ERR_LEDGER') await services.audit.denied({ ...ctx, user: null }, { operation, parameters: { name: o.name } }, err.message);
      throw err;
    }
  });
}

async function readSecret(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('password: ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const secret = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (!secret) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'no password on standard input');
  return secret;
}
