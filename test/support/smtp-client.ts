import { connect } from 'node:net';
import type { Socket } from 'node:net';

export interface Reply {
  code: number;
  text: string;
}

// A deliberately small SMTP/LMTP client for tests: it sends exactly the bytes it is given (only
// dot-stuffing is applied), so tests can compare stored bytes with what went over the wire and
// can send what a well-behaved library would refuse to.
export class RawSmtpClient {
  readonly socket: Socket;
  #buffer = '';
  #lines: string[] = [];
  #waiting: ((reply: Reply) => void)[] = [];
  #closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => this.#onData(chunk));
    socket.on('close', () => {
      this.#closed = true;
      for (const w of this.#waiting.splice(0)) w({ code: 0, text: 'connection closed' });
    });
    socket.on('error', () => {});
  }

  static async connect(port: number, options: { host?: string; lmtp?: boolean; helo?: string } = {}): Promise<RawSmtpClient> {
    const socket = connect(port, options.host ?? '127.0.0.1');
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new RawSmtpClient(socket);
    const greeting = await client.reply();
    if (greeting.code !== 220) throw new Error(`greeting: ${greeting.code} ${greeting.text}`);
    const hello = await client.command(`${options.lmtp ? 'LHLO' : 'EHLO'} ${options.helo ?? 'client.test'}`);
    if (hello.code !== 250) throw new Error(`hello: ${hello.code} ${hello.text}`);
    return client;
  }

  #onData(chunk: string): void {
    this.#buffer += chunk;
    let i: number;
    while ((i = this.#buffer.indexOf('\r\n')) >= 0) {
      const line = this.#buffer.slice(0, i);
      this.#buffer = this.#buffer.slice(i + 2);
      this.#lines.push(line);
      if (line[3] !== '-') {
        const text = this.#lines.map((l) => l.slice(4)).join('\n');
        this.#lines = [];
        const waiter = this.#waiting.shift();
        waiter?.({ code: Number(line.slice(0, 3)), text });
      }
    }
  }

  reply(): Promise<Reply> {
    if (this.#closed) return Promise.resolve({ code: 0, text: 'connection closed' });
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  command(line: string): Promise<Reply> {
    const reply = this.reply();
    this.socket.write(line + '\r\n', 'latin1');
    return reply;
  }

  // One transaction. Returns the final reply (SMTP) or one per accepted recipient (LMTP).
  // `pipelining`: MAIL, every RCPT and DATA in one write, their replies read after (RFC 2920, as
  // Postfix sends when the server offers PIPELINING); else each command waits for its reply.
  async send(envelope: { from: string; to: string[]; mailParams?: string }, data: Buffer, options: { lmtp?: boolean; pipelining?: boolean } = {}): Promise<{ mail: Reply; rcpt: Reply[]; data: Reply[] }> {
    const mailLine = `MAIL FROM:<${envelope.from}>${envelope.mailParams ? ' ' + envelope.mailParams : ''}`;
    let mail: Reply;
    let rcpt: Reply[] = [];
    let go: Reply | null = null;
    if (options.pipelining) {
      const lines = [mailLine, ...envelope.to.map((to) => `RCPT TO:<${to}>`), 'DATA'];
      const replies = lines.map(() => this.reply());
      this.socket.write(lines.map((l) => l + '\r\n').join(''), 'latin1');
      [mail, ...rcpt] = await Promise.all(replies) as [Reply, ...Reply[]];
      go = rcpt.pop()!;
    } else {
      mail = await this.command(mailLine);
      if (mail.code !== 250) return { mail, rcpt, data: [] };
      for (const to of envelope.to) rcpt.push(await this.command(`RCPT TO:<${to}>`));
    }
    const accepted = rcpt.filter((r) => r.code === 250).length;
    if (mail.code !== 250 || accepted === 0) {
      // A server that let a pipelined DATA through anyway waits for data: an empty message ends it.
      if (go?.code === 354) await this.command('.');
      return { mail, rcpt, data: go ? [go] : [] };
    }
    go ??= await this.command('DATA');
    if (go.code !== 354) return { mail, rcpt, data: [go] };
    const replies: Promise<Reply>[] = [];
    for (let i = 0; i < (options.lmtp ? accepted : 1); i++) replies.push(this.reply());
    // One write: a second small segment would wait for a delayed ACK (Nagle).
    const end = data.length === 0 || data.subarray(-2).equals(Buffer.from('\r\n')) ? '.\r\n' : '\r\n.\r\n';
    this.socket.write(Buffer.concat([dotStuff(data), Buffer.from(end)]));
    return { mail, rcpt, data: await Promise.all(replies) };
  }

  async quit(): Promise<void> {
    if (!this.#closed) await this.command('QUIT');
    this.socket.destroy();
  }
}

// RFC 5321 §4.5.2: a line (after CRLF) starting with "." gets one more.
export function dotStuff(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  if (data[0] === 0x2e) parts.push(Buffer.from('.'));
  for (let i = 0; i + 2 < data.length; i++) {
    if (data[i] === 0x0d && data[i + 1] === 0x0a && data[i + 2] === 0x2e) {
      parts.push(data.subarray(start, i + 2), Buffer.from('.'));
      start = i + 2;
    }
  }
  parts.push(data.subarray(start));
  return Buffer.concat(parts);
}

// What an MTA puts on the wire: every line ending CRLF, the last one too (the CRLF before the
// terminating "." belongs to the message, RFC 5321 §4.1.1.4).
export function toCrlf(data: Buffer): Buffer {
  const text = data.toString('latin1').replace(/\r?\n/g, '\r\n');
  return Buffer.from(text === '' || text.endsWith('\r\n') ? text : text + '\r\n', 'latin1');
}
