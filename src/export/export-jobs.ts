import { createReadStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { ActorContext, ContentAccess } from '../access/content-access.ts';
import type { Audit } from '../access/audit.ts';
import type { People, User } from '../access/people.ts';
import type { Clock } from '../core/clock.ts';
import { SealboxError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { Transactions } from '../core/transactions.ts';
import { finishPackage, itemIntact, summaryParameters, writePackageMessages } from './evidence-package.ts';
import type { PackageItem } from './evidence-package.ts';
import type { ExportedHold, ExportJob, ExportJobStore } from './export-job-store.ts';
import type { OtherParties } from '../access/subject-access.ts';
import type { LegalHolds } from '../retention/legal-holds.ts';
import type { Hold } from '../retention/hold-store.ts';
import { MIN_VOLUME_BYTES, writeZipVolumes } from './zip-volumes.ts';

export interface ExportJobsDeps {
  content: ContentAccess;
  audit: Pick<Audit, 'denied'>;
  store: ExportJobStore;
  db: Transactions;
  people: Pick<People, 'byId'>;
  dir: string;                       // <data>/exports: one folder a job
  origin: string;
  verifierKey: () => string;
  sign(statement: string): Buffer;
  clock: Clock;
  log: Logger;
  volumeBytes: number;               // config export.volumeBytes: a job's default
  otherParties: OtherParties;        // config export.subjectAccess.otherParties: an Art. 15 job's default
  holds: Pick<LegalHolds, 'hold'>;
  concurrency: number;               // config export.jobs: how many run at once (0: none here)
}

export interface StartExport {
  query: string;
  grantId: string;
  limit: number;
  note?: string;
  volumeBytes?: number;
  mboxPerCustodian?: boolean;
  otherParties?: OtherParties;       // under an Art. 15 grant: withhold or include others' mail
}

// A case exported: what the hold covers, under a grant that covers all of it.
export interface StartHoldExport extends Omit<StartExport, 'query'> {
  holdId: string;
}

// How often a running job writes down what it made (and its progress counts): what a job killed
// in between made again, at most this much.
const SAVE_EVERY_MS = 250;

// Export jobs: evidence packages made by the server in the background, under a grant that carries
// export, with their progress, resumed where they stopped after a restart, cancellable. What a
// job exports is fixed when it starts (ContentAccess.startExportJob: its entry and its row in one
// transaction); the package is then made message by message, each one's files written down as
// made (export_job_item), then finished (load files, custody, signed manifest) and zipped
// (zip-volumes.ts). Its export entry is written with the job's end; only then can its files be
// downloaded, each download decided again and recorded.
export class ExportJobs {
  readonly #d: ExportJobsDeps;
  readonly #running = new Map<string, Promise<void>>();
  readonly #cancelled = new Set<string>();
  #started = false;
  #stopping = false;

  constructor(deps: ExportJobsDeps) {
    if (deps.volumeBytes < MIN_VOLUME_BYTES) throw new SealboxError('SEALBOX_ERR_CONFIG', `export.volumeBytes is at least ${MIN_VOLUME_BYTES}`);
    this.#d = deps;
  }

  async start(ctx: ActorContext, user: User, input: StartExport): Promise<ExportJob> {
    return this.#start(ctx, user, input, null);
  }

  // A case's export: the hold's custodians' mail in its window matching its query, under a grant
  // that covers all of that (ContentAccess decides, and records a refusal); the package's chain of
  // custody names the hold as it is now.
  async startFromHold(ctx: ActorContext, user: User, input: StartHoldExport): Promise<ExportJob> {
    const hold = await this.#d.db.read((tx) => this.#d.holds.hold(tx, input.holdId));
    const quoted = (v: string) => `"${v.replace(/["\\]/g, (c) => '\\' + c)}"`;
    // What the hold covers is its scope (custodians, window, query: ContentAccess holds the search
    // to it); the query says so in words the ledger and the package show.
    const query = hold.custodians.map((c) => `mailbox:${quoted(c.name)}`).join(' OR ');
    return this.#start(ctx, user, { ...input, query }, hold);
  }

  async #start(ctx: ActorContext, user: User, input: StartExport, hold: Hold | null): Promise<ExportJob> {
    const volumeBytes = input.volumeBytes ?? this.#d.volumeBytes;
    if (!Number.isSafeInteger(volumeBytes) || volumeBytes < MIN_VOLUME_BYTES) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `volumeBytes is a whole number of at least ${MIN_VOLUME_BYTES}`, { fields: ['volumeBytes'] });
    const now = this.#d.clock.now();
    const id = newId('exp', now);
    const exported: ExportedHold | null = hold && {
      id: hold.id, name: hold.name, matter: hold.matter, custodians: hold.custodians.map((c) => c.name), dateFrom: hold.dateFrom, dateTo: hold.dateTo, query: hold.query,
      placedAt: hold.placedAt, placedBy: hold.placedByLabel,
    };
    const job = await this.#d.content.startExportJob(ctx, user, {
      query: input.query, grantId: input.grantId, limit: input.limit, note: input.note, otherParties: input.otherParties, otherPartiesDefault: this.#d.otherParties, hold: hold ?? undefined,
    }, async (tx, found) => {
      await this.#d.store.add(tx, {
        id, userId: user.id, grantId: input.grantId, query: input.query, canonicalQuery: found.canonicalQuery, limit: input.limit, note: input.note ?? null, volumeBytes, mboxPerCustodian: input.mboxPerCustodian === true,
        subjectAccess: found.subjectAccess, hold: exported, mailboxes: found.mailboxes,
        actor: { sessionId: ctx.sessionId, clientIp: ctx.clientIp, userAgent: ctx.userAgent }, createdAt: now, startedEntry: found.ledgerIndex,
        total: found.total, sha256s: found.sha256s, checkpointSize: found.checkpointSize, bytesTotal: found.bytes,
      });
      return (await this.#d.store.get(tx, id))!;
    });
    this.#wake();
    return job;
  }

  // One's own jobs, newest first.
  async list(user: User): Promise<ExportJob[]> {
    return this.#d.db.read((tx) => this.#d.store.ofUser(tx, user.id));
  }

  // One's own job; anyone else's answers like a missing one, and the attempt is recorded (a job
  // names a query and a grant), under the operation that was tried. Its list of messages only
  // when asked for (o.messages): a status is polled while the job runs.
  async get(ctx: ActorContext, user: User, id: string, operation: 'export.job' | 'export.download' = 'export.job', o: { messages?: boolean } = {}): Promise<ExportJob> {
    const job = await this.#d.db.read((tx) => (o.messages ? this.#d.store.withMessages(tx, id) : this.#d.store.get(tx, id)));
    if (job && job.userId !== user.id) {
      await this.#d.audit.denied({ ...ctx, user, logonType: 'delegated' }, { operation, grantId: job.grantId, parameters: { job: id } }, 'the export job of someone else');
    }
    if (!job || job.userId !== user.id) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no export job ${id} of yours`);
    return job;
  }

  // Cancelling is an entry of its own (export.cancel: who, when, which job, how far it got), in
  // one transaction with the job's end; a job that ended meanwhile is not cancelled, and no entry
  // is written. Nothing of a cancelled job was handed out: files are downloadable once it is done.
  async cancel(ctx: ActorContext, user: User, id: string): Promise<ExportJob> {
    // Its entry names the messages its start named.
    const job = await this.get(ctx, user, id, 'export.job', { messages: true });
    if (job.state !== 'queued' && job.state !== 'running') throw new SealboxError('SEALBOX_ERR_CONFLICT', `export job ${id} has ended already`);
    await this.#d.content.cancelExportJob(ctx, user, job, async (tx) => {
      // How far it got, as its row says in the transaction that ends it.
      const now = await this.#d.store.get(tx, id);
      if (!now || !await this.#d.store.cancel(tx, id, this.#d.clock.now())) return null;
      return { state: now.state, phase: now.phase, messagesDone: now.messagesDone, messagesTotal: now.messages, bytesDone: now.bytesDone, bytesTotal: now.bytesTotal };
    });
    this.#cancelled.add(id);
    // A running job stops at its next message; one waiting is removed now.
    if (!this.#running.has(id)) await this.#discard(id);
    return this.get(ctx, user, id);
  }

  // A finished job's file, once its download is recorded (ContentAccess.deliverExportFile).
  async download(ctx: ActorContext, user: User, id: string, name: string): Promise<{ stream: Readable; size: number; name: string }> {
    const job = await this.get(ctx, user, id, 'export.download');
    if (job.state !== 'done') throw new SealboxError('SEALBOX_ERR_CONFLICT', `export job ${id} is ${job.state}: its files can be downloaded once it is done`);
    const file = job.files.find((f) => f.name === name);
    if (!file) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `export job ${id} has no file ${name}`);
    let opened: Readable | null = null;
    try {
      return await this.#d.content.deliverExportFile(ctx, user, job.grantId, { job: id, ...file }, async () => {
        const path = join(this.#d.dir, id, file.name);
        const { size } = await stat(path).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
          throw new SealboxError('SEALBOX_ERR_STORE_UNAVAILABLE', `export job ${id}'s file ${file.name} is not in this server's export folder (${this.#d.dir}): with several nodes, export.folder must be one folder they all reach`);
        });
        if (size !== file.size) throw new Error(`${path} is ${size} bytes, not the ${file.size} it was made with`);
        const stream = createReadStream(path);
        opened = stream;
        // Open before the entry is committed: a file that is gone fails the download, unrecorded.
        await new Promise<void>((resolve, reject) => stream.once('open', () => resolve()).once('error', reject));
        return { stream, size, name: file.name };
      });
    } catch (err) {
      // Opened, but the entry could not be written: nothing is sent.
      (opened as Readable | null)?.destroy();
      throw err;
    }
  }

  // The server runs jobs from here on: those a stop left unfinished first.
  run(): void {
    this.#started = true;
    this.#stopping = false;
    this.#wake();
  }

  // Jobs under way stop at their next message and are resumed by the next start.
  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.allSettled([...this.#running.values()]);
  }

  #wake(): void {
    if (!this.#started || this.#stopping || this.#running.size >= this.#d.concurrency) return;
    void this.#d.db.read((tx) => this.#d.store.unfinished(tx)).then((ids) => {
      for (const id of ids) {
        if (this.#stopping || this.#running.size >= this.#d.concurrency) return;
        if (this.#running.has(id)) continue;
        const run = this.#run(id).catch((err) => this.#d.log.error({ err, exportJob: id }, 'export job could not be run; it is tried again at the next start')).finally(() => {
          this.#running.delete(id);
          this.#cancelled.delete(id);
          this.#wake();
        });
        this.#running.set(id, run);
      }
    }, (err) => this.#d.log.error({ err }, 'export jobs could not be listed'));
  }

  async #run(id: string): Promise<void> {
    const { store, db, clock, log } = this.#d;
    if (!await db.write((tx) => store.begin(tx, id))) return;
    const job = (await db.read((tx) => store.withMessages(tx, id)))!;
    const folder = join(this.#d.dir, id);
    const dir = join(folder, 'package');
    const stop = () => this.#stopping || this.#cancelled.has(id);
    try {
      const user = await db.read((tx) => this.#d.people.byId(tx, job.userId));
      if (!user) throw new SealboxError('SEALBOX_ERR_FORBIDDEN', 'the person who started this export no longer exists');
      const ctx: ActorContext = { ...job.actor };
      const source = await this.#d.content.exportJobSource(ctx, user, job);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const items = await db.read((tx) => store.items(tx, id));
      // What a stopped run wrote down but the disk lost is made again.
      for (const [position, item] of items) if (!await itemIntact(dir, item)) items.delete(position);
      if (job.resumed > 0) log.info({ exportJob: id, made: items.size, of: job.sha256s.length }, 'export job resumed');

      let unsaved: [number, PackageItem][] = [];
      let savedAt = clock.now();
      let bytesDone = [...items.values()].reduce((n, item) => n + item.bytes, 0);
      const save = async (phase: ExportJob['phase']) => {
        const made = unsaved;
        unsaved = [];
        savedAt = clock.now();
        const running = await db.write((tx) => store.progress(tx, id, made, { messagesDone: items.size, bytesDone, phase }));
        if (!running) this.#cancelled.add(id);
      };
      const complete = await writePackageMessages(dir, source, {
        made: items, stop,
        onItem: async (position, item) => {
          items.set(position, item);
          bytesDone += item.bytes;
          unsaved.push([position, item]);
          if (clock.now() - savedAt >= SAVE_EVERY_MS) await save('messages');
        },
      });
      await save(complete ? 'package' : 'messages');
      if (!complete || stop()) return this.#stopped(id);

      const ordered = job.sha256s.map((_, i) => items.get(i)!);
      const summary = await finishPackage(dir, source, ordered, {
        origin: this.#d.origin, verifierKey: this.#d.verifierKey(), sign: (s) => this.#d.sign(s), now: job.createdAt,
        exporter: { name: user.name, displayName: user.displayName }, limit: job.limit, note: job.note ?? undefined, mboxPerCustodian: job.mboxPerCustodian,
        job: { id: job.id, startedEntry: job.startedEntry }, subjectAccess: job.subjectAccess, hold: job.hold,
      });
      await save('zip');
      const mboxes = job.mboxPerCustodian ? (await readdir(join(dir, 'mbox')).catch(() => [] as string[])).map((name) => ({ path: `mbox/${name}`, size: 0 })) : [];
      const files = [...ordered.flatMap((item) => item.files), ...mboxes, ...['load/messages.csv', 'load/messages.dat', 'custody.json', 'checkpoint.txt', 'verifier-key.txt', 'README.txt', 'verify.py', 'manifest.json', 'manifest.sig'].map((path) => ({ path, size: 0 }))];
      for (const f of files) if (f.size === 0) f.size = (await stat(join(dir, f.path))).size;
      const volumes = await writeZipVolumes(dir, files, { out: folder, base: `sealbox-export-${id}`, volumeBytes: job.volumeBytes, mtime: new Date(job.createdAt), stop });
      if (!volumes || stop()) return this.#stopped(id);

      await this.#d.content.finishExportJob(ctx, user, job, { ...summaryParameters(summary), volumes: volumes.map((v) => ({ name: v.name, bytes: v.size, sha256: v.sha256 })) },
        (tx, ledgerIndex) => store.finished(tx, id, { at: clock.now(), ledgerIndex, manifestSha256: summary.manifestSha256, files: volumes.map((v) => ({ name: v.name, size: v.size, sha256: v.sha256, messages: v.messages })) }));
      await rm(dir, { recursive: true, force: true });
      log.info({ exportJob: id, messages: summary.messages, volumes: volumes.length, manifestSha256: summary.manifestSha256 }, 'export job done');
    } catch (err) {
      if (this.#cancelled.has(id)) return this.#stopped(id);
      // A refusal or a missing message says why; any other fault is logged, and said as such.
      const error = err instanceof SealboxError && err.statusCode < 500 ? err.message : 'internal error (see the server log)';
      log.error({ err, exportJob: id }, 'export job failed; nothing of it is handed out');
      await db.write((tx) => store.failed(tx, id, { at: clock.now(), error }));
      await this.#discard(id);
    }
  }

  // Stopped (the server stopping: resumed at its next start) or cancelled (its files removed).
  async #stopped(id: string): Promise<void> {
    if (this.#cancelled.has(id)) await this.#discard(id);
  }

  async #discard(id: string): Promise<void> {
    await rm(join(this.#d.dir, id), { recursive: true, force: true });
  }
}
