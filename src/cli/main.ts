import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { loadConfig } from '../core/config.ts';
import type { Config } from '../core/config.ts';
import { systemClock } from '../core/clock.ts';
import { SealboxError } from '../core/errors.ts';
import { People, ROLES } from '../access/people.ts';
import type { User } from '../access/people.ts';
import { Credentials, TOKEN_SCOPES } from '../access/credentials.ts';
import { Audit } from '../access/audit.ts';
import { Policy } from '../access/policy.ts';
import { userInfo } from 'node:os';
import { SearchIndex } from '../index/search-index.ts';
import { openIndexDb } from '../index/indexer.ts';
import { accessServices } from '../api/services.ts';
import { accessStateProblems } from '../oversight/access-state-check.ts';
import { Grants } from '../access/grants.ts';
import { Ledger } from '../ledger/ledger.ts';
import { proveConsistency, proveInclusion } from '../ledger/ledger-proofs.ts';
import { reportCsv, reportText } from '../oversight/oversight-report.ts';
import { openStores } from '../store/open-stores.ts';
import type { Stores } from '../store/open-stores.ts';
import { openOrCreateSigningKey } from '../store/signing-key-file.ts';
import { verifyArchive } from '../store/verify-archive.ts';
import { parseDirectoryCsv } from '../store/mailbox-import.ts';
import type { DirectoryRow } from '../store/mailbox-import.ts';
import { FourEyes } from '../access/four-eyes.ts';
import { MailboxOwnership } from '../access/mailbox-ownership.ts';
import { Notifier } from '../access/notifier.ts';
import { PersonLinks } from '../store/person-links.ts';
import { serve } from './serve.ts';
import { addImportCommands } from './import-command.ts';

const program = new Command('sealbox')
  .description('Sealbox: an email archive that keeps every message with its SMTP envelope, proves it unaltered, and records every read.')
  .showHelpAfterError()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) })
  // Usage errors (a missing --reason, an unknown option) are bad input: exit 2, not commander's 1.
  .exitOverride();

const withArchive = (cmd: Command) => cmd
  .option('--data <dir>', 'data folder (default ./sealbox-data, or SEALBOX_DATA)')
  .option('--config <file>', 'JSON config file (or SEALBOX_CONFIG)');

const configOf = (o: { data?: string; config?: string; smtp?: string; lmtp?: string; http?: string; milter?: string }) =>
  loadConfig(o.config, { data: o.data, smtp: o.smtp, lmtp: o.lmtp, http: o.http, milter: o.milter });

function ledgerFor(stores: Stores, config: Config): Ledger {
  return new Ledger({
    store: stores.meta, origin: config.ledger.origin, clock: systemClock,
    sign: () => { throw new SealboxError('SEALBOX_ERR_INTERNAL', 'checkpoints are signed by the server'); },
  });
}

function openSearch(stores: Stores): SearchIndex {
  return new SearchIndex(openIndexDb(stores.paths.index, stores.paths.meta));
}

withArchive(program.command('serve'))
  .description('receive journal copies over SMTP and LMTP and keep them (prints one line per listener)')
  .option('--smtp <host:port>', 'SMTP listener address, or "off" (default 127.0.0.1:2525)')
  .option('--lmtp <host:port>', 'LMTP listener address, or "off" (default 127.0.0.1:2424)')
  .option('--http <host:port>', 'web app and HTTP API address, or "off" (default 127.0.0.1:8025)')
  .option('--milter <host:port>', 'milter listener address (Postfix/Sendmail mail filter), or "off" (default off)')
  .action(async (o) => {
    // Handlers before the listeners announce themselves: a supervisor may signal as soon as it
    // reads those lines, and an unhandled SIGTERM kills the process without its final checkpoint.
    const starting = serve(configOf(o));
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`sealbox: ${signal}: finishing open transactions and signing a checkpoint\n`);
      starting.then((running) => running.stop()).then(() => process.exit(0), (err) => { process.stderr.write(`sealbox: error while stopping: ${err.message}\n`); process.exit(1); });
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    await starting;
  });

// Content is read on the command line exactly as over HTTP: as the owner of the mailboxes, or
// under an active grant of one's own, identified by an API token; every read is in the ledger.
const withReader = (cmd: Command) => withArchive(cmd)
  .option('--token <token>', 'your API token (or SEALBOX_TOKEN); create one with: sealbox tokens create')
  .option('--grant <id>', 'read under this active grant (without it: your own mailboxes)')
  .option('--reason <text>', 'a note recorded with the read in the ledger');

function openReader(o: { token?: string; data?: string; config?: string }, scope: 'content' | 'ledger' = 'content') {
  const config = configOf(o);
  const stores = openStores(config, { create: false });
  const indexDb = openIndexDb(stores.paths.index, stores.paths.meta);
  const services = accessServices(config, stores, ledgerFor(stores, config), indexDb, systemClock);
  const close = () => {
    indexDb.close();
    stores.close();
  };
  const token = o.token ?? process.env.SEALBOX_TOKEN;
  const principal = token ? services.credentials.token(token) : null;
  if (!principal || !principal.scopes!.includes(scope)) {
    // A refused token that names someone (revoked, expired, a forged secret, lacking the scope)
    // is recorded as over HTTP before the refusal is answered.
    const command = `sealbox ${process.argv[2] ?? ''}`.trim();
    const cli = { clientIp: null, userAgent: `sealbox-cli (${userInfo().username})` };
    try {
      if (principal) {
        services.audit.denied({ ...cli, sessionId: principal.sessionId, user: principal.user, logonType: 'owner' }, { type: 'admin', operation: 'token.use', parameters: { route: command, tokenId: principal.sessionId, scopes: principal.scopes } }, `token lacks the "${scope}" scope`);
      } else if (token) {
        const refused = services.credentials.refusedToken(token);
        if (refused) services.audit.denied({ ...cli, sessionId: refused.tokenId, user: refused.user, logonType: 'owner' }, { type: 'admin', operation: 'token.use', parameters: { route: command, tokenId: refused.tokenId } }, refused.why);
      }
    } finally {
      close();
    }
    if (!token) throw new SealboxError('SEALBOX_ERR_AUTH', `this needs your API token: --token TOKEN or SEALBOX_TOKEN (create one with: sealbox tokens create --name YOU --scope ${scope})`);
    if (!principal) throw new SealboxError('SEALBOX_ERR_AUTH', 'API token is unknown, expired or revoked');
    throw new SealboxError('SEALBOX_ERR_FORBIDDEN', `this API token lacks the "${scope}" scope`);
  }
  const ctx = { sessionId: principal.sessionId, clientIp: null, userAgent: `sealbox-cli (${userInfo().username})` };
  return { services, user: principal.user, ctx, close };
}

withReader(program.command('search'))
  .description('search your own mailboxes, or within an active grant (the query and the results are written to the ledger)')
  .option('--json', 'one JSON object per line: sha256, messageId, date, from, subject')
  .addOption(new Option('--limit <n>', 'most results to show').default(50).argParser(positiveInt('--limit')))
  .argument('<query...>', 'query: words, "phrases", from: to: cc: bcc: subject: mailbox: has:attachment filename: before: after: message-id: sha256:, AND OR NOT ( )')
  .action((words: string[], o) => {
    const r = openReader(o);
    try {
      const result = r.services.content.search({ ...r.ctx }, r.user, { query: words.join(' '), grantId: o.grant, limit: o.limit, note: o.reason });
      for (const h of result.hits) {
        if (o.json) process.stdout.write(JSON.stringify({ sha256: h.sha256, messageId: h.messageId, date: h.date === null ? null : new Date(h.date).toISOString(), from: h.from, subject: h.subject }) + '\n');
        else process.stdout.write(`${h.sha256.slice(0, 16)}  ${h.date === null ? '-' : new Date(h.date).toISOString().slice(0, 10)}  ${(h.from ?? '').slice(0, 30).padEnd(30)}  ${h.subject ?? ''}\n`);
      }
      if (!o.json) process.stderr.write(`${result.hits.length} message(s)${result.hits.length === o.limit ? ' (limit reached; use --limit)' : ''}\n`);
    } finally {
      r.close();
    }
  });

withReader(program.command('show'))
  .description('show one message of your own mailboxes or within an active grant (the read is written to the ledger)')
  .option('--json', 'message, captures with their envelopes and verdicts, and mailboxes, as one JSON object')
  .option('--raw', 'write the exact stored bytes to stdout')
  .argument('<sha256>', 'the message identity (64 hex digits)')
  .action(async (sha: string, o) => {
    if (!/^[0-9a-f]{64}$/i.test(sha)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `"${sha}" is not a sha256 (64 hex digits)`);
    if (o.json && o.raw) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', '--json and --raw cannot be combined');
    const r = openReader(o);
    try {
      if (o.raw) {
        const raw = await r.services.content.raw(r.ctx, r.user, sha.toLowerCase(), o.grant, o.reason);
        await new Promise<void>((resolve, reject) => process.stdout.write(raw, (err) => (err ? reject(err) : resolve())));
        return;
      }
      const view = r.services.content.view(r.ctx, r.user, sha.toLowerCase(), o.grant, o.reason);
      process.stdout.write((o.json ? JSON.stringify(view) : JSON.stringify(view, null, 2)) + '\n');
    } finally {
      r.close();
    }
  });

withArchive(program.command('verify'))
  .description('re-hash every blob, rebuild the ledger tree, check every checkpoint, match every capture field and who-can-read-what to the ledger; exit 0 only if all holds')
  .option('--json', 'the report as JSON')
  .option('--against <file...>', 'checkpoints kept by outside witnesses: the ledger must still extend each of them')
  .action(async (o) => {
    const config = configOf(o);
    const stores = openStores(config, { create: false });
    try {
      const { key } = openOrCreateSigningKey(stores.paths.signingKey, config.ledger.origin, { create: false });
      const witnessed = (o.against ?? []).map((file: string) => {
        try {
          return { source: file, note: readFileSync(file, 'utf8') };
        } catch (err) {
          throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `cannot read witness checkpoint ${file}: ${(err as Error).message}`);
        }
      });
      const report = await verifyArchive(stores, { verifierKey: key.verifierKey, origin: config.ledger.origin, witnessed });
      // Who can read what, from the tables against the ledger (the tables are not in the tree).
      const policy = new Policy(stores.meta, config.access);
      const people = new People(stores.meta, stores.keys, systemClock, () => policy.current());
      report.problems.push(...accessStateProblems({ meta: stores.meta, grants: new Grants(stores.meta, systemClock, () => policy.current()), people, clock: systemClock }));
      if (o.json) process.stdout.write(JSON.stringify(report) + '\n');
      else {
        for (const p of report.problems) process.stdout.write(`FAIL ${p}\n`);
        for (const n of report.notes) process.stdout.write(`note ${n}\n`);
        const mb = report.bytes / 1e6;
        process.stdout.write(`${report.problems.length === 0 ? 'OK' : 'FAILED'}: ${report.entries} ledger entries, ${report.checkpoints} checkpoints, ${report.messages} messages (${mb.toFixed(1)} MB) in ${report.seconds.toFixed(2)} s (${(mb / Math.max(report.seconds, 1e-6)).toFixed(0)} MB/s)\n`);
      }
      process.exitCode = report.problems.length === 0 ? 0 : 1;
    } finally {
      stores.close();
    }
  });

const ledgerCmd = program.command('ledger').description('the tamper-evident ledger');
withArchive(ledgerCmd.command('export'))
  .description('every entry as JSON lines: index, type, time, leaf (base64 of the exact bytes hashed)')
  .action((o) => {
    const stores = openStores(configOf(o), { create: false });
    try {
      for (const r of stores.meta.ledgerRows()) process.stdout.write(JSON.stringify({ index: r.index, type: r.type, time: new Date(r.time).toISOString(), leaf: r.leaf.toString('base64') }) + '\n');
    } finally {
      stores.close();
    }
  });
withArchive(ledgerCmd.command('checkpoint'))
  .description('print the latest signed checkpoint (C2SP tlog-checkpoint note)')
  .action((o) => {
    const stores = openStores(configOf(o), { create: false });
    try {
      const cp = stores.meta.latestCheckpoint();
      if (!cp) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', 'no checkpoint has been signed yet (start the server once)');
      process.stdout.write(cp.note);
    } finally {
      stores.close();
    }
  });
withArchive(ledgerCmd.command('proof'))
  .description('inclusion proof of one entry in a signed checkpoint (default: the latest), as JSON')
  .argument('<index>', 'entry index', nonNegativeInt('index'))
  .option('--size <n>', 'tree size of the checkpoint to prove against', nonNegativeInt('--size'))
  .action((index: number, o) => {
    const stores = openStores(configOf(o), { create: false });
    try {
      process.stdout.write(JSON.stringify(proveInclusion(stores.meta, index, o.size)) + '\n');
    } finally {
      stores.close();
    }
  });
withArchive(ledgerCmd.command('consistency'))
  .description('consistency proof between two signed checkpoints (default new size: the latest), as JSON')
  .argument('<old-size>', 'the older checkpoint size', nonNegativeInt('old-size'))
  .argument('[new-size]', 'the newer checkpoint size', nonNegativeInt('new-size'))
  .action((oldSize: number, newSize: number | undefined, o) => {
    const stores = openStores(configOf(o), { create: false });
    try {
      process.stdout.write(JSON.stringify(proveConsistency(stores.meta, oldSize, newSize)) + '\n');
    } finally {
      stores.close();
    }
  });
withArchive(ledgerCmd.command('public-key'))
  .description('print the checkpoint verifier key (C2SP note verifier format)')
  .action((o) => {
    const config = configOf(o);
    const stores = openStores(config, { create: false });
    try {
      process.stdout.write(openOrCreateSigningKey(stores.paths.signingKey, config.ledger.origin, { create: false }).key.verifierKey + '\n');
    } finally {
      stores.close();
    }
  });

// Oversight on the command line, as in the API: auditors only, each reading in the ledger.
const withAuditor = (cmd: Command) => withArchive(cmd).option('--token <token>', 'your API token with the "ledger" scope (or SEALBOX_TOKEN)');

withAuditor(program.command('report'))
  .description('the oversight report for a period: requests and grants, break-glass, tickets, sensitive mailboxes, per-person activity, high-impact actions, reads outside a date window (auditors)')
  .option('--from <date>', 'start of the period (ISO date or time; default: 30 days before --to)')
  .option('--to <date>', 'end of the period, exclusive (default: now)')
  .addOption(new Option('--format <format>', 'text, json or csv').choices(['text', 'json', 'csv']).default('text'))
  .action((o) => {
    const when = (v: string | undefined, flag: string) => {
      if (v === undefined) return undefined;
      const t = Date.parse(v);
      if (!Number.isFinite(t)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `${flag} "${v}" is not an ISO date or time`);
      return t;
    };
    const period = { from: when(o.from, '--from'), to: when(o.to, '--to') };
    const r = openReader(o, 'ledger');
    try {
      const report = r.services.oversight.report({ ...r.ctx, user: r.user, logonType: 'admin' }, period);
      process.stdout.write(o.format === 'json' ? JSON.stringify(report, null, 2) + '\n' : o.format === 'csv' ? reportCsv(report) : reportText(report));
    } finally {
      r.close();
    }
  });

withAuditor(program.command('inventory'))
  .description('who can read which mailbox: active grants with time left, break-glass holders, owners, content-scoped API tokens (auditors)')
  .option('--at <time>', 'as of this past moment, rebuilt from the ledger alone (ISO date or time)')
  .option('--json', 'as one JSON object')
  .action((o) => {
    const at = o.at === undefined ? undefined : Date.parse(o.at);
    if (at !== undefined && !Number.isFinite(at)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `--at "${o.at}" is not an ISO date or time`);
    const r = openReader(o, 'ledger');
    try {
      const inv = r.services.oversight.inventory({ ...r.ctx, user: r.user, logonType: 'admin' }, at);
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
  });

withArchive(program.command('stats'))
  .description('counts of captures, messages, stored and raw bytes, index lag and captures that could not be indexed')
  .option('--json', 'as JSON')
  .action((o) => {
    const stores = openStores(configOf(o), { create: false });
    try {
      const counts = stores.meta.counts();
      const search = openSearch(stores);
      const cursor = search.cursor();
      const last = stores.meta.lastCaptureRowId();
      const stats = { ...counts, ledgerEntries: stores.meta.ledgerSize(), indexLag: { captures: last - cursor }, indexFailures: search.failures(5), ratio: counts.rawBytes ? counts.blobBytes / counts.rawBytes : null };
      process.stdout.write(o.json ? JSON.stringify(stats) + '\n' : Object.entries(stats).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join('\n') + '\n');
    } finally {
      stores.close();
    }
  });

const usersCmd = program.command('users').description('people and their roles');
withArchive(usersCmd.command('add'))
  .description('add a user (or re-issue the enrolment code of one not yet enrolled); prints a one-time enrolment code')
  .requiredOption('--name <name>', 'user name (lowercase letters, digits, . _ -)')
  .requiredOption('--role <role...>', `one or more of: ${ROLES.join(', ')}`)
  .option('--display-name <text>', 'full name')
  .option('--email <address>', 'where notifications go')
  .option('--owns <mailbox...>', 'mailboxes (names or addresses) this user owns; an address without a mailbox gets one')
  .action((o) => {
    const config = configOf(o);
    const stores = openStores(config, { create: false });
    try {
      const policy = new Policy(stores.meta, config.access);
      const people = new People(stores.meta, stores.keys, systemClock, () => policy.current());
      const ledger = ledgerFor(stores, config);
      const ownership = directoryOwnership(stores, config, people);
      const { user, enrolmentCode, outcome } = stores.meta.transaction(() => {
        ledger.catchUp();
        const added = people.add({ name: o.name, roles: o.role, displayName: o.displayName, email: o.email });
        const rows: DirectoryRow[] = [];
        for (const m of o.owns ?? []) {
          const row = (stores.meta.prepare('SELECT name FROM mailbox WHERE name = ?').get(m) ?? stores.meta.prepare('SELECT m.name FROM mailbox_address a JOIN mailbox m ON m.id = a.mailbox_id WHERE a.address = ?').get(String(m).toLowerCase())) as { name: string } | undefined;
          const none = { displayName: null, sensitivity: null, manager: null, owner: o.name };
          // An address nobody has a mailbox for yet gets one of its own.
          if (!row && /^[^@\s]+@[^@\s]+$/.test(m)) rows.push({ ...none, name: String(m).toLowerCase(), addresses: [String(m).toLowerCase()] });
          else if (!row) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `no mailbox "${m}" (import the directory first: sealbox mailboxes import)`);
          else rows.push({ ...none, name: row.name, addresses: [] });
        }
        // Ownership that takes a mailbox from someone waits for approval like a directory row.
        const outcome = ownership.import({ user: null, label: `os:${userInfo().username}` }, rows);
        ledger.append({
          type: 'admin', actor: `os:${userInfo().username}`, actorRoles: ['operator'], logonType: 'admin', sessionId: null, clientIp: null,
          operation: 'user.add', objects: { mailboxes: outcome.applied.map((r) => r.name), messages: [] }, grantId: null, result: 'success',
          parameters: { name: o.name, roles: o.role, ...(outcome.staged.length ? { staged: outcome.staged.map((c) => ({ id: c.id, mailbox: c.mailbox, from: c.ownerBefore, why: c.why })) } : {}) },
        });
        return { ...added, outcome };
      });
      for (const c of outcome.staged) process.stdout.write(`ownership of ${c.mailbox} staged as ${c.id} (${c.why}): someone else approves it (web app Administration, or POST /api/v1/ownership-changes/${c.id}/approve)\n`);
      const url = `http://${config.http.listen}/enrol?name=${encodeURIComponent(user.name)}&code=${enrolmentCode}`;
      process.stdout.write(`user ${user.name} (${user.roles.join(', ')}): one-time enrolment code ${enrolmentCode}\n  valid ${config.access.enrolmentHours} h; enrol at ${url}\n  or: POST /api/v1/enrol {"name": "${user.name}", "code": "${enrolmentCode}", "password": "…"}\n`);
    } finally {
      stores.close();
    }
  });

withArchive(usersCmd.command('enrol'))
  .description('set your password with your one-time enrolment code (password read from standard input); prints the TOTP set-up URI when your roles need one')
  .requiredOption('--name <name>', 'your user name')
  .requiredOption('--code <code>', 'the one-time enrolment code')
  .action(async (o) => {
    const password = await readSecret();
    await asUser(o, 'user.enrol', async (people) => {
      const { user, totpUri, recoveryCodes } = await people.enrol(o.name, o.code, password);
      process.stdout.write(`enrolled ${user.name}${totpUri ? `\nadd this to your authenticator app, then sign in with its codes:\n${totpUri}` : ''}\n`);
      if (recoveryCodes.length) process.stdout.write(`recovery codes (each signs in once instead of a code; keep them safe, they are not shown again):\n${recoveryCodes.join('\n')}\n`);
      return user;
    });
  });

const tokensCmd = program.command('tokens').description('API tokens for the command line and automation');
withArchive(tokensCmd.command('create'))
  .description('create an API token for yourself (password read from standard input, plus --totp when your roles need it); shown once')
  .requiredOption('--name <name>', 'your user name')
  .option('--totp <code>', 'the current code of your authenticator app')
  .option('--scope <scope...>', `token scopes: ${TOKEN_SCOPES.join(', ')}`, ['content'])
  .addOption(new Option('--days <n>', 'days until it expires').default(30).argParser(positiveInt('--days')))
  .option('--label <text>', 'what the token is for', 'command line')
  .action(async (o) => {
    const password = await readSecret();
    await asUser(o, 'token.create', async (people, credentials) => {
      const user = await people.authenticate(o.name, password, o.totp);
      const created = credentials.createToken(user, { name: o.label, scopes: o.scope, days: o.days });
      process.stdout.write(`${created.token}\n`);
      process.stderr.write(`token ${created.id} for ${user.name} (${o.scope.join(', ')}), expires ${new Date(created.expiresAt).toISOString()}\n`);
      return [user, { tokenId: created.id, scopes: o.scope, days: o.days, expiresAt: created.expiresAt }];
    });
  });

// Runs a sign-in step for a person at the console and records it (or its refusal) in the ledger.
async function asUser(o: { data?: string; config?: string; name: string }, operation: string, fn: (people: People, credentials: Credentials) => Promise<User | [User, Record<string, unknown>]>): Promise<void> {
  const config = configOf(o);
  const stores = openStores(config, { create: false });
  try {
    const policy = new Policy(stores.meta, config.access);
    const people = new People(stores.meta, stores.keys, systemClock, () => policy.current());
    const credentials = new Credentials(stores.meta, people, systemClock, () => policy.current().sessionHours);
    const audit = new Audit(stores.meta, ledgerFor(stores, config));
    const ctx = { sessionId: null, clientIp: null, userAgent: `sealbox-cli (${userInfo().username})`, logonType: 'owner' as const };
    try {
      const out = await fn(people, credentials);
      const [user, parameters] = Array.isArray(out) ? out : [out, {}];
      audit.record({ ...ctx, user }, { type: 'admin', operation, parameters }, () => null);
    } catch (err) {
      if (err instanceof SealboxError && err.code !== 'SEALBOX_ERR_LEDGER') audit.denied({ ...ctx, user: null }, { type: 'admin', operation, parameters: { name: o.name } }, err.message);
      throw err;
    }
  } finally {
    stores.close();
  }
}

async function readSecret(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('password: ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const secret = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (!secret) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'no password on standard input');
  return secret;
}

const mailboxesCmd = program.command('mailboxes').description('mailboxes and their addresses');
withArchive(mailboxesCmd.command('import'))
  .description('import a CSV directory: header row with addresses[,display_name,owner,sensitivity,name]')
  .argument('<file>', 'CSV file')
  .action((file: string, o) => {
    const config = configOf(o);
    const rows = parseDirectoryCsv(readFileSync(file, 'utf8'));
    const stores = openStores(config, { create: false });
    try {
      const ledger = ledgerFor(stores, config);
      const policy = new Policy(stores.meta, config.access);
      const ownership = directoryOwnership(stores, config, new People(stores.meta, stores.keys, systemClock, () => policy.current()));
      const result = stores.meta.transaction(() => {
        ledger.catchUp();
        // Rows that would let someone read mail they could not read before wait for approval.
        const r = ownership.import({ user: null, label: `os:${process.env.USER ?? 'unknown'}` }, rows);
        ledger.append({
          type: 'admin', actor: `os:${process.env.USER ?? 'unknown'}`, actorRoles: ['operator'], logonType: 'admin', sessionId: null, clientIp: null,
          operation: 'mailboxes.import', objects: { mailboxes: r.applied.map((m) => m.name), messages: [] }, grantId: null, result: 'success',
          // owners and managers in force from here on: a past inventory is rebuilt from the ledger
          parameters: {
            file, mailboxes: r.mailboxes, addresses: r.addresses,
            owners: Object.fromEntries(r.applied.filter((m) => m.owner).map((m) => [m.name, m.owner])), managers: Object.fromEntries(r.applied.filter((m) => m.manager).map((m) => [m.name, m.manager])),
            staged: r.staged.map((c) => ({ id: c.id, mailbox: c.mailbox, from: c.ownerBefore, to: c.ownerAfter, why: c.why })),
          },
        });
        return r;
      });
      for (const c of result.staged) process.stdout.write(`staged ${c.id}: ${c.mailbox} to ${c.ownerAfter || '(owner unchanged)'}${c.ownerBefore ? ` from ${c.ownerBefore}` : ''} (${c.why}); someone else approves it\n`);
      process.stdout.write(`imported ${result.mailboxes} mailbox(es) with ${result.addresses} address(es)\n`);
    } finally {
      stores.close();
    }
  });

// The directory's ownership rules for the console (the same as the API's).
function directoryOwnership(stores: Stores, config: Config, people: People): MailboxOwnership {
  const policy = new Policy(stores.meta, config.access);
  const fourEyes = new FourEyes(new PersonLinks(stores.meta), people, systemClock, () => policy.current());
  return new MailboxOwnership({ meta: stores.meta, people, fourEyes, notifier: new Notifier(stores.meta, people, systemClock, config.notify), clock: systemClock });
}

function nonNegativeInt(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `${name} must be a whole number, got "${value}"`);
    return n;
  };
}

function positiveInt(flag: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `${flag} must be a positive whole number, got "${value}"`);
    return n;
  };
}

addImportCommands(program, withArchive, configOf);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2); // commander has printed why
  if (err instanceof SealboxError) {
    process.stderr.write(`sealbox: ${err.message} [${err.code}]\n`);
    process.exit(2);
  }
  process.stderr.write(`sealbox: unexpected error: ${(err as Error)?.stack ?? err}\n`);
  process.exit(1);
});
