import { SealboxError, asSealboxError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import type { CaptureRecord } from '../../core/types.ts';
import type { IncomingMessage } from '../capture-writer.ts';
import { outcomeFacts } from '../capture-writer.ts';
import type { ReceiverDeps } from '../smtp-receiver.ts';
import type { MessageSink, MilterHandler, MilterSession, MilterTransaction, Verdict } from './milter-connection.ts';
import { envelopeFromMilter, milterProvenance } from './milter-envelope.ts';
import { MilterServer } from './milter-server.ts';
import { MilterSpool } from './milter-spool.ts';

// What an SMTP receiver needs, and where observe mode keeps its spool.
export interface MilterReceiverDeps extends ReceiverDeps {
  spoolDir: string;
}

const ENHANCED: Record<number, string> = { 552: '5.3.4', 554: '5.7.1', 550: '5.7.1' };

// Sealbox as a mail filter. In guarantee mode end of message is answered "continue" only after
// the capture is durable in the archive, and "tempfail" on any fault, so the MTA delivers nothing
// unarchived. In observe mode it is answered "continue" once the message is in the durable spool
// (or at once if even that fails): mail always flows, and the archive catches up from the spool.
export class MilterReceiver implements MilterHandler {
  readonly mode: 'guarantee' | 'observe';
  readonly server: MilterServer;
  readonly spool: MilterSpool | null;
  readonly #deps: MilterReceiverDeps;

  constructor(deps: MilterReceiverDeps) {
    this.#deps = deps;
    this.mode = deps.config.milter.mode;
    this.server = new MilterServer(this, { log: deps.log, clients: deps.clients, maxRecipients: deps.config.receiver.maxRecipients });
    this.spool = this.mode === 'observe'
      ? new MilterSpool(deps.spoolDir, { begin: (capture) => this.#begin(capture.envelope?.clientAddress ?? null), isCommitted: (id) => deps.capture.writer.isCommitted(id), log: deps.log })
      : null;
  }

  async listen(host: string, port: number): Promise<{ host: string; port: number }> {
    if (this.spool) {
      await this.spool.init();
      await this.spool.recover();
    }
    return this.server.listen(host, port);
  }

  // Stop accepting; answers under way are given, spool commits under way finish.
  async close(): Promise<void> {
    await this.server.close();
    await this.spool?.close();
  }

  open(session: MilterSession, tx: MilterTransaction): MessageSink {
    // Nothing is written: the message fails as a fault would (guarantee: tempfail; observe: it flows).
    if (this.#deps.space.refusing) return refusedSink(new SealboxError('SEALBOX_ERR_INSUFFICIENT_STORAGE'));
    return this.spool ? this.#observe(this.spool, session, tx) : this.#guarantee(session, tx);
  }

  failed(err: unknown, session: MilterSession, tx: MilterTransaction): Verdict {
    const e = asSealboxError(err);
    const facts = { cid: session.id, code: e.code, rcpts: tx.rcpts.length };
    if (this.mode === 'observe') {
      this.#deps.log.error({ ...facts, err }, 'milter message NOT archived (observe mode: the MTA was told to continue)');
      return { reply: 'continue' };
    }
    if (e.responseCode >= 500) {
      this.#deps.log.warn({ ...facts, err: e.message }, 'milter message refused');
      return { reply: 'reject', code: e.responseCode, enhanced: ENHANCED[e.responseCode] ?? '5.3.0', message: e.message };
    }
    this.#deps.log.error({ ...facts, err }, 'milter capture failed; answered tempfail');
    return { reply: 'tempfail' };
  }

  #guarantee(session: MilterSession, tx: MilterTransaction): MessageSink {
    const { capture: { writer }, log } = this.#deps;
    const key = session.id;
    writer.open(key);
    const message = this.#begin(envelopeFromMilter(session, tx).clientAddress);
    return {
      write: (bytes) => message.write(bytes),
      end: async () => {
        const capture = this.#capture(session, tx);
        const outcome = await message.commit(capture, key);
        log.info({ cid: session.id, ...outcomeFacts(outcome), size: message.size, rcpts: tx.rcpts.length, queueId: capture.envelope?.queueId }, 'captured');
        return { reply: 'continue' };
      },
      abort: async () => {
        writer.close(key);
        await message.discard();
      },
    };
  }

  #observe(spool: MilterSpool, session: MilterSession, tx: MilterTransaction): MessageSink {
    const { config, log } = this.#deps;
    const file = spool.create();
    let size = 0;
    return {
      write: async (bytes) => {
        size += bytes.length;
        if (size > config.receiver.maxMessageBytes) throw new SealboxError('SEALBOX_ERR_MESSAGE_TOO_LARGE');
        await file.write(bytes);
      },
      end: async () => {
        const capture = this.#capture(session, tx);
        await file.seal(capture);
        log.info({ cid: session.id, captureId: capture.id, size, rcpts: tx.rcpts.length, queueId: capture.envelope?.queueId, spool: file.name }, 'spooled');
        spool.enqueue(file.name, capture);
        return { reply: 'continue' };
      },
      abort: () => file.discard(),
    };
  }

  #capture(session: MilterSession, tx: MilterTransaction): CaptureRecord {
    const receivedAt = this.#deps.clock.now();
    return {
      id: newId('cap', receivedAt), source: 'milter', receivedAt,
      envelope: envelopeFromMilter(session, tx), provenance: milterProvenance(session, tx, this.mode),
    };
  }

  // A journal report is believed by the address of the SMTP client the MTA received it from
  // (what Exchange connects from), as the MTA reports it; a local submission has none.
  #begin(client: string | null): IncomingMessage {
    const refusal = client ? this.#deps.clients.journalRefusal(client) : 'not unwrapped: the MTA named no SMTP client (a local submission)';
    return this.#deps.capture.begin({ journal: { refusal } });
  }
}

function refusedSink(err: SealboxError): MessageSink {
  return {
    write: async () => { throw err; },
    end: async () => { throw err; },
    abort: async () => {},
  };
}
