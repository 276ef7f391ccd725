// A small governed-access world for API tests: one server on port 0, a few messages in known
// mailboxes, users with the roles asked for (each signed in like a browser), and an auditor of
// its own who reads the ledger to check what every call recorded.
import { waitUntil } from './wait.ts';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FILED_ROLES } from '../../src/access/role-changes.ts';
import type { Role } from '../../src/access/roles.ts';
import { ApiClient } from './api-client.ts';
import { enrolmentCodeIn, queuedMail } from './outbox.ts';
import { testConfig, waitForIndex } from './archive.ts';
import { worldStore } from './postgres.ts';
import { RawSmtpClient } from './smtp-client.ts';
import { sealbox, startSealbox, tempDataDir } from './sealbox.ts';
import type { SealboxServer } from './sealbox.ts';

export interface MessageSpec {
  from: string;
  to: string;
  subject: string;
  date: string;   // RFC 5322 date
  // A text file attached (its text is read into the index after the message).
  attachment?: { filename: string; text: string };
}

export interface WorldOptions {
  messages: Record<string, MessageSpec>;
  // CSV rows: address → owner user name (or '' for none)
  mailboxes: Record<string, string>;
  // user name → roles; 'adm' (admin) is always created first, from the command line
  users: Record<string, string[]>;
  // Of those, the people the console's operator adds (`sealbox users add`) rather than adm
  // through the API: a directory may then give them mail at once. An account adm made was
  // handed to adm first, so mail the directory gives it later waits for someone else
  // (src/access/mailbox-ownership.ts). In-process worlds only. Holders of a role an admin can only
  // file for an approver (FILED_ROLES) are added at the console in every world.
  madeAtConsole?: string[];
  access?: Record<string, unknown>;
  config?: Record<string, unknown>;   // other config sections (notify, oversight, …)
}

export interface LedgerEntryView {
  index: number;
  time: number;
  type: string;
  actor: string;
  logonType: string;
  sessionId: string | null;
  operation: string;
  objects: { mailboxes: string[]; messages: string[] };
  grantId: string | null;
  result: string;
  parameters: Record<string, any>;
}

export interface World {
  server: SealboxServer;
  config: string;
  url: string;
  as: Record<string, ApiClient>;
  passwords: Record<string, string>;
  sha: Record<string, string>;
  raw: Record<string, Buffer>;
  // Entries appended since the last call of `take` (or since the world was ready), by actor
  // `user:NAME`, without the watcher's own reads.
  take(name: string): Promise<LedgerEntryView[]>;
  // All entries appended since the last `take` (any actor).
  takeAll(): Promise<LedgerEntryView[]>;
  stop(): Promise<void>;
}

export const WATCHER = 'ledger-watch';

export function rfc822(m: MessageSpec): Buffer {
  const headers = `From: ${m.from}\r\nTo: ${m.to}\r\nSubject: ${m.subject}\r\nDate: ${m.date}\r\nMessage-ID: <${createHash('sha256').update(m.subject).digest('hex').slice(0, 16)}@corp.test>\r\n`;
  if (!m.attachment) return Buffer.from(`${headers}\r\n${m.subject} body text\r\n`);
  const { filename, text } = m.attachment;
  return Buffer.from(`${headers}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n${m.subject} body text\r\n`
    + `--b\r\nContent-Type: text/plain; name="${filename}"\r\nContent-Disposition: attachment; filename="${filename}"\r\nContent-Transfer-Encoding: base64\r\n\r\n`
    + `${Buffer.from(text).toString('base64')}\r\n--b--\r\n`);
}

export async function startWorld(options: WorldOptions): Promise<World> {
  const store = await worldStore();
  const config = testConfig({
    ...(store ? { store } : {}),   // SEALBOX_TEST_STORE (options.config may name its own)
    internalDomains: ['corp.test'],
    // Every person here was created by adm a moment ago: the four-eyes link period (tried in
    // rogue-admin.test.ts) would keep them all from approving each other.
    access: { secureCookies: false, requestsPerMinute: 1_000_000, signinPerMinute: 10_000, linkedPeopleDays: 0, ...options.access },
    ...options.config,
  });
  const server = await startSealbox({ args: ['--config', config, '--http', '127.0.0.1:0'] });
  try {
    const smtp = await RawSmtpClient.connect(server.smtp.port);
    const raw: Record<string, Buffer> = {};
    const sha: Record<string, string> = {};
    for (const [key, m] of Object.entries(options.messages)) {
      raw[key] = rfc822(m);
      sha[key] = createHash('sha256').update(raw[key]).digest('hex');
      assert.equal((await smtp.send({ from: m.from, to: [m.to] }, raw[key])).data[0].code, 250);
    }
    await smtp.quit();
    await waitForIndex(server.data, undefined, { config });

    const csv = join(tempDataDir(), 'directory.csv');
    writeFileSync(csv, directoryCsv(options.mailboxes));
    const imported = await sealbox(['mailboxes', 'import', '--data', server.data, '--config', config, csv]);
    assert.equal(imported.code, 0, imported.stderr);
    const added = await sealbox(['users', 'add', '--data', server.data, '--config', config, '--name', 'adm', '--email', 'adm@corp.test', '--role', 'admin']);
    assert.equal(added.code, 0, added.stderr);

    const url = server.http!.url;
    const people = await signInEveryone(() => new ApiClient(url), /enrolment code (\S+)/.exec(added.stdout.toString())![1], options.users, {
      mailedCode: async (a) => enrolmentCodeIn(await queuedMail(config, server.data, a), a),
      atConsole: consoleAdds(['--data', server.data, '--config', config]),
    });
    return {
      server, config, url, sha, raw, ...people,
      stop: async () => {
        assert.equal(await server.stop(), 0);
      },
    };
  } catch (err) {
    // The cause, even when the server also fails to stop.
    await server.stop().catch((stopping) => { throw new AggregateError([err, stopping], `${err}`); });
    throw err;
  }
}

// The people holding a role an admin cannot give through the API alone (FILED_ROLES): the
// console's operator adds them.
export function filedRoleHolders(users: Record<string, string[]>): string[] {
  return Object.keys(users).filter((name) => name !== 'adm' && users[name]!.some((r) => FILED_ROLES.includes(r as Role)));
}

// The console's `sealbox users add` on an archive (its --data and --config), answering the code it prints.
export function consoleAdds(archive: string[]): (name: string, roles: string[]) => Promise<string> {
  return async (name, roles) => {
    const made = await sealbox(['users', 'add', ...archive, '--name', name, '--email', `${name}@corp.test`, '--role', ...roles]);
    assert.equal(made.code, 0, made.stderr);
    return /enrolment code (\S+)/.exec(made.stdout.toString())![1]!;
  };
}

// Polls (no fixed sleep) until the request reaches the state, within a deadline.
export async function waitForState(client: ApiClient, id: string, state: string, timeoutMs = 30_000): Promise<void> {
  let last: unknown;
  await waitUntil(`request ${id} reaches ${state}`, async () => (last = (await client.call('GET', `/api/v1/requests/${id}`)).body.state) === state,
    { timeoutMs, intervalMs: 100, detail: () => `it is ${last}` });
}

// The directory as `sealbox mailboxes import` reads it. A value may carry more columns after the
// owner: "owner,sensitivity,manager".
export function directoryCsv(mailboxes: Record<string, string>): string {
  return 'addresses,owner,sensitivity,manager\n' + Object.entries(mailboxes).map(([a, o]) => `${a},${[...o.split(','), '', ''].slice(0, 3).join(',')}`).join('\n') + '\n';
}

// How the people of a world get their first code: `mailedCode` reads it from what the world's
// outbox holds for an address; `atConsole` adds someone at the console (`sealbox users add`)
// and answers the code it prints. `madeAtConsole` names people the console adds though adm could.
export interface WorldEntry {
  mailedCode: (address: string) => Promise<string>;
  atConsole: (name: string, roles: string[]) => Promise<string>;
  madeAtConsole?: string[];
}

// The people of a world, signed in like browsers: adm (added at the console, its enrolment code
// given) adds the others through the API and each enrols and signs in. The console's operator adds
// whoever holds a role adm could only file for an approver (FILED_ROLES: approvers, auditors,
// admins, records, break-glass; the ledger watcher is an auditor) and the `madeAtConsole` names.
// `connect` makes a client that reaches the world's server, wherever it runs.
// Someone who owns mailboxes already gets their code by mail, never in adm's answer
// (src/access/enrolment-codes.ts), and their e-mail address is that of a mailbox they own.
export async function signInEveryone(connect: () => ApiClient, admCode: string, users: Record<string, string[]>, entry: WorldEntry): Promise<Pick<World, 'as' | 'passwords' | 'take' | 'takeAll'>> {
  const as: Record<string, ApiClient> = {};
  const passwords: Record<string, string> = {};
  const signIn = async (name: string, code: string) => {
    passwords[name] = `${name}-correct-horse-battery`;
    as[name] = connect();
    await as[name].enrolAndSignIn(name, code, passwords[name]);
  };
  await signIn('adm', admCode);
  const listed = await as.adm.call('GET', '/api/v1/mailboxes?q=&limit=500');
  assert.equal(listed.status, 200, JSON.stringify(listed.body));
  const ownAddress = new Map<string, string>();
  for (const m of listed.body.mailboxes as { owner: string | null; addresses: string[] }[]) if (m.owner && !ownAddress.has(m.owner)) ownAddress.set(m.owner, m.addresses[0]!);
  const everyone = { ...users, [WATCHER]: ['auditor'] };
  const byConsole = new Set([...entry.madeAtConsole ?? [], ...filedRoleHolders(everyone)]);
  for (const [name, roles] of Object.entries(everyone)) {
    if (name === 'adm') continue;
    if (byConsole.has(name)) {
      await signIn(name, await entry.atConsole(name, roles));
      continue;
    }
    const r = await as.adm.call('POST', '/api/v1/users', { name, roles, email: ownAddress.get(name) ?? `${name}@corp.test` });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await signIn(name, r.body.enrolmentCode ?? await entry.mailedCode(r.body.codeMailedTo[0]));
  }

  let next = 0;
  const takeAll = async () => {
    const out: LedgerEntryView[] = [];
    for (;;) {
      const r = await as[WATCHER].call('GET', `/api/v1/ledger/entries?from=${next}&limit=1000`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const entries = r.body.entries as LedgerEntryView[];
      if (entries.length > 0) next = entries.at(-1)!.index + 1;
      out.push(...entries.filter((e) => e.actor !== `user:${WATCHER}`));
      // Each read is itself an entry, so the ledger never runs dry: a short page is the end.
      if (entries.length < 1000) return out;
    }
  };
  await takeAll();
  return { as, passwords, takeAll, take: async (name) => (await takeAll()).filter((e) => e.actor === `user:${name}`) };
}
