// Retention fixed at capture: how long mail is kept is worked out from the rules as they are when
// the capture commits (the longest applicable rule wins, mail matching none follows the default),
// written into the capture row and its ledger entry, and never changed by a later rule. A rule
// change that could shorten what mail is kept, or removes a rule, is filed by one person and
// decided by another; one that only lengthens applies at once. Each step is a ledger entry.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { parseDirectoryCsv } from '../src/access/directory-csv.ts';
import { importAtConsole } from '../src/cli/commands/mailboxes.ts';
import type { Envelope } from '../src/core/types.ts';
import { directionOf, envelopeAddresses, domainOf, RetentionPolicy, whyItShortens } from '../src/retention/retention-policy.ts';
import type { CaptureFacts } from '../src/retention/retention-policy.ts';
import type { AddressMailbox, RetentionRule } from '../src/retention/retention-store.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openArchive } from '../src/archive.ts';
import { loadConfig } from '../src/core/config.ts';
import { testConfig } from './support/archive.ts';
import { startInProcessWorld } from './support/in-process.ts';
import { rfc822 } from './support/access-world.ts';
import { sealbox, tempDataDir } from './support/sealbox.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 11, 1);
const INTERNAL = new Set(['corp.test']);

const rule = (id: string, days: number | null, match: Partial<Pick<RetentionRule, 'mailboxes' | 'sensitivities' | 'departments' | 'domains' | 'directions'>>): RetentionRule =>
  ({ id, name: id, mailboxes: [], sensitivities: [], departments: [], domains: [], directions: [], days, ...match });

const envelope = (from: string, to: string[]): Envelope => ({
  mailFrom: from, mailFromArgs: {}, rcptTo: to.map((address) => ({ address, args: {} })), clientAddress: '127.0.0.1', clientPort: 1, clientHelo: null,
  clientName: null, authUser: null, queueId: null, protocol: 'ESMTP', tls: null, transport: { address: '127.0.0.1', port: 1, helo: null }, xforward: {},
});

// The facts the archive writer gathers for a capture, with a directory of address → mailbox.
function facts(env: Envelope, directory: Record<string, { mailbox: string; sensitivity?: string; department?: string }> = {}): CaptureFacts {
  const addresses = envelopeAddresses(env);
  const mailboxes: AddressMailbox[] = addresses.flatMap((a) => (directory[a] ? [{ address: a, mailbox: directory[a].mailbox, sensitivity: directory[a].sensitivity ?? null, department: directory[a].department ?? null }] : []));
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

test('a department rule keeps its mail longer; other mail follows the other rules or the default', () => {
  const directory = { 'ann@corp.test': { mailbox: 'ann', department: 'Finance' }, 'bob@corp.test': { mailbox: 'bob', department: 'Sales' }, 'cy@corp.test': { mailbox: 'cy' } };
  const policy = new RetentionPolicy([rule('books', 3650, { departments: ['Finance'] }), rule('fin-news', 30, { departments: ['Finance'], domains: ['news.test'] })], 365);
  assert.equal(policy.needsMailboxes, true, 'the writer looks the mailboxes up for a department rule');
  const of = (env: Envelope) => policy.retentionOf(facts(env, directory), T0);
  assert.deepEqual(of(envelope('x@partner.test', ['ann@corp.test'])), { retainUntil: T0 + 3650 * DAY, ruleId: 'books' }, 'to Finance');
  assert.deepEqual(of(envelope('ann@corp.test', ['x@partner.test'])), { retainUntil: T0 + 3650 * DAY, ruleId: 'books' }, 'from Finance');
  assert.deepEqual(of(envelope('x@partner.test', ['bob@corp.test', 'ann@corp.test'])).ruleId, 'books', 'any mailbox of the envelope in the department');
  assert.deepEqual(of(envelope('x@partner.test', ['bob@corp.test'])), { retainUntil: T0 + 365 * DAY, ruleId: null }, 'another department: the default');
  assert.deepEqual(of(envelope('x@partner.test', ['cy@corp.test'])), { retainUntil: T0 + 365 * DAY, ruleId: null }, 'no department: the default');
  assert.deepEqual(of(envelope('promo@news.test', ['bob@corp.test'])), { retainUntil: T0 + 365 * DAY, ruleId: null }, 'both kinds must match');
  // The kind is judged like the others when a change is filed.
  const books = rule('books', 3650, { departments: ['Finance'] });
  assert.equal(whyItShortens(books, { ...books, departments: ['Finance', 'Audit'] }, 365), null, 'wider, still longer than the default');
  assert.match(whyItShortens(books, { ...books, departments: ['Audit'] }, 365)!, /matches less mail/);
  assert.match(whyItShortens(null, rule('d', 30, { departments: ['Sales'] }), 365)!, /less than the default/);
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

test('retention is fixed at capture, and shortening it needs a second person', { timeout: 120_000 }, async (t) => {
  const w = await startInProcessWorld({
    messages: {},
    mailboxes: { 'ann@corp.test': 'ann', 'legal@corp.test': '' },
    users: { ann: ['owner'], boss: ['admin', 'approver'], appr: ['approver'], aud: ['auditor'] },
    config: { retention: { defaultDays: 365 } },
  });
  t.after(() => w.stop());
  const { as } = w;
  const { meta } = w.archive.stores;
  let n = 0;
  const deliver = async (from: string, to: string[]) => {
    const raw = rfc822({ from, to: to[0]!, subject: `retention ${++n}`, date: 'Tue, 01 Dec 2026 09:00:00 +0000' });
    const out = await w.deliver({ from, to }, raw);
    const cap = await meta.read(async (tx) => {
      for await (const c of meta.allCaptures(tx)) if (c.id === out.result.captureId) return c;
      throw new Error('capture not found');
    });
    const entry = await meta.read((tx) => meta.entry(tx, cap.ledgerIndex));
    return { sha: out.result.sha256, cap, entry: entry!.entry, receivedAt: cap.receivedAt };
  };
  const days = (c: { retainUntil: number | null; receivedAt: number }) => (c.retainUntil === null ? null : (c.retainUntil - c.receivedAt) / DAY);
  const legal = { name: 'Legal department', mailboxes: ['legal@corp.test'], days: 3650 };

  // --- no rule yet: the default, in the row and in the capture's ledger entry
  const first = await deliver('x@partner.test', ['ann@corp.test']);
  assert.deepEqual([days(first.cap), first.cap.retentionRule], [365, null]);
  assert.deepEqual([first.entry.parameters.retainUntil, first.entry.parameters.retentionRule], [first.cap.retainUntil, null], 'the ledger entry holds what was promised');

  // --- a rule that only lengthens applies at once (a retention.set entry)
  const added = await as.adm.call('POST', '/api/v1/retention/rules', legal);
  assert.equal(added.status, 200, JSON.stringify(added.body));
  assert.equal(added.body.applied, true);
  const legalId = added.body.rule.id as string;
  assert.deepEqual((await w.take('adm')).map((e) => [e.operation, e.result, e.parameters.rule?.days]), [['retention.set', 'success', 3650]]);
  const toLegal = await deliver('x@partner.test', ['legal@corp.test', 'ann@corp.test']);
  assert.deepEqual([days(toLegal.cap), toLegal.cap.retentionRule, toLegal.entry.parameters.retentionRule], [3650, legalId, legalId]);
  // The capture made before the rule keeps what it was given.
  const again = await meta.read(async (tx) => (await meta.capturesOf(tx, (await meta.getMessage(tx, first.sha))!.id))[0]!);
  assert.equal(again.retainUntil, first.cap.retainUntil, 'a rule added later does not change a capture made before');

  // --- the owner sees it in the message view
  const view = await as.ann.call('GET', `/api/v1/messages/${first.sha}`);
  assert.equal(view.status, 200, JSON.stringify(view.body));
  assert.equal(view.body.captures[0].retainUntil, new Date(first.cap.retainUntil!).toISOString());

  // --- a rule shorter than the default is filed, not applied (a high-impact retention.file entry)
  const news = await as.adm.call('POST', '/api/v1/retention/rules', { name: 'Newsletters', domains: ['News.test'], days: 30, note: 'they pile up' });
  assert.equal(news.status, 200, JSON.stringify(news.body));
  assert.equal(news.body.applied, false);
  assert.equal(news.body.change.state, 'pending');
  assert.match(news.body.change.why, /less than the default \(365 days\)/);
  assert.deepEqual((await w.take('adm')).map((e) => [e.operation, e.result, e.parameters.change]), [['retention.file', 'success', news.body.change.id]]);
  const promo = await deliver('promo@news.test', ['ann@corp.test']);
  assert.deepEqual([days(promo.cap), promo.cap.retentionRule], [365, null], 'a filed change is not in force');

  // --- an admin who is not an approver cannot decide; nor can the filer decide their own
  const byAdm = await as.adm.call('POST', `/api/v1/retention/changes/${news.body.change.id}/approve`, { reason: 'mine' });
  assert.equal(byAdm.status, 403, JSON.stringify(byAdm.body));
  assert.deepEqual((await w.take('adm')).map((e) => [e.operation, e.result]), [['retention.approve', 'denied']]);
  const shorterLegal = await as.boss.call('POST', `/api/v1/retention/rules/${legalId}`, { ...legal, days: 1000 });
  assert.equal(shorterLegal.body.applied, false, JSON.stringify(shorterLegal.body));
  assert.match(shorterLegal.body.change.why, /shortens the rule from 3650 days to 1000 days/);
  const own = await as.boss.call('POST', `/api/v1/retention/changes/${shorterLegal.body.change.id}/approve`, { reason: 'I am sure' });
  assert.equal(own.status, 403, JSON.stringify(own.body));
  assert.match(own.body.error.message, /no one approves a retention change they filed/);
  const bossEntries = (await w.take('boss')).map((e) => [e.operation, e.result, e.parameters.reason ?? null]);
  assert.deepEqual(bossEntries, [['retention.file', 'success', null], ['retention.approve', 'denied', 'no one approves a retention change they filed']], 'the refusal is recorded');
  assert.equal((await as.ann.call('POST', `/api/v1/retention/changes/${news.body.change.id}/approve`, { reason: 'x' })).status, 403, 'an owner decides nothing');

  // --- another person approves: the rule is in force from then on
  const approved = await as.appr.call('POST', `/api/v1/retention/changes/${news.body.change.id}/approve`, { reason: 'newsletters need not be kept' });
  assert.equal(approved.status, 200, JSON.stringify(approved.body));
  assert.equal(approved.body.state, 'approved');
  assert.deepEqual((await w.take('appr')).map((e) => [e.operation, e.result, e.parameters.rule?.days]), [['retention.approve', 'success', 30]]);
  const promo2 = await deliver('offers@news.test', ['ann@corp.test']);
  assert.equal(days(promo2.cap), 30);
  assert.match(String(promo2.cap.retentionRule), /^ret_/);
  assert.deepEqual([days(promo.cap)], [365], 'mail captured before keeps its default');
  const boss = await as.appr.call('POST', `/api/v1/retention/changes/${shorterLegal.body.change.id}/approve`, { reason: 'policy 2027' });
  assert.equal(boss.status, 200, JSON.stringify(boss.body));
  const legalLater = await deliver('x@partner.test', ['legal@corp.test']);
  assert.equal(days(legalLater.cap), 1000);
  const legalBefore = await meta.read(async (tx) => (await meta.capturesOf(tx, (await meta.getMessage(tx, toLegal.sha))!.id))[0]!);
  assert.equal(days(legalBefore), 3650, 'shortening a rule leaves what was promised before');
  assert.equal((await as.appr.call('POST', `/api/v1/retention/changes/${news.body.change.id}/deny`, { reason: 'late' })).status, 409, 'decided once');

  // --- lengthening applies at once; a sensitivity rule reads the directory
  await importAtConsole(w.archive.services, parseDirectoryCsv('addresses,sensitivity,name\nceo@corp.test,executive,ceo\n'), 'exec.csv');
  const exec = await as.adm.call('POST', '/api/v1/retention/rules', { name: 'Executives', sensitivities: ['executive'], days: 5000 });
  assert.equal(exec.body.applied, true, JSON.stringify(exec.body));
  const fromCeo = await deliver('ceo@corp.test', ['x@partner.test']);
  assert.deepEqual([days(fromCeo.cap), fromCeo.cap.retentionRule], [5000, exec.body.rule.id]);

  // --- removal is always filed; the list shows rules and changes to approvers and auditors
  const removal = await as.adm.call('POST', `/api/v1/retention/rules/${exec.body.rule.id}/remove`, { note: 'no longer needed' });
  assert.equal(removal.body.applied, false, JSON.stringify(removal.body));
  const listed = await as.aud.call('GET', '/api/v1/retention');
  assert.equal(listed.status, 200, JSON.stringify(listed.body));
  assert.equal(listed.body.defaultDays, 365);
  assert.deepEqual(listed.body.rules.map((r: RetentionRule) => [r.name, r.days]).sort(), [['Executives', 5000], ['Legal department', 1000], ['Newsletters', 30]]);
  assert.deepEqual(listed.body.changes.map((c: { kind: string; state: string }) => [c.kind, c.state]), [['remove', 'pending'], ['set', 'approved'], ['set', 'approved']]);
  assert.equal((await as.ann.call('GET', '/api/v1/retention')).status, 403);

  // --- and the archive verifies: every row matches the entry that recorded it
  const report = await w.verify();
  assert.deepEqual(report.problems, []);
});

// A world whose default keeps mail a year, with a way to deliver mail to one address and read
// its capture back, and how many days that capture is kept.
async function retentionWorld(t: TestContext, mailboxes: Record<string, string>, users: Record<string, string[]>) {
  const w = await startInProcessWorld({ messages: {}, mailboxes, users, config: { retention: { defaultDays: 365 } } });
  t.after(() => w.stop());
  const { meta } = w.archive.stores;
  let n = 0;
  const deliver = async (to: string) => {
    const out = await w.deliver({ from: 'x@partner.test', to: [to] }, rfc822({ from: 'x@partner.test', to, subject: `retention ${++n}`, date: 'Tue, 01 Dec 2026 09:00:00 +0000' }));
    return meta.read(async (tx) => (await meta.capturesOf(tx, (await meta.getMessage(tx, out.result.sha256))!.id))[0]!);
  };
  const days = (c: { retainUntil: number | null; receivedAt: number }) => (c.retainUntil === null ? null : (c.retainUntil - c.receivedAt) / DAY);
  return { w, as: w.as, deliver, days };
}

test('a department from the directory: its rule keeps new mail longer, a move changes only mail to come, bad values are refused', { timeout: 120_000 }, async (t) => {
  const { w, as, deliver, days } = await retentionWorld(t, { 'ann@corp.test': 'ann', 'bob@corp.test': 'bob' }, { ann: ['owner'], bob: ['owner'], aud: ['auditor'], appr: ['approver'] });
  const { meta } = w.archive.stores;

  // A department that could never match is refused where it is written, naming the line or the field.
  assert.throws(() => parseDirectoryCsv('addresses,department\nann@corp.test,Finance;Audit\n'), /line 2: department "Finance;Audit" names more than one/);
  assert.throws(() => parseDirectoryCsv(`addresses,department\nann@corp.test,"${'F'.repeat(101)}"\n`), /line 2: department "F+" is longer than 100 characters/);
  const tab = await as.adm.call('POST', '/api/v1/retention/rules', { name: 'Finance', departments: ['Fin\tance'], days: 3650 });
  assert.deepEqual([tab.status, tab.body.error.message, tab.body.error.fields], [400, 'department "Fin\tance" holds a control character', ['departments']]);
  assert.equal((await as.adm.call('POST', '/api/v1/retention/rules', { name: 'Finance', departments: [''], days: 3650 })).status, 400);

  await importAtConsole(w.archive.services, parseDirectoryCsv('addresses,department\nann@corp.test,Finance\nbob@corp.test,Sales\n'), 'hr.csv');
  const imported = (await w.takeAll()).filter((e) => e.operation === 'mailboxes.import').map((e) => e.parameters.departments);
  assert.deepEqual(imported, [{ 'ann@corp.test': 'Finance', 'bob@corp.test': 'Sales' }], 'the ledger says which department an import set');
  const listed = await as.aud.call('GET', '/api/v1/mailboxes?q=');
  assert.deepEqual(listed.body.mailboxes.map((m: { name: string; department: string | null; owner: string }) => [m.name, m.department, m.owner]).sort(),
    [['ann@corp.test', 'Finance', 'ann'], ['bob@corp.test', 'Sales', 'bob']], 'the owners stay; auditors see the department');

  // A rule longer than the default applies at once; its entry names the department.
  const books = await as.adm.call('POST', '/api/v1/retention/rules', { name: 'Bookkeeping', departments: ['Finance'], days: 3650 });
  assert.equal(books.body.applied, true, JSON.stringify(books.body));
  assert.deepEqual((await w.take('adm')).filter((e) => e.result === 'success').map((e) => [e.operation, e.parameters.rule?.departments]), [['retention.set', ['Finance']]]);
  const toAnn = await deliver('ann@corp.test');
  const toBob = await deliver('bob@corp.test');
  assert.deepEqual([days(toAnn), toAnn.retentionRule], [3650, books.body.rule.id], 'Finance mail kept as the rule says');
  assert.deepEqual([days(toBob), toBob.retentionRule], [365, null], 'other mail follows the default');

  // Ann moves to Sales by a directory import: her mail to come would be kept 365 days, not 3,650,
  // so the move waits for someone else's approval (a shorter retention is never one person's
  // call); once approved, only mail to come follows it.
  const moved = await importAtConsole(w.archive.services, parseDirectoryCsv('addresses,department\nann@corp.test,Sales\n'), 'moves.csv');
  assert.deepEqual(moved.staged.map((c) => c.mailbox), ['ann@corp.test'], 'staged, not applied');
  assert.match(moved.staged[0]!.why, /changes the department Finance to Sales, so that its mail \(inbound\) would be kept 365 days instead of 3650 days/);
  const meanwhile = await deliver('ann@corp.test');
  assert.deepEqual([days(meanwhile), meanwhile.retentionRule], [3650, books.body.rule.id], 'until approved, Finance\'s rule');
  const approved = await as.appr.call('POST', `/api/v1/ownership-changes/${moved.staged[0]!.id}/approve`, { reason: 'Ann joined Sales' });
  assert.equal(approved.status, 200, JSON.stringify(approved.body));
  const later = await deliver('ann@corp.test');
  assert.deepEqual([days(later), later.retentionRule], [365, null]);
  const before = await meta.read(async (tx) => (await meta.capturesOf(tx, toAnn.messageRowId))[0]!);
  assert.equal(before.retainUntil, toAnn.retainUntil, 'what was promised before the move stays');
  assert.deepEqual((await w.takeAll()).filter((e) => e.operation === 'mailboxes.import').map((e) => [e.parameters.departments ?? null, e.parameters.staged.map((c: { mailbox: string }) => c.mailbox)]),
    [[null, ['ann@corp.test']]], 'the import set no department: it staged the move');

  // A rule for Bob's mailbox keeps his mail longer; moving his address to another mailbox, which no
  // rule names, would end that for his mail to come: staged too.
  const bobs = await as.adm.call('POST', '/api/v1/retention/rules', { name: 'Bob', mailboxes: ['bob@corp.test'], days: 3650 });
  assert.equal(bobs.body.applied, true, JSON.stringify(bobs.body));
  const away = await importAtConsole(w.archive.services, parseDirectoryCsv('name,addresses\nshared,bob@corp.test\n'), 'shared.csv');
  assert.deepEqual(away.staged.map((c) => c.mailbox), ['shared']);
  assert.match(away.staged[0]!.why, /moves bob@corp\.test from bob@corp\.test, so that its mail \(inbound\) would be kept 365 days instead of 3650 days/);
  const stillBobs = await deliver('bob@corp.test');
  assert.deepEqual([days(stillBobs), stillBobs.retentionRule], [3650, bobs.body.rule.id]);
  assert.deepEqual((await w.verify()).problems, []);
});

test('a first department, an address taken from the mailbox mail made for it, or a new address that would keep mail less long is staged too', { timeout: 120_000 }, async (t) => {
  const { w, as, deliver, days } = await retentionWorld(t, { 'ann@corp.test': 'ann' }, { ann: ['owner'], aud: ['auditor'], appr: ['approver'] });

  // Marketing's rule keeps mail 30 days: filed by the admin, approved by someone else.
  const marketing = await as.adm.call('POST', '/api/v1/retention/rules', { name: 'Marketing', departments: ['Marketing'], days: 30 });
  assert.equal(marketing.body.applied, false, JSON.stringify(marketing.body));
  assert.equal((await as.appr.call('POST', `/api/v1/retention/changes/${marketing.body.change.id}/approve`, { reason: 'campaign mail' })).status, 200);
  const books = await as.adm.call('POST', '/api/v1/retention/rules', { name: 'Bookkeeping', departments: ['Finance'], days: 3650 });
  assert.equal(books.body.applied, true, JSON.stringify(books.body));
  // Cy's address has mail already, in the mailbox that mail made for it.
  await deliver('cy@corp.test');

  // Now one admin puts Ann (no department yet), Cy's address (in a mailbox of its own making) and
  // a new address under Marketing: each would keep mail 30 days instead of 365, so each waits for
  // someone else. A first department under a longer rule applies at once.
  const first = await importAtConsole(w.archive.services, parseDirectoryCsv('name,addresses,department\nann@corp.test,ann@corp.test,Marketing\ncy,cy@corp.test,Marketing\ndee,dee@corp.test,Marketing\nfin,fin@corp.test,Finance\n'), 'first.csv');
  assert.deepEqual(first.staged.map((c) => [c.mailbox, c.why]).sort(), [
    ['ann@corp.test', 'sets the department Marketing, so that its mail (inbound) would be kept 30 days instead of 365 days'],
    ['cy', 'moves cy@corp.test from cy@corp.test, so that its mail (inbound) would be kept 30 days instead of 365 days'],
    ['dee', 'adds dee@corp.test, so that its mail (inbound) would be kept 30 days instead of 365 days'],
  ]);
  assert.deepEqual(first.applied.map((r) => [r.name, r.department]), [['fin', 'Finance']]);
  const meanwhile = await deliver('ann@corp.test');
  assert.deepEqual([days(meanwhile), meanwhile.retentionRule], [365, null], 'until approved, the default');
  assert.deepEqual([days(await deliver('fin@corp.test'))], [3650]);

  // Someone else approves Ann's: her mail to come follows Marketing's rule.
  const ann = first.staged.find((c) => c.mailbox === 'ann@corp.test')!;
  assert.equal((await as.appr.call('POST', `/api/v1/ownership-changes/${ann.id}/approve`, { reason: 'Ann joined Marketing' })).status, 200);
  const later = await deliver('ann@corp.test');
  const rules = (await as.aud.call('GET', '/api/v1/retention')).body.rules as RetentionRule[];
  assert.deepEqual([days(later), later.retentionRule], [30, rules.find((r) => r.name === 'Marketing')!.id]);
  assert.deepEqual((await w.verify()).problems, []);
});

test('at the console: a department rule set and listed; a bad department or directory line exits 2 and changes nothing', { timeout: 120_000 }, async () => {
  const dir = tempDataDir();
  const config = testConfig({ retention: { defaultDays: 365 } });
  const common = ['--data', join(dir, 'archive'), '--config', config];
  // An archive as serve makes it, made here in process.
  (await openArchive(loadConfig(config, { data: join(dir, 'archive') }, {}), 'server')).close();
  const csv = join(dir, 'directory.csv');
  writeFileSync(csv, 'addresses,department\nann@corp.test,Finance;Audit\n');
  const badCsv = await sealbox(['mailboxes', 'import', ...common, csv]);
  assert.equal(badCsv.code, 2);
  assert.match(badCsv.stderr, /line 2: department "Finance;Audit" names more than one .*\[SEALBOX_ERR_BAD_INPUT\]/);
  writeFileSync(csv, 'addresses,department\nann@corp.test,Finance\n');
  assert.equal((await sealbox(['mailboxes', 'import', ...common, csv])).code, 0);

  const bad = await sealbox(['retention', 'set', ...common, '--name', 'Books', '--days', '3650', '--department', 'Finance;Audit']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /department "Finance;Audit" names more than one/);
  const set = await sealbox(['retention', 'set', ...common, '--name', 'Books', '--days', '3650', '--department', 'Finance', 'Audit']);
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout.toString(), /^applied: ret_\S+ {2}Books: 3650 days \(department Audit, Finance\)$/m);
  const listed = JSON.parse((await sealbox(['retention', 'list', ...common, '--json'])).stdout.toString());
  assert.deepEqual(listed.rules.map((r: RetentionRule) => [r.name, r.departments, r.days]), [['Books', ['Audit', 'Finance'], 3650]], 'only the good rule');
  assert.match((await sealbox(['retention', 'set', '--help'])).stdout.toString(), /--department <name\.\.\.>/);
});
