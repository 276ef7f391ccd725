import type { Logger } from 'pino';
import type { Envelope } from '../core/types.ts';
import { authenticateMessage } from './authenticate-message.ts';
import type { CaptureQueue } from './capture-queue.ts';
import type { Resolver } from './dns-resolver.ts';
import { FollowUpQueue } from './follow-up-queue.ts';
import type { IndexStore } from './index-store.ts';

export interface AuthCheckerOptions {
  index: IndexStore;
  captures: CaptureQueue;
  // A message's bytes as the indexer reads them (at most MAX_PARSE_BYTES; truncated ones are
  // judged by the indexer at once and never queued).
  read(sha256: string): Promise<Buffer>;
  resolver: Resolver;
  mta: string;
  log: Logger;
  concurrency?: number;      // messages checked at once
  handoffBytes?: number;     // bytes of messages kept in memory for the check; the rest re-read
}

// A capture to check; envelope null: its row is gone or has none (nothing to check).
export interface PendingCheck {
  rowId: number;
  sha256: string;
  envelope: Envelope | null;
  raw: Buffer | null;        // null: read again when its turn comes
}

// The authentication verdicts (SPF, DKIM, ARC, DMARC) of captures the indexer has already made
// searchable. Their DNS lookups can take seconds, or hang until the timeout, and must not hold
// the index back: the indexer queues each capture in the transaction that indexes it
// (auth_pending) and hands over the bytes it read, and this checks up to `concurrency` messages
// at once (FollowUpQueue), storing verdicts with the time they were checked: still the verdict
// at receipt, give or take the lag the health page shows. A check that throws is a verdict too
// (its error). The index thread keeps at most 8 MB of messages for their checks, beside a batch.
export class AuthChecker extends FollowUpQueue<PendingCheck, unknown> {
  constructor(o: AuthCheckerOptions) {
    const checkedAt = () => new Date().toISOString();
    super({
      what: 'authentication check', log: o.log, concurrency: o.concurrency ?? 32, handoffBytes: o.handoffBytes ?? 8 * 1024 * 1024, flushCount: 200,
      keyOf: (p) => p.rowId,
      bytesOf: (p) => p.raw?.length ?? 0,
      lighten: (p) => ({ ...p, raw: null }),
      queued: async (after, limit) => {
        const keys = await o.index.read((tx) => o.index.pendingAuth(tx, after, limit));
        const rows = new Map((await o.captures.capturesByRowIds(keys)).map((r) => [r.rowId, r]));
        return keys.map((rowId) => ({ rowId, sha256: rows.get(rowId)?.sha256 ?? '', envelope: rows.get(rowId)?.envelope ?? null, raw: null }));
      },
      run: async (p) => {
        if (p.envelope === null) return { error: 'no envelope, or the capture is gone; not verified', checkedAt: checkedAt() };
        const env = p.envelope;
        const raw = p.raw ?? await o.read(p.sha256);
        return { ...await authenticateMessage(raw, { clientAddress: env.clientAddress, clientHelo: env.clientHelo, mailFrom: env.mailFrom, mta: o.mta, resolver: o.resolver }), checkedAt: checkedAt() };
      },
      // A fault in verification is recorded as the verdict; it does not come back.
      failed: (_p, err) => ({ error: (err as Error).message, checkedAt: checkedAt() }),
      store: (done) => o.index.write(async (tx) => {
        for (const d of done) await o.index.completeAuth(tx, d.key, d.result);
      }),
    });
  }
}
