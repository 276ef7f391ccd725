import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { Logger } from 'pino';
import { newId } from '../../core/ids.ts';
import type { ClientPolicy } from '../client-policy.ts';
import { MilterConnection } from './milter-connection.ts';
import type { MilterHandler } from './milter-connection.ts';

// An MTA holds its milter connection open for the whole SMTP session it filters, idle while its
// client thinks; one silent for this long is gone.
export const IDLE_TIMEOUT_MS = 30 * 60 * 1000;

// The listener: one MilterConnection per accepted socket. A connection that fails, however
// badly, ends alone; the listener keeps serving.
export class MilterServer {
  readonly server: Server;
  readonly #connections = new Set<MilterConnection>();
  readonly #done = new Set<Promise<void>>();
  readonly #log: Logger;

  constructor(handler: MilterHandler, options: { log: Logger; clients: ClientPolicy; maxRecipients: number; idleTimeoutMs?: number }) {
    this.#log = options.log;
    const idle = options.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
    this.server = createServer((socket: Socket) => {
      // The peer is the MTA itself; a disallowed one is closed before it learns anything, even
      // the options this filter would negotiate.
      const refusal = options.clients.connectRefusal(socket.remoteAddress ?? '');
      if (refusal) {
        options.log.warn({ peer: { address: socket.remoteAddress, port: socket.remotePort } }, `milter connection refused: ${refusal}`);
        socket.destroy();
        return;
      }
      socket.setNoDelay(true); // every reply is small and the MTA waits for it
      socket.setTimeout(idle, () => socket.destroy());
      socket.on('error', () => {}); // reported by the connection's read loop
      const connection = new MilterConnection(socket, newId('mlt'), handler, options);
      this.#connections.add(connection);
      options.log.debug({ cid: connection.session.id, peer: connection.session.peer }, 'milter connection');
      const done = connection.run().finally(() => {
        this.#connections.delete(connection);
        this.#done.delete(done);
      });
      this.#done.add(done);
    });
    this.server.on('error', (err) => this.#log.error({ err }, 'milter listener error'));
  }

  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        const address = this.server.address();
        resolve({ host, port: typeof address === 'object' && address ? address.port : port });
      });
    });
  }

  // Stop accepting; idle connections close now, one answering end-of-message closes after its answer.
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of this.#connections) connection.shutdown();
    await Promise.all([...this.#done]);
    await closed;
  }
}
