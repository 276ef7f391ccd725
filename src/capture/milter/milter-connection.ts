import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { SealboxError } from '../../core/errors.ts';
import {
  MilterProtocolError, PacketReader, decodeArgs, decodeConnect, decodeHeader, decodeMacro, decodeOptNeg, decodeString,
  encodeOptNeg, encodePacket, encodeReplyCode, expectEmpty,
} from './milter-codec.ts';
import type { ConnectInfo, Packet } from './milter-codec.ts';
import {
  Command, Flag, MACROS_WANTED, MAX_HEADERS, MIN_PROTOCOL_VERSION, NO_REPLY_FLAG, PROTOCOL_VERSION, Reply, SMFIF_SETSYMLIST,
  WANTED_FLAGS, commandName,
} from './milter-protocol.ts';

export type Macros = Record<string, string>;

// What the MTA told us about the SMTP connection it is filtering.
export interface MilterSession {
  readonly id: string;                              // our connection id (cid in logs)
  readonly peer: { address: string; port: number }; // the MTA's own connection to Sealbox
  version: number;                                  // negotiated protocol version
  protocol: number;                                 // negotiated SMFIP_* flags
  connect: ConnectInfo | null;
  helo: string | null;
  macros: { connect: Macros; helo: Macros };
}

// One message: MAIL to end-of-message (or ABORT).
export interface MilterTransaction {
  readonly mail: string[];                          // <sender> then ESMTP parameters, as sent
  readonly rcpts: { args: string[]; macros: Macros }[];
  readonly macros: { mail: Macros; data: Macros; eoh: Macros; eom: Macros };
  headers: number;
}

export type Verdict =
  | { reply: 'continue' }
  | { reply: 'tempfail' }
  | { reply: 'reject'; code: number; enhanced: string; message: string };

// Where a message's bytes go, from MAIL on: headers rebuilt as "name:value\r\n", the blank line,
// then the body chunks as the MTA sends them.
export interface MessageSink {
  write(bytes: Buffer): Promise<void>;
  end(): Promise<Verdict>;   // end of message: every byte has been written
  abort(): Promise<void>;    // no end of message will come
}

export interface MilterHandler {
  open(session: MilterSession, tx: MilterTransaction): MessageSink;
  // The answer at end of message for a message that could not be kept (a fault or a limit).
  failed(err: unknown, session: MilterSession, tx: MilterTransaction): Verdict;
}

const CRLF = Buffer.from('\r\n');
const COLON = Buffer.from(':');
const COLON_SPACE = Buffer.from(': ');
const LF = 0x0a;
const CR = 0x0d;

interface Message {
  tx: MilterTransaction;
  sink: MessageSink;
  separated: boolean;        // the blank line between header and body has been written
  failure: unknown;          // set once the message cannot be kept; its bytes are then dropped
  state: 'envelope' | 'content';
}

// The per-connection state machine: option negotiation, then any number of SMTP connections
// (QUIT_NC) each with any number of messages (MAIL … end-of-message or ABORT). Packets are
// handled one at a time, and the socket is not read while one is being handled, so a slow
// store slows the MTA instead of filling memory.
export class MilterConnection {
  readonly session: MilterSession;
  readonly #socket: Socket;
  readonly #handler: MilterHandler;
  readonly #log: Logger;
  readonly #maxRecipients: number;
  #negotiated = false;
  #pendingMailMacros: Macros = {};   // macros for the MAIL or RCPT command that comes next
  #pendingRcptMacros: Macros = {};
  #message: Message | null = null;
  #busy = false;
  #closing = false;
  #closed = false;

  constructor(socket: Socket, id: string, handler: MilterHandler, options: { log: Logger; maxRecipients: number }) {
    this.#socket = socket;
    this.#handler = handler;
    this.#log = options.log;
    this.#maxRecipients = options.maxRecipients;
    this.session = {
      id, peer: { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 },
      version: 0, protocol: 0, connect: null, helo: null, macros: { connect: {}, helo: {} },
    };
  }

  // Reads and answers packets until the MTA quits, the socket closes or a packet is malformed.
  async run(): Promise<void> {
    const reader = new PacketReader();
    try {
      for await (const chunk of this.#socket as AsyncIterable<Buffer>) {
        for (const packet of reader.push(chunk)) {
          this.#busy = true;
          try {
            await this.#handle(packet);
          } finally {
            this.#busy = false;
          }
          if (this.#closed || this.#closing) return;
        }
      }
      if (reader.pending > 0) throw new MilterProtocolError(`connection closed inside a packet (${reader.pending} bytes of it received)`);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (err instanceof MilterProtocolError) this.#log.warn({ cid: this.session.id, err: err.message }, 'milter protocol error; connection closed');
      else if (this.#closing || code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE') this.#log.debug({ cid: this.session.id, code }, 'milter connection ended');
      else this.#log.error({ cid: this.session.id, err }, 'milter connection failed');
    } finally {
      this.#closed = true;
      await this.#abortMessage();
      this.#socket.destroy();
    }
  }

  // Stop after the packet being handled (if any) has been answered.
  shutdown(): void {
    this.#closing = true;
    if (!this.#busy) this.#socket.destroy();
  }

  async #handle(packet: Packet): Promise<void> {
    const { command, data } = packet;
    if (!this.#negotiated && command !== Command.OPTNEG) throw new MilterProtocolError(`${commandName(command)} before option negotiation`);
    switch (command) {
      case Command.OPTNEG: return this.#optneg(data);
      case Command.MACRO: return this.#macro(data);
      case Command.CONNECT: {
        if (this.session.connect) throw new MilterProtocolError('a second SMFIC_CONNECT without SMFIC_QUIT_NC');
        this.session.connect = decodeConnect(data);
        return this.#continue(command);
      }
      case Command.HELO:
        // EHLO again after STARTTLS, or HELO mid-envelope (Postfix sends ABORT next): latest wins.
        this.session.helo = decodeString(data, 'SMFIC_HELO');
        return this.#continue(command);
      case Command.MAIL: return this.#mail(data);
      case Command.RCPT: {
        const message = this.#inEnvelope(command);
        if (message.tx.rcpts.length >= this.#maxRecipients) this.#fail(message, new SealboxError('SEALBOX_ERR_TOO_MANY_RECIPIENTS'));
        else message.tx.rcpts.push({ args: decodeArgs(data, 'SMFIC_RCPT'), macros: this.#pendingRcptMacros });
        this.#pendingRcptMacros = {};
        return this.#continue(command);
      }
      case Command.DATA:
        expectEmpty(packet);
        this.#inEnvelope(command);
        return this.#continue(command);
      case Command.HEADER: return this.#header(data);
      case Command.EOH: {
        expectEmpty(packet);
        const message = this.#inContent(command);
        if (message.separated) throw new MilterProtocolError('SMFIC_EOH after the end of the header');
        await this.#separate(message);
        return this.#continue(command);
      }
      case Command.BODY: {
        const message = this.#inContent(command);
        await this.#separate(message);
        await this.#write(message, data);
        return this.#continue(command);
      }
      case Command.BODYEOB: return this.#endOfMessage(data);
      case Command.ABORT:
        expectEmpty(packet);
        return this.#abortMessage();
      case Command.UNKNOWN:
        decodeString(data, 'SMFIC_UNKNOWN');
        return this.#continue(command);
      case Command.QUIT_NC:
        // The MTA keeps the socket for its next SMTP connection: start over, negotiation kept.
        expectEmpty(packet);
        await this.#abortMessage();
        this.session.connect = null;
        this.session.helo = null;
        this.session.macros = { connect: {}, helo: {} };
        return;
      case Command.QUIT:
        expectEmpty(packet);
        this.#closed = true;
        return;
      default:
        throw new MilterProtocolError(commandName(command));
    }
  }

  #optneg(data: Buffer): void {
    if (this.#negotiated) throw new MilterProtocolError('a second SMFIC_OPTNEG');
    const offer = decodeOptNeg(data);
    if (offer.version < MIN_PROTOCOL_VERSION) throw new MilterProtocolError(`MTA speaks milter protocol version ${offer.version}; at least ${MIN_PROTOCOL_VERSION} is needed`);
    const version = Math.min(offer.version, PROTOCOL_VERSION);
    // An MTA offering fewer steps than we want simply sends (and waits for) more.
    const protocol = offer.protocol & WANTED_FLAGS;
    const actions = version >= 6 ? offer.actions & SMFIF_SETSYMLIST : 0;
    this.session.version = version;
    this.session.protocol = protocol;
    this.#negotiated = true;
    this.#send(encodeOptNeg({ version, actions, protocol }, actions ? MACROS_WANTED : null));
  }

  // Macros arrive just before the command they belong to, even for steps the filter skips.
  #macro(data: Buffer): void {
    const { for: stage, macros } = decodeMacro(data);
    const values: Macros = Object.fromEntries(macros);
    const tx = this.#message?.tx;
    switch (stage) {
      case Command.CONNECT: this.session.macros.connect = values; break;
      case Command.HELO: this.session.macros.helo = values; break;
      case Command.MAIL: this.#pendingMailMacros = values; break;
      case Command.RCPT: this.#pendingRcptMacros = values; break;
      case Command.DATA: if (tx) tx.macros.data = values; break;
      case Command.EOH: if (tx) tx.macros.eoh = values; break;
      case Command.BODYEOB: if (tx) tx.macros.eom = values; break;
      // Postfix repeats the end-of-header macros with each header and the end-of-message ones
      // with each body chunk; nothing new in them.
      default: break;
    }
  }

  async #mail(data: Buffer): Promise<void> {
    const args = decodeArgs(data, 'SMFIC_MAIL');
    const macros = this.#pendingMailMacros;
    // A MAIL without ABORT after an unfinished message: that message is over.
    await this.#abortMessage();
    const tx: MilterTransaction = { mail: args, rcpts: [], macros: { mail: macros, data: {}, eoh: {}, eom: {} }, headers: 0 };
    const sink = this.#handler.open(this.session, tx);
    this.#message = { tx, sink, separated: false, failure: null, state: 'envelope' };
    this.#continue(Command.MAIL);
  }

  async #header(data: Buffer): Promise<void> {
    const message = this.#inContent(Command.HEADER);
    if (message.separated) throw new MilterProtocolError('SMFIC_HEADER after the end of the header');
    const { name, value } = decodeHeader(data);
    message.tx.headers += 1;
    if (message.tx.headers > MAX_HEADERS) {
      this.#fail(message, new SealboxError('SEALBOX_ERR_MESSAGE_TOO_LARGE', `more than ${MAX_HEADERS} header fields`));
    } else {
      // With SMFIP_HDR_LEADSPC the value keeps its white space after the colon; otherwise the
      // MTA ate one space, which is put back. Folded lines come separated by a bare LF.
      const sep = this.session.protocol & Flag.HDR_LEADSPC ? COLON : COLON_SPACE;
      await this.#write(message, Buffer.concat([name, sep, crlfLines(value), CRLF]));
    }
    this.#continue(Command.HEADER);
  }

  async #endOfMessage(data: Buffer): Promise<void> {
    const message = this.#message;
    if (!message) throw new MilterProtocolError('SMFIC_BODYEOB outside a message');
    message.state = 'content';
    // libmilter accepts a last body chunk carried by the end-of-message packet itself.
    await this.#separate(message);
    if (data.length > 0) await this.#write(message, data);
    this.#message = null;
    let verdict: Verdict;
    if (message.failure !== null) {
      await message.sink.abort().catch(() => {});
      verdict = this.#handler.failed(message.failure, this.session, message.tx);
    } else {
      try {
        verdict = await message.sink.end();
      } catch (err) {
        await message.sink.abort().catch(() => {});
        verdict = this.#handler.failed(err, this.session, message.tx);
      }
    }
    if (verdict.reply === 'continue') this.#send(encodePacket(Reply.CONTINUE));
    else if (verdict.reply === 'tempfail') this.#send(encodePacket(Reply.TEMPFAIL));
    else this.#send(encodeReplyCode(verdict.code, verdict.enhanced, verdict.message));
  }

  async #abortMessage(): Promise<void> {
    const message = this.#message;
    this.#message = null;
    this.#pendingMailMacros = {};
    this.#pendingRcptMacros = {};
    if (message) await message.sink.abort().catch((err) => this.#log.error({ cid: this.session.id, err }, 'discarding an aborted message failed'));
  }

  #inEnvelope(command: number): Message {
    const message = this.#message;
    if (!message) throw new MilterProtocolError(`${commandName(command)} outside a message`);
    if (message.state !== 'envelope') throw new MilterProtocolError(`${commandName(command)} after the message content began`);
    return message;
  }

  #inContent(command: number): Message {
    const message = this.#message;
    if (!message) throw new MilterProtocolError(`${commandName(command)} outside a message`);
    message.state = 'content';
    return message;
  }

  async #separate(message: Message): Promise<void> {
    if (message.separated) return;
    message.separated = true;
    await this.#write(message, CRLF);
  }

  // A sink that fails (disk full, too large) keeps the connection in step: the rest of the
  // message is read and dropped, and end of message gets the answer for the failure.
  async #write(message: Message, bytes: Buffer): Promise<void> {
    if (message.failure !== null) return;
    try {
      await message.sink.write(bytes);
    } catch (err) {
      this.#fail(message, err);
    }
  }

  #fail(message: Message, err: unknown): void {
    if (message.failure !== null) return;
    message.failure = err;
    void message.sink.abort().catch(() => {});
  }

  #continue(command: number): void {
    const flag = NO_REPLY_FLAG[command];
    if (flag !== undefined && this.session.protocol & flag) return;
    this.#send(encodePacket(Reply.CONTINUE));
  }

  #send(bytes: Buffer): void {
    if (!this.#socket.destroyed) this.#socket.write(bytes);
  }
}

// Header values come with folded lines separated by a bare LF (Sendmail's convention, which
// Postfix follows); on the wire and in the archive they are CRLF.
function crlfLines(value: Buffer): Buffer {
  if (!value.includes(LF)) return value;
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    if (value[i] !== LF || (i > 0 && value[i - 1] === CR)) continue;
    parts.push(value.subarray(start, i), CRLF);
    start = i + 1;
  }
  parts.push(value.subarray(start));
  return Buffer.concat(parts);
}
