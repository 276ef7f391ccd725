// The governed-access world of access-world.ts in this process: the archive opened by the one
// composition root (src/archive.ts) on a clock the test moves, the server's parts as serve wires
// them (serverParts), messages committed through the CaptureWriter as the SMTP receiver commits
// them and indexed by the Indexer the index thread runs, and the HTTP API reached through
// fastify's inject(). Nothing listens (unless asked for) and nothing runs on a timer: the test
// moves the clock, and kicks the notification sender or runs the oversight sweep (world.parts)
// when it wants them.
// For access, routes and oversight; protocols and real peers keep the subprocess world.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { parseDirectoryCsv } from '../../src/access/directory-csv.ts';
import { openArchive } from '../../src/archive.ts';
import type { Archive } from '../../src/archive.ts';
import type { CaptureOutcome } from '../../src/capture/capture-writer.ts';
import { serverParts } from '../../src/cli/serve.ts';
import type { Running, ServerParts } from '../../src/cli/serve.ts';
import { importAtConsole } from '../../src/cli/commands/mailboxes.ts';
import type { Role } from '../../src/access/roles.ts';
import { addAtConsole } from '../../src/cli/commands/users.ts';
import { verifyWhole } from '../../src/cli/commands/verify.ts';
import { loadConfig } from '../../src/core/config.ts';
import { newId } from '../../src/core/ids.ts';
import type { Envelope } from '../../src/core/types.ts';
import { openIndexer } from '../../src/index/open-indexer.ts';
import type { VerifyReport } from '../../src/store/verify-archive.ts';
import { directoryCsv, rfc822, signInEveryone } from './access-world.ts';
import { enrolmentCodeIn } from './outbox.ts';
import type { World, WorldOptions } from './access-world.ts';
import { ApiClient } from './api-client.ts';
import type { Transport } from './api-client.ts';
import { testConfig } from './archive.ts';
import { worldStore } from './postgres.ts';
import { tempDataDir } from './sealbox.ts';
import { TestClock } from './test-clock.ts';

export interface InProcessWorld extends Omit<World, 'server' | 'url'> {
  data: string;
  // Where the API also listens on the loopback, when asked for (listen: true); null otherwise.
  url: string | null;
  archive: Archive;
  parts: ServerParts;
  clock: TestClock;
  // A client of the world's API signed in as nobody yet (bearer tokens, attackers, sign-in tries).
  client(): ApiClient;
  // One request as it is written, for what ApiClient would not send (raw bodies, odd headers).
  request: Transport;
  // Commits a message as the SMTP receiver would have received it, and indexes it.
  deliver(envelope: { from: string; to: string[] }, raw: Buffer): Promise<CaptureOutcome>;
  // `sealbox verify` on the world's clock (a command in a process of its own would read the wall
  // clock, which is behind the world's, and miss what the ledger says happened since).
  verify(): Promise<VerifyReport>;
}

// listen: the API also listens on a loopback port, as serve binds it (and the admins' health
// view names it), for checks that need a real socket: the HTTP parser, a peer's fetch().
export async function startInProcessWorld(options: WorldOptions, how: { listen?: boolean } = {}): Promise<InProcessWorld> {
  const store = await worldStore();
  const configFile = testConfig({
    ...(store ? { store } : {}),   // SEALBOX_TEST_STORE (options.config may name its own)
    internalDomains: ['corp.test'],
    // As in startWorld: everyone here is created by adm a moment ago.
    access: { secureCookies: false, requestsPerMinute: 1_000_000, signinPerMinute: 10_000, linkedPeopleDays: 0, ...options.access },
    ...options.config,
  });
  const data = tempDataDir();
  const config = loadConfig(configFile, { data }, {});
  const clock = new TestClock();
  const archive = await openArchive(config, 'server', { clock });
  // The indexer as the index thread wires it, on a connection of its own, run here batch by batch.
  const { indexer, db: indexerDb } = openIndexer(archive);
  try {
    const listeners: Running['listeners'] = [];
    const parts = serverParts(archive, listeners);
    await parts.checkpoint();   // serve signs an empty tree head before taking mail
    const { stores } = archive;
    const deliver = async (sent: { from: string; to: string[] }, raw: Buffer) => {
      const message = parts.capture.begin({ journal: { refusal: parts.clients.journalRefusal('127.0.0.1') } });
      await message.write(raw);
      const receivedAt = clock.now();
      const outcome = await message.commit({ id: newId('cap', receivedAt), source: 'smtp', receivedAt, envelope: envelope(sent), provenance: null });
      while (await indexer.runOnce() > 0);
      await indexer.auth?.drain();
      await indexer.extraction?.drain();
      assert.equal(await indexer.cursor(), await stores.meta.read((tx) => stores.meta.lastCaptureRowId(tx)), 'the index covers every capture');
      return outcome;
    };

    const raw: Record<string, Buffer> = {};
    const sha: Record<string, string> = {};
    for (const [key, m] of Object.entries(options.messages)) {
      raw[key] = rfc822(m);
      sha[key] = createHash('sha256').update(raw[key]).digest('hex');
      await deliver({ from: m.from, to: [m.to] }, raw[key]);
    }
    // At the console, as `sealbox mailboxes import` and `sealbox users add` do it.
    await importAtConsole(archive.services, parseDirectoryCsv(directoryCsv(options.mailboxes)), 'directory.csv');
    const adm = await addAtConsole(archive.services, { name: 'adm', email: 'adm@corp.test', roles: ['admin'] });

    const app = parts.http!;
    const transport: Transport = async ({ method, path, headers, body }) => {
      const res = await app.inject({ method: method as 'GET', url: path, headers, payload: body });
      const out = new Headers();
      for (const [name, value] of Object.entries(res.headers)) for (const v of [value].flat()) if (v !== undefined) out.append(name, String(v));
      return { status: res.statusCode, headers: out, payload: res.rawPayload };
    };
    const client = () => new ApiClient(transport, { clock });
    // The outbox as the person would receive it (no mail relay here).
    const mailed = async (address: string) => enrolmentCodeIn((await archive.services.db.read((tx) => stores.repos.notifications.due(tx, clock.now(), 1_000_000, 100_000))).filter((n) => n.recipient === address), address);
    const atConsole = async (name: string, roles: string[]) => (await addAtConsole(archive.services, { name, email: `${name}@corp.test`, roles: roles as Role[] })).enrolmentCode;
    const people = await signInEveryone(client, adm.enrolmentCode, options.users, { mailedCode: mailed, atConsole, madeAtConsole: options.madeAtConsole });
    let url: string | null = null;
    if (how.listen) {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = app.server.address() as AddressInfo;
      listeners.push({ name: 'http', host: '127.0.0.1', port });
      url = `http://127.0.0.1:${port}`;
    }
    let stopped: Promise<void> | null = null;
    return {
      data, config: configFile, url, archive, parts, clock, sha, raw, ...people, client, deliver, request: transport,
      // As serve stops: nothing half-written, everything signed.
      stop: () => (stopped ??= (async () => {
        await app.close();
        await parts.oversight.stop();
        await parts.notifications.close();
        await parts.writer.drain();
        await parts.checkpoint();
        indexer.extraction?.close();
        indexerDb.close();
        archive.close();
      })()),
      verify: async () => {
        const atConsole = await openArchive(config, 'console', { clock });
        try {
          return await verifyWhole(atConsole);
        } finally {
          atConsole.close();
        }
      },
    };
  } catch (err) {
    indexer.extraction?.close();
    indexerDb.close();
    archive.close();
    throw err;
  }
}

// What the SMTP receiver records for a client on the loopback that said EHLO and nothing more.
function envelope(sent: { from: string; to: string[] }): Envelope {
  return {
    mailFrom: sent.from, mailFromArgs: {}, rcptTo: sent.to.map((address) => ({ address, args: {} })),
    clientAddress: '127.0.0.1', clientPort: 40000, clientHelo: 'localhost', clientName: null, authUser: null, queueId: null,
    protocol: 'ESMTP', tls: null, transport: { address: '127.0.0.1', port: 40000, helo: 'localhost' }, xforward: {},
  };
}
