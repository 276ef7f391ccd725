import type { Readable, Writable } from 'node:stream';
import { SealboxError } from '../core/errors.ts';

// Where sealed bytes live. Writes become durable only at sync(), so a caller can make many
// messages durable with one flush (group commit). Two implementations: FileBlobStore writes
// segments in place on a local file system; SegmentedBlobStore keeps the open segment in memory
// and at sync() puts it, sealed, through a BlobDriver (object storage: put once, read by range).
export interface BlobRef {
  file: string;   // path relative to the store root
  offset: number;
  length: number;
}

export interface LargeBlobWriter {
  readonly stream: Writable;
  // After the stream has finished: the blob's reference (durable after the next sync()).
  close(length: number): BlobRef;
  discard(): Promise<void>;
}

// Where the store stood before a batch: rollback() returns it there.
export interface BlobMark {
  readonly file: string;
  readonly size: number;
}

// Reading what is stored, the same for every backend.
export interface BlobSource {
  // Exactly the reference's bytes, as a stream (large blobs) or at once (small ones, in bulk).
  read(ref: BlobRef): Readable;
  readBuffer(ref: BlobRef): Promise<Buffer>;
  // Every blob file (segment or large blob) the store holds, for verification and repair.
  list(): AsyncIterable<string>;
}

export interface BlobStore extends BlobSource {
  // Writes at the recorded end of the current segment; the reference names exactly the bytes
  // written. Throws on any short or failed write.
  append(data: Buffer): BlobRef;
  mark(): BlobMark;
  // After a failed batch: cut away everything appended since the mark, so the segment is as it
  // was before the batch, and re-open it so no stale descriptor state carries over.
  rollback(mark: BlobMark): void;
  createLarge(): LargeBlobWriter;
  // Object Lock, where the store has it (object storage): the object holding ref's bytes may not be
  // deleted or overwritten before keepUntil (null: kept for ever). Applied at the next sync(): a
  // blob put by it is put locked, an object put earlier has its lock extended, never shortened.
  lock?(ref: BlobRef, keepUntil: number | null): void;
  // A whole blob file taken in under its own name (sealbox migrate copying an archive's segments
  // into a bucket), durable and locked until keepUntil when it resolves. sha256: the body's, so
  // that an object an earlier attempt put under the name stands if it holds the same bytes (its
  // lock extended to keepUntil); a different one is refused. Object storage only.
  importObject?(name: string, body: Readable, keepUntil: number | null, sha256: string): Promise<void>;
  // A legal hold on the object holding ref's file (on) or its removal (off), applied at once.
  legalHold?(file: string, on: boolean): Promise<void>;
  // Object storage: the segments this store puts, as they are put, and those another store of
  // this process put, taken in (BlobDriver.onArchived, seed).
  onArchived?(listener: (object: ArchivedObject) => void): void;
  seed?(object: ArchivedObject): void;
  // A disposed message's bytes removed for good (durable when it resolves): true if they are
  // gone from the store, false if the store cannot remove part of an object it holds (object
  // storage: the segment is compacted later; the message's key is destroyed already).
  erase(ref: BlobRef): Promise<boolean>;
  // Makes everything appended and every large blob closed since the last sync durable (for an
  // object store: seals the open segment and puts it).
  sync(): Promise<void>;
  close(): void;
}

export interface PutOptions {
  // Object Lock until this time (null: kept for ever); left out: no lock.
  keepUntil?: number | null;
  // The body's sha256, known before a stream is read: kept with the object, so that putting the
  // same bytes again (an attempt retried) finds them there and stands instead of being refused.
  sha256?: string;
}

// Objects in a store that keeps whole objects (a folder, S3): written once, read by range.
export interface BlobDriver {
  // Durable when it resolves; an object that exists is never overwritten (throws).
  put(name: string, body: Buffer | Readable, options?: PutOptions): Promise<void>;
  get(name: string, range?: { offset: number; length: number }): Readable;
  getRange(name: string, offset: number, length: number): Promise<Buffer>;
  delete(name: string): Promise<void>;
  list(prefix: string): AsyncIterable<string>;
  // Object Lock (drivers whose store has it): extends an object's retention to keepUntil at least;
  // places or removes a legal hold.
  lock?(name: string, keepUntil: number | null): Promise<void>;
  legalHold?(name: string, on: boolean): Promise<void>;
  // Object storage: told of each segment put, with its archived version and bytes, so that the
  // indexer thread is handed what it would otherwise GET back a moment later (seed).
  onArchived?: ((object: ArchivedObject) => void) | null;
  seed?(object: ArchivedObject): void;
  close?(): void;
}

// An object as archived: its name, the version every read names, and its bytes.
export interface ArchivedObject {
  name: string;
  versionId: string;
  bytes: Buffer;
}

// Object Lock or a legal hold refused a delete: the object stays until the lock ends.
export class ObjectLockedError extends SealboxError {
  constructor(name: string) {
    super('SEALBOX_ERR_CONFLICT', `blob ${name} is under Object Lock or a legal hold and cannot be deleted yet`);
  }
}
