import { randomBytes } from 'node:crypto';
import { openArchive } from '../archive.ts';
import type { Archive } from '../archive.ts';
import type { Config } from '../core/config.ts';
import { parseHostPort } from '../core/config.ts';
import { dataPath, resolveFrom } from '../core/data-paths.ts';
import { systemClock } from '../core/clock.ts';
import type { Clock } from '../core/clock.ts';
import { createLogger } from '../core/log.ts';
import { readConfiguredFile } from '../core/configured-files.ts';
import { resolverFor } from '../index/dns-resolver.ts';
import { SmtpReceiver } from '../capture/smtp-receiver.ts';
import { MilterReceiver } from '../capture/milter/milter-receiver.ts';
import { CaptureWriter } from '../capture/capture-writer.ts';
import { ClientPolicy } from '../capture/client-policy.ts';
import { IndexerThread } from '../index/indexer-thread.ts';
import { NotificationSender } from '../access/notification-sender.ts';
import { buildHttpServer } from '../api/http-server.ts';
import { ArchiveWriter } from '../store/archive-writer.ts';
import { DiskSpace } from '../store/disk-space.ts';
import { readOrCreateSecretFile } from '../store/secret-file.ts';
import { OversightSweep } from '../oversight/oversight-sweep.ts';
import { accessStateProblems } from '../oversight/access-state-check.ts';
import { LedgerWatch } from '../oversight/ledger-watch.ts';
import { syncFromLdap } from '../directory/ldap-sync.ts';
import { ExportJobs } from '../export/export-jobs.ts';

export interface Running {
  listeners: { name: string; host: string; port: number }[];
  stop(): Promise<void>;
}

// The server's parts, wired but not started: the archive writer every source commits through,
// the one CaptureWriter and ClientPolicy, the disk watch, the HTTP app, the notification sender
// and the oversight sweep. serve() runs listeners, timers and the indexer thread around them; the
// in-process tests (test/support/in-process.ts) drive these same parts, so the two cannot drift.
export interface ServerParts {
  writer: ArchiveWriter;
  capture: CaptureWriter;
  clients: ClientPolicy;
  space: DiskSpace;
  spoolDir: string;
  http: ReturnType<typeof buildHttpServer> | null;   // null when config.http is off
  notifications: NotificationSender;
  oversight: OversightSweep;
  exports: ExportJobs;           // run by serve (exports.run()), not by the in-process tests unless they ask
  checkpoint(): Promise<void>;   // never throws: a failure is logged and retried
}

// `listeners` is filled in as serve binds them (the admins' health view reads it).
export function serverParts(archive: Archive, listeners: Running['listeners'] = []): ServerParts {
  const { config, stores, ledger, clock, log } = archive;
  const checkpointer = archive.checkpointer!;
  const checkpoint = () => checkpointer.trySign();
  const notifications = new NotificationSender(stores.repos.notifications, stores.meta, config.notify, clock, log.child({ component: 'notify' }), config.ledger.witnesses.webhooks);
  const writer = new ArchiveWriter({ meta: stores.meta, blobs: stores.blobs, ledger, log, maxBatch: config.commit.maxBatch, retention: archive.retention });
  const spoolDir = config.milter.spool ? resolveFrom(config, config.milter.spool) : dataPath(config, 'milter-spool');
  // Blobs in S3 take no local disk: only the data folder (and the spool) is watched then.
  const space = new DiskSpace([config.data, ...(config.blobs.kind === 'files' ? [stores.paths.blobs] : []), ...(config.milter.enabled && config.milter.mode === 'observe' ? [spoolDir] : [])], config.storage, log);
  // Every source writes through one CaptureWriter, and one ClientPolicy decides whom to believe.
  const capture = new CaptureWriter({ writer, blobs: stores.blobs, keys: stores.keys, inlineBlobBytes: config.commit.inlineBlobBytes, maxMessageBytes: config.receiver.maxMessageBytes });
  const clients = new ClientPolicy(config.receiver);
  const services = archive.services;
  const exports = new ExportJobs({
    content: services.content, audit: services.audit, store: stores.repos.exportJobs, db: stores.meta, people: services.people, dir: config.export.folder ? resolveFrom(config, config.export.folder) : dataPath(config, 'exports'),
    origin: config.ledger.origin, verifierKey: () => archive.verifierKey, sign: (statement) => archive.signStatement(statement), clock,
    log: log.child({ component: 'export' }), volumeBytes: config.export.volumeBytes, concurrency: config.export.jobs,
    otherParties: config.export.subjectAccess.otherParties, holds: services.holds,
  });
  const http = config.http.enabled ? buildHttpServer({ services, verifierKey: archive.verifierKey, log, capture: { capture, clients, space }, listeners, exports }) : null;
  const ledgerWatch = new LedgerWatch({
    meta: stores.meta, verifierKey: archive.verifierKey, origin: config.ledger.origin, clock,
    everyMinutes: config.oversight.verifyEveryMinutes, roundDays: config.oversight.ledgerRoundDays,
  });
  const oversight = new OversightSweep({
    ...services.oversightStores, grants: services.grants, people: services.people, leavers: services.leavers, config: config.oversight, audit: services.audit,
    notifier: services.notifier, reviews: services.reviews, clock, log: log.child({ component: 'oversight' }),
    // The tree and its signatures, and who can read what in the tables against the ledger: a
    // grant widened or an owner added by editing the database becomes an alert.
    verifyLedger: async () => [
      ...(await ledgerWatch.check()).problems,
      ...await stores.meta.read((tx) => accessStateProblems(tx, { ...services.oversightStores, grants: services.grants, people: services.people, leavers: services.leavers, clock })),
    ],
    sampleSeed: () => readOrCreateSecretFile(dataPath(config, 'keys', 'review-sample.seed'), 'review sample seed', { create: true, make: () => randomBytes(16).toString('hex') }).content.trim(),
  });
  return { writer, capture, clients, space, spoolDir, http, notifications, oversight, exports, checkpoint };
}

// The server: the archive opened for its role (src/archive.ts), its parts wired (serverParts),
// then capture, index, HTTP, notifications and oversight started around them.
export async function serve(config: Config, options: { clock?: Clock; announce?: (line: string) => void } = {}): Promise<Running> {
  const clock = options.clock ?? systemClock;
  const announce = options.announce ?? ((line: string) => process.stdout.write(line + '\n'));
  const log = createLogger(config.log.level);
  // Every file a config key names is read before anything is created or listens: a bad one
  // stops start-up with an error naming the key (the webhook secrets: by the notification sender).
  if (config.receiver.tls) for (const key of ['key', 'cert'] as const) readConfiguredFile(`receiver.tls.${key}`, config.receiver.tls[key]);
  if (config.auth.enabled) resolverFor(config.auth);
  for (const p of config.sso.providers) if (p.clientSecretFile) readConfiguredFile(`sso.providers[${p.id}].clientSecretFile`, p.clientSecretFile);
  const archive = await openArchive(config, 'server', { clock, log, announce: (line) => announce(`sealbox: ${line}`) });
  const { ledger } = archive;
  const listeners: Running['listeners'] = [];
  const parts = serverParts(archive, listeners);
  const { writer, capture, clients, space, spoolDir, http, notifications } = parts;

  // The archive's duties run on one node at a time (see startDuties); on an archive with one
  // server, always here. Taken and given up in turn, never two starts or stops at once.
  let duties: Duties | null = null;
  let closing = false;
  let turn: Promise<void> = Promise.resolve();
  // On a store several nodes share, the one holding its lock (holdDuties); else always this one.
  const holdDuties = archive.stores.meta.holdDuties?.bind(archive.stores.meta);
  // Every node indexes: each batch of captures is claimed (IndexStore.claim), so on a store the
  // nodes share they index side by side; what else the index thread does is the duty holder's.
  const indexer = new IndexerThread(config, log, { duties: !holdDuties });
  // Object storage: each segment put is handed to the index thread, which would GET it back next.
  archive.stores.blobs.onArchived?.((object) => indexer.seed(object));
  const hold = (held: boolean) => (turn = turn.then(async () => {
    if (held && !duties && !closing) {
      duties = await startDuties(archive, parts, indexer);
      if (holdDuties) log.info('this node holds the archive\'s duties: signing checkpoints, the index\'s follow-ups and retries, the sweeps and timers');
    } else if (!held && duties) {
      const d = duties;
      duties = null;
      if (!closing) log.warn('this node lost the archive\'s duties (its connection to the store ended); another node takes them, or this one again when it can');
      await d.stop();
    }
  }).catch((err) => log.error({ err }, 'starting or stopping the archive\'s duties failed')));
  // Before taking mail: the holder signs what is not yet signed (or an empty tree head).
  const lease = holdDuties ? await holdDuties(hold, () => duties?.committed()) : { held: true };
  if (lease.held) await hold(true);
  else announce('sealbox: another node holds this archive\'s duties (signing, sweeps); this one receives, serves and indexes its share, and takes them over if that node stops');
  writer.onCommit(() => (duties ? duties.committed() : indexer.wake()));
  // Entries other processes appended (another node, an import, a console command) count
  // towards the holder's next checkpoint, and every node's size for its health page.
  const timer = setInterval(() => {
    void archive.stores.meta.read((tx) => ledger.catchUp(tx)).then(
      () => duties?.caughtUp(),
      (err) => log.error({ err }, 'ledger catch-up failed'));
  }, Math.min(config.ledger.checkpointEverySeconds * 1000, 10_000));
  timer.unref();

  const deps = { config, capture, clients, clock, log, space };
  const receivers: { close(): Promise<void> }[] = [];
  for (const name of ['smtp', 'lmtp'] as const) {
    if (!config[name].enabled) continue;
    const receiver = new SmtpReceiver(name, deps);
    const { host, port } = parseHostPort(config[name].listen);
    const bound = await receiver.listen(host, port);
    receivers.push(receiver);
    listeners.push({ name, ...bound });
    announce(`sealbox: ${name} listening on ${bound.host}:${bound.port}`);
  }
  if (config.milter.enabled) {
    const milter = new MilterReceiver({ ...deps, spoolDir });
    const { host, port } = parseHostPort(config.milter.listen);
    const bound = await milter.listen(host, port);
    receivers.push(milter);
    listeners.push({ name: 'milter', ...bound });
    announce(`sealbox: milter listening on ${bound.host}:${bound.port}`);
  }

  if (http) {
    const { host, port } = parseHostPort(config.http.listen);
    await http.listen({ host, port });
    const address = http.server.address();
    const bound = { host, port: typeof address === 'object' && address ? address.port : port };
    listeners.push({ name: 'http', ...bound });
    announce(`sealbox: http listening on ${bound.host}:${bound.port}`);
  }

  space.start();   // after the listeners: the milter spool folder exists by now
  // A mailbox policy promises to tell people; say at once when mail cannot carry that promise.
  const delivery = await archive.stores.meta.read((tx) => archive.services.notifier.delivery(tx));
  if (delivery.mail.problem) announce(`sealbox: notifications: ${delivery.mail.problem}`);
  if (delivery.mail.state === 'ok') {
    void notifications.relayProblem().then((problem) => {
      if (problem) announce(`sealbox: notifications: the mail relay notify.smtp (${config.notify.smtp}) does not answer: ${problem}. Notices are kept and retried; fix the relay or the notify.smtp key.`);
    });
  }

  let stopped: Promise<void> | null = null;
  const stop = () => (stopped ??= (async () => {
    clearInterval(timer);
    space.stop();
    await Promise.all(receivers.map((r) => r.close()));
    await http?.close();
    await writer.drain();
    closing = true;
    await hold(false);
    await indexer.stop();
    await notifications.close();
    archive.close();
  })());
  return { listeners, stop };
}

interface Duties {
  committed(): void;   // after each commit here: wake the indexer, sign if due
  caughtUp(): void;    // after the timer's ledger catch-up (other processes' entries): sign if due
  stop(): Promise<void>;
}

// What one node does for the whole archive: sign checkpoints (one signer, so one sequence of
// tree heads), the index thread's work beyond indexing new captures (authentication checks,
// attachments' text, retries, the completeness check: index-worker.ts), deliver the outbox, sweep
// for oversight, run export jobs, and the retention, directory and legal-hold timers. Started by
// the node holding the duties (serve), stopped when it gives them up; what it stops resumes on the
// next holder from the database (the follow-ups' queues, the outbox, unfinished export jobs).
async function startDuties(archive: Archive, parts: ServerParts, indexer: IndexerThread): Promise<Duties> {
  const { config, ledger, log } = archive;
  const checkpointer = archive.checkpointer!;
  const { notifications, oversight, exports, checkpoint } = parts;
  if (ledger.size === 0 || checkpointer.due(1)) await checkpoint();
  indexer.setDuties(true);
  notifications.start();
  oversight.start();
  // Export jobs a stop (or a crash) left unfinished are resumed first; jobs asked for on another
  // node are looked for on a timer.
  exports.run();
  const timers = [
    every(5000, async () => exports.run()),
    // Retention: mail past its retain-until and under no legal hold is disposed of.
    config.retention.disposeEveryHours > 0 && every(config.retention.disposeEveryHours * 3_600_000, () => archive.services.disposal.run().then(
      ({ plan, outcomes }) => log.info({ due: plan.due.length, held: plan.held.length, unindexed: plan.unindexed.length, entries: outcomes.map((o) => o.ledgerIndex), failed: outcomes.flatMap((o) => o.failed) }, 'disposal run'),
      (err) => log.error({ err }, 'disposal run failed; nothing it had not recorded was destroyed, and the next run tries again'))),
    // The directory is read from LDAP; a sync the mass-removal guard stops waits for an admin
    // (`sealbox directory sync --confirm`), and is logged.
    config.directory.ldap && config.directory.ldap.everyMinutes > 0 && every(config.directory.ldap.everyMinutes * 60_000, () => syncFromLdap(config, archive.services.directory, { user: null, label: 'system:directory', roles: ['system'], logonType: 'system', sessionId: null, clientIp: null, userAgent: null }, {}).then(
      (r) => (r.state === 'stopped' ? log.warn({ sync: r.id, removals: r.summary.removals }, r.message ?? 'directory sync stopped') : log.info({ sync: r.id, changes: r.summary.changes, staged: r.summary.staged }, 'directory sync')),
      (err) => log.error({ err }, 'directory sync failed; nothing was changed, and the next run tries again'))),
    // Object storage: legal holds carried down to the objects holding what they cover (S3 legal
    // holds), placed and taken off, since a hold also covers mail that arrives later.
    archive.services.objectHolds && config.blobs.s3 && every(config.blobs.s3.holdSyncSeconds * 1000, () => archive.services.objectHolds!.sync().then(
      ({ held, placed, removed }) => { if (placed + removed > 0) log.info({ held, placed, removed }, 'S3 legal holds updated'); },
      (err) => log.error({ err }, 'S3 legal holds could not be updated; the next run tries again'))),
  ].filter((t): t is Timer => typeof t === 'object' && t !== null);
  return {
    committed() {
      indexer.wake();
      if (checkpointer.due()) void checkpoint();
    },
    caughtUp() {
      if (checkpointer.due()) void checkpoint();
    },
    async stop() {
      await Promise.all(timers.map((t) => t.stop()));
      await exports.stop();
      await oversight.stop();
      await notifications.stop();
      await checkpoint();
      indexer.setDuties(false);
    },
  };
}

// Runs work every ms, one run at a time (a run still going when the next is due skips it);
// work handles its own failures.
interface Timer {
  stop(): Promise<void>;
}

function every(ms: number, work: () => Promise<unknown>): Timer {
  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    running ??= work().finally(() => { running = null; });
  }, ms);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
