import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { loadConfig } from '../core/config.ts';
import type { Config } from '../core/config.ts';
import { systemClock } from '../core/clock.ts';
import { SealboxError } from '../core/errors.ts';
import { recordOperatorAccess } from '../access/operator-access.ts';
import { People, ROLES } from '../access/people.ts';
import { Policy } from '../access/policy.ts';
import { userInfo } from 'node:os';
import { SearchIndex } from '../index/search-index.ts';
import { openIndexDb } from '../index/indexer.ts';
import { Ledger } from '../ledger/ledger.ts';
import { consistencyProof, inclusionProof } from '../ledger/merkle-tree.ts';
import { openStores } from '../store/open-stores.ts';
import type { Stores } from '../store/open-stores.ts';
import { openOrCreateSigningKey } from '../store/signing-key-file.ts';
import { verifyArchive } from '../store/verify-archive.ts';
import { importDirectory, parseDirectoryCsv } from '../store/mailbox-import.ts';
import { serve } from './serve.ts';

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
  .option('--http <host:port>', 'HTTP listener address, or "off" (default off)')
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

withArchive(program.command('search'))
  .description('search the archive (the query and the results are written to the ledger)')
  .requiredOption('--reason <text>', 'why you are searching; recorded in the ledger')
  .option('--json', 'one JSON object per line: sha256, messageId, date, from, subject')
  .addOption(new Option('--limit <n>', 'most results to show').default(50).argParser(positiveInt('--limit')))
  .argument('<query...>', 'query: words, "phrases", from: to: cc: bcc: subject: mailbox: has:attachment filename: before: after: message-id: sha256:, AND OR NOT ( )')
  .action((words: string[], o) => {
    const config = configOf(o);
    const stores = openStores(config, { create: false });
    try {
      const result = openSearch(stores).search(words.join(' '), { limit: o.limit });
      recordOperatorAccess(stores.meta, ledgerFor(stores, config), {
        operation: 'search', reason: o.reason, messages: result.hits.map((h) => h.sha256),
        parameters: { query: result.query, results: result.hits.length, limit: o.limit },
      });
      for (const h of result.hits) {
        if (o.json) process.stdout.write(JSON.stringify({ sha256: h.sha256, messageId: h.messageId, date: h.date === null ? null : new Date(h.date).toISOString(), from: h.from, subject: h.subject }) + '\n');
        else process.stdout.write(`${h.sha256.slice(0, 16)}  ${h.date === null ? '-' : new Date(h.date).toISOString().slice(0, 10)}  ${(h.from ?? '').slice(0, 30).padEnd(30)}  ${h.subject ?? ''}\n`);
      }
      if (!o.json) process.stderr.write(`${result.hits.length} message(s)${result.hits.length === o.limit ? ' (limit reached; use --limit)' : ''}\n`);
    } finally {
      stores.close();
    }
  });

withArchive(program.command('show'))
  .description('show one message by its sha256 (the read is written to the ledger)')
  .requiredOption('--reason <text>', 'why you are reading it; recorded in the ledger')
  .option('--json', 'message, captures with their envelopes and verdicts, and mailboxes, as one JSON object')
  .option('--raw', 'write the exact stored bytes to stdout')
  .argument('<sha256>', 'the message identity (64 hex digits)')
  .action(async (sha: string, o) => {
    if (!/^[0-9a-f]{64}$/i.test(sha)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `"${sha}" is not a sha256 (64 hex digits)`);
    if (o.json && o.raw) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', '--json and --raw cannot be combined');
    const config = configOf(o);
    const stores = openStores(config, { create: false });
    try {
      const message = stores.reader.message(sha.toLowerCase());
      const ledger = ledgerFor(stores, config);
      if (o.raw) {
        const raw = await stores.reader.buffer(message); // checked (GCM tag) before a byte is shown
        recordOperatorAccess(stores.meta, ledger, { operation: 'show-raw', reason: o.reason, messages: [message.sha256], parameters: {} });
        await new Promise<void>((resolve, reject) => process.stdout.write(raw, (err) => (err ? reject(err) : resolve())));
        return;
      }
      const search = openSearch(stores);
      const doc = search.document(message.id);
      const view = {
        sha256: message.sha256, size: message.size, firstSeen: new Date(message.firstSeen).toISOString(),
        indexed: doc !== null,
        messageId: doc?.message_id ?? null, date: doc?.date == null ? null : new Date(Number(doc.date)).toISOString(),
        from: doc?.from_text ?? null, subject: doc?.subject ?? null, parseError: doc?.parse_error ?? null,
        sameMessageId: doc?.message_id_lc ? search.sameMessageId(doc.message_id_lc, message.id) : [],
        captures: stores.meta.capturesOf(message.id).map((c) => ({
          captureId: c.id, source: c.source, receivedAt: new Date(c.receivedAt).toISOString(), ledgerIndex: c.ledgerIndex,
          envelope: c.envelope, provenance: c.provenance, auth: search.authVerdicts(c.rowId),
        })),
        mailboxes: search.participants(message.id),
        attachments: search.attachments(message.id),
      };
      recordOperatorAccess(stores.meta, ledger, { operation: 'show', reason: o.reason, messages: [message.sha256], parameters: {} });
      if (o.json) process.stdout.write(JSON.stringify(view) + '\n');
      else process.stdout.write(JSON.stringify(view, null, 2) + '\n');
    } finally {
      stores.close();
    }
  });

withArchive(program.command('verify'))
  .description('re-hash every blob, rebuild the ledger tree, check every checkpoint; exit 0 only if all holds')
  .option('--json', 'the report as JSON')
  .action(async (o) => {
    const config = configOf(o);
    const stores = openStores(config, { create: false });
    try {
      const { key } = openOrCreateSigningKey(stores.paths.signingKey, config.ledger.origin, { create: false });
      const report = await verifyArchive(stores, { verifierKey: key.verifierKey, origin: config.ledger.origin });
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
      const checkpoint = checkpointAt(stores, o.size);
      if (index >= checkpoint.size) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `entry ${index} is not in the checkpoint of size ${checkpoint.size}`);
      const hashes = stores.meta.leafHashes(0, checkpoint.size);
      process.stdout.write(JSON.stringify({
        index, size: checkpoint.size, leafHash: hashes[index].toString('base64'),
        proof: inclusionProof(index, hashes).map((h) => h.toString('base64')), checkpoint: checkpoint.note,
      }) + '\n');
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
      const older = checkpointAt(stores, oldSize);
      const newer = checkpointAt(stores, newSize);
      if (older.size > newer.size) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `old size ${older.size} is larger than new size ${newer.size}`);
      const proof = consistencyProof(older.size, stores.meta.leafHashes(0, newer.size));
      process.stdout.write(JSON.stringify({ oldSize: older.size, newSize: newer.size, proof: proof.map((h) => h.toString('base64')), oldCheckpoint: older.note, newCheckpoint: newer.note }) + '\n');
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

withArchive(program.command('stats'))
  .description('counts of captures, messages, stored and raw bytes, and index lag')
  .option('--json', 'as JSON')
  .action((o) => {
    const stores = openStores(configOf(o), { create: false });
    try {
      const counts = stores.meta.counts();
      const cursor = openSearch(stores).cursor();
      const last = stores.meta.lastCaptureRowId();
      const stats = { ...counts, ledgerEntries: stores.meta.ledgerSize(), indexLag: { captures: last - cursor }, ratio: counts.rawBytes ? counts.blobBytes / counts.rawBytes : null };
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
  .option('--owns <mailbox...>', 'mailboxes (names or addresses) this user owns')
  .action((o) => {
    const config = configOf(o);
    const stores = openStores(config, { create: false });
    try {
      const policy = new Policy(stores.meta, config.access);
      const people = new People(stores.meta, stores.keys, systemClock, () => policy.current());
      const ledger = ledgerFor(stores, config);
      const { user, enrolmentCode } = stores.meta.transaction(() => {
        ledger.catchUp();
        const added = people.add({ name: o.name, roles: o.role, displayName: o.displayName, email: o.email });
        for (const m of o.owns ?? []) {
          const row = (stores.meta.prepare('SELECT id FROM mailbox WHERE name = ?').get(m) ?? stores.meta.prepare('SELECT mailbox_id AS id FROM mailbox_address WHERE address = ?').get(String(m).toLowerCase())) as { id: number } | undefined;
          if (!row) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `no mailbox "${m}" (import the directory first: sealbox mailboxes import)`);
          stores.meta.prepare('UPDATE mailbox SET owner = ? WHERE id = ?').run(o.name, row.id);
        }
        ledger.append({
          type: 'admin', actor: `os:${userInfo().username}`, actorRoles: ['operator'], logonType: 'admin', sessionId: null, clientIp: null,
          operation: 'user.add', objects: { mailboxes: o.owns ?? [], messages: [] }, grantId: null, result: 'success', parameters: { name: o.name, roles: o.role },
        });
        return added;
      });
      const url = `http://${config.http.listen}/enrol?name=${encodeURIComponent(user.name)}&code=${enrolmentCode}`;
      process.stdout.write(`user ${user.name} (${user.roles.join(', ')}): one-time enrolment code ${enrolmentCode}\n  valid ${config.access.enrolmentHours} h; enrol at ${url}\n  or: POST /api/v1/enrol {"name": "${user.name}", "code": "${enrolmentCode}", "password": "…"}\n`);
    } finally {
      stores.close();
    }
  });

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
      const result = stores.meta.transaction(() => {
        ledger.catchUp();
        const r = importDirectory(stores.meta, rows);
        ledger.append({
          type: 'admin', actor: `os:${process.env.USER ?? 'unknown'}`, actorRoles: ['operator'], logonType: 'operator', sessionId: null, clientIp: null,
          operation: 'mailboxes.import', objects: { mailboxes: rows.map((m) => m.name), messages: [] }, grantId: null, result: 'success',
          parameters: { file, ...r },
        });
        return r;
      });
      process.stdout.write(`imported ${result.mailboxes} mailbox(es) with ${result.addresses} address(es)\n`);
    } finally {
      stores.close();
    }
  });

function checkpointAt(stores: Stores, size: number | undefined) {
  const found = size === undefined ? stores.meta.latestCheckpoint() : stores.meta.checkpoints().find((c) => c.size === size);
  if (!found) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', size === undefined ? 'no checkpoint has been signed yet' : `no signed checkpoint has size ${size}`);
  return found;
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

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2); // commander has printed why
  if (err instanceof SealboxError) {
    process.stderr.write(`sealbox: ${err.message} [${err.code}]\n`);
    process.exit(2);
  }
  process.stderr.write(`sealbox: unexpected error: ${(err as Error)?.stack ?? err}\n`);
  process.exit(1);
});
