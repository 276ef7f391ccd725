import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { dkimSign } from 'mailauth';
import { authenticateMessage } from '../src/index/authenticate-message.ts';
import type { AuthVerdicts } from '../src/index/authenticate-message.ts';
import { staticZoneResolver, systemResolver } from '../src/index/dns-resolver.ts';
import type { Resolver } from '../src/index/dns-resolver.ts';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ed25519 = generateKeyPairSync('ed25519');

// DNS TXT strings hold at most 255 bytes; long records come in chunks.
function txt(record: string): string[] {
  return record.match(/.{1,255}/g)!;
}

const zone = {
  'example.com': { TXT: [['v=spf1 ip4:192.0.2.0/24 -all'], ['unrelated=txt']], MX: [{ exchange: 'mx.example.com', priority: 10 }] },
  '_dmarc.example.com': { TXT: [['v=DMARC1; p=reject; adkim=r; aspf=r']] },
  'sel1._domainkey.example.com': { TXT: [txt(`v=DKIM1; k=rsa; p=${rsa.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`)] },
  // RFC 8463: an Ed25519 key is published as its 32 raw bytes.
  'ed._domainkey.esp.example.net': {
    TXT: [[`v=DKIM1; k=ed25519; p=${ed25519.publicKey.export({ type: 'spki', format: 'der' }).subarray(-32).toString('base64')}`]],
  },
};
const resolver = staticZoneResolver(zone);

const MESSAGE = [
  'From: Alice <alice@example.com>',
  'To: Bob <bob@example.org>',
  'Subject: quarterly figures',
  'Date: Mon, 01 Jan 2024 09:00:00 +0000',
  'Message-ID: <q1@example.com>',
  '',
  'The figures are attached in spirit.',
  '',
].join('\r\n');

async function signed(message = MESSAGE, thirdParty = false): Promise<Buffer> {
  const signatureData = [{ signingDomain: 'example.com', selector: 'sel1', privateKey: rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }];
  if (thirdParty) {
    signatureData.push({ signingDomain: 'esp.example.net', selector: 'ed', privateKey: ed25519.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
  }
  // mailauth signs with signatureData; its typings also ask for the top-level fields.
  const { signatures, errors } = await dkimSign(message, { signingDomain: '', selector: '', privateKey: '', signatureData });
  assert.deepEqual(errors, []);
  return Buffer.from(signatures + message);
}

const listed = { clientAddress: '192.0.2.25', clientHelo: 'mail.example.com', mailFrom: 'alice@example.com', mta: 'sealbox.test', resolver };
const unlisted = { ...listed, clientAddress: '198.51.100.7', clientHelo: 'mail.attacker.test' };

function assertJsonable(verdicts: AuthVerdicts): void {
  assert.deepEqual(JSON.parse(JSON.stringify(verdicts)), verdicts);
}

test('signed message from a listed IP: everything passes', async () => {
  const verdicts = await authenticateMessage(await signed(), listed);
  assert.deepEqual(verdicts, {
    spf: { result: 'pass', domain: 'example.com' },
    dkim: [{ result: 'pass', domain: 'example.com', selector: 'sel1', aligned: true }],
    arc: { result: 'none' },
    dmarc: { result: 'pass', policy: 'reject', domain: 'example.com' },
  });
  assertJsonable(verdicts);
});

test('a second, third-party Ed25519 signature is verified and not aligned', async () => {
  const verdicts = await authenticateMessage(await signed(MESSAGE, true), listed);
  assert.deepEqual(verdicts.dkim, [
    { result: 'pass', domain: 'example.com', selector: 'sel1', aligned: true },
    { result: 'pass', domain: 'esp.example.net', selector: 'ed', aligned: false },
  ]);
});

test('tampered body: DKIM fails, DMARC still passes on aligned SPF', async () => {
  const raw = Buffer.from((await signed()).toString().replace('attached in spirit', 'attached in full'));
  const verdicts = await authenticateMessage(raw, listed);
  assert.deepEqual(verdicts.dkim, [{ result: 'fail', domain: 'example.com', selector: 'sel1', aligned: true, comment: 'body hash did not verify' }]);
  assert.equal(verdicts.spf?.result, 'pass');
  assert.equal(verdicts.dmarc?.result, 'pass');
});

test('tampered signed header: DKIM fails on the signature', async () => {
  const raw = Buffer.from((await signed()).toString().replace('Subject: quarterly figures', 'Subject: revised figures'));
  const verdicts = await authenticateMessage(raw, listed);
  assert.deepEqual(verdicts.dkim, [{ result: 'fail', domain: 'example.com', selector: 'sel1', aligned: true, comment: 'bad signature' }]);
});

test('SPF from an IP the domain does not list fails; DKIM carries DMARC', async () => {
  const verdicts = await authenticateMessage(await signed(), unlisted);
  assert.deepEqual(verdicts.spf, { result: 'fail', domain: 'example.com' });
  assert.equal(verdicts.dkim[0].result, 'pass');
  assert.deepEqual(verdicts.dmarc, { result: 'pass', policy: 'reject', domain: 'example.com' });
});

test('tampered body from an unlisted IP fails DMARC', async () => {
  const raw = Buffer.from((await signed()).toString().replace('attached in spirit', 'attached in full'));
  const verdicts = await authenticateMessage(raw, unlisted);
  assert.equal(verdicts.spf?.result, 'fail');
  assert.equal(verdicts.dkim[0].result, 'fail');
  assert.deepEqual(verdicts.dmarc, { result: 'fail', policy: 'reject', domain: 'example.com' });
});

test('a domain with no records: none everywhere', async () => {
  const raw = Buffer.from('From: someone@norecords.test\r\nTo: bob@example.org\r\nSubject: hi\r\n\r\nhello\r\n');
  const verdicts = await authenticateMessage(raw, { ...listed, clientAddress: '203.0.113.9', mailFrom: 'someone@norecords.test' });
  assert.deepEqual(verdicts, {
    spf: { result: 'none', domain: 'norecords.test' },
    dkim: [],
    arc: { result: 'none' },
    dmarc: { result: 'none', policy: null, domain: 'norecords.test' },
  });
});

test('imported mail without a client address: SPF skipped, DKIM checked', async () => {
  const verdicts = await authenticateMessage(await signed(), { mta: 'sealbox.test', resolver });
  assert.equal(verdicts.spf, null);
  assert.equal(verdicts.dkim[0].result, 'pass');
  assert.deepEqual(verdicts.dmarc, { result: 'pass', policy: 'reject', domain: 'example.com' });
  assert.equal(verdicts.error, undefined);
});

test('an IPv6 literal as envelopes write it is checked; a non-address is recorded', async () => {
  const v6 = await authenticateMessage(await signed(), { ...listed, clientAddress: '[IPv6:2001:db8::25]' });
  assert.equal(v6.spf?.result, 'fail');

  const bad = await authenticateMessage(await signed(), { ...listed, clientAddress: 'unknown' });
  assert.equal(bad.spf, null);
  assert.match(bad.error ?? '', /not an IP address/);
  assert.equal(bad.dkim[0].result, 'pass');
});

test('a Received-SPF header is recorded as a claim', async () => {
  const raw = Buffer.concat([
    Buffer.from('Received-SPF: softfail (mx.example.org: transitioning) client-ip=192.0.2.99;\r\n envelope-from=<bounce@example.com>; helo=mail.example.com;\r\n'),
    await signed(),
  ]);
  const verdicts = await authenticateMessage(raw, { mta: 'sealbox.test', resolver });
  assert.deepEqual(verdicts.receivedSpf, { result: 'softfail', clientIp: '192.0.2.99', envelopeFrom: 'bounce@example.com' });
});

test('DNS failures are temperror verdicts, not throws', async () => {
  const failing: Resolver = async (name, rrtype) => {
    throw Object.assign(new Error(`query${rrtype} ESERVFAIL ${name}`), { code: 'ESERVFAIL' });
  };
  const verdicts = await authenticateMessage(await signed(), { ...listed, resolver: failing });
  assert.equal(verdicts.spf?.result, 'temperror');
  assert.equal(verdicts.dkim[0].result, 'temperror');
  assert.equal(verdicts.dmarc?.result, 'temperror');
});

test('staticZoneResolver answers like node:dns', async () => {
  assert.deepEqual(await resolver('EXAMPLE.com.', 'txt'), zone['example.com'].TXT);
  assert.deepEqual(await resolver('example.com', 'MX'), zone['example.com'].MX);
  await assert.rejects(resolver('missing.example.com', 'TXT'), { code: 'ENOTFOUND', message: 'queryTxt ENOTFOUND missing.example.com' });
  await assert.rejects(resolver('example.com', 'AAAA'), { code: 'ENODATA', syscall: 'queryAaaa' });

  // Answers are copies: a caller cannot change the zone.
  const answers = await resolver('example.com', 'TXT');
  answers[0][0] = 'v=spf1 +all';
  assert.deepEqual(await resolver('example.com', 'TXT'), zone['example.com'].TXT);
});

test('staticZoneResolver rejects a malformed zone, naming the entry', () => {
  assert.throws(() => staticZoneResolver({ 'example.com': { TXT: ['v=spf1 -all'] } }), /zone\["example.com"\]\.TXT answers must be arrays of strings/);
  assert.throws(() => staticZoneResolver({ 'example.com': { A: ['not-an-ip'] } }), /zone\["example.com"\]\.A/);
  assert.throws(() => staticZoneResolver({ 'example.com': { MX: [{ exchange: 'mx' }] } }), /MX answers/);
  assert.throws(() => staticZoneResolver({ 'example.com': [] as never }), /must map record types/);
});

test('systemResolver gives up with ETIMEOUT when the server is silent', async () => {
  assert.throws(() => systemResolver(0), /positive integer/);
  assert.throws(() => systemResolver(Number.NaN), /positive integer/);

  // A DNS server that reads queries and never answers.
  const silent = createSocket('udp4');
  silent.bind(0, '127.0.0.1');
  await once(silent, 'listening');
  try {
    const { port } = silent.address();
    const lookup = systemResolver(300, [`127.0.0.1:${port}`]);
    await assert.rejects(lookup('example.com', 'TXT'), { code: 'ETIMEOUT' });
  } finally {
    silent.close();
  }
});
