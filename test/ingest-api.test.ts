// POST /api/v1/ingest with a real HTTP client against `sealbox serve --http 127.0.0.1:0`: an
// admin's token with the "ingest" scope submits raw messages with or without an envelope; 201
// only after the commit; bad input gets 4xx with the registry's codes and changes nothing; a
// store fault is a 5xx, never a success.
import { holdArchiveWriteLock } from './support/store-fault.ts';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { addApiUser } from './support/api-client.ts';
import { openArchive, testConfig } from './support/archive.ts';
import { sealbox, startSealbox } from './support/sealbox.ts';
import { exportedEntry, exportedLines } from './support/ledger-export.ts';

const MAX_BYTES = 4 * 1024 * 1024;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function message(id: string, body = 'From the ticketing system.'): Buffer {
  return Buffer.from(`From: tickets@corp.test\r\nTo: ola@corp.test\r\nSubject: ticket ${id}\r\nMessage-ID: <${id}@corp.test>\r\nDate: Tue, 24 Nov 2026 09:30:00 +0000\r\n\r\n${body}\r\n`);
}

async function stored(data: string, sha: string) {
  const archive = await openArchive(data);
  try {
    return await archive.read(async (tx) => {
      const row = await archive.stores.meta.getMessage(tx, sha);
      if (!row) return null;
      return { row, captures: await archive.stores.meta.capturesOf(tx, row.id), bytes: () => archive.stores.reader.buffer(row) };
    });
  } finally {
    archive.close();
  }
}

async function storedBytes(data: string, sha: string): Promise<Buffer> {
  const archive = await openArchive(data);
  try {
    return await archive.stores.reader.buffer((await archive.read((tx) => archive.stores.meta.getMessage(tx, sha)))!);
  } finally {
    archive.close();
  }
}

async function count(data: string): Promise<{ captures: number; messages: number }> {
  const archive = await openArchive(data);
  try {
    return await archive.read((tx) => archive.stores.meta.counts(tx));
  } finally {
    archive.close();
  }
}

test('ingest API', { timeout: 180_000 }, async (t) => {
  const config = testConfig({ access: { secureCookies: false }, receiver: { maxMessageBytes: MAX_BYTES } });
  const server = await startSealbox({ args: ['--config', config, '--http', '127.0.0.1:0'] });
  t.after(() => server.stop());
  const url = `${server.http!.url}/api/v1/ingest`;
  const admin = await addApiUser(server, config, 'ada', ['admin'], { email: false });
  const owner = await addApiUser(server, config, 'ola', ['owner'], { email: false });

  let r = await admin.call('POST', '/api/v1/tokens', { name: 'ticketing system', scopes: ['ingest'], days: 30 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const token = r.body.token as string;
  const tokenId = r.body.id as string;
  const contentToken = (await admin.call('POST', '/api/v1/tokens', { name: 'reader', scopes: ['content'], days: 1 })).body.token as string;

  await t.test('only admins hold ingest tokens; a refused attempt is in the ledger', async () => {
    const refused = await owner.call('POST', '/api/v1/tokens', { name: 'mine', scopes: ['ingest'], days: 1 });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'SEALBOX_ERR_FORBIDDEN');
    const ledger = await sealbox(['ledger', 'export', '--data', server.data, '--config', config]);
    const entries = exportedLines(ledger.stdout).map(exportedEntry);
    assert.ok(entries.some((e) => e.operation === 'token.create' && e.actor === 'user:ola' && e.result === 'denied'), 'the denial is recorded');
  });

  await t.test('a message with its envelope in headers: 201 after the commit, bit-exact, the submitter recorded', async () => {
    const raw = message(randomUUID());
    const res = await fetch(url, {
      method: 'POST', body: raw,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'message/rfc822', 'x-sealbox-mail-from': '<tickets@corp.test>', 'x-sealbox-rcpt-to': 'ola@corp.test, per@corp.test', 'user-agent': 'ticketing/1.0' },
    });
    const body = (await res.json()) as any;
    assert.equal(res.status, 201, JSON.stringify(body));
    assert.deepEqual(Object.keys(body).sort(), ['captureId', 'duplicate', 'sha256']);
    assert.equal(body.sha256, sha256(raw));
    assert.equal(body.duplicate, false);
    // The 201 came after the commit: the capture is there the moment the answer is.
    const kept = (await stored(server.data, body.sha256))!;
    assert.ok((await storedBytes(server.data, body.sha256)).equals(raw));
    assert.equal(kept.captures.length, 1);
    const c = kept.captures[0];
    assert.equal(c.id, body.captureId);
    assert.equal(c.source, 'api');
    assert.equal(c.envelope!.mailFrom, 'tickets@corp.test');
    assert.deepEqual(c.envelope!.rcptTo, [{ address: 'ola@corp.test', args: {} }, { address: 'per@corp.test', args: {} }]);
    assert.equal(c.envelope!.protocol, 'HTTP');
    assert.equal(c.envelope!.transport.address, '127.0.0.1');
    assert.deepEqual(c.provenance, { api: { user: 'ada', tokenId, clientIp: '127.0.0.1', userAgent: 'ticketing/1.0' } });
    const ledger = await sealbox(['ledger', 'export', '--data', server.data, '--config', config]);
    const entry = exportedLines(ledger.stdout).map(exportedEntry).find((e) => e.parameters.captureId === body.captureId);
    assert.ok(entry, 'the capture is in the ledger');
    assert.equal(entry.actor, 'capture:api');
    assert.deepEqual(entry.objects.messages, [body.sha256]);
    assert.equal((entry.parameters.provenance as { api: { user: string } }).api.user, 'ada');
  });

  await t.test('the same bytes again, envelope in the query (repeated rcptTo): a duplicate with a capture of its own; no envelope at all: none recorded', async () => {
    const raw = message(randomUUID());
    const first = await fetch(`${url}?mailFrom=&rcptTo=ola%40corp.test&rcptTo=%3Cper%40corp.test%3E`, { method: 'POST', body: raw, headers: { authorization: `Bearer ${token}`, 'content-type': 'message/rfc822' } });
    const a = (await first.json()) as any;
    assert.equal(first.status, 201, JSON.stringify(a));
    const second = await fetch(url, { method: 'POST', body: raw, headers: { authorization: `Bearer ${token}`, 'content-type': 'message/rfc822; charset=utf-8' } });
    const b = (await second.json()) as any;
    assert.equal(second.status, 201, JSON.stringify(b));
    assert.equal(b.sha256, a.sha256);
    assert.equal(b.duplicate, true);
    assert.notEqual(b.captureId, a.captureId);
    const captures = (await stored(server.data, a.sha256))!.captures;
    assert.equal(captures.length, 2);
    assert.equal(captures[0].envelope!.mailFrom, '', 'the null sender');
    assert.deepEqual(captures[0].envelope!.rcptTo.map((x) => x.address), ['ola@corp.test', 'per@corp.test']);
    assert.equal(captures[1].envelope, null, 'no envelope given: none invented');
  });

  await t.test('the body streams: a chunked upload larger than memory buffers is sealed as it arrives', async () => {
    const id = randomUUID();
    const head = Buffer.from(`From: scanner@corp.test\r\nTo: ola@corp.test\r\nSubject: scan ${id}\r\n\r\n`);
    const piece = Buffer.alloc(64 * 1024, 'A scanned page, line after line.\r\n');
    const pieces = 48; // 3 MiB, over commit.inlineBlobBytes
    const whole = createHash('sha256').update(head);
    for (let i = 0; i < pieces; i++) whole.update(piece);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(head);
        if (sent === pieces) return controller.close();
        sent++;
        controller.enqueue(piece);
      },
    });
    const res = await fetch(url, { method: 'POST', body: stream, duplex: 'half', headers: { authorization: `Bearer ${token}`, 'content-type': 'message/rfc822', 'x-sealbox-rcpt-to': 'ola@corp.test' } } as RequestInit);
    const body = (await res.json()) as any;
    assert.equal(res.status, 201, JSON.stringify(body));
    assert.equal(body.sha256, whole.digest('hex'));
    const kept = (await stored(server.data, body.sha256))!;
    assert.equal(kept.row.size, head.length + pieces * piece.length);
  });

  await t.test('bad input: 4xx with the registry code, nothing archived', async () => {
    const before = await count(server.data);
    const raw = message(randomUUID());
    const post = async (init: { body?: Buffer | string | ReadableStream<Uint8Array>; headers?: Record<string, string>; query?: string; duplex?: 'half' }) => {
      const res = await fetch(url + (init.query ?? ''), { method: 'POST', body: init.body ?? raw, headers: { 'content-type': 'message/rfc822', authorization: `Bearer ${token}`, ...init.headers }, ...(init.duplex ? { duplex: init.duplex } : {}) } as RequestInit);
      return { status: res.status, body: (await res.json()) as any };
    };
    const cases: [string, Parameters<typeof post>[0], number, string][] = [
      ['no token', { headers: { authorization: '' } }, 401, 'SEALBOX_ERR_AUTH'],
      ['unknown token', { headers: { authorization: 'Bearer sbx_nope' } }, 401, 'SEALBOX_ERR_AUTH'],
      ['a token without the ingest scope', { headers: { authorization: `Bearer ${contentToken}` } }, 403, 'SEALBOX_ERR_FORBIDDEN'],
      ['a session instead of a token', { headers: { authorization: '', cookie: admin.cookie!, 'x-csrf-token': admin.csrf! } }, 403, 'SEALBOX_ERR_FORBIDDEN'],
      ['JSON instead of a message', { body: JSON.stringify({ raw: 'x' }), headers: { 'content-type': 'application/json' } }, 400, 'SEALBOX_ERR_BAD_INPUT'],
      ['an empty message', { body: '' }, 400, 'SEALBOX_ERR_BAD_INPUT'],
      ['a recipient that is not an address', { headers: { 'x-sealbox-rcpt-to': 'ola at corp' } }, 400, 'SEALBOX_ERR_BAD_ENVELOPE'],
      ['two senders', { query: '?mailFrom=a%40corp.test&mailFrom=b%40corp.test' }, 400, 'SEALBOX_ERR_BAD_INPUT'],
      ['envelope in headers and query', { headers: { 'x-sealbox-mail-from': 'a@corp.test' }, query: '?rcptTo=ola%40corp.test' }, 400, 'SEALBOX_ERR_BAD_ENVELOPE'],
      ['an unknown query key', { query: '?rcpt=ola%40corp.test' }, 400, 'SEALBOX_ERR_BAD_INPUT'],
      ['over the size limit, declared', { body: Buffer.alloc(MAX_BYTES + 1, 'x') }, 413, 'SEALBOX_ERR_MESSAGE_TOO_LARGE'],
      ['over the size limit, streamed', { body: oversizedStream(), duplex: 'half' }, 413, 'SEALBOX_ERR_MESSAGE_TOO_LARGE'],
    ];
    for (const [name, init, status, code] of cases) {
      const r = await post(init);
      assert.equal(r.status, status, `${name}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error?.code, code, `${name}: ${JSON.stringify(r.body)}`);
      assert.equal(typeof r.body.error.message, 'string');
    }
    assert.deepEqual(await count(server.data), before, 'nothing was archived');
  });

  await t.test("a refused caller's chunked upload is cut off: the answer closes the connection", async () => {
    for (const [authorization, status] of [['Bearer sbx_nope', 401], [`Bearer ${contentToken}`, 403]] as const) {
      // A body of unknown length that has not ended when the answer comes.
      const answer = await new Promise<{ status?: number; connection?: string }>((resolve, reject) => {
        const req = request(url, { method: 'POST', headers: { authorization, 'content-type': 'message/rfc822' } }, (res) => {
          resolve({ status: res.statusCode, connection: res.headers.connection });
          res.resume();
          req.destroy();
        });
        req.on('error', reject);
        req.write(Buffer.alloc(64 * 1024, 'y'));
      });
      assert.deepEqual(answer, { status, connection: 'close' }, authorization);
    }
  });

  await t.test('a store fault answers 5xx, never 201; the retry is archived once', async () => {
    const raw = message(randomUUID());
    const lock = holdArchiveWriteLock(server.data);
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', body: raw, headers: { authorization: `Bearer ${token}`, 'content-type': 'message/rfc822' } });
    } finally {
      lock.release();
    }
    const body = (await res.json()) as any;
    assert.ok(res.status === 500 || res.status === 503, `${res.status} ${JSON.stringify(body)}`);
    assert.match(body.error.code, /^SEALBOX_ERR_(INTERNAL|STORE_UNAVAILABLE)$/);
    assert.equal(await stored(server.data, sha256(raw)), null);
    const retry = await fetch(url, { method: 'POST', body: raw, headers: { authorization: `Bearer ${token}`, 'content-type': 'message/rfc822' } });
    assert.equal(retry.status, 201);
    assert.equal((await stored(server.data, sha256(raw)))!.captures.length, 1);
  });

  await t.test('the OpenAPI document describes it', async () => {
    const doc = (await (await fetch(`${server.http!.url}/api/openapi.json`)).json()) as any;
    const op = doc.paths['/api/v1/ingest'].post;
    assert.ok(op.requestBody.content['message/rfc822']);
    assert.ok(op.responses['201']);
    const names = op.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`);
    for (const want of ['header:x-sealbox-mail-from', 'header:x-sealbox-rcpt-to', 'query:mailFrom', 'query:rcptTo']) assert.ok(names.includes(want), `${want} in ${names}`);
  });
});

// A chunked upload (no content-length) that outgrows receiver.maxMessageBytes on the way.
function oversizedStream(): ReadableStream<Uint8Array> {
  const piece = Buffer.alloc(256 * 1024, 'y');
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent > MAX_BYTES + piece.length) return controller.close();
      sent += piece.length;
      controller.enqueue(piece);
    },
  });
}
