// The one decision on which peers the capture listeners (SMTP, LMTP, milter) believe.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClientPolicy } from '../src/capture/client-policy.ts';

test('receiver.allowedClients: empty admits anyone; a list admits its addresses and ranges only', () => {
  assert.equal(new ClientPolicy({ allowedClients: [], journalClients: [] }).connectRefusal('203.0.113.7'), null);
  const policy = new ClientPolicy({ allowedClients: ['192.0.2.1', '198.51.100.0/24', '2001:db8::/32'], journalClients: [] });
  for (const peer of ['192.0.2.1', '::ffff:192.0.2.1', '198.51.100.200', '2001:db8::25']) assert.equal(policy.connectRefusal(peer), null, peer);
  assert.equal(policy.connectRefusal('::ffff:127.0.0.1'), 'client 127.0.0.1 is not in receiver.allowedClients');
  assert.match(policy.connectRefusal('2001:db9::1')!, /not in receiver\.allowedClients/);
  assert.match(policy.connectRefusal('')!, /not in receiver\.allowedClients/, 'a peer without an address is refused');
});

test('receiver.journalClients: empty unwraps no one', () => {
  assert.equal(new ClientPolicy({ allowedClients: [], journalClients: [] }).journalRefusal('127.0.0.1'), 'not unwrapped: client 127.0.0.1 is not in receiver.journalClients');
  assert.equal(new ClientPolicy({ allowedClients: [], journalClients: ['127.0.0.1'] }).journalRefusal('::ffff:127.0.0.1'), null);
});

test('an entry that is not an address or CIDR range stops start-up naming the key', () => {
  for (const [key, entry] of [['allowedClients', 'mta.example.test'], ['allowedClients', '10.0.0.0/33'], ['journalClients', '10.0.0.0/x'], ['journalClients', '2001:db8::/129']] as const) {
    const receiver = { allowedClients: [] as string[], journalClients: [] as string[], [key]: [entry] };
    assert.throws(() => new ClientPolicy(receiver), (err: Error & { code?: string }) => err.code === 'SEALBOX_ERR_CONFIG' && err.message.includes(`receiver.${key}: "${entry}"`), entry);
  }
});
