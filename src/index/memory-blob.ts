import { Buffer } from 'node:buffer';
import type { BlobOptions } from 'node:buffer';
import { EOL } from 'node:os';

const NativeBlob = globalThis.Blob;

type BlobSource = ArrayBuffer | SharedArrayBuffer | NodeJS.ArrayBufferView | string | Blob;

/**
 * A Blob whose bytes are joined into one buffer when it is made, so reading it back costs
 * one copy. postal-mime joins the decoded lines of every MIME part through
 * `new Blob(lines).arrayBuffer()`; Node's Blob makes a native part per line and reads them
 * back asynchronously, chunk by chunk, which was three quarters of the indexer's parsing
 * time (and two thirds of a page of search snippets' on the server's thread). Whatever loads
 * the parser makes it its thread's global Blob (installMemoryBlob): the indexer's thread, an
 * attachment extractor, and the main thread of the server or a command (snippets, the viewer).
 * Anything that cannot be joined synchronously (a native Blob among the parts), and the
 * rarely used methods, are handed to a native Blob, so they behave exactly as Node's.
 * Not for structured cloning (postMessage), which would copy the empty native base.
 */
export class MemoryBlob extends NativeBlob {
  // The joined bytes, or null when a native Blob holds them.
  readonly #bytes: Buffer | null;
  readonly #native: Blob | null;
  readonly #type: string;

  constructor(blobParts: Iterable<BlobSource> = [], options: BlobOptions = {}) {
    super([]);
    const parts = Array.isArray(blobParts) ? blobParts : [...blobParts];
    if (options.endings === 'native' || parts.some((p) => p instanceof NativeBlob && !(p instanceof MemoryBlob))) {
      this.#native = new NativeBlob(parts as (ArrayBuffer | string | NodeJS.ArrayBufferView | Blob)[], options);
      this.#bytes = null;
      this.#type = this.#native.type;
      return;
    }
    if (options.endings !== undefined && options.endings !== 'transparent') {
      throw new TypeError(`The provided value '${options.endings}' is not a valid enum value of type EndingType.`);
    }
    let size = 0;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (typeof part === 'string') size += Buffer.byteLength(part, 'utf8');
      else if (ArrayBuffer.isView(part) || part instanceof ArrayBuffer || part instanceof SharedArrayBuffer) size += part.byteLength;
      else if (part instanceof MemoryBlob) size += part.size;
      else size += Buffer.byteLength((parts[i] = String(part)), 'utf8');
    }
    // A copy, as a Blob does not change with its sources.
    const bytes = Buffer.allocUnsafe(size);
    let offset = 0;
    for (const part of parts) {
      if (typeof part === 'string') offset += bytes.write(part, offset, 'utf8');
      else if (ArrayBuffer.isView(part)) offset += Buffer.from(part.buffer, part.byteOffset, part.byteLength).copy(bytes, offset);
      else if (part instanceof MemoryBlob) offset += part.#bytes!.copy(bytes, offset);
      else offset += Buffer.from(part as ArrayBuffer).copy(bytes, offset);
    }
    this.#bytes = bytes;
    this.#native = null;
    const type = options.type === undefined ? '' : String(options.type);
    this.#type = type && /^[\x20-\x7e]*$/.test(type) ? type.toLowerCase() : '';
  }

  // @ts-expect-error: an accessor, as on Blob.prototype (its typings declare a property).
  override get size(): number {
    return this.#bytes ? this.#bytes.length : this.#native!.size;
  }

  // @ts-expect-error: as size.
  override get type(): string {
    return this.#type;
  }

  override async bytes(): Promise<Uint8Array> {
    // A fresh ArrayBuffer of exactly this size for every call, as Blob gives.
    return this.#bytes ? new Uint8Array(this.#bytes) : this.#native!.bytes();
  }

  override async arrayBuffer(): Promise<ArrayBuffer> {
    return this.#bytes ? new Uint8Array(this.#bytes).buffer : this.#native!.arrayBuffer();
  }

  override async text(): Promise<string> {
    return this.#bytes ? new TextDecoder().decode(this.#bytes) : this.#native!.text();
  }

  override slice(start?: number, end?: number, contentType?: string): Blob {
    return this.#asNative().slice(start, end, contentType);
  }

  override stream(): ReturnType<Blob['stream']> {
    return this.#asNative().stream();
  }

  override textStream(): ReturnType<Blob['textStream']> {
    return this.#asNative().textStream();
  }

  #asNative(): Blob {
    return this.#native ?? new NativeBlob([this.#bytes!], { type: this.#type });
  }
}

// postal-mime looks the global Blob up each time it joins a part's lines.
export function installMemoryBlob(): void {
  globalThis.Blob = MemoryBlob;
}
