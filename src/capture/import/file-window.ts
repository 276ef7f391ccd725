import { readSync } from 'node:fs';

const BLOCK = 1024 * 1024;

// Random access to a large file through one cached block: the mbox reader searches for line
// starts, reads header blocks and jumps by Content-Length without holding the file in memory.
export class FileWindow {
  readonly size: number;
  readonly #fd: number;
  #block = Buffer.alloc(0);
  #start = 0;

  constructor(fd: number, size: number) {
    this.#fd = fd;
    this.size = size;
  }

  // The cached block, made to cover at least `want` bytes from pos (or up to the end).
  #at(pos: number, want: number): { buf: Buffer; start: number } {
    const end = Math.min(this.size, pos + want);
    if (pos < this.#start || end > this.#start + this.#block.length) {
      const length = Math.min(Math.max(BLOCK, want), this.size - pos);
      const buf = Buffer.allocUnsafe(length);
      let read = 0;
      while (read < length) {
        const n = readSync(this.#fd, buf, read, length - read, pos + read);
        if (n === 0) throw new Error(`file ended at ${pos + read} (expected ${this.size} bytes): was it changed during the import?`);
        read += n;
      }
      this.#block = buf;
      this.#start = pos;
    }
    return { buf: this.#block, start: this.#start };
  }

  byteAt(pos: number): number {
    if (pos < 0 || pos >= this.size) return -1;
    const { buf, start } = this.#at(pos, 1);
    return buf[pos - start];
  }

  // Bytes [start, end) as a buffer of their own.
  read(start: number, end: number): Buffer {
    const out = Buffer.allocUnsafe(end - start);
    let read = 0;
    while (read < out.length) {
      const n = readSync(this.#fd, out, read, out.length - read, start + read);
      if (n === 0) throw new Error(`file ended at ${start + read} (expected ${this.size} bytes): was it changed during the import?`);
      read += n;
    }
    return out;
  }

  // The first position at or after `from` where needle occurs, or -1.
  find(needle: Buffer, from: number): number {
    let pos = from;
    while (pos < this.size) {
      const { buf, start } = this.#at(pos, needle.length);
      const idx = buf.indexOf(needle, pos - start);
      if (idx >= 0) return start + idx;
      const end = start + buf.length;
      if (end >= this.size) return -1;
      pos = Math.max(pos + 1, end - needle.length + 1);
    }
    return -1;
  }

  // Where the line starting at pos ends (after its LF), or the file's end.
  lineEnd(pos: number): number {
    const lf = this.find(LF, pos);
    return lf < 0 ? this.size : lf + 1;
  }

  // Blocks of [start, end) cut after their last LF where there is one, so that a line start is
  // never split across two chunks (mboxrd unquoting looks at line starts).
  *lineChunks(start: number, end: number): Generator<Buffer> {
    let pos = start;
    while (pos < end) {
      let stop = Math.min(end, pos + BLOCK);
      if (stop < end) {
        const chunk = this.read(pos, stop);
        const lf = chunk.lastIndexOf(10);
        if (lf >= 0) stop = pos + lf + 1;
        yield stop === pos + chunk.length ? chunk : chunk.subarray(0, stop - pos);
      } else {
        yield this.read(pos, stop);
      }
      pos = stop;
    }
  }
}

const LF = Buffer.from('\n');
