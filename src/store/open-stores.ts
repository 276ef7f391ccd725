import { mkdirSync } from 'node:fs';
import type { Config } from '../core/config.ts';
import { dataPath, resolveFrom } from '../core/config.ts';
import { SealboxError } from '../core/errors.ts';
import { ArchiveReader } from './archive-reader.ts';
import type { BlobStore } from './blob-store.ts';
import { openBlobs } from './open-blobs.ts';
import type { BlobSpec } from './open-blobs.ts';
import { FileKeyProvider } from './key-provider.ts';
import { SqliteMetadataStore } from './sqlite/metadata-store.ts';
import type { MetadataRepositories } from './repositories.ts';
import { sqliteRepositories } from './sqlite/repositories.ts';
import { existsSync } from 'node:fs';

export interface Stores {
  meta: SqliteMetadataStore;
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
  if (!options.create && !existsSync(paths.meta)) {
    throw new SealboxError('SEALBOX_ERR_CONFIG', `no archive in ${paths.data} (start one with: sealbox serve --data ${paths.data})`);
  }
  mkdirSync(paths.data, { recursive: true, mode: 0o700 });
  // The one place a backend is chosen: each kind is a folder under src/store (sqlite/ today; a
  // new one implements the same interfaces and passes test/conformance/). postgres/ has every
  // metadata repository and the ledger, and index/postgres/ the search index, but the archive
  // does not open them yet: the config refuses the kind, and so does this line should a config
  // get past it.
  if (config.store.kind !== 'sqlite') throw new SealboxError('SEALBOX_ERR_CONFIG', `store.kind "${config.store.kind}" is not available in this build`);
  // Blobs before anything is opened: a bad credentials file stops here, leaving nothing open.
  const blobs = openBlobs(blobSpec(config), options.segmentPrefix);
  const meta = new SqliteMetadataStore(paths.meta);
  const { provider: keys, created } = FileKeyProvider.openOrCreate(paths.masterKey, { create: options.create });
  return {
    meta, repos: sqliteRepositories(meta), blobs, keys, reader: new ArchiveReader(meta, blobs, keys), paths, masterKeyCreated: created,
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
