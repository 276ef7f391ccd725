// Test helpers for Sealbox's milter: what the archive recorded, a raw milter client that sends
// exactly the bytes it is given, a miltertest runner, and an SMTP sink standing in for the next hop.
import { waitUntil } from './wait.ts';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SMTPServer } from 'smtp-server';
import type { Envelope } from '../../src/core/types.ts';
import { openArchive } from './archive.ts';

export const MILTERTEST = '/usr/bin/miltertest';

export interface StoredCapture {
  captureId: string;
  source: string;
  sha256: string;
  envelope: Envelope;
  provenance: { milter?: { mode: string; version: number; connect: unknown; macros: Record<string, unknown> } } | null;
}

/** Every capture of the archive, read straight from its database (read-only). */
export function storedCaptures(data: string, source = 'milter'): StoredCapture[] {
  const db = new DatabaseSync(path.join(data, 'sealbox.db'), { readOnly: true });
  try {
    const rows = db.prepare('SELECT c.capture_id, c.source, c.envelope, c.provenance, m.sha256 FROM capture c JOIN message m ON m.id = c.message WHERE c.source = ? ORDER BY c.id').all(source) as Record<string, string>[];
    return rows.map((r) => ({
      captureId: r.capture_id!, source: r.source!, sha256: r.sha256!,
      envelope: JSON.parse(r.envelope!) as Envelope, provenance: r.provenance ? JSON.parse(r.provenance) : null,
    }));
  } finally {
    db.close();
  }
}

/** The archived bytes of one message, read in this process (checked against its GCM tag). */
export async function archivedBytes(data: string, sha256: string): Promise<Buffer> {
  const archive = await openArchive(data);
  try {
    return await archive.stores.reader.buffer(await archive.read((tx) => archive.stores.reader.message(tx, sha256)));
  } finally {
    archive.close();
  }
}

export interface SinkMessage {
  from: string;
  to: string[];
  raw: Buffer;
}

/** The next hop: an SMTP server that keeps whatever it is given. */
export async function startSink(): Promise<{ port: number; messages: SinkMessage[]; close(): Promise<void> }> {
  const messages: SinkMessage[] = [];
  const server = new SMTPServer({
    authOptional: true, disabledCommands: ['AUTH', 'STARTTLS'], logger: false, disableReverseLookup: true,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as net.AddressInfo).port;
  return { port, messages, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Postfix does not show milters the Received: header it adds itself: the copy it delivers is the
 *  archived message with that header in front. This removes it (the first field, folded lines too). */
export function withoutFirstHeader(raw: Buffer): Buffer {
  let i = raw.indexOf('\r\n');
  while (i >= 0 && (raw[i + 2] === 0x20 || raw[i + 2] === 0x09)) i = raw.indexOf('\r\n', i + 2);
  return raw.subarray(i + 2);
}

export function miltertestSkipReason(): string | undefined {
  if (existsSync(MILTERTEST)) return undefined;
  const reason = `${MILTERTEST} not installed`;
  if (process.env.CI) throw new Error(`miltertest is required in CI: ${reason} (scripts/install-peers.sh installs it)`);
  return reason;
}

/** Runs a miltertest Lua script (written to a temp dir) against the filter at 127.0.0.1:port. */
export function miltertest(script: string, port: number, timeoutMs = 60_000): Promise<{ code: number | null; output: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sealbox-miltertest-'));
  const file = path.join(dir, 'test.lua');
  writeFileSync(file, `conn = mt.connect("inet:${port}@127.0.0.1")\nif conn == nil then error("mt.connect() failed") end\n${script}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(MILTERTEST, ['-s', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => { output += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { output += c.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => { clearTimeout(timer); rmSync(dir, { recursive: true, force: true }); reject(err); });
    child.on('close', (code) => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, output });
    });
  });
}

/** A milter client that writes exactly the packets (or bytes) it is given and reads replies. */
export class RawMilterClient {
  readonly socket: net.Socket;
  #buffer = Buffer.alloc(0);
  #waiting: (() => void)[] = [];
  #ended = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#wake();
    });
    socket.on('close', () => {
      this.#ended = true;
      this.#wake();
    });
    socket.on('error', () => {});
  }

  static async connect(port: number): Promise<RawMilterClient> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawMilterClient(socket);
  }

  #wake(): void {
    for (const w of this.#waiting.splice(0)) w();
  }

  /** Whether the filter closed the connection. */
  get closed(): boolean {
    return this.#ended;
  }

  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  send(command: string, ...fields: (Buffer | string)[]): void {
    const data = Buffer.concat(fields.map((f) => (typeof f === 'string' ? Buffer.from(f, 'latin1') : f)));
    this.writeRaw(packet(command, data));
  }

  /** The next reply packet, or null if the filter closed the connection first. */
  async read(timeoutMs = 10_000): Promise<{ command: string; data: Buffer } | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#buffer.length >= 4) {
        const length = this.#buffer.readUInt32BE(0);
        if (this.#buffer.length >= 4 + length) {
          const body = this.#buffer.subarray(4, 4 + length);
          this.#buffer = this.#buffer.subarray(4 + length);
          return { command: String.fromCharCode(body[0]!), data: Buffer.from(body.subarray(1)) };
        }
      }
      if (this.#ended) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no reply from the filter in time');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiting.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  /** Resolves once the filter has closed the connection. */
  async waitClosed(timeoutMs = 10_000): Promise<void> {
    await waitUntil('filter closes the connection', () => this.#ended, { timeoutMs });
  }

  /** Option negotiation as Postfix does it (version 6, every action, every protocol step). */
  async negotiate(version = 6, actions = 0x1ff, protocol = 0x1fffff): Promise<{ version: number; actions: number; protocol: number; macros: Buffer }> {
    this.send('O', u32(version), u32(actions), u32(protocol));
    const reply = await this.read();
    if (!reply || reply.command !== 'O') throw new Error(`negotiation answered ${reply ? reply.command : 'by closing'}`);
    return { version: reply.data.readUInt32BE(0), actions: reply.data.readUInt32BE(4), protocol: reply.data.readUInt32BE(8), macros: reply.data.subarray(12) };
  }

  close(): void {
    this.socket.destroy();
  }
}

// A whole, well-formed message over a raw socket; replies are expected for every step unless
// the negotiation granted no-reply flags (offer them with `protocol`).
export async function rawMessage(c: RawMilterClient, queueId: string, body: string, options: { replies: boolean }): Promise<string> {
  const step = async (command: string, ...fields: (Buffer | string)[]) => {
    c.send(command, ...fields);
    if (options.replies) assert.equal((await c.read())?.command, 'c', `reply to ${command}`);
  };
  c.send('D', 'M', z('i', queueId));
  await step('M', z('<sender@example.test>'));
  await step('R', z('<rcpt@example.test>'));
  await step('T');
  await step('L', z('Subject', ` ${queueId}`));
  await step('N');
  await step('B', body);
  c.send('E');
  const reply = await c.read();
  return reply ? reply.command : 'closed';
}

export function packet(command: string, data: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(data.length + 1, 0);
  head[4] = command.charCodeAt(0);
  return Buffer.concat([head, data]);
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}

export function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n, 0);
  return b;
}

/** NUL-terminated strings, as the milter protocol carries them. */
export function z(...strings: string[]): Buffer {
  return Buffer.concat(strings.map((s) => Buffer.from(s + '\0', 'utf8')));
}
