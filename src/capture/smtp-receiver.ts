import { Socket as NetSocket } from 'node:net';
import type { Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import type { CaptureRecord } from '../core/types.ts';
import { asSealboxError, SealboxError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { DiskSpace } from '../store/disk-space.ts';
import type { CaptureWriter } from './capture-writer.ts';
import { outcomeFacts } from './capture-writer.ts';
import type { ClientPolicy } from './client-policy.ts';
import { envelopeFromSession } from './envelope.ts';
import type { HopFacts } from './envelope.ts';

const STALLED_AFTER_FIN_MS = 1000;
const SOCKET_READY_STATE = Object.getOwnPropertyDescriptor(NetSocket.prototype, 'readyState')!.get!;

export interface ReceiverDeps {
  config: Config;
  capture: CaptureWriter;
  clients: ClientPolicy;
  clock: Clock;
  log: Logger;
  space: Pick<DiskSpace, 'refusing'>;   // below storage.refuseFreeBytes new mail is refused
}

// SMTP and LMTP listeners in journal mode: any recipient is accepted (unless restricted), the
// whole envelope is recorded, and 250 is sent only after the archive writer says it is durable.
export class SmtpReceiver {
  readonly server: SMTPServer;
  readonly protocol: 'smtp' | 'lmtp';
  readonly #deps: ReceiverDeps;
  readonly #hops = new WeakMap<SMTPServerSession, HopFacts>();
  readonly #dataStreams = new Map<string, SMTPServerDataStream>(); // by the hop's address:port
  #closing = false;

  constructor(protocol: 'smtp' | 'lmtp', deps: ReceiverDeps) {
    this.protocol = protocol;
    this.#deps = deps;
    const rc = deps.config.receiver;
    const domains = new Set(rc.recipientDomains.map((d) => d.toLowerCase()));
    const tls = rc.tls ? { key: readFileSync(rc.tls.key), cert: readFileSync(rc.tls.cert) } : {};
    this.server = new SMTPServer({
      lmtp: protocol === 'lmtp',
      name: rc.hostname,
      banner: 'Sealbox journal receiver',
      ...tls,
      hideSTARTTLS: !rc.tls,
      size: rc.maxMessageBytes,
      rejectOversized: true,
      maxRecipients: rc.maxRecipients,
      authOptional: true,
      // Without a configured certificate smtp-server would fall back to its bundled one, whose key is public.
      disabledCommands: rc.tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
      disableReverseLookup: true,
      hideDSN: false,
      useXForward: rc.trustedClients,
      useXClient: rc.trustedClients,
      socketTimeout: rc.socketTimeoutSeconds * 1000,
      // A client may half-close right after its last command (Exim sends QUIT pipelined after the
      // final dot, then FIN): the replies it waits for, above all the 250 after the commit, must
      // still go out. Without this Node ends our side at the client's FIN and the 250 is lost
      // (see also the connection listener below).
      allowHalfOpen: true,
      logger: false,
      onConnect: (session, callback) => {
        this.#hops.set(session, { address: session.remoteAddress, port: session.remotePort, tlsProtocol: null });
        if (this.#closing) return callback(new SealboxError('SEALBOX_ERR_SHUTTING_DOWN'));
        const refusal = deps.clients.connectRefusal(session.remoteAddress);
        if (refusal) {
          deps.log.warn({ cid: session.id, client: session.remoteAddress, protocol }, `connection refused: ${refusal}`);
          return callback(new SealboxError('SEALBOX_ERR_CLIENT_NOT_ALLOWED'));
        }
        callback();
      },
      onSecure: (socket, session, callback) => {
        // After STARTTLS the connection reads and writes through this socket.
        this.#answerAfterFin(socket as unknown as Socket);
        answerEachReadAtOnce(socket as unknown as Socket);
        const hop = this.#hops.get(session);
        if (hop) hop.tlsProtocol = (socket as TLSSocket).getProtocol();
        callback();
      },
      onMailFrom: (_address, session, callback) => {
        if (deps.space.refusing) return callback(new SealboxError('SEALBOX_ERR_INSUFFICIENT_STORAGE'));
        deps.capture.writer.open(session.id);
        callback();
      },
      onClose: (session, callback) => {
        deps.capture.writer.close(session.id);
        callback?.();
      },
      onRcptTo: (address, _session, callback) => {
        if (domains.size > 0) {
          const domain = address.address.slice(address.address.lastIndexOf('@') + 1).toLowerCase();
          if (!domains.has(domain)) return callback(new SealboxError('SEALBOX_ERR_RECIPIENT_DOMAIN', `recipient domain ${domain} is not archived here`));
        }
        callback();
      },
      onData: (stream, session, callback) => {
        this.#receive(stream, session).then(
          (message) => callback(null, message),
          (err) => {
            const e = asSealboxError(err);
            if (e.code === 'SEALBOX_ERR_INTERNAL' || e.responseCode >= 451) deps.log.error({ err, cid: session.id }, 'capture failed; answered with a temporary failure');
            callback(e);
          },
        );
      },
    });
    this.server.on('error', (err) => deps.log.error({ err, protocol }, 'listener error'));
    // Replies are small and pipelined clients wait on each: do not let Nagle hold them back.
    this.server.server.on('connection', (socket) => {
      socket.setNoDelay(true);
      this.#answerAfterFin(socket);
      answerEachReadAtOnce(socket);
    });
  }

  async #receive(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const { clock, log } = this.#deps;
    const receivedAt = clock.now();
    const hop = this.#hops.get(session)!;
    const streamKey = `${hop.address}:${hop.port}`;
    this.#dataStreams.set(streamKey, stream);
    const message = this.#deps.capture.begin({ journal: { refusal: this.#deps.clients.journalRefusal(session.remoteAddress) } });
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        // smtp-server counts a chunk before passing it on, so the sealer's own limit is never
        // reached first: drain, and smtp-server answers 552.
        if (stream.sizeExceeded) continue;
        await message.write(chunk);
      }
      // A client that vanished mid-DATA sent no message: never commit a truncated one.
      if (!stream.readableEnded) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'the connection closed before the end of DATA');
      if (stream.sizeExceeded) throw new SealboxError('SEALBOX_ERR_MESSAGE_TOO_LARGE');
      if (this.#closing) throw new SealboxError('SEALBOX_ERR_SHUTTING_DOWN');
      const capture: CaptureRecord = { id: newId('cap', receivedAt), source: this.protocol, receivedAt, envelope: envelopeFromSession(session, hop), provenance: null };
      const outcome = await message.commit(capture, session.id);
      const { result, original } = outcome;
      log.info({ cid: session.id, ...outcomeFacts(outcome), size: stream.byteLength, rcpts: capture.envelope!.rcptTo.length }, outcome.journalReport ? 'captured journal report' : 'captured');
      return `archived ${result.sha256} as ${result.captureId}${original ? `, the journaled message ${original.sha256} as ${original.captureId}` : ''}`;
    } catch (err) {
      await message.discard();
      this.#deps.capture.writer.close(session.id);
      throw err;
    } finally {
      this.#dataStreams.delete(streamKey);
    }
  }

  // smtp-server writes a reply only while the socket's readyState is 'open'; a socket whose
  // client has half-closed is 'writeOnly', and its replies would be dropped. It can still be
  // written to: say so, and close it once it has been answered.
  #answerAfterFin(socket: Socket): void {
    Object.defineProperty(socket, 'readyState', {
      configurable: true,
      get: () => {
        const state = SOCKET_READY_STATE.call(socket);
        return state === 'writeOnly' ? 'open' : state;
      },
    });
    socket.once('end', () => this.#afterClientFin(socket, -1));
  }

  // After the client's FIN (allowHalfOpen keeps our side open): a message received in full is
  // committed and answered first; a message still incomplete that no longer grows never will be
  // complete, and is cut off (one that grows is the rest of what the client sent, still on its
  // way through the parser); with nothing pending, our side ends too.
  #afterClientFin(socket: Socket, bytesBefore: number): void {
    setTimeout(() => {
      if (socket.destroyed) return;
      const stream = this.#dataStreams.get(`${socket.remoteAddress}:${socket.remotePort}`);
      if (stream && !stream.writableEnded) {
        if (stream.byteLength === bytesBefore) socket.destroy();
        else this.#afterClientFin(socket, stream.byteLength);
      } else if (stream) {
        this.#afterClientFin(socket, -1);
      } else {
        socket.end();
      }
    }, STALLED_AFTER_FIN_MS).unref();
  }

  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.server.off('error', onError);
        const address = this.server.server.address();
        resolve({ host, port: typeof address === 'object' && address ? address.port : port });
      });
    });
  }

  // Stop accepting; connections mid-transaction are answered 421 at their next DATA.
  close(): Promise<void> {
    this.#closing = true;
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

// The replies to the commands of one read leave in one write: a pipelining client (Postfix)
// sends MAIL, RCPT and DATA at once, and each write to a socket is a system call, on loopback
// the kernel's whole path to the reader. Corked when a read comes in, uncorked once the loop
// has run what it can of it (a reply that waits on the database is written when it is ready).
export function answerEachReadAtOnce(socket: Socket): void {
  socket.on('data', () => {
    if (socket.writableCorked > 0) return;
    socket.cork();
    setImmediate(() => socket.uncork());
  });
}
