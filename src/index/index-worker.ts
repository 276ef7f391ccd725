import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../core/config.ts';
import { createLogger } from '../core/log.ts';
import { openArchive } from '../archive.ts';
import type { ArchivedObject } from '../store/blob-store.ts';
import { CompletenessCheck, recordCompleteness } from './index-completeness.ts';
import { openIndexer } from './open-indexer.ts';

// The indexer on its own thread: parsing is the heaviest CPU work after a commit and must not
// slow the receiving thread. The main thread wakes it after each commit.
//
// Every node runs one. Indexing new captures is shared: each batch is claimed (IndexStore.claim),
// so on PostgreSQL every node's thread takes batches of the one queue. The rest is the work of the
// node holding the archive's duties (`duties`, told by the main thread): authentication checks
// and attachments' text (a node without the duties queues them and hands nothing over), retrying
// failed captures, the completeness check and filling in threads. On SQLite the one node always
// holds them.

const config = workerData.config as Config;
const log = createLogger(config.log.level).child({ component: 'indexer' });
const archive = await openArchive(config, 'indexer', { log });
const { indexer, db: indexDb, store, captures } = openIndexer(archive, log);
let duties = workerData.duties as boolean;
indexer.handOver = duties;
// Where several nodes index (PostgreSQL), the duty holder looks through the follow-ups' stored
// queues this often for what the others queued.
const shared = archive.stores.kind === 'postgres';
const RESCAN_FOLLOW_UPS_MS = 5000;
let lastRescan = performance.now();

// Every batch costs a commit and a new full-text segment whatever its size, so while mail
// keeps coming a batch gathers captures for at least this long (a full batch goes at once).
// A lone message is indexed as soon as its commit wakes the thread. The cores this thread spends
// on small batches are the receiving thread's: 250 ms (rather than 100) took about a tenth off
// the server's CPU per message and let SMTP ingest run faster, for an index lag p95 of about
// 450 ms (target ≤ 1 s; 400 ms went past it on a loaded machine).
const GATHER_MS = 250;
// Captures that could not be indexed are tried again this often (a blob restored, a fault gone).
const RETRY_FAILURES_MS = 60_000;
let lastRetry = performance.now();
// The completeness check runs when idle, a window of message ids at a time between batches:
// first soon after start, then every index.checkEveryMinutes.
const CHECK_EVERY_MS = config.index.checkEveryMinutes * 60_000;
let lastCheck = -Infinity;
let check: CompletenessCheck | null = null;

// On PostgreSQL the biggest mailboxes get words indexes of their own (mailbox-indexes.ts),
// checked as often as completeness and built beside the indexing, on a connection of their own
// (minutes for a mailbox of millions).
let lastUpkeep = -Infinity;
let upkeep: Promise<void> | null = null;
function keepMailboxIndexes(): void {
  const indexes = indexDb.mailboxIndexes;
  if (!indexes || !duties || upkeep !== null || CHECK_EVERY_MS === 0 || performance.now() - lastUpkeep < CHECK_EVERY_MS) return;
  lastUpkeep = performance.now();
  upkeep = indexes.keep().then((changes) => {
    for (const b of changes?.built ?? []) log.info({ mailboxId: b.mailboxId, index: b.index, documents: b.documents, seconds: Math.round(b.ms / 1000) }, 'a mailbox got a words index of its own');
    if (changes && changes.dropped.length > 0) log.info({ dropped: changes.dropped }, 'mailbox words indexes dropped');
  }, (err: unknown) => {
    if (!stopping) log.error({ err }, 'keeping the mailboxes\' words indexes failed');
  }).finally(() => { upkeep = null; });
}

let stopping = false;
let gathering = false;
let wake: (() => void) | null = null;
parentPort!.on('message', (msg: string | { duties: boolean } | { seed: ArchivedObject }) => {
  if (typeof msg === 'object' && 'seed' in msg) {
    // What the receiving thread just put to object storage: read from here, not GET back.
    const { name, versionId, bytes } = msg.seed;
    archive.stores.blobs.seed?.({ name, versionId, bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) });
    return;
  }
  if (typeof msg === 'object') {
    // Taken: what others queued meanwhile is found in the stored queues.
    if (msg.duties && !duties) rescanFollowUps();
    duties = msg.duties;
    indexer.handOver = duties;
  }
  if (msg === 'stop') stopping = true;
  if (stopping || !gathering) wake?.();
});

function rescanFollowUps(): void {
  lastRescan = performance.now();
  indexer.auth?.rescan();
  indexer.extraction?.rescan();
}

// Resolves after ms, or at once on a wake (any wake while idle; only stop while gathering).
function pause(ms: number, whileGathering: boolean): Promise<void> {
  gathering = whileGathering;
  return new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      wake = null;
      gathering = false;
      resolve();
    }
    wake = done;
  });
}

// Authentication verdicts and attachments' text follow the documents, each on a loop of its own
// in this thread: DNS lookups wait on the network and attachments are read in the extractor's
// processes, not on this thread's CPU, and a hanging lookup or a slow PDF must hold back neither the
// index nor the other work.
async function follow(worker: { step(): Promise<number>; readonly busy: boolean } | null, what: string): Promise<void> {
  if (!worker) return;
  while (!stopping) {
    try {
      if (!duties || (await worker.step() === 0 && !worker.busy)) await new Promise((resolve) => setTimeout(resolve, 200));
    } catch (err) {
      log.error({ err }, `${what} failed; retrying in 5 s`);
      await new Promise((resolve) => setTimeout(resolve, 5000));
    }
  }
}

async function loop(): Promise<void> {
  while (!stopping) {
    if (duties && shared && performance.now() - lastRescan >= RESCAN_FOLLOW_UPS_MS) rescanFollowUps();
    keepMailboxIndexes();
    let n = 0;
    let failed = false;
    const started = performance.now();
    try {
      n = await indexer.runOnce();
    } catch (err) {
      failed = true;
      log.error({ err }, 'indexing batch failed; retrying in 5 s');
    }
    if (n > 0) {
      parentPort!.postMessage({ cursor: await indexer.cursor() });
      const rest = started + GATHER_MS - performance.now();
      if (!indexer.more && rest > 0 && !stopping) await pause(rest, true);
      continue;
    }
    if (!duties) {
      await pause(failed ? 5000 : 1000, false);
      continue;
    }
    if (!failed && performance.now() - lastRetry >= RETRY_FAILURES_MS) {
      lastRetry = performance.now();
      try {
        const { retried, stillFailing } = await indexer.retryFailures();
        if (retried > 0) log.info({ retried, stillFailing }, 'retried captures that could not be indexed');
      } catch (err) {
        log.error({ err }, 'retrying failed captures failed');
      }
    }
    // Idle: does the index hold exactly one document per live message? The health page shows it.
    // One window, then back to indexing: new mail waits for one window at most.
    if (!failed && CHECK_EVERY_MS > 0 && (check !== null || performance.now() - lastCheck >= CHECK_EVERY_MS)) {
      try {
        if (check === null) {
          lastCheck = performance.now();
          check = await CompletenessCheck.start(captures, store);
        }
        const found = await check.step();
        if (found === null) {
          await new Promise((resolve) => setImmediate(resolve));   // messages, lookups and timers between windows
          continue;
        }
        check = null;
        await recordCompleteness(store, found, Date.now());
        if (found.missing.length > 0 || found.stray.length > 0) log.error({ missing: found.missing.length, stray: found.stray.length }, 'the index is incomplete: run sealbox reindex');
      } catch (err) {
        check = null;
        log.error({ err }, 'checking the index for completeness failed');
      }
    }
    // Idle: messages indexed before threads were kept get theirs, a batch at a time.
    if (!failed) {
      try {
        if (await indexer.backfillThreads() > 0) continue;
      } catch (err) {
        log.error({ err }, 'filling in the threads of earlier messages failed');
      }
    }
    // Idle: wait for a commit, with a slow poll as a safety net.
    await pause(failed ? 5000 : 1000, false);
  }
  await Promise.all(following);
  await indexDb.mailboxIndexes?.stop();
  await upkeep;
  indexer.extraction?.close();
  indexDb.close();
  archive.close();
  parentPort!.postMessage('stopped');
}

const following = [follow(indexer.auth, 'checking authentication'), follow(indexer.extraction, 'reading attachments')];
loop();
