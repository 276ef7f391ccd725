import type { CaptureRecord } from '../core/types.ts';
import type { ArchiveWriter, CommitResult } from '../store/archive-writer.ts';
import type { BlobStore } from '../store/blob-store.ts';
import type { KeyProvider } from '../store/key-provider.ts';
import { CaptureSealer } from './capture-sealer.ts';
import type { CaptureSealerDeps } from './capture-sealer.ts';
import { JournalUnwrapper } from './journal-unwrapper.ts';

export interface CaptureWriterDeps {
  writer: ArchiveWriter;
  blobs: BlobStore;
  keys: KeyProvider;
  inlineBlobBytes: number;
  maxMessageBytes: number;
}

// What one message became: its own capture and, for an unwrapped Exchange journal report, the
// capture of the message it carried.
export interface CaptureOutcome {
  result: CommitResult;
  original: CommitResult | null;
  journalReport: boolean;
}

// The one way into the archive for every source (SMTP, LMTP, the milter and its spool, the
// ingest API, the importers): bytes are sealed as they arrive, and an Exchange journal report
// among them is unwrapped where its sender is believed (ClientPolicy.journalRefusal).
export class CaptureWriter {
  readonly writer: ArchiveWriter;
  readonly #sealerDeps: CaptureSealerDeps;

  constructor(deps: CaptureWriterDeps) {
    this.writer = deps.writer;
    this.#sealerDeps = deps;
  }

  // journal: 'off' for sources that never carry reports (imports: no envelope to check the
  // report against); otherwise null to unwrap a report, or why it is recorded but not unwrapped.
  begin(options: { journal: 'off' | { refusal: string | null } }): IncomingMessage {
    const sealer = new CaptureSealer(this.#sealerDeps);
    const journal = options.journal === 'off' ? null : new JournalUnwrapper(this.#sealerDeps, { refusal: options.journal.refusal });
    return new IncomingMessage(sealer, journal);
  }
}

export class IncomingMessage {
  readonly #sealer: CaptureSealer;
  readonly #journal: JournalUnwrapper | null;

  constructor(sealer: CaptureSealer, journal: JournalUnwrapper | null) {
    this.#sealer = sealer;
    this.#journal = journal;
  }

  get size(): number {
    return this.#sealer.size;
  }

  async write(chunk: Buffer): Promise<void> {
    await this.#journal?.write(chunk);
    await this.#sealer.write(chunk);
  }

  // Resolves only once everything this message became is durable; `key` groups commits (the
  // archive writer's session key).
  async commit(capture: CaptureRecord, key?: string): Promise<CaptureOutcome> {
    try {
      await this.#journal?.end();
      if (this.#journal?.isReport) {
        const { report, original } = await this.#journal.commit(capture, (asReceived) => this.#sealer.commit(asReceived, key));
        return { result: report, original, journalReport: true };
      }
      await this.#journal?.discard();
      return { result: await this.#sealer.commit(capture, key), original: null, journalReport: false };
    } catch (err) {
      await this.discard();
      throw err;
    }
  }

  async discard(): Promise<void> {
    await this.#journal?.discard().catch(() => {});
    await this.#sealer.discard();
  }
}

// The fields a log line gives for a captured message.
export function outcomeFacts(o: CaptureOutcome): Record<string, unknown> {
  return {
    captureId: o.result.captureId, sha256: o.result.sha256, duplicate: o.result.duplicate,
    ...(o.journalReport ? { journalReport: true, original: o.original?.sha256 ?? null, originalCaptureId: o.original?.captureId ?? null } : {}),
  };
}
