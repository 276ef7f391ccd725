import { mkdirSync } from 'node:fs';
import type { Config } from '../core/config.ts';
import { dataPath, resolveFrom } from '../core/data-paths.ts';
import { SealboxError } from '../core/errors.ts';
import { ArchiveReader } from './archive-reader.ts';
import type { BlobStore } from './blob-store.ts';
import { openBlobs } from './open-blobs.ts';
import type { BlobSpec } from './open-blobs.ts';
import { FileKeyProvider } from './key-provider.ts';
import { SqliteMetadataStore } from './sqlite/metadata-store.ts';
import type { MetadataRepositories } from './repositories.ts';
import type { MetadataStore } from './metadata-store.ts';
import { sqliteRepositories } from './sqlite/repositories.ts';
import { createRequire } from 'node:module';
import { readOrCreateSecretFile } from './secret-file.ts';
import { existsSync } from 'node:fs';

export interface Stores {
  // Which backend holds metadata, the ledger and the search index (config store.kind).
  kind: Config['store']['kind'];
  meta: MetadataStore;
  // Every metadata repository of the backend, over `meta`.
  repos: MetadataRepositories;
  blobs: BlobStore;
  keys: FileKeyProvider;
  reader: ArchiveReader;
  paths: { data: string; meta: string; index: string; blobs: string; masterKey: string; signingKey: string };
  masterKeyCreated: boolean;
  close(): void;
}

// The embedded default: everything under one data folder.
export function storePaths(config: Config): Stores['paths'] {
  return {
    data: config.data,
    meta: dataPath(config, 'sealbox.db'),
    index: dataPath(config, 'index.db'),
    blobs: dataPath(config, 'blobs'),
    masterKey: config.keys.masterKeyFile ? resolveFrom(config, config.keys.masterKeyFile) : dataPath(config, 'keys', 'master.key'),
    signingKey: config.keys.signingKeyFile ? resolveFrom(config, config.keys.signingKeyFile) : dataPath(config, 'keys', 'ledger-signing.pem'),
  };
}

// create: first start may make the data folder and keys; every other command needs an archive.
// segmentPrefix: for a process that appends blobs while the server runs (see FileBlobStore).
export function openStores(config: Config, options: { create: boolean; segmentPrefix?: string }): Stores {
  const paths = storePaths(config);
  // On PostgreSQL the data folder still holds the keys: no master key, no archive here.
  if (!options.create && !existsSync(config.store.kind === 'sqlite' ? paths.meta : paths.masterKey)) {
    throw new SealboxError('SEALBOX_ERR_CONFIG', `no archive in ${paths.data} (start one with: sealbox serve --data ${paths.data})`);
  }
  mkdirSync(paths.data, { recursive: true, mode: 0o700 });
  // The one place a backend is chosen: each kind is a folder under src/store (sqlite/, postgres/)
  // and one under src/index (its search index, opened by index/open-index.ts); a new one
  // implements the same interfaces and passes test/conformance/.
  // Blobs before anything is opened: a bad credentials file stops here, leaving nothing open.
  const blobs = openBlobs(blobSpec(config), options.segmentPrefix);
  let meta: MetadataStore;
  let repos: MetadataRepositories;
  try {
    if (config.store.kind === 'postgres') {
      // Loaded only for PostgreSQL: pg and its repositories cost every other process (the
      // embedded default's server, its threads, each command) ~35 ms and ~10 MB.
      const load = createRequire(import.meta.url);
      const { PostgresMetadataStore } = load('./postgres/metadata-store.ts') as typeof import('./postgres/metadata-store.ts');
      const { postgresRepositories } = load('./postgres/repositories.ts') as typeof import('./postgres/repositories.ts');
      const pg = config.store.postgres!;
      const password = pg.passwordFile ? readOrCreateSecretFile(resolveFrom(config, pg.passwordFile), 'store.postgres.passwordFile', { create: false, make: () => '' }).content.trim() : undefined;
      const store = new PostgresMetadataStore({ url: pg.url, password, schema: pg.schema, poolSize: pg.poolSize, writeTimeoutMs: pg.writeTimeoutMs });
      meta = store;
      repos = postgresRepositories(store);
    } else {
      const store = new SqliteMetadataStore(paths.meta);
      meta = store;
      repos = sqliteRepositories(store);
    }
  } catch (err) {
    blobs.close();
    throw err;
  }
  let opened: ReturnType<typeof FileKeyProvider.openOrCreate>;
  try {
    opened = FileKeyProvider.openOrCreate(paths.masterKey, { create: options.create });
  } catch (err) {
    blobs.close();
    meta.close();
    throw err;
  }
  const { provider: keys, created } = opened;
  return {
    kind: config.store.kind, meta, repos, blobs, keys, reader: new ArchiveReader(meta, blobs, keys), paths, masterKeyCreated: created,
    close: () => {
      blobs.close();
      meta.close();
    },
  };
}

// Where the blobs are and how to open them, as plain data: a thread opens them from this
// without loading the configuration's code (see openBlobs).
export function blobSpec(config: Config): BlobSpec {
  const paths = storePaths(config);
  const s3 = config.blobs.s3;
  return {
    root: paths.blobs, masterKey: paths.masterKey,
    s3: config.blobs.kind === 'files' || !s3 ? null : {
      endpoint: s3.endpoint, bucket: s3.bucket, region: s3.region, forcePathStyle: s3.forcePathStyle, prefix: s3.prefix,
      credentialsFile: resolveFrom(config, s3.credentialsFile), partBytes: s3.partMiB * 1024 * 1024, foreverLockDays: s3.foreverLockDays,
    },
  };
}
