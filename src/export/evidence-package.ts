import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mboxrdEntry } from '../access/content-access.ts';
import type { EvidenceSource, ExportMade, GrantCustody, MessageRecord } from '../access/content-access.ts';
import { SealboxError } from '../core/errors.ts';
import { MAX_PARSE_BYTES, parseMessage } from '../index/parse-message.ts';
import type { IndexedAttachment } from '../index/search-index.ts';
import type { StoredCheckpoint } from '../ledger/ledger.ts';
import { MAIN_PARTY_RULE, subjectOfGrant } from '../access/subject-access.ts';
import type { OtherParties } from '../access/subject-access.ts';
import type { ExportedHold } from './export-job-store.ts';
import { loadFiles, MULTI_VALUE } from './load-files.ts';
import type { LoadFileRow } from './load-files.ts';

// An evidence package: a folder that proves itself to someone who trusts neither Sealbox nor its
// operator. Each message's exact bytes, its text, load files for review tools, every receipt of
// it with the ledger entry that recorded it and that entry's inclusion proof in one signed
// checkpoint, the chain of custody, a manifest of every file signed by the ledger key, and
// verify.py (scripts/verify-evidence-package.py), which checks all of it with Python alone.
// What goes in is read through ContentAccess.exportEvidence, which decides, and records the
// export with the manifest's SHA-256 once this is written.
export const PACKAGE_FORMAT = 'sealbox-evidence-package/1';

// manifest.sig signs this line and the manifest's SHA-256 in hex: a statement, never a note
// (ledger/signed-statement.ts), so the signature cannot be shown around as a checkpoint.
export const MANIFEST_STATEMENT = 'sealbox evidence manifest v1\n';

const VERIFIER = new URL('../../scripts/verify-evidence-package.py', import.meta.url);

export interface PackageOptions {
  origin: string;                 // the ledger's (config ledger.origin)
  verifierKey: string;
  sign(statement: string): Buffer;
  now: number;                    // the time the package is dated by
  exporter: { name: string; displayName: string | null };
  limit: number;
  note?: string;
  mboxPerCustodian?: boolean;     // also mbox/<custodian>.mbox: each custodian's messages as mboxrd
  job?: { id: string; startedEntry: number };   // the export job that made it
  // A data subject's copy (GDPR Art. 15): how others' mail was treated and how much was withheld.
  subjectAccess?: { otherParties: OtherParties; withheld: number } | null;
  hold?: ExportedHold | null;     // the case exported
}

export interface PackageSummary {
  messages: number;
  files: number;                  // every file, the manifest and its signature included
  bytes: number;
  messageBytes: number;
  manifestSha256: string;
  checkpointSize: number;
  notCovered: number;             // receipts newer than the checkpoint: not proven yet
}

export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
  md5: string;
}

// What one message became in a package: its three files as the manifest lists them, its
// load-file row, and what the summary counts. An export job keeps these as it goes
// (export/export-jobs.ts), so that a resumed job writes only the messages it had not.
export interface PackageItem {
  sha256: string;
  files: ManifestFile[];
  row: LoadFileRow;
  attachments?: LoadFileRow[];    // one row per attachment, after the message's (absent: made before they had rows)
  notCovered: number;
  bytes: number;
}

export interface MessagesProgress {
  // Which positions are made already (a resumed job's); the others are written.
  made?: ReadonlyMap<number, PackageItem>;
  // Each message once its files are written, in order.
  onItem?: (position: number, item: PackageItem) => void | Promise<void>;
  // Asked between messages: true stops the writing (cancelled, or the server stopping).
  stop?: () => boolean;
}

// The folder at once, for `sealbox export`: made here (its parent must exist and it must not),
// removed again on any fault.
export async function writeEvidencePackage(source: EvidenceSource, o: PackageOptions & { dir: string; progress?: (done: number, total: number) => void }): Promise<ExportMade<PackageSummary>> {
  await mkdir(o.dir, { mode: 0o700 });
  const discard = () => rm(o.dir, { recursive: true, force: true });
  try {
    const items: PackageItem[] = [];
    await writePackageMessages(o.dir, source, { onItem: (i, item) => { items[i] = item; o.progress?.(i + 1, source.hits.length); } });
    const value = await finishPackage(o.dir, source, items, o);
    return { value, parameters: summaryParameters(value), discard };
  } catch (err) {
    await discard();
    throw err;
  }
}

export function summaryParameters(p: PackageSummary): Record<string, unknown> {
  return { manifestSha256: p.manifestSha256, files: p.files, bytes: p.bytes, checkpointSize: p.checkpointSize };
}

// Every message's files in `dir` (made if missing): its exact bytes, its text and its evidence.
// A file a stopped run left half-written is written again whole. Returns false when stopped.
export async function writePackageMessages(dir: string, source: EvidenceSource, p: MessagesProgress = {}): Promise<boolean> {
  const { checkpoint } = source;
  if (!checkpoint) throw new SealboxError('SEALBOX_ERR_CONFLICT', 'the ledger has no signed checkpoint yet to prove the messages against (the server signs one when it starts)');
  for (const folder of ['messages', 'text', 'evidence', 'load']) await mkdir(join(dir, folder), { recursive: true, mode: 0o700 });
  let writing: Promise<void>[] = [];
  let pending: [number, PackageItem][] = [];
  const put = (files: ManifestFile[], path: string, bytes: Buffer): ManifestFile => {
    const file = { path, size: bytes.length, sha256: digest('sha256', bytes), md5: digest('md5', bytes) };
    files.push(file);
    const write = writeFile(join(dir, path), bytes);
    write.catch(() => {});   // its failure is thrown where it is awaited (written)
    writing.push(write);
    return file;
  };
  const written = async () => {
    const all = writing;
    const done = pending;
    writing = [];
    pending = [];
    const failed = (await Promise.allSettled(all)).find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    for (const [i, item] of done) await p.onItem?.(i, item);
  };
  try {
    for (const [i, hit] of source.hits.entries()) {
      if (p.stop?.()) {
        await written();
        return false;
      }
      const made = p.made?.get(i);
      if (made && made.sha256 === hit.sha256) continue;
      const raw = await source.bytes(hit.sha256);
      const record = await source.record(hit.sha256);
      // As the indexer reads it (indexer.ts): its first MAX_PARSE_BYTES. Each attachment's MD5 as
      // it goes by; the bytes kept only of those whose text the extractor read (the index says so).
      const md5s: string[] = [];
      let place = -1;
      const parsed = await parseMessage(raw.subarray(0, MAX_PARSE_BYTES), {
        keep: (info, content) => {
          md5s[++place] = digest('md5', content);
          return source.attachmentText !== undefined && record.attachments[place]?.sha256 === info.sha256 && hasText(record.attachments[place].extraction);
        },
      });
      // Read by the extractor's processes, side by side (a failure is a verdict there: no text).
      const texts = await Promise.all(parsed.attachments.map(async (a) => {
        const text = a.content ? await source.attachmentText!({ content: a.content, contentType: a.contentType, filename: a.filename }) : '';
        return text === '' ? null : Buffer.from(text, 'utf8');
      }));
      // Creating files is most of the work: one message's are written while the next is read and
      // parsed, and no more wait than that.
      await written();
      const files: ManifestFile[] = [];
      const eml = put(files, `messages/${hit.sha256}.eml`, raw);
      // The reader authenticates what it decrypts: bytes that hash otherwise are a fault here.
      if (eml.sha256 !== hit.sha256) throw new Error(`message ${hit.sha256} read back as ${eml.sha256}`);
      const text = put(files, `text/${hit.sha256}.txt`, Buffer.from(parsed.text, 'utf8'));
      // The index's list of attachments, each with what this parse found of it at its place.
      const attachments: PackageAttachment[] = record.attachments.map((a, j) => {
        const same = parsed.attachments[j]?.sha256 === a.sha256;
        const t = same ? texts[j] : null;
        return { ...a, md5: same ? md5s[j] : null, text: t ? put(files, `text/${hit.sha256}.${j + 1}.txt`, t).path : null };
      });
      put(files, `evidence/${hit.sha256}.json`, json(evidenceOf(record, attachments, eml, text, checkpoint)));
      const row = loadFileRow(i, record, eml, text, parsed.date, attachments.length);
      pending.push([i, {
        sha256: hit.sha256, files, row, attachments: attachmentRows(row, attachments),
        notCovered: record.captures.filter((c) => c.proof === null).length, bytes: raw.length,
      }]);
    }
    await written();
    return true;
  } finally {
    // A write still under way would put its file back after a fault's clean-up.
    await Promise.allSettled(writing);
  }
}

// Whether a made message's files are still in `dir` as they were written: a job resumed after
// the machine stopped may find what was written but never reached the disk.
export async function itemIntact(dir: string, item: PackageItem): Promise<boolean> {
  for (const f of item.files) {
    try {
      const bytes = await readFile(join(dir, f.path));
      if (bytes.length !== f.size || digest('sha256', bytes) !== f.sha256) return false;
    } catch {
      return false;
    }
  }
  return true;
}

// The rest of the package once every message is in `dir`: the load files, the chain of custody,
// the checkpoint and key, README.txt, verify.py, and the signed manifest of all of it. Written
// from the items and the options alone, so the same items make the same bytes.
export async function finishPackage(dir: string, source: EvidenceSource, items: readonly PackageItem[], o: PackageOptions): Promise<PackageSummary> {
  const { checkpoint } = source;
  if (!checkpoint) throw new SealboxError('SEALBOX_ERR_CONFLICT', 'the ledger has no signed checkpoint yet to prove the messages against');
  if (items.length !== source.hits.length || items.some((item, i) => item?.sha256 !== source.hits[i].sha256)) throw new Error('the package is finished before all of its messages were written');
  const files: ManifestFile[] = items.flatMap((item) => item.files);
  const notCovered = items.reduce((n, item) => n + item.notCovered, 0);
  const messageBytes = items.reduce((n, item) => n + item.bytes, 0);
  const put = async (path: string, bytes: Buffer) => {
    files.push({ path, size: bytes.length, sha256: digest('sha256', bytes), md5: digest('md5', bytes) });
    await writeFile(join(dir, path), bytes);
  };
  if (o.mboxPerCustodian) files.push(...await writeMboxes(dir, items));
  const { csv, dat } = loadFiles(items.flatMap((item) => [item.row, ...item.attachments ?? []]));
  await put('load/messages.csv', csv);
  await put('load/messages.dat', dat);
  await put('custody.json', json(custodyOf(source, checkpoint, o)));
  await put('checkpoint.txt', Buffer.from(checkpoint.note, 'utf8'));
  await put('verifier-key.txt', Buffer.from(`${o.verifierKey}\n`, 'utf8'));
  await put('README.txt', Buffer.from(readme(source, checkpoint, o, notCovered), 'utf8'));
  await put('verify.py', await readFile(VERIFIER));

  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const manifest = json({ format: PACKAGE_FORMAT, origin: o.origin, createdAt: iso(o.now), files });
  const manifestSha256 = digest('sha256', manifest);
  const signature = Buffer.from(`${o.sign(MANIFEST_STATEMENT + manifestSha256).toString('base64')}\n`, 'utf8');
  await writeFile(join(dir, 'manifest.json'), manifest);
  await writeFile(join(dir, 'manifest.sig'), signature);
  const bytes = files.reduce((n, f) => n + f.size, 0) + manifest.length + signature.length;
  return { messages: source.hits.length, files: files.length + 2, bytes, messageBytes, manifestSha256, checkpointSize: checkpoint.size, notCovered };
}

// One mboxrd file per custodian (the grant's mailboxes that hold each message), of the messages'
// exact bytes read back from the package, in its order, each dated by its first receipt: what
// a mail client or a review tool that takes mbox opens. The manifest covers them like any file.
async function writeMboxes(dir: string, items: readonly PackageItem[]): Promise<ManifestFile[]> {
  const custodians = [...new Set(items.flatMap((item) => split(item.row.Custodian)))].sort();
  if (custodians.length === 0) return [];
  await mkdir(join(dir, 'mbox'), { recursive: true, mode: 0o700 });
  const files: ManifestFile[] = [];
  for (const custodian of custodians) {
    const path = `mbox/${custodian.replace(/[^A-Za-z0-9@._+-]/g, '_')}.mbox`;
    const sha = createHash('sha256');
    const md5 = createHash('md5');
    let size = 0;
    const out = await open(join(dir, path), 'w', 0o600);
    try {
      for (const item of items) {
        if (!split(item.row.Custodian).includes(custodian)) continue;
        const entry = mboxrdEntry(await readFile(join(dir, item.row.FilePath)), item.row.DateReceived ? Date.parse(item.row.DateReceived) : null);
        sha.update(entry);
        md5.update(entry);
        size += entry.length;
        await out.write(entry);
      }
    } finally {
      await out.close();
    }
    files.push({ path, size, sha256: sha.digest('hex'), md5: md5.digest('hex') });
  }
  return files;
}

function split(value: string): string[] {
  return value === '' ? [] : value.split(MULTI_VALUE);
}

// Every receipt with what the ledger holds of it. The envelope, source, time and capture id are
// the archive's record of the receipt; verify.py checks them against the payload the ledger leaf
// commits to, so they are proven, not just stated. Authentication verdicts were reached after
// receipt (the indexer's) and are stated only.
function evidenceOf(r: MessageRecord, attachments: PackageAttachment[], eml: ManifestFile, text: ManifestFile, checkpoint: StoredCheckpoint) {
  return {
    sha256: r.sha256, size: r.size, md5: eml.md5, file: eml.path, text: text.path,
    messageId: r.messageId, subject: r.subject, parseError: r.parseError, custodians: r.custodians,
    participants: r.participants.map((p) => ({ role: p.role, address: p.address, mailbox: p.mailbox })),
    attachments,
    captures: r.captures.map((c) => ({
      captureId: c.captureId, source: c.source, receivedAt: iso(c.receivedAt), envelope: c.envelope, provenance: c.provenance, authentication: c.auth,
      ledger: { index: c.ledgerIndex, leaf: base64(c.leaf), payload: base64(c.payload), salt: base64(c.salt) },
      // null: recorded after the checkpoint was signed; proven by a later one.
      proof: c.proof && { treeSize: checkpoint.size, hashes: c.proof.map((h) => h.toString('base64')) },
    })),
  };
}

function loadFileRow(i: number, r: MessageRecord, eml: ManifestFile, text: ManifestFile, dateSent: number | null, attachments: number): LoadFileRow {
  const role = (name: string) => r.participants.filter((p) => p.role === name).map((p) => p.address).join(MULTI_VALUE);
  const control = `SBX${String(i + 1).padStart(7, '0')}`;
  const ids = Array.from({ length: attachments }, (_, j) => attachmentControl(control, j));
  return {
    ControlNumber: control, Custodian: r.custodians.join(MULTI_VALUE),
    // bcc: named in a Bcc header, or a recipient of the envelope that no header names.
    From: role('from'), To: role('to'), CC: role('cc'), BCC: role('bcc'), Subject: r.subject ?? '',
    DateSent: dateSent === null ? '' : iso(dateSent), DateReceived: r.captures.length === 0 ? '' : iso(Math.min(...r.captures.map((c) => c.receivedAt))),
    MessageID: r.messageId ?? '', SHA256: r.sha256, MD5: eml.md5, FilePath: eml.path, TextPath: text.path,
    AttachmentNames: r.attachments.map((a) => a.filename ?? '').filter((n) => n !== '').join(MULTI_VALUE),
    DocType: 'message', ParentID: '', AttachmentIDs: ids.join(MULTI_VALUE), BegAttach: control, EndAttach: ids.at(-1) ?? control, FileName: '',
  };
}

// An attachment as the package states it: as the index lists it, with the MD5 of its bytes and
// the path of its text (null: none was read from it, or this parse did not find it at its place).
interface PackageAttachment extends IndexedAttachment {
  md5: string | null;
  text: string | null;
}

// Control numbers of a message's attachments: its own with a suffix, so that a family sorts
// together and a message's number does not depend on how many attachments came before it.
function attachmentControl(parent: string, j: number): string {
  return `${parent}.${String(j + 1).padStart(4, '0')}`;
}

// One row per attachment, after its message's: its own name, SHA-256, MD5 and text; the family's
// custodians and dates (so that sorting by date keeps a family together); no file of its own
// (its bytes are in the message's .eml).
function attachmentRows(parent: LoadFileRow, attachments: PackageAttachment[]): LoadFileRow[] {
  return attachments.map((a, j) => ({
    ControlNumber: attachmentControl(parent.ControlNumber, j), Custodian: parent.Custodian, From: '', To: '', CC: '', BCC: '', Subject: '',
    DateSent: parent.DateSent, DateReceived: parent.DateReceived, MessageID: '', SHA256: a.sha256, MD5: a.md5 ?? '', FilePath: '', TextPath: a.text ?? '',
    AttachmentNames: '', DocType: 'attachment', ParentID: parent.ControlNumber, AttachmentIDs: '', BegAttach: parent.BegAttach, EndAttach: parent.EndAttach,
    FileName: a.filename ?? '',
  }));
}

// Whether the extractor read text from an attachment (IndexedAttachment.extraction).
function hasText(extraction: string | null): boolean {
  return extraction !== null && (extraction === 'ok' || extraction.startsWith('truncated'));
}

function custodyOf(source: EvidenceSource, checkpoint: StoredCheckpoint, o: PackageOptions) {
  const { grant, requester, approvals, entries }: GrantCustody = source.custody;
  return {
    grant: {
      id: grant.id, purpose: grant.purpose, ticket: grant.ticket, justification: grant.justification, breakglass: grant.breakglass, requester,
      scope: { mailboxes: grant.mailboxes.map((m) => m.name), dateFrom: isoOrNull(grant.dateFrom), dateTo: isoOrNull(grant.dateTo), query: grant.fixedQuery },
      permissions: grant.permissions, filedAt: iso(grant.createdAt), approvalsNeeded: grant.approvalsNeeded,
      approvals: approvals.map((a) => ({ approver: a.approver, decision: a.decision, reason: a.reason, at: iso(a.at) })),
      approvedAt: isoOrNull(grant.approvedAt), startsAt: isoOrNull(grant.startsAt), endsAt: isoOrNull(grant.endsAt),
    },
    // The ledger entries that made the grant: its filing and the decisions on it.
    ledger: entries.map((e) => ({ ...e, time: iso(e.time) })),
    export: {
      by: o.exporter, at: iso(o.now), query: source.query, canonicalQuery: source.canonicalQuery, limit: o.limit,
      found: source.total, exported: source.hits.length, note: o.note ?? null,
      // Written after the package, so its index cannot be in it: the export entry is the one
      // whose parameters carry this package's manifestSha256.
      recordedAs: 'the ledger entry of operation "export" whose parameters carry manifestSha256, the SHA-256 of manifest.json',
    },
    checkpoint: { origin: o.origin, size: checkpoint.size, rootHash: checkpoint.root.toString('base64'), signedAt: iso(checkpoint.createdAt) },
    ...(o.job ? { job: { id: o.job.id, startedEntry: o.job.startedEntry } } : {}),
    ...(o.hold ? {
      // The case this is the export of, as it was when the export began.
      hold: { ...o.hold, dateFrom: isoOrNull(o.hold.dateFrom), dateTo: isoOrNull(o.hold.dateTo), placedAt: iso(o.hold.placedAt) },
    } : {}),
    ...(o.subjectAccess ? { subjectAccess: subjectAccessOf(source, o.subjectAccess) } : {}),
  };
}

// What a data subject's copy left out, and under which rule: counts, never what.
function subjectAccessOf(source: EvidenceSource, sa: { otherParties: OtherParties; withheld: number }) {
  return {
    law: 'GDPR Art. 15 (right of access); Art. 15(4): the copy must not adversely affect the rights and freedoms of others',
    addresses: subjectOfGrant(source.custody.grant) ?? [],
    otherParties: sa.otherParties,
    mainPartyRule: MAIN_PARTY_RULE,
    found: source.total,
    considered: source.hits.length + sa.withheld,
    withheld: sa.withheld,
    included: source.hits.length,
  };
}

function subjectReadme(source: EvidenceSource, o: PackageOptions, sa: { otherParties: OtherParties; withheld: number }): string {
  const addresses = subjectOfGrant(source.custody.grant) ?? [];
  const cut = source.total > source.hits.length + sa.withheld ? `\nThe archive found ${source.total} message(s) in all; this copy looked at the first ${source.hits.length + sa.withheld} (newest first).
Ask for the rest: they are given in a further copy.\n` : '';
  const withheld = sa.otherParties === 'withhold' && sa.withheld === 0
    ? `No message was left out. (Messages in which you appear only as a copy, a blind copy or through a
mailing list, of which others are the main party, would have been: there are none.)`
    : sa.otherParties === 'withhold'
    ? `${sa.withheld} message(s) were left out of this copy because other people are their main
party: you are in them only as a copy (Cc), a blind copy (Bcc), or as one of the receivers of a
mailing list, alias or forward, and you neither sent them nor were named in their "To" line.
They are about others as much as about you, so the archive's policy leaves them out (GDPR
Art. 15(4)); you may ask for them, and the organisation then weighs your request against the
others' rights. Only their number is recorded here, never what they are.`
    : `Messages in which you appear only as a copy (Cc), a blind copy (Bcc) or through a mailing
list are included as well: the organisation decided that giving them does not harm others.
None were left out.`;
  return `A copy of your e-mail data (GDPR Art. 15)
========================================

This is a copy of the e-mail the archive of ${o.origin} keeps in which you take part: sent by you,
or sent to you, at the address(es)

${addresses.map((a) => `    ${a}`).join('\n')}

${source.hits.length === 0 && sa.withheld === 0 ? `The archive holds no e-mail in which you take part at these addresses: this copy holds none.
` : `It holds ${source.hits.length} message(s). Each one is in the folder "messages" as an .eml file,
which any e-mail program opens (or drag it into a web browser), and its words as plain text in
the folder "text". load/messages.csv lists them all, one a line, and opens in any spreadsheet.`}
${cut}
${withheld}

Everything else in this folder proves that these are the messages exactly as the archive
received them, and records who asked for this copy, who approved it and when (custody.json).
Someone with Python 3 can check all of it with "python3 verify.py"; the technical description
follows.

`;
}

function readme(source: EvidenceSource, checkpoint: StoredCheckpoint, o: PackageOptions, notCovered: number): string {
  const g = source.custody.grant;
  const pending = notCovered === 0 ? '' : `
NOT YET PROVEN: ${notCovered} receipt(s) were recorded after the checkpoint in this package was
signed (their "proof" is null in evidence/*.json, and verify.py warns about each). The archive
signs a checkpoint every few minutes: an export made again later proves them.
`;
  const forSubject = o.subjectAccess ? subjectReadme(source, o, o.subjectAccess) : '';
  const ofHold = o.hold ? `
This is the export of legal hold ${o.hold.id} "${o.hold.name}" (matter ${o.hold.matter}): its
custodians ${o.hold.custodians.join(', ')}${o.hold.dateFrom !== null || o.hold.dateTo !== null ? `, mail dated from ${o.hold.dateFrom === null ? 'any time' : iso(o.hold.dateFrom)} to before ${o.hold.dateTo === null ? 'now' : iso(o.hold.dateTo)}` : ''}${o.hold.query ? `, matching ${o.hold.query}` : ''}
(custody.json "hold").
` : '';
  return `${forSubject}Sealbox evidence package
========================

Exported ${iso(o.now)} by ${o.exporter.name}${o.exporter.displayName ? ` (${o.exporter.displayName})` : ''} from the archive ${o.origin},
under grant ${g.id} (purpose ${g.purpose}${g.ticket ? `, ticket ${g.ticket}` : ''}): ${source.hits.length} message(s) of the
${source.total} the query found in the grant's scope (newest first, at most ${o.limit}):

    ${source.query}
${ofHold}${o.subjectAccess ? `
A data subject's copy (GDPR Art. 15): mail of which others are the main party was ${o.subjectAccess.otherParties === 'withhold' ? `withheld: ${o.subjectAccess.withheld} message(s)` : 'included'} (custody.json "subjectAccess" states the rule).
` : ''}${pending}
What is here
------------
messages/<sha256>.eml   each message's exact archived bytes; the name is the SHA-256 of them
text/<sha256>.txt       its text as the archive's indexer extracts it (UTF-8; HTML as text)
text/<sha256>.<n>.txt   the text inside its n-th attachment, where the archive's extractor
                        reads one (PDF, Office, text ...)
evidence/<sha256>.json  every receipt of the message: its SMTP envelope, time, source and
                        authentication verdicts at receipt (DKIM, SPF, DMARC, ARC), the ledger
                        entry that recorded it (the leaf, and the salted payload the leaf commits
                        to) and that entry's inclusion proof (RFC 9162) in checkpoint.txt
load/messages.csv       the load file, one row per message, each followed by one row per
                        attachment of it: UTF-8 with a byte-order mark,
                        RFC 4180 with every field quoted, rows ended CRLF; a value that starts
                        with = + - @, a tab or a carriage return is prefixed with ' so that a
                        spreadsheet does not run it as a formula
load/messages.dat       the same rows as a Concordance DAT, the tools' default delimiters: UTF-8
                        with a byte-order mark, each field between þ (U+00FE), fields separated
                        by ASCII 20 (¶ in the tools), a line break inside a value written ®
                        (U+00AE); a þ, ® or ASCII 20 in a value is written U+FFFD (the CSV keeps
                        it)
mbox/<custodian>.mbox   (when asked for) each custodian's messages as one mboxrd file, in the
                        order of the load file, each dated by its first receipt
custody.json            the chain of custody: the grant (purpose, ticket, justification, scope,
                        permissions, who asked, who approved and when, with their reasons), the
                        ledger indexes of its filing and approvals, the query as given and as
                        the archive read it, who exported and when
checkpoint.txt          the ledger's signed checkpoint (C2SP signed note, Ed25519) that every
                        proof leads to
verifier-key.txt        the ledger's public key (C2SP verifier key) as the archive gave it
manifest.json           path, size, SHA-256 and MD5 of every other file
manifest.sig            Ed25519 signature (base64) by the ledger key over the line
                        "sealbox evidence manifest v1", a line feed, and the SHA-256 (hex) of
                        manifest.json
verify.py               checks all of it

Load file fields: ControlNumber; Custodian (the grant's mailboxes that hold the message);
From, To, CC, BCC (BCC: named in a Bcc header or, known only from the SMTP envelope, a recipient
no header names); Subject; DateSent (the Date header, ISO 8601 UTC, empty without one);
DateReceived (the first receipt, UTC); MessageID; SHA256; MD5; FilePath; TextPath;
AttachmentNames; DocType ("message" or "attachment"); ParentID (an attachment's message);
AttachmentIDs (a message's attachments); BegAttach and EndAttach (the family's first and last
control number, on every row of it); FileName (an attachment's name). An attachment's control
number is its message's with a suffix (SBX0000001.0001 ...); its row has its own SHA256 and MD5
(of its decoded bytes), its text's TextPath when the archive read text from it, no FilePath (its
bytes are in the message's .eml), and the family's Custodian and dates. A field with several
values separates them with "; ". Addresses are as the archive indexes them: lower case, without
display names (the .eml has those).

How to check it
---------------
    python3 verify.py [THIS FOLDER] [--key VERIFIER_KEY]

A package downloaded from the archive comes as zip files: one, or several volumes named
...-1-of-N.zip to ...-N-of-N.zip, each a whole zip of its own (this file, verify.py and the
manifest are in the first). Unzip every volume into one folder and check that folder, or give
verify.py the zip files themselves, all of them, in any order:

    python3 verify.py sealbox-export-ID-1-of-2.zip sealbox-export-ID-2-of-2.zip [--key ...]

A volume left out fails as the files it held ("is in the manifest but missing").

It needs Python 3 and nothing else (Ed25519 is verified by the script itself, per RFC 8032).
Give it the archive's public key as the archive's outside witnesses hold it (the operator's
"sealbox ledger public-key"); without --key it uses verifier-key.txt, which shows only that the
package agrees with itself. It checks every file against the manifest (size, SHA-256, MD5) and
that no file was added; the manifest's signature; the checkpoint's signature; each message's
bytes against its SHA-256 and against every ledger entry that recorded a receipt of it; each
receipt's envelope, time, source and capture id against the payload its entry commits to; each
inclusion proof against the checkpoint's root; and the load files against the messages. Exit
status 0: all of it holds; 1: something does not (each FAIL line names the file); 2: the folder
cannot be read; 3: nothing failed, but some receipts are not proven yet (WARN lines).

A second opinion on the manifest's signature, with OpenSSL 3 and coreutils, in a scratch folder
(P: this folder):

    (printf '\\060\\052\\060\\005\\006\\003\\053\\145\\160\\003\\041\\000'
     cut -d+ -f3- "$P/verifier-key.txt" | base64 -d | tail -c 32) > key.der
    openssl pkey -pubin -inform DER -in key.der -out key.pem
    printf 'sealbox evidence manifest v1\\n%s' "$(sha256sum "$P/manifest.json" | cut -c1-64)" > statement
    base64 -d "$P/manifest.sig" > signature
    openssl pkeyutl -verify -pubin -inkey key.pem -rawin -in statement -sigfile signature

The export itself is an entry in the archive's ledger (operation "export", under the grant),
whose parameters carry manifestSha256: the SHA-256 of manifest.json.
`;
}

function json(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8');
}

function digest(algorithm: 'sha256' | 'md5', bytes: Uint8Array): string {
  return createHash(algorithm).update(bytes).digest('hex');
}

function base64(b: Buffer | null): string | null {
  return b === null ? null : b.toString('base64');
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}
