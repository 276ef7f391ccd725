// Retention fixed at capture: how long mail is kept is worked out from the rules as they are when
// the capture commits (the longest applicable rule wins, mail matching none follows the default).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Envelope } from '../src/core/types.ts';
import { directionOf, envelopeAddresses, domainOf, RetentionPolicy, whyItShortens } from '../src/retention/retention-policy.ts';
import type { CaptureFacts } from '../src/retention/retention-policy.ts';
import type { AddressMailbox, RetentionRule } from '../src/retention/retention-store.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 11, 1);
const INTERNAL = new Set(['corp.test']);

const rule = (id: string, days: number | null, match: Partial<Pick<RetentionRule, 'mailboxes' | 'sensitivities' | 'domains' | 'directions'>>): RetentionRule =>
  ({ id, name: id, mailboxes: [], sensitivities: [], domains: [], directions: [], days, ...match });

const envelope = (from: string, to: string[]): Envelope => ({
  mailFrom: from, mailFromArgs: {}, rcptTo: to.map((address) => ({ address, args: {} })), clientAddress: '127.0.0.1', clientPort: 1, clientHelo: null,
  clientName: null, authUser: null, queueId: null, protocol: 'ESMTP', tls: null, transport: { address: '127.0.0.1', port: 1, helo: null }, xforward: {},
});

// The facts the archive writer gathers for a capture, with a directory of address → mailbox.
function facts(env: Envelope, directory: Record<string, { mailbox: string; sensitivity?: string }> = {}): CaptureFacts {
  const addresses = envelopeAddresses(env);
  const mailboxes: AddressMailbox[] = addresses.flatMap((a) => (directory[a] ? [{ address: a, mailbox: directory[a].mailbox, sensitivity: directory[a].sensitivity ?? null }] : []));
  return { known: true, addresses, domains: [...new Set(addresses.map(domainOf))], mailboxes, direction: directionOf(env, INTERNAL) };
}

test('retain-until: the longest applicable rule wins, mail matching none follows the default', () => {
  const directory = { 'ceo@corp.test': { mailbox: 'ceo', sensitivity: 'executive' }, 'legal@corp.test': { mailbox: 'legal' }, 'ann@corp.test': { mailbox: 'ann' } };
  const rules = [
    rule('legal', 3650, { mailboxes: ['legal'] }),
    rule('exec', 2000, { sensitivities: ['executive'] }),
    rule('news', 30, { domains: ['news.test'] }),
    rule('out', 1000, { directions: ['outbound'] }),
    rule('news-out', 60, { domains: ['news.test'], directions: ['outbound'] }),   // both kinds must match
  ];
  const policy = new RetentionPolicy(rules, 365);
  const of = (env: Envelope) => policy.retentionOf(facts(env, directory), T0);
  const days = (r: { retainUntil: number | null }) => (r.retainUntil === null ? null : (r.retainUntil - T0) / DAY);

  // No rule: the default.
  const plain = of(envelope('x@partner.test', ['ann@corp.test']));
  assert.deepEqual([days(plain), plain.ruleId], [365, null]);
  // A mailbox rule, by any envelope address (here a recipient).
  assert.deepEqual([days(of(envelope('x@partner.test', ['ann@corp.test', 'legal@corp.test']))), of(envelope('x@partner.test', ['legal@corp.test'])).ruleId], [3650, 'legal']);
  // Sensitivity of a mailbox an envelope address belongs to.
  assert.deepEqual(of(envelope('ceo@corp.test', ['ann@corp.test'])), { retainUntil: T0 + 2000 * DAY, ruleId: 'exec' });
  // A domain rule shorter than the default still governs the mail it matches (no longer rule applies).
  assert.deepEqual(of(envelope('promo@news.test', ['ann@corp.test'])), { retainUntil: T0 + 30 * DAY, ruleId: 'news' });
  // Direction: internal → external is outbound; the longest of out (1000), news-out (60), news (30) wins.
  assert.deepEqual(of(envelope('ann@corp.test', ['list@news.test'])), { retainUntil: T0 + 1000 * DAY, ruleId: 'out' });
  // Internal mail is not outbound; inbound from outside is not either; the null sender counts as outside.
  assert.equal(directionOf(envelope('ann@corp.test', ['ceo@corp.test']), INTERNAL), 'internal');
  assert.equal(directionOf(envelope('x@partner.test', ['ann@corp.test']), INTERNAL), 'inbound');
  assert.equal(directionOf(envelope('', ['ann@corp.test']), INTERNAL), 'inbound');
  assert.equal(directionOf(envelope('ann@corp.test', ['x@partner.test']), new Set()), null, 'no internal domains: no direction');
  // Several rules at once: the longest wins (legal 3650 over exec 2000 over out 1000).
  assert.deepEqual(of(envelope('ceo@corp.test', ['legal@corp.test', 'x@partner.test'])), { retainUntil: T0 + 3650 * DAY, ruleId: 'legal' });
  // A rule for ever beats any number of days; a default for ever is null.
  assert.deepEqual(new RetentionPolicy([...rules, rule('hold', null, { mailboxes: ['ann'] })], 365).retentionOf(facts(envelope('ann@corp.test', ['list@news.test']), directory), T0), { retainUntil: null, ruleId: 'hold' });
  assert.deepEqual(new RetentionPolicy([], null).retentionOf(facts(envelope('x@partner.test', ['ann@corp.test'])), T0), { retainUntil: null, ruleId: null });

  // Without an envelope (an import) nothing rules a rule out, and it may match none: the longest
  // of every rule and the default.
  assert.deepEqual(policy.retentionOf({ known: false }, T0), { retainUntil: T0 + 3650 * DAY, ruleId: 'legal' });
  assert.deepEqual(new RetentionPolicy([rule('news', 30, { domains: ['news.test'] })], 365).retentionOf({ known: false }, T0), { retainUntil: T0 + 365 * DAY, ruleId: null }, 'a short rule never cuts an import short');
});

test('which rule changes could shorten what mail is kept', () => {
  const legal = rule('legal', 3650, { mailboxes: ['legal'] });
  assert.equal(whyItShortens(null, legal, 365), null, 'a rule longer than the default only lengthens');
  assert.match(whyItShortens(null, rule('n', 30, { domains: ['news.test'] }), 365)!, /less than the default/);
  assert.match(whyItShortens(null, rule('n', 30, { domains: ['news.test'] }), null)!, /less than the default \(for ever\)/);
  assert.equal(whyItShortens(legal, { ...legal, days: 4000 }, 365), null);
  assert.equal(whyItShortens(legal, { ...legal, name: 'Legal dept' }, 365), null, 'a new name changes nothing');
  assert.equal(whyItShortens(legal, { ...legal, mailboxes: ['legal', 'board'] }, 365), null, 'matching more, for longer than the default');
  assert.match(whyItShortens(legal, { ...legal, days: 3000 }, 365)!, /shortens the rule from 3650 days to 3000 days/);
  assert.match(whyItShortens(legal, { ...legal, mailboxes: [] , domains: ['corp.test'] }, 365)!, /matches less mail/);
  const short = rule('n', 30, { domains: ['news.test'] });
  assert.match(whyItShortens(short, { ...short, domains: ['news.test', 'promo.test'] }, 365)!, /matches more mail, keeping it 30 days/);
  assert.match(whyItShortens(legal, null, 365)!, /removes a rule/);
});
