// The milter protocol's edge cases, driven by miltertest (the Trusted Domain Project's MTA
// simulator, Lua scripts) and by a raw socket for what no well-behaved MTA sends: malformed,
// oversized and truncated packets, unknown commands. Whatever arrives, the listener answers or
// closes that one connection cleanly and keeps serving; what it archives is byte-exact.
import { waitUntil } from './support/wait.ts';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { testConfig } from './support/archive.ts';
import { RawMilterClient, archivedBytes, miltertest, miltertestSkipReason, packet, rawMessage, storedCaptures, u16, u32, z } from './support/milter.ts';
import type { StoredCapture } from './support/milter.ts';
import { sealbox, startSealbox } from './support/sealbox.ts';
import type { SealboxServer } from './support/sealbox.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const MAX_MESSAGE_BYTES = 1_000_000;
const HDR_LEADSPC = 0x100000;

// Lua preamble: negotiate explicitly (miltertest only honours the filter's no-reply flags when
// mt.negotiate was called), and a check that names the step that failed.
const LUA = `
function check(r, what) if r ~= nil then error(what .. ": " .. tostring(r)) end end
function eom(conn, what)
  check(mt.eom(conn), what)
  if mt.getreply(conn) ~= SMFIR_CONTINUE then error(what .. ": end of message not answered continue but " .. tostring(mt.getreply(conn))) end
end
check(mt.negotiate(conn, nil, nil, nil), "negotiate")
`;

function byQueueId(server: SealboxServer, queueId: string): StoredCapture[] {
  return storedCaptures(server.data).filter((c) => c.envelope.queueId === queueId);
}

async function runLua(server: SealboxServer, script: string): Promise<void> {
  const r = await miltertest(LUA + script, server.milter!.port);
  assert.equal(r.code, 0, `miltertest failed:\n${r.output}\n--- sealbox ---\n${server.stderr().slice(-4000)}`);
}

// A listener that still works: a fresh connection negotiates and gets a message archived.
async function stillServes(server: SealboxServer, queueId: string): Promise<void> {
  const c = await RawMilterClient.connect(server.milter!.port);
  try {
    await c.negotiate(6, 0x1ff, HDR_LEADSPC);
    c.send('C', z('mta.test'), '4', u16(25), z('192.0.2.1'));
    assert.equal((await c.read())?.command, 'c');
    assert.equal(await rawMessage(c, queueId, 'still here\r\n', { replies: true }), 'c');
  } finally {
    c.close();
  }
  assert.equal(byQueueId(server, queueId).length, 1, `the listener kept serving (${queueId} archived)`);
}

test('milter protocol edge cases', { timeout: 300_000 }, async (t) => {
  const skip = miltertestSkipReason();
  const config = testConfig({ receiver: { maxMessageBytes: MAX_MESSAGE_BYTES }, commit: { inlineBlobBytes: 65_536 } });
  const server = await startSealbox({ args: ['--config', config, '--milter', '127.0.0.1:0'] });
  t.after(() => server.stop());

  await t.test('negotiation: protocol 6, only SETSYMLIST asked, header values with their leading space', { skip }, async () => {
    await runLua(server, `
      if not mt.test_action(conn, SMFIF_SETSYMLIST) then error("SETSYMLIST not requested") end
      for _, a in ipairs({SMFIF_ADDHDRS, SMFIF_CHGBODY, SMFIF_ADDRCPT, SMFIF_DELRCPT, SMFIF_CHGHDRS, SMFIF_QUARANTINE, SMFIF_CHGFROM}) do
        if mt.test_action(conn, a) then error("asked to modify messages: " .. a) end
      end
      if not mt.test_option(conn, SMFIP_HDR_LEADSPC) then error("HDR_LEADSPC not requested") end
      if mt.test_option(conn, SMFIP_RCPT_REJ) then error("asked for rejected recipients") end
      for _, o in ipairs({SMFIP_NOCONNECT, SMFIP_NOHELO, SMFIP_NOMAIL, SMFIP_NORCPT, SMFIP_NOBODY, SMFIP_NOHDRS, SMFIP_NOEOH}) do
        if mt.test_option(conn, o) then error("skips a step it needs: " .. o) end
      end
      mt.disconnect(conn)
    `);
    const c = await RawMilterClient.connect(server.milter!.port);
    const reply = await c.negotiate();
    c.close();
    assert.equal(reply.version, 6);
    assert.equal(reply.actions, 0x100);
    const lists = reply.macros.toString('latin1');
    for (const name of ['{client_addr}', '{client_name}', '{client_port}', '{auth_authen}', '{mail_addr}', '{rcpt_addr}', '{tls_version}', '{cipher}', 'j _']) {
      assert.ok(lists.includes(name), `asks for ${name}: ${JSON.stringify(lists)}`);
    }
    // An older MTA gets its own version back and no macro lists.
    const old = await RawMilterClient.connect(server.milter!.port);
    const v2 = await old.negotiate(2, 0x3f, 0x7f);
    old.close();
    assert.deepEqual([v2.version, v2.actions, v2.protocol, v2.macros.length], [2, 0, 0, 0]);
  });

  await t.test('several messages on one connection, each with its own envelope', { skip }, async () => {
    await runLua(server, `
      mt.macro(conn, SMFIC_CONNECT, "j", "mta.example", "{client_addr}", "192.0.2.10", "{client_port}", "40000", "{client_name}", "client.example")
      check(mt.conninfo(conn, "client.example", "192.0.2.10"), "conninfo")
      check(mt.helo(conn, "helo.client.example"), "helo")
      for i = 1, 3 do
        mt.macro(conn, SMFIC_MAIL, "i", "MULTI" .. i, "{auth_authen}", "alice")
        check(mt.mailfrom(conn, "<alice@example.com>", "SIZE=123", "BODY=8BITMIME"), "mail " .. i)
        mt.macro(conn, SMFIC_RCPT, "{rcpt_addr}", "bob@example.org")
        check(mt.rcptto(conn, "<bob@example.org>", "NOTIFY=NEVER"), "rcpt " .. i)
        check(mt.rcptto(conn, "<carol" .. i .. "@example.org>"), "rcpt2 " .. i)
        check(mt.data(conn), "data " .. i)
        check(mt.header(conn, "From", "alice@example.com"), "header " .. i)
        check(mt.header(conn, "Subject", "message " .. i), "header " .. i)
        check(mt.eoh(conn), "eoh " .. i)
        check(mt.bodystring(conn, "body " .. i .. "\\r\\n"), "body " .. i)
        eom(conn, "message " .. i)
      end
      mt.disconnect(conn)
    `);
    for (let i = 1; i <= 3; i++) {
      const captures = byQueueId(server, `MULTI${i}`);
      assert.equal(captures.length, 1, `message ${i} archived once`);
      const { envelope, sha256: sha } = captures[0]!;
      const expected = Buffer.from(`From: alice@example.com\r\nSubject: message ${i}\r\n\r\nbody ${i}\r\n`);
      assert.equal((await archivedBytes(server.data, sha)).toString('latin1'), expected.toString('latin1'));
      assert.equal(sha, sha256(expected));
      assert.equal(envelope.mailFrom, 'alice@example.com');
      assert.deepEqual(envelope.mailFromArgs, { SIZE: '123', BODY: '8BITMIME' });
      assert.deepEqual(envelope.rcptTo, [{ address: 'bob@example.org', args: { NOTIFY: 'NEVER' } }, { address: `carol${i}@example.org`, args: {} }]);
      assert.equal(envelope.clientAddress, '192.0.2.10');
      assert.equal(envelope.clientPort, 40000);
      assert.equal(envelope.clientName, 'client.example');
      assert.equal(envelope.clientHelo, 'helo.client.example');
      assert.equal(envelope.authUser, 'alice');
      assert.equal(envelope.transport.helo, 'mta.example');
    }
  });

  await t.test('an aborted message leaves nothing; the next one on the connection is archived', { skip }, async () => {
    await runLua(server, `
      check(mt.conninfo(conn, "client.example", "192.0.2.11"), "conninfo")
      mt.macro(conn, SMFIC_MAIL, "i", "ABORTED1")
      check(mt.mailfrom(conn, "<alice@example.com>"), "mail")
      check(mt.rcptto(conn, "<bob@example.org>"), "rcpt")
      check(mt.header(conn, "Subject", "never finished"), "header")
      check(mt.eoh(conn), "eoh")
      check(mt.bodystring(conn, "partial body\\r\\n"), "body")
      check(mt.abort(conn), "abort")
      mt.macro(conn, SMFIC_MAIL, "i", "AFTERABORT1")
      check(mt.mailfrom(conn, "<carol@example.com>"), "mail 2")
      check(mt.rcptto(conn, "<dave@example.org>"), "rcpt 2")
      check(mt.header(conn, "Subject", "finished"), "header 2")
      check(mt.eoh(conn), "eoh 2")
      check(mt.bodystring(conn, "whole body\\r\\n"), "body 2")
      eom(conn, "message after abort")
      mt.disconnect(conn)
    `);
    assert.equal(byQueueId(server, 'ABORTED1').length, 0);
    const after = byQueueId(server, 'AFTERABORT1');
    assert.equal(after.length, 1);
    assert.equal(after[0]!.envelope.mailFrom, 'carol@example.com');
    assert.deepEqual(after[0]!.envelope.rcptTo.map((r) => r.address), ['dave@example.org']);
    assert.ok((await archivedBytes(server.data, after[0]!.sha256)).equals(Buffer.from('Subject: finished\r\n\r\nwhole body\r\n')));
  });

  await t.test('a body in many chunks, and a binary one from a file, stream to the store byte for byte', { skip }, async () => {
    const lines = Array.from({ length: 500 }, (_, i) => `line ${String(i).padStart(5, '0')} ${'x'.repeat(600)}\r\n`);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sealbox-milter-body-'));
    const binary = Buffer.alloc(200_000);
    for (let i = 0; i < binary.length; i++) binary[i] = (i * 31 + (i >> 8)) & 0xff;
    const bodyFile = path.join(dir, 'body.bin');
    writeFileSync(bodyFile, binary);
    await runLua(server, `
      check(mt.conninfo(conn, "client.example", "192.0.2.12"), "conninfo")
      mt.macro(conn, SMFIC_MAIL, "i", "CHUNKS1")
      check(mt.mailfrom(conn, "<alice@example.com>"), "mail")
      check(mt.rcptto(conn, "<bob@example.org>"), "rcpt")
      check(mt.header(conn, "Subject", "many chunks"), "header")
      check(mt.eoh(conn), "eoh")
      for i = 0, 499 do
        check(mt.bodystring(conn, string.format("line %05d %s\\r\\n", i, string.rep("x", 600))), "chunk " .. i)
      end
      eom(conn, "many chunks")
      mt.macro(conn, SMFIC_MAIL, "i", "BINARY1")
      check(mt.mailfrom(conn, "<alice@example.com>"), "mail 2")
      check(mt.rcptto(conn, "<bob@example.org>"), "rcpt 2")
      check(mt.header(conn, "Subject", "binary"), "header 2")
      check(mt.eoh(conn), "eoh 2")
      check(mt.bodyfile(conn, "${bodyFile}"), "bodyfile")
      eom(conn, "binary")
      mt.disconnect(conn)
    `);
    const chunks = byQueueId(server, 'CHUNKS1');
    assert.equal(chunks.length, 1);
    const expected = Buffer.from('Subject: many chunks\r\n\r\n' + lines.join(''));
    const got = await archivedBytes(server.data, chunks[0]!.sha256);
    assert.equal(got.length, expected.length);
    assert.ok(got.equals(expected), `differs from byte ${got.findIndex((b, i) => b !== expected[i])}: ${JSON.stringify(got.subarray(0, 200).toString('latin1'))}`);
    const bin = byQueueId(server, 'BINARY1');
    assert.equal(bin.length, 1);
    const expectedBinary = Buffer.concat([Buffer.from('Subject: binary\r\n\r\n'), binary]);
    assert.equal(bin[0]!.sha256, sha256(expectedBinary));
    assert.ok((await archivedBytes(server.data, bin[0]!.sha256)).equals(expectedBinary));
  });

  await t.test('header white space, folding and 8-bit bytes are rebuilt as the MTA passed them', { skip }, async () => {
    // miltertest plays an MTA that keeps the space after the colon (SMFIP_HDR_LEADSPC): it
    // sends " " + the value given, as Postfix sends what follows the colon.
    await runLua(server, `
      check(mt.conninfo(conn, "client.example", "192.0.2.13"), "conninfo")
      mt.macro(conn, SMFIC_MAIL, "i", "ODDHDR1")
      check(mt.mailfrom(conn, "<alice@example.com>"), "mail")
      check(mt.rcptto(conn, "<bob@example.org>"), "rcpt")
      check(mt.header(conn, "Subject", ""), "empty value")
      check(mt.header(conn, "X-Tab", "\\tafter a tab"), "tab")
      check(mt.header(conn, "X-Trailing", "trailing   "), "trailing")
      check(mt.header(conn, "X-Folded", "first\\n\\tsecond\\n third"), "folded")
      check(mt.header(conn, "X-Spaces", "  three"), "spaces")
      check(mt.header(conn, "X-8bit", "caf\\195\\169"), "8bit")
      check(mt.eoh(conn), "eoh")
      check(mt.bodystring(conn, "b\\r\\n"), "body")
      eom(conn, "odd headers")
      mt.disconnect(conn)
    `);
    const captures = byQueueId(server, 'ODDHDR1');
    assert.equal(captures.length, 1);
    const expected = 'Subject: \r\nX-Tab: \tafter a tab\r\nX-Trailing: trailing   \r\nX-Folded: first\r\n\tsecond\r\n third\r\nX-Spaces:   three\r\nX-8bit: café\r\n\r\nb\r\n';
    assert.equal((await archivedBytes(server.data, captures[0]!.sha256)).toString('utf8'), expected);
  });

  await t.test('with SMFIP_HDR_LEADSPC a value is exactly what followed the colon; without it the eaten space is put back', async () => {
    for (const [protocol, queueId, headers, expected] of [
      [HDR_LEADSPC, 'LEADSPC1', [['Subject', ''], ['X-No-Space', 'none'], ['X-Two', '  two'], ['X-Tab', '\tt']], 'Subject:\r\nX-No-Space:none\r\nX-Two:  two\r\nX-Tab:\tt\r\n\r\nx\r\n'],
      [0, 'NOLEADSPC1', [['Subject', 'hello'], ['X-Tab', '\tt']], 'Subject: hello\r\nX-Tab: \tt\r\n\r\nx\r\n'],
    ] as const) {
      const c = await RawMilterClient.connect(server.milter!.port);
      await c.negotiate(6, 0x1ff, protocol);
      const step = async (command: string, ...fields: (Buffer | string)[]) => {
        c.send(command, ...fields);
        assert.equal((await c.read())?.command, 'c', `reply to ${command}`);
      };
      await step('C', z('mta.test'), '4', u16(25), z('192.0.2.1'));
      c.send('D', 'M', z('i', queueId));
      await step('M', z('<a@example.test>'));
      await step('R', z('<b@example.test>'));
      for (const [name, value] of headers) await step('L', z(name, value));
      await step('N');
      await step('B', 'x\r\n');
      c.send('E');
      assert.equal((await c.read())?.command, 'c');
      c.close();
      const [capture] = byQueueId(server, queueId);
      assert.ok(capture, queueId);
      assert.equal((await archivedBytes(server.data, capture.sha256)).toString('latin1'), expected);
    }
  });

  await t.test('unknown SMTP commands are answered and change nothing', { skip }, async () => {
    await runLua(server, `
      check(mt.conninfo(conn, "client.example", "unspec"), "conninfo from an unknown family")
      check(mt.unknown(conn, "XFOO bar"), "unknown")
      mt.macro(conn, SMFIC_MAIL, "i", "UNKNOWN1")
      check(mt.mailfrom(conn, "<>"), "mail")
      check(mt.rcptto(conn, "<bob@example.org>"), "rcpt")
      check(mt.header(conn, "Subject", "after an unknown command"), "header")
      check(mt.eoh(conn), "eoh")
      check(mt.bodystring(conn, "x\\r\\n"), "body")
      eom(conn, "after unknown")
      mt.disconnect(conn)
    `);
    const captures = byQueueId(server, 'UNKNOWN1');
    assert.equal(captures.length, 1);
    assert.equal(captures[0]!.envelope.mailFrom, '', 'the null sender');
    assert.equal(captures[0]!.envelope.clientAddress, null, 'an unknown address family has no address');
  });

  await t.test('a connection without HELO (and without no-reply flags) is archived with clientHelo null', async () => {
    const c = await RawMilterClient.connect(server.milter!.port);
    await c.negotiate(6, 0x1ff, HDR_LEADSPC);
    c.send('D', 'C', z('{client_addr}', '198.51.100.7'));
    c.send('C', z('[198.51.100.7]'), '4', u16(2525), z('198.51.100.7'));
    assert.equal((await c.read())?.command, 'c');
    assert.equal(await rawMessage(c, 'NOHELO1', 'no helo\r\n', { replies: true }), 'c');
    c.send('Q');
    await c.waitClosed();
    const captures = byQueueId(server, 'NOHELO1');
    assert.equal(captures.length, 1);
    const { envelope } = captures[0]!;
    assert.equal(envelope.clientHelo, null);
    assert.equal(envelope.clientAddress, '198.51.100.7');
    assert.equal(envelope.clientPort, 2525);
    assert.equal(envelope.clientName, null, '"[address]" is the MTA saying it has no name');
  });

  await t.test('QUIT_NC: the next SMTP connection on the same socket starts clean', async () => {
    const c = await RawMilterClient.connect(server.milter!.port);
    const negotiated = await c.negotiate();
    assert.ok(negotiated.protocol & 0x80000, 'no reply to body chunks when the MTA offers that');
    c.send('D', 'C', z('{client_name}', 'first.example', 'j', 'mta.example'));
    c.send('C', z('first.example'), '4', u16(1111), z('192.0.2.21'));
    c.send('D', 'H', z('{tls_version}', 'TLSv1.3', '{cipher}', 'TLS_AES_256_GCM_SHA384'));
    c.send('H', z('first.helo'));
    assert.equal(await rawMessage(c, 'QUITNC1', 'first\r\n', { replies: false }), 'c');
    c.send('K');
    c.send('C', z('[192.0.2.22]'), '6', u16(2222), z('2001:db8::22'));
    // A message whose body rides on the end-of-message packet itself, as libmilter allows.
    c.send('D', 'M', z('i', 'QUITNC2'));
    c.send('M', z('<second@example.test>'));
    c.send('R', z('<rcpt@example.test>'));
    c.send('L', z('Subject', ' second'));
    c.send('N');
    c.send('E', 'carried by EOB\r\n');
    assert.equal((await c.read())?.command, 'c');
    c.send('Q');
    await c.waitClosed();
    const first = byQueueId(server, 'QUITNC1')[0]!.envelope;
    const second = byQueueId(server, 'QUITNC2')[0]!.envelope;
    assert.deepEqual([first.clientAddress, first.clientPort, first.clientName, first.clientHelo], ['192.0.2.21', 1111, 'first.example', 'first.helo']);
    assert.deepEqual(first.tls, { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' });
    assert.deepEqual([second.clientAddress, second.clientPort, second.clientName, second.clientHelo, second.tls], ['2001:db8::22', 2222, null, null, null]);
    assert.equal(second.transport.helo, null, 'the first connection’s macros do not leak into the second');
    assert.ok((await archivedBytes(server.data, byQueueId(server, 'QUITNC2')[0]!.sha256)).equals(Buffer.from('Subject: second\r\n\r\ncarried by EOB\r\n')));
  });

  await t.test('a message over receiver.maxMessageBytes is refused with 552 5.3.4 (guarantee mode)', async () => {
    const c = await RawMilterClient.connect(server.milter!.port);
    await c.negotiate();
    c.send('C', z('mta.test'), '4', u16(25), z('192.0.2.1'));
    c.send('D', 'M', z('i', 'TOOBIG1'));
    c.send('M', z('<big@example.test>'));
    c.send('R', z('<rcpt@example.test>'));
    c.send('N');
    const chunk = Buffer.alloc(65_535, 'a');
    for (let sent = 0; sent <= MAX_MESSAGE_BYTES; sent += chunk.length) c.send('B', chunk);
    c.send('E');
    const reply = await c.read(30_000);
    assert.equal(reply?.command, 'y');
    assert.match(reply!.data.toString(), /^552 5\.3\.4 /);
    c.close();
    assert.equal(byQueueId(server, 'TOOBIG1').length, 0);
  });

  const malformed: [string, Buffer, boolean][] = [
    ['a zero length', Buffer.from([0, 0, 0, 0]), false],
    ['a length far over the limit', Buffer.concat([u32(0x7fffffff), Buffer.from('B')]), false],
    ['a command before option negotiation', packet('N'), false],
    ['an unknown command', packet('Z'), true],
    ['a header with one string', Buffer.concat([packet('M', z('<a@example.test>')), packet('L', Buffer.from('Subject'))]), true],
    ['a string without its NUL', packet('H', Buffer.from('helo!')), true],
    ['a CONNECT with an unknown family', packet('C', Buffer.concat([z('host'), Buffer.from('X'), u16(25), z('192.0.2.1')])), true],
    ['a macro name without a value', packet('D', Buffer.concat([Buffer.from('C'), z('j')])), true],
    ['DATA outside a message', packet('T'), true],
    ['a second OPTNEG', packet('O', Buffer.concat([u32(6), u32(0), u32(0)])), true],
  ];
  for (const [what, bytes, negotiateFirst] of malformed) {
    await t.test(`${what}: the connection is closed, the listener keeps serving`, async () => {
      const c = await RawMilterClient.connect(server.milter!.port);
      if (negotiateFirst) await c.negotiate(6, 0x1ff, HDR_LEADSPC);
      c.writeRaw(bytes);
      // Well-formed packets before the bad one are answered; then the filter closes.
      for (let reply = await c.read(); reply !== null; reply = await c.read()) assert.equal(reply.command, 'c');
      await c.waitClosed();
      await stillServes(server, `AFTER-${what.replace(/\W+/g, '-')}`);
    });
  }

  await t.test('a packet cut short by a closing MTA, mid-message: nothing archived, the listener keeps serving', async () => {
    const c = await RawMilterClient.connect(server.milter!.port);
    await c.negotiate(6, 0x1ff, HDR_LEADSPC);
    c.send('C', z('mta.test'), '4', u16(25), z('192.0.2.1'));
    assert.equal((await c.read())?.command, 'c');
    c.send('D', 'M', z('i', 'TRUNCATED1'));
    c.send('M', z('<cut@example.test>'));
    assert.equal((await c.read())?.command, 'c');
    c.writeRaw(Buffer.concat([u32(1000), Buffer.from('Bonly part of the chunk')]));
    c.socket.end();
    await c.waitClosed();
    await waitUntil('the cut packet is logged', () => /connection closed inside a packet/.test(server.stderr()));
    assert.equal(byQueueId(server, 'TRUNCATED1').length, 0);
    await stillServes(server, 'AFTER-TRUNCATED');
  });

  await t.test('the archive verifies after all of it', async () => {
    const r = await sealbox(['verify', '--data', server.data]);
    assert.equal(r.code, 0, r.stdout.toString() + r.stderr);
    assert.doesNotMatch(server.stderr(), /"level":50.*milter connection failed/, 'no unexpected connection faults');
  });
});

// receiver.allowedClients names who may submit to Sealbox: for the milter that is the MTA on the
// other end of the milter socket (not the SMTP client named in its CONNECT packet).
test('milter: a peer outside receiver.allowedClients is closed before negotiation', { timeout: 60_000 }, async (t) => {
  const config = testConfig({ receiver: { allowedClients: ['192.0.2.1'] } });
  const server = await startSealbox({ args: ['--config', config, '--milter', '127.0.0.1:0'] });
  t.after(() => server.stop());
  const c = await RawMilterClient.connect(server.milter!.port);
  try {
    c.send('O', u32(6), u32(0x1ff), u32(HDR_LEADSPC));
    assert.equal(await c.read(), null, 'closed without an option-negotiation reply');
  } finally {
    c.close();
  }
  await waitUntil('the refusal is logged', () => /milter connection refused: client 127\.0\.0\.1 is not in receiver\.allowedClients/.test(server.stderr()));

  const allowing = await startSealbox({ args: ['--config', testConfig({ receiver: { allowedClients: ['192.0.2.0/24', '127.0.0.0/8'] } }), '--milter', '127.0.0.1:0'] });
  t.after(() => allowing.stop());
  await stillServes(allowing, 'ALLOWED-PEER');
});
