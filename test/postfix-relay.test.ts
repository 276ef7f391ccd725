// End to end with a real MTA: a private Postfix relays a message for two To
// recipients and one Bcc recipient to Sealbox's SMTP listener; Sealbox must
// keep the whole envelope (the Bcc recipient exists only there), the client
// facts, and the bytes exactly as Postfix sent them.
import { waitUntil } from './support/wait.ts';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { postfixSkipReason, startPostfix, type PostfixInstance } from './support/postfix.ts';
import { sealbox, startSealbox } from './support/sealbox.ts';
import { readerToken } from './support/reader.ts';

const SEARCH_DEADLINE_MS = 10_000;

test('Postfix relays to Sealbox: envelope with Bcc, client facts and raw bytes are kept', async (t) => {
  const skip = postfixSkipReason();
  if (skip) {
    t.skip(skip);
    return;
  }

  const server = await startSealbox({});
  let postfix: PostfixInstance | undefined;
  // Postfix first, so it is not holding a connection to Sealbox when Sealbox stops.
  t.after(async () => {
    await postfix?.stop();
    await server.stop();
  });
  postfix = await startPostfix({ relayHost: '127.0.0.1', relayPort: server.smtp.port });

  const sender = 'alice@example.com';
  const to = ['bob@example.org', 'carol@example.org'];
  const bcc = 'dave@example.net';
  const messageId = `<postfix-relay-${randomUUID()}@example.com>`;
  const headers = [
    `From: Alice Example <${sender}>`,
    `To: ${to.join(', ')}`,
    `Subject: Quarterly figures ${randomUUID()}`,
    `Date: Tue, 24 Nov 2026 09:30:00 +0000`,
    `Message-ID: ${messageId}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
  ];
  const body = ['Hello Bob and Carol,', '', 'the figures are attached in spirit.', '-- ', 'Alice', ''].join('\n');
  const input = [...headers.slice(0, 2), `Bcc: ${bcc}`, ...headers.slice(2)].join('\n') + '\n\n' + body;

  // -t: recipients from To/Cc/Bcc; cleanup then removes the Bcc header.
  await postfix.sendmail(['-f', sender, '-t'], input);
  await postfix.waitForQueueEmpty(20_000);

  // The Bcc recipient reads it from their own mailbox: it is there only through the envelope.
  const token = await readerToken(server.data, [bcc]);
  // The indexer runs asynchronously after the 250: poll search until it finds the message.
  let last = '';
  const hits = await waitUntil(`search finds ${messageId}`, async () => {
    const search = await sealbox(['search', '--data', server.data, '--token', token, '--json', `message-id:${messageId}`]);
    last = `exit ${search.code}: ${search.stderr}`;
    const found = search.code === 0 ? search.stdout.toString().split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as Record<string, unknown>) : [];
    return found.length > 0 && found;
  }, { timeoutMs: SEARCH_DEADLINE_MS, intervalMs: 100, detail: () => `${last}\n--- postfix log ---\n${postfix.log()}` });
  assert.equal(hits.length, 1, `one message for ${messageId}: ${JSON.stringify(hits)}`);
  const hit = hits[0]!;
  for (const key of ['sha256', 'messageId', 'date', 'from', 'subject']) assert.ok(key in hit, `search hit has ${key}: ${JSON.stringify(hit)}`);
  assert.ok(String(hit.messageId).includes(messageId.slice(1, -1)), `messageId ${String(hit.messageId)}`);
  const sha = String(hit.sha256);
  assert.match(sha, /^[0-9a-f]{64}$/);

  type Shown = {
    captures: Array<{ envelope: { mailFrom: unknown; rcptTo: unknown[]; clientAddress: string; clientHelo: string } }>;
    mailboxes: Array<{ role: string; address?: string; addresses?: string[] }>;
  };
  const showAs = async (reader: string): Promise<Shown> => {
    const shown = await sealbox(['show', '--data', server.data, '--token', reader, '--json', sha]);
    assert.equal(shown.code, 0, shown.stderr);
    return JSON.parse(shown.stdout.toString()) as Shown;
  };
  // The Bcc recipient sees the message as it reached them: their own address, no one else's.
  assert.deepEqual((await showAs(token)).captures[0]!.envelope.rcptTo.map(address), [bcc]);
  // The sender sees the whole envelope: every recipient, the Bcc one marked as such.
  const message = await showAs(await readerToken(server.data, [sender], { name: 'sender' }));

  const envelope = message.captures[0]!.envelope;
  assert.equal(address(envelope.mailFrom), sender);
  assert.deepEqual(envelope.rcptTo.map(address).sort(), [...to, bcc].sort());
  assert.equal(envelope.clientAddress, '127.0.0.1');
  assert.equal(envelope.clientHelo, postfix.heloName);

  const roleOf = (addr: string) => message.mailboxes.filter((m) => (m.addresses ?? [m.address]).includes(addr)).map((m) => m.role);
  assert.ok(roleOf(bcc).includes('bcc'), `bcc mailbox: ${JSON.stringify(message.mailboxes)}`);
  for (const addr of to) assert.ok(roleOf(addr).includes('to'), `to mailbox ${addr}: ${JSON.stringify(message.mailboxes)}`);

  const raw = await sealbox(['show', '--data', server.data, '--token', token, '--raw', sha]);
  assert.equal(raw.code, 0, raw.stderr);
  const rawText = raw.stdout.toString('latin1');
  // Postfix prepends Received: and sends CRLF line endings; everything we wrote
  // is otherwise passed on byte for byte, and the Bcc header is gone.
  const crlf = (s: string) => s.replace(/\n/g, '\r\n');
  assert.ok(rawText.endsWith('\r\n\r\n' + crlf(body)), `raw ends with the body sent:\n${rawText}`);
  for (const header of headers) assert.ok(rawText.includes(header + '\r\n'), `raw contains ${header}:\n${rawText}`);
  assert.ok(/^Received: by postfix\.sealbox\.test /m.test(rawText), 'Postfix added its Received header');
  assert.ok(!/^Bcc:/im.test(rawText) && !rawText.includes(bcc), 'the Bcc recipient is not in the stored bytes');
});

/** An envelope address as the CLI prints it: a string, or an object with `address`. */
function address(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'address' in value) return String((value as { address: unknown }).address);
  throw new Error(`not an address: ${JSON.stringify(value)}`);
}
