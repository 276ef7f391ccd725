import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { ContentServices } from './api/content-services.ts';
import type { Services } from './api/services.ts';
import { systemClock } from './core/clock.ts';
import type { Clock } from './core/clock.ts';
import type { Config } from './core/config.ts';
import { SealboxError } from './core/errors.ts';
import { createLogger, lazyLogger } from './core/log.ts';
import { openIndex } from './index/open-index.ts';
import type { OpenIndex } from './index/open-index.ts';
import { signCheckpoint } from './ledger/checkpoint.ts';
import type { SigningKey } from './ledger/checkpoint.ts';
import { signStatement } from './ledger/signed-statement.ts';
import { Ledger } from './ledger/ledger.ts';
import { CaptureRetention } from './retention/capture-retention.ts';
import { Checkpointer } from './store/checkpointer.ts';
import { openStores } from './store/open-stores.ts';
import type { Stores } from './store/open-stores.ts';
import { openOrCreateSigningKey } from './store/signing-key-file.ts';

// What a process is to the archive. The server receives, signs and serves; an importer appends
// beside it (segments of its own) and signs what it appended; the console (every other command)
// reads and records, and never signs a checkpoint; the indexer reads captures and writes the index.
export type ArchiveRole = 'server' | 'importer' | 'console' | 'indexer';

export interface Archive {
  readonly config: Config;
  readonly role: ArchiveRole;
  readonly stores: Stores;
  readonly clock: Clock;
  readonly log: Logger;
  // The ledger; for the server and an importer with the Checkpointer that signs checkpoints and
  // hands each to the witnesses (null for the console: a checkpoint is the server's to sign).
  readonly ledger: Ledger;
  readonly checkpointer: Checkpointer | null;
  readonly verifierKey: string;
  // A detached signature by the ledger key over a statement that can never be a checkpoint
  // (ledger/signed-statement.ts): what an evidence package's manifest is signed with, by the
  // server or a console command.
  signStatement(statement: string): Buffer;
  // Each capture's retain-until, for whichever archive writer commits here (server, importer).
  readonly retention: CaptureRetention;
  // The search index of the backend (index/open-index.ts), opened when first wanted.
  readonly index: OpenIndex;
  // The governed-access stage (people, grants, content access, oversight): server and console.
  readonly services: Services;
  // Its part that reads content as a person (api/content-services.ts): all a console opened with
  // access "content" has.
  readonly contentServices: ContentServices;
  close(): void;
}

export interface OpenOptions {
  clock?: Clock;
  log?: Logger;
  // Where "created a key" lines go (the server prints them, an importer labels them).
  announce?: (line: string) => void;
  // An importer names its own segment files (see FileBlobStore).
  segmentPrefix?: string;
  // The console's access services: all (the default), or only those that read content as a
  // person (search, show, export), so that such a command never loads the others' modules.
  access?: 'all' | 'content';
}

// The one composition root: every process opens the archive here, for its role, so the server,
// the importer, the console commands, the index worker and the in-process tests are wired the
// same way. The backends are chosen here from config (store.kind, blobs.kind: see openStores).
export async function openArchive(config: Config, role: ArchiveRole, options: OpenOptions = {}): Promise<Archive> {
  const clock = options.clock ?? systemClock;
  // Made when first wanted: the console commands print, and never log.
  let log = options.log ?? null;
  const logger = () => (log ??= createLogger(config.log.level));
  const writes = role === 'server' || role === 'importer';
  // The nodes of an archive on PostgreSQL share its blob folder or bucket: each server names its
  // segments apart, as an importer does.
  const segmentPrefix = options.segmentPrefix ?? (role === 'server' && config.store.kind === 'postgres' ? `node-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}-` : undefined);
  const stores = openStores(config, { create: writes, segmentPrefix });
  const announce = options.announce ?? (() => {});
  let signingKey: SigningKey | null = null;
  let index: OpenIndex | null = null;
  let services: Services | null = null;
  let contentServices: ContentServices | null = null;
  let ledger: Ledger;
  let checkpointer: Checkpointer | null = null;
  try {
    if (stores.masterKeyCreated) announce(`created master key ${stores.paths.masterKey} (mode 0600; back it up apart from the data: without it the archive cannot be read)`);
    if (writes) {
      const { key, created } = openOrCreateSigningKey(stores.paths.signingKey, config.ledger.origin, { create: true });
      if (created) announce(`created ledger signing key ${stores.paths.signingKey} (mode 0600); verifier key: ${key.verifierKey}`);
      signingKey = key;
      ledger = await Ledger.open({ store: stores.meta, origin: config.ledger.origin, clock, sign: (body) => signCheckpoint(body, key), writer: true });
      if (ledger.keptOnOpen > 0) announce(`kept the ledger tree's ${ledger.keptOnOpen} subtree roots (once, for the proofs; see README "The tree as stored")`);
      checkpointer = new Checkpointer({ config, meta: stores.meta, outbox: stores.repos.notifications, ledger, log: logger() });
    } else {
      ledger = await Ledger.open({
        store: stores.meta, origin: config.ledger.origin, clock,
        sign: () => { throw new SealboxError('SEALBOX_ERR_INTERNAL', 'checkpoints are signed by the server'); },
      });
    }
    // The server and the console act for people: the governed-access stage, with its policy read.
    if (role === 'server' || role === 'console') {
      index = openIndex(stores, { deferRebuilds: true });
      // Loaded only by the roles that decide access: the index thread and the importer never
      // hold the access layer's modules (OpenID Connect, the route schemas) in their heaps.
      const log = role === 'console' ? lazyLogger(logger) : logger();
      if (role === 'console' && options.access === 'content') {
        const { contentServices: build } = await import('./api/content-services.ts');
        contentServices = await build(config, stores, ledger, index, clock, log);
      } else {
        const { accessServices } = await import('./api/services.ts');
        contentServices = services = await accessServices(config, stores, ledger, index, clock, log);
      }
    }
  } catch (err) {
    index?.close();
    stores.close();
    throw err;
  }

  const ledgerKey = () => (signingKey ??= openOrCreateSigningKey(stores.paths.signingKey, config.ledger.origin, { create: false }).key);
  const archive: Archive = {
    config, role, stores, clock, checkpointer, ledger,
    retention: new CaptureRetention(stores.repos.retention, { defaultDays: config.retention.defaultDays, internalDomains: config.internalDomains }),
    get log() {
      return logger();
    },
    get verifierKey() {
      return ledgerKey().verifierKey;
    },
    signStatement: (statement) => signStatement(statement, ledgerKey()),
    get index() {
      return (index ??= openIndex(stores, { deferRebuilds: true }));
    },
    get services() {
      if (!services) throw new SealboxError('SEALBOX_ERR_INTERNAL', contentServices ? 'opened for content access only' : `the ${role} role has no access services`);
      return services;
    },
    get contentServices() {
      if (!contentServices) throw new SealboxError('SEALBOX_ERR_INTERNAL', `the ${role} role has no access services`);
      return contentServices;
    },
    close() {
      index?.close();
      stores.close();
    },
  };
  return archive;
}
