// Authentication as verified at receipt: SPF against the client that handed the message over (the
// forwarded one when a trusted MTA says so), DKIM against the bytes kept, DMARC on top; one set of
// verdicts per capture, offline through the fake DNS zone in the config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { dkimSign } from 'mailauth';
import { RawSmtpClient } from './support/smtp-client.ts';
import { sealbox, startSealbox } from './support/sealbox.ts';
import { testConfig, waitForIndex } from './support/archive.ts';
import { readAs, readerToken } from './support/reader.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

const zone = {
  'example.com': { TXT: [['v=spf1 ip4:127.0.0.1 -all']] },
  '_dmarc.example.com': { TXT: [['v=DMARC1; p=reject; adkim=r; aspf=r']] },
  // DNS TXT strings hold at most 255 bytes: long records come in chunks.
  'sel1._domainkey.example.com': { TXT: [`v=DKIM1; k=rsa; p=${rsa.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`.match(/.{1,255}/g)!] },
};

const MESSAGE = [
  'From: Alice <alice@example.com>',
  'To: Bob <bob@example.org>',
  'Subject: wire transfer',
  'Date: Mon, 02 Nov 2026 09:00:00 +0000',
  'Message-ID: <wire-1@example.com>',
  '',
  'Please wire 1,000 EUR to the usual account.',
  '',
].join('\r\n');

async function signed(message: string): Promise<Buffer> {
  const { signatures, errors } = await dkimSign(message, {
    signingDomain: '', selector: '', privateKey: '',
    signatureData: [{ signingDomain: 'example.com', selector: 'sel1', privateKey: rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }],
  });
  assert.deepEqual(errors, []);
  return Buffer.from(signatures + message);
}

test('SPF, DKIM and DMARC verdicts are recorded per capture, as received', { timeout: 120_000 }, async (t) => {
  const config = testConfig({}, zone);
  const server = await startSealbox({ args: ['--config', config] });
  t.after(() => server.stop());
  const common = ['--data', server.data, '--config', config];

  const good = await signed(MESSAGE);
  const tampered = Buffer.from(good.toString().replace('1,000 EUR', '9,000 EUR'));
  assert.notEqual(sha256(good), sha256(tampered));

  const direct = await RawSmtpClient.connect(server.smtp.port, { helo: 'mail.example.com' });
  for (const data of [good, tampered]) {
    const r = await direct.send({ from: 'alice@example.com', to: ['bob@example.org'] }, data);
    assert.equal(r.data[0].code, 250, r.data[0].text);
  }
  await direct.quit();
  // The same signed bytes again, relayed by a trusted MTA for a client SPF does not list.
  const relayed = await RawSmtpClient.connect(server.smtp.port, { helo: 'relay.example.org' });
  assert.equal((await relayed.command('XFORWARD ADDR=203.0.113.50 HELO=mx.elsewhere.example PROTO=ESMTP')).code, 250);
  for (const data of [good, tampered]) {
    const r = await relayed.send({ from: 'alice@example.com', to: ['bob@example.org'] }, data);
    assert.equal(r.data[0].code, 250, r.data[0].text);
  }
  await relayed.quit();
  await waitForIndex(server.data);

  const token = await readerToken(server.data, ['bob@example.org'], { config });
  const show = async (sha: string) => {
    const shown = await readAs(token, ['show', ...common, '--json', sha]);
    assert.equal(shown.code, 0, shown.stderr);
    return JSON.parse(shown.stdout.toString());
  };

  const goodView = await show(sha256(good));
  assert.equal(goodView.captures.length, 2);
  const [fromListedIp, fromElsewhere] = goodView.captures.map((c: any) => c.auth);
  assert.deepEqual(fromListedIp.spf, { result: 'pass', domain: 'example.com' });
  assert.deepEqual(fromListedIp.dkim, [{ result: 'pass', domain: 'example.com', selector: 'sel1', aligned: true }]);
  assert.deepEqual(fromListedIp.dmarc, { result: 'pass', policy: 'reject', domain: 'example.com' });

  // The forwarded client is who SPF judges, not the relay on 127.0.0.1; DKIM still holds.
  assert.deepEqual(fromElsewhere.spf, { result: 'fail', domain: 'example.com' });
  assert.equal(fromElsewhere.dkim[0].result, 'pass');
  assert.equal(fromElsewhere.dmarc.result, 'pass', 'aligned DKIM is enough for DMARC');

  const tamperedView = await show(sha256(tampered));
  assert.equal(tamperedView.captures.length, 2);
  const [altered, alteredElsewhere] = tamperedView.captures.map((c: any) => c.auth);
  assert.equal(altered.dkim.length, 1);
  assert.equal(altered.dkim[0].result, 'fail', JSON.stringify(altered.dkim));
  assert.equal(altered.dkim[0].domain, 'example.com');
  assert.equal(altered.spf.result, 'pass', 'SPF is about the client, not the body');
  assert.equal(altered.dmarc.result, 'pass', 'aligned SPF still passes DMARC');

  // Altered, and from a client SPF does not list: nothing aligns, DMARC fails.
  assert.equal(alteredElsewhere.spf.result, 'fail');
  assert.equal(alteredElsewhere.dkim[0].result, 'fail');
  assert.deepEqual(alteredElsewhere.dmarc, { result: 'fail', policy: 'reject', domain: 'example.com' });
});
