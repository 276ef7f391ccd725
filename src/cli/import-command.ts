import { Option } from 'commander';
import type { Command } from 'commander';
import { SealboxError } from '../core/errors.ts';
import { MBOX_FORMATS } from '../capture/import/mbox-splitter.ts';

type WithArchive = (cmd: Command) => Command;

// `sealbox import mbox|maildir|eml|imap|pst …`: history into the archive through the same commit
// path as live mail (sealed blob, capture row and ledger entry durable before a message counts).
export function addImportCommands(program: Command, withArchive: WithArchive): void {
  const importCmd = program.command('import')
    .description('backfill history: mbox, Maildir, .eml files or zips, an IMAP account, PST/OST files, another archive\'s evidence package (resumable; re-running adds nothing twice)');
  const common = (cmd: Command) => withArchive(cmd)
    .option('--report <file>', 'write the outcome, with one entry per message that failed, as JSON')
    .addOption(new Option('--concurrency <n>', 'messages committed at once (they share flushes)').default(256).argParser(positive('--concurrency')).hideHelp());

  common(importCmd.command('mbox'))
    .description('mbox files, or folders of them')
    .addOption(new Option('--format <format>', 'auto: a Content-Length is used where it fits, else split at From_ lines and unquote >From (mboxrd); mboxo: keep >From lines as they are').choices(MBOX_FORMATS).default('auto'))
    .argument('<paths...>', 'mbox files or folders')
    .action(async (paths: string[], o) => (await import('./commands/import.ts')).mbox(paths, o));

  common(importCmd.command('maildir'))
    .description('Maildirs and Maildir++ trees (every folder below; flags kept in provenance)')
    .argument('<dirs...>', 'Maildir folders')
    .action(async (dirs: string[], o) => (await import('./commands/import.ts')).maildir(dirs, o));

  common(importCmd.command('eml'))
    .description('.eml files, folders of them, and .zip archives of them')
    .argument('<paths...>', '.eml files, folders, .zip files')
    .action(async (paths: string[], o) => (await import('./commands/import.ts')).eml(paths, o));

  common(importCmd.command('imap'))
    .description('an IMAP account, every folder (or --folder), read-only; the password comes from SEALBOX_IMAP_PASSWORD or standard input')
    .requiredOption('--host <host>', 'IMAP server')
    .option('--port <port>', 'port (default 993 with TLS, 143 without)', positive('--port'))
    .requiredOption('--user <user>', 'user name to log in as')
    .option('--tls', 'implicit TLS', true)
    .option('--no-tls', 'plain connection (upgraded with STARTTLS when the server offers it)')
    .option('--folder <folder...>', 'only these folders (default: all)')
    .action(async (o) => (await import('./commands/import.ts')).imap(o));

  common(importCmd.command('pst'))
    .description('Outlook PST/OST files (messages are rebuilt as MIME from their properties: PST keeps no MIME)')
    .argument('<files...>', 'PST or OST files')
    .action(async (files: string[], o) => (await import('./commands/import.ts')).pst(files, o));

  common(importCmd.command('evidence'))
    .description('another Sealbox archive\'s evidence package (its folder, or every one of its zip volumes): checked as its verify.py checks it, against the key you give; one failure refuses all of it and changes nothing')
    .requiredOption('--verifier-key <key-or-file>', 'the origin archive\'s ledger verifier key (C2SP, `sealbox ledger public-key` there), or a file holding it, as you got it from that archive or its witnesses: never the package\'s own copy')
    .argument('<package...>', 'the package\'s folder, or its .zip volumes')
    .action(async (paths: string[], o) => (await import('./commands/import.ts')).evidence(paths, o));
}

function positive(flag: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `${flag} must be a positive whole number, got "${value}"`);
    return n;
  };
}
