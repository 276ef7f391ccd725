import { Command, CommanderError, Option } from 'commander';
import { SealboxError } from '../core/errors.ts';
import { ROLES, TOKEN_SCOPES } from '../access/roles.ts';
import { addImportCommands } from './import-command.ts';

// The command line: every command and its options are declared here, and each command's work is
// loaded only when it runs (./commands/), so `sealbox --help` and a search start quickly.
const program = new Command('sealbox')
  .description('Sealbox: an email archive that keeps every message with its SMTP envelope, proves it unaltered, and records every read.')
  .showHelpAfterError()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) })
  // Usage errors (a missing --reason, an unknown option) are bad input: exit 2, not commander's 1.
  .exitOverride();

const withArchive = (cmd: Command) => cmd
  .option('--data <dir>', 'data folder (default ./sealbox-data, or SEALBOX_DATA)')
  .option('--config <file>', 'JSON config file (or SEALBOX_CONFIG)');

withArchive(program.command('serve'))
  .description('receive journal copies over SMTP and LMTP and keep them (prints one line per listener)')
  .option('--smtp <host:port>', 'SMTP listener address, or "off" (default 127.0.0.1:2525)')
  .option('--lmtp <host:port>', 'LMTP listener address, or "off" (default 127.0.0.1:2424)')
  .option('--http <host:port>', 'web app and HTTP API address, or "off" (default 127.0.0.1:8025)')
  .option('--milter <host:port>', 'milter listener address (Postfix/Sendmail mail filter), or "off" (default off)')
  .action(async (o) => (await import('./commands/serve.ts')).serveCommand(o));

// Content is read on the command line exactly as over HTTP: as the owner of the mailboxes, or
// under an active grant of one's own, identified by an API token; every read is in the ledger.
const withReader = (cmd: Command) => withArchive(cmd)
  .option('--token <token>', 'your API token (or SEALBOX_TOKEN); create one with: sealbox tokens create')
  .option('--grant <id>', 'read under this active grant (without it: your own mailboxes)')
  .option('--reason <text>', 'a note recorded with the read in the ledger');

withReader(program.command('search'))
  .description('search your own mailboxes, or within an active grant (the query and the results are written to the ledger)')
  .option('--json', 'one JSON object per line: sha256, messageId, date, from, subject')
  .addOption(new Option('--limit <n>', 'most results to show').default(50).argParser(positiveInt('--limit')))
  .argument('<query...>', 'query: words, "phrases", from: to: cc: bcc: subject: mailbox: has:attachment filename: before: after: message-id: sha256:, AND OR NOT ( )')
  .action(async (words: string[], o) => exitWhenDone((await import('./commands/read.ts')).search(words, o)));

withReader(program.command('show'))
  .description('show one message of your own mailboxes or within an active grant (the read is written to the ledger)')
  .option('--json', 'message, captures with their envelopes and verdicts, and mailboxes, as one JSON object')
  .option('--raw', 'write the exact stored bytes to stdout')
  .argument('<sha256>', 'the message identity (64 hex digits)')
  .action(async (sha: string, o) => exitWhenDone((await import('./commands/read.ts')).show(sha, o)));

withReader(program.command('export'))
  .description('export what a search finds under an active grant that carries export, as an evidence package: a folder with each message\'s exact bytes, its text, load files (CSV, Concordance DAT), every receipt with its envelope and ledger proof, the chain of custody, a manifest signed by the ledger key and verify.py (the export is written to the ledger)')
  .requiredOption('--out <dir>', 'the folder to write (it must not exist, or be empty)')
  .addOption(new Option('--limit <n>', 'most messages, the newest').default(10_000).argParser(positiveInt('--limit')))
  .option('--mbox', 'also one mboxrd file per custodian (mbox/<mailbox>.mbox)')
  .argument('<query...>', 'query, as for search')
  .action(async (words: string[], o) => (await import('./commands/export.ts')).exportPackage(words, o));

withArchive(program.command('verify'))
  .description('re-hash every blob, rebuild the ledger tree and check its stored subtree roots and every checkpoint, match every capture field and who-can-read-what to the ledger; exit 0 only if all holds')
  .option('--json', 'the report as JSON')
  .option('--against <file...>', 'checkpoints kept by outside witnesses: the ledger must still extend each of them')
  .option('--index', 'instead: check that the search index holds exactly one document for every message it should by now, and nothing else')
  .action(async (o) => (o.index ? (await import('./commands/reindex.ts')).verifyIndex(o) : (await import('./commands/verify.ts')).verify(o)));

withArchive(program.command('reindex'))
  .description('index again every message `verify --index` finds missing, and remove stray documents; with --attachments, read the text inside the attachments of mail already archived')
  .option('--attachments', 'instead: read the attachments no extractor has read (mail archived while index.attachmentText was off, or before this release could read them), with progress; resumable')
  .option('--json', 'as JSON')
  .action(async (o) => (o.attachments ? (await import('./commands/reindex.ts')).reindexAttachments(o) : (await import('./commands/reindex.ts')).reindex(o)));

withArchive(program.command('migrate'))
  .description('copy this embedded archive (SQLite and blob files) into the PostgreSQL archive another config names (its blobs in files or S3), build its index, and prove the copy: same ledger root, verify green there; stop the server first')
  .requiredOption('--to <config>', 'the target\'s config file (store.kind "postgres"; an empty archive)')
  .option('--json', 'the report as JSON')
  .action(async (o) => (await import('./commands/migrate.ts')).migrate(o));

const ledgerCmd = program.command('ledger').description('the tamper-evident ledger');
withArchive(ledgerCmd.command('export'))
  .description('every entry as JSON lines: index, type, time, leaf (base64 of the exact bytes hashed)')
  .action(async (o) => (await import('./commands/ledger.ts')).exportLedger(o));
withArchive(ledgerCmd.command('checkpoint'))
  .description('print the latest signed checkpoint (C2SP tlog-checkpoint note)')
  .action(async (o) => (await import('./commands/ledger.ts')).checkpoint(o));
withArchive(ledgerCmd.command('proof'))
  .description('inclusion proof of one entry in a signed checkpoint (default: the latest), as JSON')
  .argument('<index>', 'entry index', nonNegativeInt('index'))
  .option('--size <n>', 'tree size of the checkpoint to prove against', nonNegativeInt('--size'))
  .action(async (index: number, o) => (await import('./commands/ledger.ts')).proof(index, o));
withArchive(ledgerCmd.command('consistency'))
  .description('consistency proof between two signed checkpoints (default new size: the latest), as JSON')
  .argument('<old-size>', 'the older checkpoint size', nonNegativeInt('old-size'))
  .argument('[new-size]', 'the newer checkpoint size', nonNegativeInt('new-size'))
  .action(async (oldSize: number, newSize: number | undefined, o) => (await import('./commands/ledger.ts')).consistency(oldSize, newSize, o));
withArchive(ledgerCmd.command('public-key'))
  .description('print the checkpoint verifier key (C2SP note verifier format)')
  .action(async (o) => (await import('./commands/ledger.ts')).publicKey(o));

// Oversight on the command line, as in the API: auditors only, each reading in the ledger.
const withAuditor = (cmd: Command) => withArchive(cmd).option('--token <token>', 'your API token with the "ledger" scope (or SEALBOX_TOKEN)');

withAuditor(program.command('report'))
  .description('the oversight report for a period: requests and grants, break-glass, tickets, sensitive mailboxes, per-person activity, high-impact actions, reads outside a date window (auditors)')
  .option('--from <date>', 'start of the period (ISO date or time; default: 30 days before --to)')
  .option('--to <date>', 'end of the period, exclusive (default: now)')
  .addOption(new Option('--format <format>', 'text, json or csv').choices(['text', 'json', 'csv']).default('text'))
  .action(async (o) => (await import('./commands/oversight.ts')).report(o));

withAuditor(program.command('inventory'))
  .description('who can read which mailbox: active grants with time left, break-glass holders, owners, content-scoped API tokens (auditors)')
  .option('--at <time>', 'as of this past moment, rebuilt from the ledger alone (ISO date or time)')
  .option('--json', 'as one JSON object')
  .action(async (o) => (await import('./commands/oversight.ts')).inventory(o));

withArchive(program.command('stats'))
  .description('counts of captures, messages, stored and raw bytes, index lag and captures that could not be indexed')
  .option('--json', 'as JSON')
  .action(async (o) => (await import('./commands/stats.ts')).stats(o));

const usersCmd = program.command('users').description('people and their roles');
withArchive(usersCmd.command('add'))
  .description('add a user (or re-issue the enrolment code of one not yet enrolled) with their roles at once (the web app and the API file every role beyond owner and requester for an approver: name the first approvers and auditors here); prints a one-time enrolment code')
  .requiredOption('--name <name>', 'user name (lowercase letters, digits, . _ -)')
  .requiredOption('--role <role...>', `one or more of: ${ROLES.join(', ')}`)
  .option('--display-name <text>', 'full name')
  .option('--email <address>', 'where their notices and codes go while they own no mailbox')
  .option('--owns <mailbox...>', 'mailboxes (names or addresses) this user owns; an address without a mailbox gets one')
  .option('--http <host:port>', 'where serve\'s web app is, for the enrolment link, or "off" for none (default: as serve, 127.0.0.1:8025)')
  .action(async (o) => (await import('./commands/users.ts')).addUser(o));

withArchive(usersCmd.command('enrol'))
  .description('set your password with your one-time enrolment code (password read from standard input); prints the TOTP set-up URI when your roles need one')
  .requiredOption('--name <name>', 'your user name')
  .requiredOption('--code <code>', 'the one-time enrolment code')
  .action(async (o) => (await import('./commands/users.ts')).enrol(o));

const tokensCmd = program.command('tokens').description('API tokens for the command line and automation');
withArchive(tokensCmd.command('create'))
  .description('create an API token for yourself (password read from standard input, plus --totp when your roles need it); shown once')
  .requiredOption('--name <name>', 'your user name')
  .option('--totp <code>', 'the current code of your authenticator app')
  .option('--scope <scope...>', `token scopes: ${TOKEN_SCOPES.join(', ')}`, ['content'])
  .addOption(new Option('--days <n>', 'days until it expires').default(30).argParser(positiveInt('--days')))
  .option('--label <text>', 'what the token is for', 'command line')
  .action(async (o) => (await import('./commands/users.ts')).createToken(o));

const mailboxesCmd = program.command('mailboxes').description('mailboxes and their addresses');
withArchive(mailboxesCmd.command('import'))
  .description('import a CSV directory: header row with addresses[,display_name,owner,sensitivity,manager,department,name,left]; rows that would give someone mail, move an address out of a custodian mailbox of a legal hold or keep mail less long are staged for approval by someone else; a new leaving date is filed for an approver')
  .argument('<file>', 'CSV file')
  .action(async (file: string, o) => (await import('./commands/mailboxes.ts')).importDirectory(file, o));

const directoryCmd = program.command('directory').description('directory sync from LDAP / Active Directory (directory.ldap)');
withArchive(directoryCmd.command('sync'))
  .description('read the directory and apply the difference: mailboxes, addresses, managers, departments, roles from sso.roleGroups and leavers; a role, a mailbox or a leaving date is filed for an approver')
  .option('--dry-run', 'list the changes without making them')
  .option('--confirm', 'go ahead although more than directory.maxRemovalShare of the people would be disabled or marked as gone')
  .option('--json', 'the sync as one JSON object, as POST /api/v1/directory/sync answers')
  .action(async (o) => (await import('./commands/directory.ts')).sync(o));

// Retention rules at the console (as the operator); what could shorten retention waits for an approver.
const retentionCmd = program.command('retention').description('how long mail is kept: rules fixed into each capture when it is committed');
withArchive(retentionCmd.command('list'))
  .description('the default, the rules and the changes waiting for approval')
  .option('--json', 'as one JSON object')
  .action(async (o) => (await import('./commands/retention.ts')).list(o));
withArchive(retentionCmd.command('set'))
  .description('add a rule (or change one with --rule): applied at once when it can only lengthen what mail is kept (and lower no minimum), otherwise filed for an approver to decide')
  .requiredOption('--name <text>', 'what the rule is for')
  .option('--rule <id>', 'the rule to change (default: a new rule)')
  .option('--days <n>', 'keep the mail it matches this many days', positiveInt('--days'))
  .option('--forever', 'keep the mail it matches for ever')
  .option('--min-days <n>', 'but keep it at least this many days (by law) before a leaver\'s schedule, an erasure or an early disposal may take it (default: as long as --days)', nonNegativeInt('--min-days'))
  .option('--mailbox <name...>', 'mail to or from these mailboxes')
  .option('--sensitivity <tag...>', 'mail to or from mailboxes with this sensitivity')
  .option('--department <name...>', 'mail to or from mailboxes of this department (the directory\'s department column)')
  .option('--domain <domain...>', 'mail to or from these domains (envelope)')
  .addOption(new Option('--direction <direction...>', 'inbound, outbound or internal mail (against internalDomains)').choices(['inbound', 'outbound', 'internal']))
  .option('--note <text>', 'why, recorded with the change')
  .action(async (o) => (await import('./commands/retention.ts')).set(o));
withArchive(retentionCmd.command('remove'))
  .description('ask for a rule to be removed: always filed for an approver to decide')
  .argument('<rule>', 'the rule id')
  .option('--note <text>', 'why, recorded with the change')
  .action(async (rule: string, o) => (await import('./commands/retention.ts')).remove(rule, o));

// Legal holds and disposal at the console (as the operator); a release waits for an approver.
const holdsCmd = program.command('holds').description('legal holds: mail they cover is kept from disposal whatever retention says');
withArchive(holdsCmd.command('list'))
  .description('every legal hold, on or released')
  .option('--json', 'as JSON')
  .action(async (o) => (await import('./commands/holds.ts')).list(o));
withArchive(holdsCmd.command('place'))
  .description("place a hold on custodians' mail at once; each custodian mailbox's owner is told")
  .requiredOption('--name <text>', 'the case')
  .requiredOption('--matter <ref>', 'the matter or ticket reference')
  .requiredOption('--custodian <mailbox...>', 'the mailboxes it preserves')
  .option('--from <date>', 'mail dated from (ISO date or time)')
  .option('--to <date>', 'mail dated before (ISO date or time)')
  .option('--query <query>', 'only mail matching this search (kept with the hold as proof of its scope)')
  .action(async (o) => (await import('./commands/holds.ts')).place(o));
withArchive(holdsCmd.command('release'))
  .description('ask for a hold to be released: filed for an approver who did not ask to decide')
  .argument('<hold>', 'the hold id')
  .requiredOption('--reason <text>', 'why the hold can end')
  .action(async (hold: string, o) => (await import('./commands/holds.ts')).release(hold, o));

withArchive(program.command('dispose'))
  .description('mail past its retention and under no legal hold: listed (the default, a dry run), or with --run disposed of (keys destroyed, bytes and index rows removed, one ledger entry per policy)')
  .option('--run', 'dispose of it now (the server does this every retention.disposeEveryHours)')
  .option('--json', 'as JSON')
  .action(async (o) => (await import('./commands/disposal.ts')).dispose(o));

// Leavers at the console (as the operator): every leaving date, withdrawal and exemption is filed
// for an approver, never applied by the one who files it.
const leaversCmd = program.command('leavers').description('leavers: a mailbox whose person left has its mail disposed retention.leaverMonths after that day, unless exempt');
withArchive(leaversCmd.command('list'))
  .description('the leavers (the day each left, when their mail is disposed from, any exemption) and the changes waiting for approval')
  .option('--json', 'as one JSON object, as GET /api/v1/leavers gives it')
  .action(async (o) => (await import('./commands/leavers.ts')).list(o));
withArchive(leaversCmd.command('file'))
  .description("file the day a mailbox's person left: applied only when an approver who did not file it approves")
  .argument('<mailbox>', 'the mailbox name')
  .requiredOption('--left <date>', 'the day they left (YYYY-MM-DD)')
  .requiredOption('--reason <text>', 'why, e.g. the HR ticket')
  .action(async (mailbox: string, o) => (await import('./commands/leavers.ts')).file(mailbox, o));
withArchive(leaversCmd.command('withdraw'))
  .description("file the withdrawal of a mailbox's leaving date (the person is still there, or back): applied only when an approver approves")
  .argument('<mailbox>', 'the mailbox name')
  .requiredOption('--reason <text>', 'why')
  .action(async (mailbox: string, o) => (await import('./commands/leavers.ts')).withdraw(mailbox, o));
withArchive(leaversCmd.command('exempt'))
  .description("file an exemption from the leaver rule for a leaver's mailbox: in force only when an approver approves")
  .argument('<mailbox>', 'the mailbox name')
  .option('--until <date>', 'until this day (YYYY-MM-DD; default: until decided otherwise)')
  .requiredOption('--reason <text>', 'why the mail must be kept longer, as the law asks')
  .action(async (mailbox: string, o) => (await import('./commands/leavers.ts')).exempt(mailbox, o));

// A read is over when its work returns (the ledger entry written, the archive closed): it exits
// once its output is written, not when Node's event loop is empty, which first waits for V8's
// background garbage collection to finish (~10 ms of a `sealbox search`).
async function exitWhenDone(work: Promise<void>): Promise<void> {
  await work;
  process.stdout.write('', () => process.stderr.write('', () => process.exit()));
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

addImportCommands(program, withArchive);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2); // commander has printed why
  if (err instanceof SealboxError) {
    process.stderr.write(`sealbox: ${err.message} [${err.code}]\n`);
    process.exit(2);
  }
  process.stderr.write(`sealbox: unexpected error: ${(err as Error)?.stack ?? err}\n`);
  process.exit(1);
});
