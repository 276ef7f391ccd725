import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import type { ObjectLockMode, S3Client } from '@aws-sdk/client-s3';
import { unpooled } from '../core/bytes.ts';
import { SealboxError } from '../core/errors.ts';
import { ObjectLockedError } from './blob-store.ts';
import { readOrCreateSecretFile } from './secret-file.ts';
import type { ArchivedObject, BlobDriver, PutOptions } from './blob-store.ts';

const DAY = 86_400_000;
// S3's smallest part but the last; a body up to one part is put in one request.
export const MIN_PART_BYTES = 5 * 1024 * 1024;
// Reads of small messages come in runs over one segment (the indexer reads them in commit order):
// a segment up to WHOLE_OBJECT_BYTES is fetched whole once and kept, up to WHOLE_CACHE_BYTES in
// all, so a run costs one GET instead of one per message (none for a segment handed over: seed).
// Safe: an archived version never changes. 8 MB: the indexer reads what was just committed, and
// 32 MB made no fewer GETs. Every cached segment is a buffer of its own (unpooled): a view of
// Node's 64 KB pool would hold the whole slab for a 10 KB segment.
const WHOLE_OBJECT_BYTES = 4 * 1024 * 1024;
const WHOLE_CACHE_BYTES = 8 * 1024 * 1024;
// The archived versions and locks known, kept for this many objects, the oldest let go first:
// a server puts a segment per group commit, hundreds of thousands a day, and a name forgotten
// costs one listing or lookup when it is read or locked again.
const REMEMBERED = 100_000;

type Sdk = typeof import('@aws-sdk/client-s3');

function remember<V>(map: Map<string, V>, name: string, value: V): void {
  map.delete(name);
  map.set(name, value);
  if (map.size > REMEMBERED) map.delete(map.keys().next().value!);
}

export interface S3Settings {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
  prefix: string;            // keys are prefix + name
  partBytes: number;         // multipart part size for large blobs
  foreverLockDays: number;   // Object Lock for what is kept for ever (a lock needs a date)
}

// Objects in an S3 bucket with Object Lock (AWS S3, Ceph RADOS Gateway, MinIO).
//
// Never overwritten: a bucket with Object Lock has versioning on, so a PUT of an existing key does
// not fail, it adds a version (RGW 16 ignores If-None-Match) and a DELETE without a version adds a
// delete marker. So a put refuses a key that has any version already (unless that version holds
// the same bytes, by the sha256 kept with it: a retry), and every read and delete names a
// version: the archived one, which is the key's oldest. Whatever anyone puts or "deletes" later
// under the same key is a newer version or marker and is never read.
//
// Locked: each object is put with COMPLIANCE retention until the keep-until it is given (for ever:
// foreverLockDays from now); lock() only ever extends it. A locked version cannot be deleted or
// shortened by anyone through S3, the bucket owner included, until that date.
export class S3BlobDriver implements BlobDriver {
  #aws: Promise<{ s3: S3Client; sdk: Sdk }> | null = null;
  readonly #s: S3Settings;
  readonly #versions = new Map<string, { id: string; size: number }>();   // name → archived version (size -1: unknown)
  readonly #whole = new Map<string, Promise<Buffer>>();   // name → the archived version's bytes, least recently used first
  readonly #wholeSizes = new Map<string, number>();       // the cached ones fetched so far, and their sizes
  #wholeBytes = 0;
  readonly #locks = new Map<string, number>();       // name → retain-until known to be set
  #lockChecked: Promise<void> | null = null;
  // Told of each segment this driver put, with its bytes (see BlobDriver.onArchived).
  onArchived: ((object: ArchivedObject) => void) | null = null;

  constructor(settings: S3Settings) {
    this.#s = settings;
  }

  // The AWS SDK and its client, loaded at the first request: a thread that only reads the
  // segments handed to it (the indexer's: seed) never makes one, nor does a console command that
  // reads no blob (an idle serve with a bucket: 146 MB with the SDK in both threads, 130 without).
  #client(): Promise<{ s3: S3Client; sdk: Sdk }> {
    this.#aws ??= import('@aws-sdk/client-s3').then((sdk) => ({
      sdk,
      s3: new sdk.S3Client({
        endpoint: this.#s.endpoint, region: this.#s.region, forcePathStyle: this.#s.forcePathStyle,
        credentials: { accessKeyId: this.#s.accessKeyId, secretAccessKey: this.#s.secretAccessKey },
        // RGW 16 refuses the SDK's default aws-chunked bodies with trailing checksums (411).
        requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
        maxAttempts: 2,
        // A gateway that hangs must fail the commit (451), not hold every connection until SMTP
        // times out: no connection within 5 s, or a request idle for 30 s, is a fault.
        requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
      }),
    }));
    return this.#aws;
  }

  get bucket(): string {
    return this.#s.bucket;
  }

  #key(name: string): string {
    if (!/^[\w.-]+(\/[\w.-]+)*$/.test(name) || name.split('/').includes('..')) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `blob name "${name}" is not a plain relative path`);
    return this.#s.prefix + name;
  }

  // The retain-until a keep-until asks for: null (kept for ever) gets the configured period; a
  // date already past asks for no lock at all.
  retainUntil(keepUntil: number | null, now = Date.now()): number | null {
    const until = keepUntil ?? now + this.#s.foreverLockDays * DAY;
    return until > now ? until : null;
  }

  // A bucket without Object Lock would take every put and protect nothing: refuse to write to it.
  #checkLock(): Promise<void> {
    this.#lockChecked ??= (async () => {
      const { s3, sdk } = await this.#client();
      const r = await s3.send(new sdk.GetObjectLockConfigurationCommand({ Bucket: this.#s.bucket })).catch((err) => {
        if (err?.name === 'ObjectLockConfigurationNotFoundError') return null;
        throw storeError(err, `bucket ${this.#s.bucket}: Object Lock configuration`);
      });
      if (r?.ObjectLockConfiguration?.ObjectLockEnabled !== 'Enabled') throw new SealboxError('SEALBOX_ERR_CONFIG', `bucket ${this.#s.bucket} does not have Object Lock enabled (create it with Object Lock)`);
    })();
    this.#lockChecked.catch(() => { this.#lockChecked = null; });
    return this.#lockChecked;
  }

  // Every version of a key, oldest first, delete markers apart.
  async #allVersions(key: string): Promise<{ versions: { id: string; at: number; size: number }[]; markers: string[] }> {
    const versions: { id: string; at: number; size: number; order: number }[] = [];
    const markers: string[] = [];
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    let order = 0;
    const { s3, sdk } = await this.#client();
    do {
      const r = await s3.send(new sdk.ListObjectVersionsCommand({ Bucket: this.#s.bucket, Prefix: key, KeyMarker: keyMarker, VersionIdMarker: versionMarker }));
      // Listed newest first within a key; a prefix also matches longer keys.
      for (const v of r.Versions ?? []) if (v.Key === key && v.VersionId) versions.push({ id: v.VersionId, at: v.LastModified?.getTime() ?? 0, size: v.Size ?? -1, order: order++ });
      for (const m of r.DeleteMarkers ?? []) if (m.Key === key && m.VersionId) markers.push(m.VersionId);
      keyMarker = r.IsTruncated ? r.NextKeyMarker : undefined;
      versionMarker = r.IsTruncated ? r.NextVersionIdMarker : undefined;
    } while (keyMarker);
    versions.sort((a, b) => a.at - b.at || b.order - a.order);
    return { versions, markers };
  }

  async #archived(name: string): Promise<{ id: string; size: number }> {
    const known = this.#versions.get(name);
    if (known) return known;
    const { versions } = await this.#allVersions(this.#key(name)).catch((err) => { throw storeError(err, `blob ${name}`); });
    const oldest = versions[0];
    if (!oldest) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `blob ${name} is not in bucket ${this.#s.bucket}`);
    const archived = { id: oldest.id, size: oldest.size };
    remember(this.#versions, name, archived);
    return archived;
  }

  async #version(name: string): Promise<string> {
    return (await this.#archived(name)).id;
  }

  #wholeObject(name: string, versionId: string): Promise<Buffer> {
    const cached = this.#whole.get(name);
    if (cached) {
      this.#whole.delete(name);
      this.#whole.set(name, cached);
      return cached;
    }
    const fetched = (async () => {
      const { s3, sdk } = await this.#client();
      const r = await s3.send(new sdk.GetObjectCommand({ Bucket: this.#s.bucket, Key: this.#key(name), VersionId: versionId }));
      return unpooled(await r.Body!.transformToByteArray());   // kept: its own bytes alone
    })();
    this.#whole.set(name, fetched);
    fetched.then((bytes) => this.#kept(name, fetched, bytes.length), () => { if (this.#whole.get(name) === fetched) this.#whole.delete(name); });
    return fetched;
  }

  // A whole object now in the cache: counted, and the least recently used let go past the bound.
  #kept(name: string, entry: Promise<Buffer>, size: number): void {
    if (this.#whole.get(name) !== entry) return;
    this.#wholeSizes.set(name, size);
    this.#wholeBytes += size;
    for (const other of this.#whole.keys()) {
      if (this.#wholeBytes <= WHOLE_CACHE_BYTES || other === name) break;
      this.#forget(other);
    }
  }

  // An object another driver of this process put (the receiving thread's, seen from the
  // indexer's), with its archived version and bytes: read from here instead of a GET. Nothing is
  // taken for an object this driver knows already.
  seed(object: ArchivedObject): void {
    if (this.#versions.has(object.name) || object.bytes.length > WHOLE_OBJECT_BYTES) return;
    remember(this.#versions, object.name, { id: object.versionId, size: object.bytes.length });
    const entry = Promise.resolve(object.bytes);
    this.#whole.set(object.name, entry);
    this.#kept(object.name, entry, object.bytes.length);
  }

  #forget(name: string): void {
    this.#whole.delete(name);
    this.#wholeBytes -= this.#wholeSizes.get(name) ?? 0;
    this.#wholeSizes.delete(name);
  }

  async put(name: string, body: Buffer | Readable, options: PutOptions = {}): Promise<void> {
    const key = this.#key(name);
    try {
      await this.#checkLock();
      const until = options.keepUntil === undefined ? null : this.retainUntil(options.keepUntil);
      const lock = until === null ? {} : { ObjectLockMode: 'COMPLIANCE' as ObjectLockMode, ObjectLockRetainUntilDate: new Date(until) };
      let versionId: string;
      let size = -1;
      let earlier = false;   // the bytes were there already, put before under another lock
      if (Buffer.isBuffer(body)) {
        // A segment, on the commit's path: the look for an earlier version runs beside the PUT
        // (one round trip, not two). Any version but the one just made means the key was taken.
        const sha256 = createHash('sha256').update(body).digest('hex');
        const [{ versions }, made] = await Promise.all([this.#allVersions(key), this.#putOne(key, body, lock, sha256)]);
        const others = versions.filter((v) => v.id !== made);
        earlier = others.length > 0;
        versionId = earlier ? await this.#takenBy(name, key, others[0]!.id, sha256) : made;
        size = body.length;
      } else {
        const { versions } = await this.#allVersions(key);
        earlier = versions.length > 0;
        if (earlier) {
          body.destroy();   // not read: the bytes are there already, or the put is refused
          versionId = await this.#takenBy(name, key, versions[0]!.id, options.sha256 ?? null);
        } else {
          versionId = await this.#putStream(key, body, lock, options.sha256);
        }
      }
      remember(this.#versions, name, { id: versionId, size });
      // The archived version's lock, set by the earlier put, reaches this one's too.
      if (earlier && options.keepUntil !== undefined) await this.lock(name, options.keepUntil);
      else if (until !== null) remember(this.#locks, name, until);
      // The same bytes as the archived version: put now, or found there under the same sha256.
      // Handed over as a courtesy to the reader: nothing it does fails the put.
      if (Buffer.isBuffer(body)) {
        try {
          this.onArchived?.({ name, versionId, bytes: body });
        } catch {
          // The reader GETs it instead.
        }
      }
    } catch (err) {
      throw storeError(err, `blob ${name}`);
    }
  }

  // A key that had a version already: the same bytes put before (a put whose answer was lost, a
  // migration retried) stand, their version being the archived one; anything else is refused.
  async #takenBy(name: string, key: string, oldest: string, sha256: string | null): Promise<string> {
    if (sha256) {
      const { s3, sdk } = await this.#client();
      const head = await s3.send(new sdk.HeadObjectCommand({ Bucket: this.#s.bucket, Key: key, VersionId: oldest }));
      if (head.Metadata?.sha256 === sha256) return oldest;
    }
    throw new SealboxError('SEALBOX_ERR_CONFLICT', `blob ${name} exists; objects are never overwritten`);
  }

  async #putOne(key: string, body: Buffer, lock: object, sha256: string): Promise<string> {
    const { s3, sdk } = await this.#client();
    const r = await s3.send(new sdk.PutObjectCommand({
      Bucket: this.#s.bucket, Key: key, Body: body, ContentLength: body.length, ...lock,
      // AWS asks for an MD5 on a put with Object Lock parameters; it also guards the bytes in flight.
      ContentMD5: createHash('md5').update(body).digest('base64'), Metadata: { sha256 },
    }));
    if (!r.VersionId) throw new SealboxError('SEALBOX_ERR_CONFIG', `bucket ${this.#s.bucket} returned no version id: it is not versioned (Object Lock needs versioning)`);
    return r.VersionId;
  }

  // A stream is cut into parts of partBytes; one that ends within the first part is put whole.
  // sha256, when the caller knows it: kept with a multipart object as a single put's is, and
  // checked against the bytes read before the upload completes.
  async #putStream(key: string, body: Readable, lock: object, sha256?: string): Promise<string> {
    const parts = partsOf(body, this.#s.partBytes);
    const first = await parts.next();
    const second = first.done ? first : await parts.next();
    if (second.done) {
      const whole = first.done ? Buffer.alloc(0) : first.value;
      const read = createHash('sha256').update(whole).digest('hex');
      if (sha256 && read !== sha256) throw new Error(`the bytes read are not those of sha256 ${sha256}`);
      return this.#putOne(key, whole, lock, read);
    }
    const { s3, sdk } = await this.#client();
    const { UploadId } = await s3.send(new sdk.CreateMultipartUploadCommand({ Bucket: this.#s.bucket, Key: key, ...lock, ...(sha256 ? { Metadata: { sha256 } } : {}) }));
    try {
      const hash = createHash('sha256');
      const done: { PartNumber: number; ETag: string }[] = [];
      const upload = async (part: Buffer) => {
        hash.update(part);
        const PartNumber = done.length + 1;
        const r = await s3.send(new sdk.UploadPartCommand({
          Bucket: this.#s.bucket, Key: key, UploadId, PartNumber, Body: part, ContentLength: part.length,
          ContentMD5: createHash('md5').update(part).digest('base64'),
        }));
        done.push({ PartNumber, ETag: r.ETag! });
      };
      await upload(first.value as Buffer);
      await upload(second.value);
      for await (const part of parts) await upload(part);
      if (sha256 && hash.digest('hex') !== sha256) throw new Error(`the bytes read are not those of sha256 ${sha256}`);
      const r = await s3.send(new sdk.CompleteMultipartUploadCommand({ Bucket: this.#s.bucket, Key: key, UploadId, MultipartUpload: { Parts: done } }));
      if (!r.VersionId) throw new SealboxError('SEALBOX_ERR_CONFIG', `bucket ${this.#s.bucket} returned no version id: it is not versioned (Object Lock needs versioning)`);
      return r.VersionId;
    } catch (err) {
      await s3.send(new sdk.AbortMultipartUploadCommand({ Bucket: this.#s.bucket, Key: key, UploadId })).catch(() => {});
      throw err;
    }
  }

  get(name: string, range?: { offset: number; length: number }): Readable {
    const out = new PassThrough();
    if (range && range.length === 0) {
      out.end();
      return out;
    }
    (async () => {
      const { s3, sdk } = await this.#client();
      const r = await s3.send(new sdk.GetObjectCommand({
        Bucket: this.#s.bucket, Key: this.#key(name), VersionId: await this.#version(name),
        Range: range ? `bytes=${range.offset}-${range.offset + range.length - 1}` : undefined,
      }));
      const stream = r.Body as Readable;
      stream.on('error', (err) => out.destroy(err));
      stream.pipe(out);
    })().catch((err) => out.destroy(storeError(err, `blob ${name}`)));
    return out;
  }

  async getRange(name: string, offset: number, length: number): Promise<Buffer> {
    if (length === 0) return Buffer.alloc(0);
    try {
      const archived = await this.#archived(name);
      let bytes: Buffer;
      if (archived.size > 0 && archived.size <= WHOLE_OBJECT_BYTES) {
        const whole = await this.#wholeObject(name, archived.id);
        bytes = Buffer.from(whole.subarray(offset, offset + length));   // a copy: the cache stays as it was
      } else {
        const { s3, sdk } = await this.#client();
        const r = await s3.send(new sdk.GetObjectCommand({
          Bucket: this.#s.bucket, Key: this.#key(name), VersionId: archived.id, Range: `bytes=${offset}-${offset + length - 1}`,
        }));
        bytes = Buffer.from(await r.Body!.transformToByteArray());
      }
      if (bytes.length !== length) throw new Error(`blob ${name} at ${offset} is truncated (${bytes.length} of ${length} bytes)`);
      return bytes;
    } catch (err) {
      throw storeError(err, `blob ${name}`);
    }
  }

  // Every version and delete marker of the name goes, the archived version first: if Object Lock
  // or a legal hold keeps it, nothing is removed and the refusal says so (ObjectLockedError).
  async delete(name: string): Promise<void> {
    const key = this.#key(name);
    try {
      const { versions, markers } = await this.#allVersions(key);
      const { s3, sdk } = await this.#client();
      for (const id of [...versions.map((v) => v.id), ...markers]) {
        await s3.send(new sdk.DeleteObjectCommand({ Bucket: this.#s.bucket, Key: key, VersionId: id })).catch((err) => {
          if (isLockRefusal(err)) throw new ObjectLockedError(name);
          throw err;
        });
      }
      this.#versions.delete(name);
      this.#locks.delete(name);
      this.#forget(name);
    } catch (err) {
      throw storeError(err, `blob ${name}`);
    }
  }

  // Extends the archived version's retention to at least keepUntil's (never shortens: S3 refuses).
  async lock(name: string, keepUntil: number | null): Promise<void> {
    const until = this.retainUntil(keepUntil);
    if (until === null || (this.#locks.get(name) ?? 0) >= until) return;
    try {
      const key = this.#key(name);
      const VersionId = await this.#version(name);
      const { s3, sdk } = await this.#client();
      const current = await s3.send(new sdk.GetObjectRetentionCommand({ Bucket: this.#s.bucket, Key: key, VersionId }))
        .then((r) => r.Retention?.RetainUntilDate?.getTime() ?? 0)
        .catch((err) => { if (err?.name === 'NoSuchObjectLockConfiguration' || err?.$metadata?.httpStatusCode === 404) return 0; throw err; });
      if (current < until) {
        await s3.send(new sdk.PutObjectRetentionCommand({ Bucket: this.#s.bucket, Key: key, VersionId, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date(until) } }));
      }
      remember(this.#locks, name, Math.max(current, until));
    } catch (err) {
      throw storeError(err, `blob ${name}: Object Lock`);
    }
  }

  async legalHold(name: string, on: boolean): Promise<void> {
    try {
      const { s3, sdk } = await this.#client();
      await s3.send(new sdk.PutObjectLegalHoldCommand({ Bucket: this.#s.bucket, Key: this.#key(name), VersionId: await this.#version(name), LegalHold: { Status: on ? 'ON' : 'OFF' } }));
    } catch (err) {
      throw storeError(err, `blob ${name}: legal hold`);
    }
  }

  // Names with an archived version, in key order (a delete marker on top hides nothing from us).
  async *list(prefix: string): AsyncIterable<string> {
    const full = this.#s.prefix + prefix;
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    let last: string | null = null;
    const { s3, sdk } = await this.#client();
    do {
      const r = await s3.send(new sdk.ListObjectVersionsCommand({ Bucket: this.#s.bucket, Prefix: full, KeyMarker: keyMarker, VersionIdMarker: versionMarker }))
        .catch((err) => { throw storeError(err, `bucket ${this.#s.bucket}: listing ${prefix}`); });
      for (const v of r.Versions ?? []) {
        if (!v.Key || v.Key === last) continue;
        last = v.Key;
        yield v.Key.slice(this.#s.prefix.length);
      }
      keyMarker = r.IsTruncated ? r.NextKeyMarker : undefined;
      versionMarker = r.IsTruncated ? r.NextVersionIdMarker : undefined;
    } while (keyMarker);
  }

  close(): void {
    void this.#aws?.then(({ s3 }) => s3.destroy(), () => {});
  }
}

function isLockRefusal(err: any): boolean {
  return err?.name === 'AccessDenied' && /object lock|retention|legal hold/i.test(String(err?.message));
}

// Faults of the object store become "storage unavailable" (451 / 503) with what was being done;
// Sealbox's own errors pass as they are.
function storeError(err: unknown, what: string): Error {
  if (err instanceof SealboxError) return err;
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  if (status === 404 || e?.name === 'NoSuchKey' || e?.name === 'NotFound') return new SealboxError('SEALBOX_ERR_NOT_FOUND', `${what}: not in the bucket`, { cause: err });
  return new SealboxError('SEALBOX_ERR_STORE_UNAVAILABLE', `${what}: object storage failed: ${e?.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${e?.message ?? String(err)}`, { cause: err });
}

// A stream as buffers of exactly `size` bytes (the last may be shorter).
async function* partsOf(body: Readable, size: number): AsyncGenerator<Buffer> {
  let chunks: Buffer[] = [];
  let held = 0;
  for await (const c of body) {
    let chunk = Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
    while (held + chunk.length >= size) {
      const take = size - held;
      chunks.push(chunk.subarray(0, take));
      yield Buffer.concat(chunks, size);
      chunks = [];
      held = 0;
      chunk = chunk.subarray(take);
    }
    if (chunk.length > 0) {
      chunks.push(chunk);
      held += chunk.length;
    }
  }
  if (held > 0) yield Buffer.concat(chunks, held);
}

// The S3 keys from their own file (mode 0600, refused if others can read it), so that they are in
// neither the config nor the logs: {"accessKeyId": "...", "secretAccessKey": "..."}.
export function readS3Credentials(file: string): { accessKeyId: string; secretAccessKey: string } {
  const { content } = readOrCreateSecretFile(file, 'blobs.s3.credentialsFile', { create: false, make: () => '' });
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    throw new SealboxError('SEALBOX_ERR_CONFIG', `blobs.s3.credentialsFile ${file} is not JSON ({"accessKeyId": ..., "secretAccessKey": ...})`);
  }
  const { accessKeyId, secretAccessKey } = (parsed ?? {}) as Record<string, unknown>;
  if (typeof accessKeyId !== 'string' || !accessKeyId || typeof secretAccessKey !== 'string' || !secretAccessKey) {
    throw new SealboxError('SEALBOX_ERR_CONFIG', `blobs.s3.credentialsFile ${file} needs "accessKeyId" and "secretAccessKey" strings`);
  }
  return { accessKeyId, secretAccessKey };
}
