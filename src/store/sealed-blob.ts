import { createCipheriv, createDecipheriv, createHash, createSecretKey } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { PassThrough, Readable, Transform } from 'node:stream';
import type { Writable } from 'node:stream';
import type { ZstdCompress, ZstdDecompress } from 'node:zlib';
import { constants, createZstdCompress, createZstdDecompress, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { freshBytes } from '../core/random.ts';
import type { KeyProvider } from './key-provider.ts';

// A message at rest: zstd-compressed, then AES-256-GCM under its own data key, which is wrapped
// by the master key. Destroying the wrapped key destroys the message (crypto-shredding).

export interface SealMeta {
  sha256: string;       // identity of the raw bytes
  size: number;         // raw size
  sealedLength: number; // bytes in the blob store
  compression: 'zstd';
  nonce: Buffer;
  tag: Buffer;
  wrappedKey: Buffer;
  keyId: string;
}

const ZSTD_LEVEL = 3;
const zstdParams = { params: { [constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL } };

export async function sealBuffer(raw: Buffer, keys: KeyProvider): Promise<{ sealed: Buffer; meta: SealMeta }> {
  const sha256 = createHash('sha256').update(raw).digest('hex');
  const dataKey = freshBytes(32);
  const nonce = freshBytes(12);
  // As a KeyObject (see openSealedBuffer): made and set up in 9 us, from the Buffer 17-25 us.
  const cipher = createCipheriv('aes-256-gcm', createSecretKey(dataKey), nonce);
  const head = cipher.update(compressFrame(raw));
  const tail = cipher.final();
  // Held until the batch commits: a buffer of its own, not a slice of a shared pool slab.
  const sealed = tail.length === 0 ? head : Buffer.concat([head, tail]);
  return {
    sealed,
    meta: { sha256, size: raw.length, sealedLength: sealed.length, compression: 'zstd', nonce, tag: cipher.getAuthTag(), wrappedKey: await keys.wrap(dataKey), keyId: keys.keyId },
  };
}

// Seals a stream of unknown length into `sink` with memory bounded by the stream buffers,
// so a 100 MB message costs no more memory than a small one.
export class SealingStream {
  readonly #hash: Hash = createHash('sha256');
  readonly #input = new PassThrough();
  readonly #dataKey = freshBytes(32);
  readonly #nonce = freshBytes(12);
  readonly #cipher = createCipheriv('aes-256-gcm', createSecretKey(this.#dataKey), this.#nonce);
  readonly #done: Promise<void>;
  readonly #keys: KeyProvider;
  #size = 0;
  #sealedLength = 0;

  constructor(keys: KeyProvider, sink: Writable) {
    this.#keys = keys;
    const count = new Transform({
      transform: (chunk: Buffer, _enc, cb) => { this.#sealedLength += chunk.length; cb(null, chunk); },
    });
    this.#done = pipeline(this.#input, createZstdCompress(zstdParams), this.#cipher, count, sink);
    this.#done.catch(() => {}); // surfaced by finish()
  }

  async write(chunk: Buffer): Promise<void> {
    this.#hash.update(chunk);
    this.#size += chunk.length;
    // If the pipeline fails (disk full), 'drain' never comes: the failure must end the wait.
    if (!this.#input.write(chunk)) await Promise.race([new Promise<void>((resolve) => this.#input.once('drain', resolve)), this.#done]);
  }

  async finish(): Promise<SealMeta> {
    this.#input.end();
    await this.#done;
    return {
      sha256: this.#hash.digest('hex'), size: this.#size, sealedLength: this.#sealedLength, compression: 'zstd',
      nonce: this.#nonce, tag: this.#cipher.getAuthTag(), wrappedKey: await this.#keys.wrap(this.#dataKey), keyId: this.#keys.keyId,
    };
  }

  abort(): void {
    this.#input.destroy(new Error('aborted'));
  }
}

// Output chunks of a large message's decompression: zstd's default of 16 KB made six thousand
// chunks of a 100 MB message, each a turn of the stream machinery; 256 KB took half the CPU.
const STREAM_CHUNK = 256 * 1024;

// The raw bytes back, as a stream. The GCM tag is checked at the end: a changed byte errors the
// stream, as does a key the provider will not unwrap.
export function openSealed(sealed: Readable, meta: Pick<SealMeta, 'nonce' | 'tag' | 'wrappedKey' | 'keyId'>, keys: KeyProvider): Readable {
  const out = new PassThrough();
  keys.unwrap(meta.wrappedKey, meta.keyId).then((dataKey) => {
    const decipher = createDecipheriv('aes-256-gcm', dataKey, meta.nonce);
    decipher.setAuthTag(meta.tag);
    return pipeline(sealed, decipher, createZstdDecompress({ chunkSize: STREAM_CHUNK }), out);
  }).catch((err) => {
    sealed.destroy();
    out.destroy(err);
  });
  return out;
}

// The same for a blob held in memory whole; throws if a byte was changed.
export async function openSealedBuffer(sealed: Buffer, meta: Pick<SealMeta, 'nonce' | 'tag' | 'wrappedKey' | 'keyId'>, keys: KeyProvider): Promise<Buffer> {
  // As a KeyObject: Node sets up a cipher from one in half the time it takes from a Buffer.
  const decipher = createDecipheriv('aes-256-gcm', createSecretKey(await keys.unwrap(meta.wrappedKey, meta.keyId)), meta.nonce);
  decipher.setAuthTag(meta.tag);
  const compressed = decipher.update(sealed);
  const last = decipher.final();
  return decompressFrame(last.length ? Buffer.concat([compressed, last]) : compressed);
}

// A message read whole decompresses to at most 1 MB (SMALL_MESSAGE_BYTES); one larger than this
// is left to zstdDecompressSync.
const FRAME_OUT = 2 * 1024 * 1024;
type Decompressor = ZstdDecompress & { _handle: ZstdHandle | null; _writeState: Uint32Array };
type Compressor = ZstdCompress & { _handle: ZstdHandle | null; _writeState: Uint32Array };
interface ZstdHandle {
  reset(): void;
  writeSync(flush: number, input: Buffer, inOffset: number, inLength: number, out: Buffer, outOffset: number, outLength: number): void;
}
// `clean`: the context's last frame ended where its input did, nothing of it or after it left in
// the context, so the next frame needs no reset (resetting a zstd context through Node costs ~11 us,
// four times decompressing a 6 KB message: it is done only after anything else).
let frames: { stream: Decompressor; out: Buffer; clean: boolean } | null = null;
let compressor: { stream: Compressor; out: Buffer; clean: boolean } | null = null;

// zstdCompressSync(raw) for a message sealed whole, with one zstd context per thread, as
// decompressFrame below does for reading. zstdCompressSync builds a stream, a context and a 16 KB
// output buffer per call, and the stream, held by its native handle, outlives the young
// generation: on the receiving thread each message left its output buffer's 64 KB pool slab to
// the next full collection, tens of MB at a time while mail comes in. The frame is the one
// zstdCompressSync makes. Returned as a view of this thread's output buffer, valid until the next
// call; anything but one whole frame written goes to zstdCompressSync.
function compressFrame(raw: Buffer): Buffer {
  // ZSTD_COMPRESSBOUND, with room to spare; the output buffer grows to what the messages need.
  const bound = raw.length + (raw.length >> 7) + 1024;
  if (bound <= FRAME_OUT) {
    try {
      if (!compressor || compressor.out.length < bound) {
        compressor = { stream: compressor?.stream ?? createZstdCompress(zstdParams).on('error', () => {}) as Compressor, out: Buffer.allocUnsafeSlow(Math.max(64 * 1024, bound)), clean: compressor?.clean ?? false };
      }
      const { stream, out } = compressor;
      const handle = stream._handle!;
      if (!compressor.clean) handle.reset();
      compressor.clean = false;
      handle.writeSync(constants.ZSTD_e_end, raw, 0, raw.length, out, 0, out.length);
      const [outLeft, inLeft] = stream._writeState;
      if (stream._handle === handle && inLeft === 0 && outLeft! > 0) {
        // Every byte read and room left: the frame's end is written, and the context starts the next.
        compressor.clean = true;
        return out.subarray(0, out.length - outLeft!);
      }
    } catch {
      // below
    }
    if (!compressor?.stream._handle) compressor = null;
  }
  return zstdCompressSync(raw, zstdParams);
}

// zstdDecompressSync(frame), with one zstd context per thread, reset after anything but one
// whole frame (frameExtent). Node has no public way to reuse one: zstdDecompressSync builds a
// stream and a context per call, and that set-up was two thirds of re-reading a small message
// (verify on the corpus: ~45 of ~70 us).
// So this drives a decompressor's native handle as zstdDecompressSync drives it, and whenever
// the result is not plainly one whole frame decoded (an error, bytes left over, an output that
// fills the buffer, a Node whose internals differ) it hands the frame to zstdDecompressSync,
// whose answer, or error, stands.
export function decompressFrame(frame: Buffer): Buffer {
  try {
    frames ??= { stream: createZstdDecompress().on('error', () => {}) as Decompressor, out: Buffer.allocUnsafe(FRAME_OUT), clean: false };
    const { stream, out } = frames;
    const handle = stream._handle!;
    // Anything but one whole frame that says its size is read on a context just reset, as before.
    const extent = frameExtent(frame);
    const whole = extent !== null && extent.length === frame.length;
    if (!frames.clean || !whole) handle.reset();
    frames.clean = false;
    handle.writeSync(constants.ZSTD_e_end, frame, 0, frame.length, out, 0, out.length);
    const [outLeft, inLeft] = stream._writeState;
    if (stream._handle === handle && inLeft === 0 && outLeft! > 0) {
      const length = out.length - outLeft!;
      frames.clean = whole && extent.contentSize === length;
      return Buffer.from(out.subarray(0, length));
    }
  } catch {
    // below
  }
  if (!frames?.stream._handle) frames = null; // an error closes the stream: the next frame opens another
  return zstdDecompressSync(frame);
}

// The length of the zstd frame `b` starts with and the size it says it decompresses to, from its
// header and its blocks' headers (RFC 8878, 3.1.1), or null when it is no such frame or does not
// say its size.
export function frameExtent(b: Buffer): { length: number; contentSize: number } | null {
  if (b.length < 6 || b.readUInt32LE(0) !== 0xFD2FB528) return null;
  const descriptor = b[4]!;
  const singleSegment = (descriptor & 0x20) !== 0;
  const sizeFlag = descriptor >> 6;
  const sizeBytes = sizeFlag === 0 ? (singleSegment ? 1 : 0) : 1 << sizeFlag;
  let at = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][descriptor & 3]!;
  if (sizeBytes === 0 || at + sizeBytes > b.length) return null;
  const contentSize = sizeBytes === 1 ? b[at]! : sizeBytes === 2 ? b.readUInt16LE(at) + 256 : sizeBytes === 4 ? b.readUInt32LE(at) : Number(b.readBigUInt64LE(at));
  at += sizeBytes;
  for (let last = false; !last;) {
    if (at + 3 > b.length) return null;
    const header = b.readUIntLE(at, 3);
    const type = (header >> 1) & 3;   // raw, RLE (one byte repeated), compressed, reserved
    if (type === 3) return null;
    at += 3 + (type === 1 ? 1 : header >>> 3);
    last = (header & 1) === 1;
  }
  if (descriptor & 4) at += 4;        // the content checksum
  return at <= b.length ? { length: at, contentSize } : null;
}
