// A retention rule's minimum and maximum (issue 15 item 2): `days` is the most a rule keeps its
// mail (disposal takes it then), `minDays` the least, what the law makes the organisation keep.
// Each capture's keep-until is fixed at commit like its retain-until, in its row and its ledger
// entry. Before it, neither the leaver schedule, an Art. 17 erasure nor an early disposal takes
// the mail, each naming the rule and the date; after it they may, though the maximum runs on. A
// rule without a minimum keeps its mail from them to its end, as before; lowering a minimum is
// filed for someone else's approval, raising it applies at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { keptByRule } from '../src/retention/kept-by-rule.ts';
import { RetentionPolicy, whyItShortens } from '../src/retention/retention-policy.ts';
import type { RetentionRule } from '../src/retention/retention-store.ts';
import { openArchive } from '../src/archive.ts';
import { loadConfig } from '../src/core/config.ts';
import { testConfig } from './support/archive.ts';
import { rfc822, WATCHER } from './support/access-world.ts';
import { startInProcessWorld } from './support/in-process.ts';
import { sealbox, tempDataDir } from './support/sealbox.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 11, 1);
const day = (t: number) => new Date(t).toISOString().slice(0, 10);

const rule = (id: string, days: number | null, minDays: number | undefined, domains: string[]): RetentionRule =>
  ({ id, name: id, mailboxes: [], sensitivities: [], departments: [], domains, directions: [], days, ...(minDays === undefined ? {} : { minDays }) });

const to = (from: string, rcpt: string[]) => ({
  known: true as const, addresses: [from, ...rcpt], domains: [...new Set([from, ...rcpt].map((a) => a.split('@')[1]!))], mailboxes: [], direction: null,
});

test('keep-until: the longest minimum of the rules a capture matches; without one, the retain-until', () => {
  const rules = [rule('books', 3650, 1825, ['books.test']), rule('audit', 2000, undefined, ['audit.test']), rule('chat', 365, 0, ['chat.test'])];
  const policy = new RetentionPolicy(rules, 365);
  const of = (domains: string[]) => policy.termsOf(to('x@corp.test', domains.map((d) => `y@${d}`)), T0);
  assert.deepEqual(of(['books.test']), { retainUntil: T0 + 3650 * DAY, ruleId: 'books', keepUntil: T0 + 1825 * DAY, keepRule: 'books' });
  // The longest maximum and the longest minimum may come from different rules: each is named.
  assert.deepEqual(of(['books.test', 'audit.test']), { retainUntil: T0 + 3650 * DAY, ruleId: 'books', keepUntil: T0 + 2000 * DAY, keepRule: 'audit' });
  assert.deepEqual(of(['audit.test']), { retainUntil: T0 + 2000 * DAY, ruleId: 'audit', keepUntil: T0 + 2000 * DAY, keepRule: 'audit' }, 'no minimum: as long as its days');
  assert.deepEqual(of(['chat.test']), { retainUntil: T0 + 365 * DAY, ruleId: 'chat', keepUntil: T0, keepRule: 'chat' }, 'a minimum of 0 keeps nothing from them');
  assert.deepEqual(of(['else.test']), { retainUntil: T0 + 365 * DAY, ruleId: null, keepUntil: T0 + 365 * DAY, keepRule: null }, 'the default: its days');
  // Without an envelope every rule is a candidate; the default too where it is longer than them all.
  assert.deepEqual(policy.termsOf({ known: false }, T0), { retainUntil: T0 + 3650 * DAY, ruleId: 'books', keepUntil: T0 + 2000 * DAY, keepRule: 'audit' });
  const booksOnly = [rule('books', 3650, 1825, ['books.test'])];
  assert.deepEqual(new RetentionPolicy(booksOnly, 3000).termsOf({ known: false }, T0), { retainUntil: T0 + 3650 * DAY, ruleId: 'books', keepUntil: T0 + 1825 * DAY, keepRule: 'books' },
    'a default between the minimum and the maximum does not take the rule\'s minimum away from an import');
  assert.deepEqual(new RetentionPolicy(booksOnly, 4000).termsOf({ known: false }, T0), { retainUntil: T0 + 4000 * DAY, ruleId: null, keepUntil: T0 + 4000 * DAY, keepRule: null });
  assert.deepEqual(new RetentionPolicy([rule('books', null, 30, ['books.test'])], null).termsOf(to('x@corp.test', ['y@books.test']), T0),
    { retainUntil: null, ruleId: 'books', keepUntil: T0 + 30 * DAY, keepRule: 'books' }, 'for ever, but at least 30 days');

  // The one decision the leaver schedule, erasure and early disposal share.
  const at = T0 + 100 * DAY;
  assert.equal(keptByRule([{ keepUntil: T0 + 30 * DAY, keepRule: 'books' }], at), null, 'past its minimum');
  assert.equal(keptByRule([{ keepUntil: null, keepRule: null }], at), null, 'the default keeps nothing from them');
  assert.deepEqual(keptByRule([{ keepUntil: T0 + 200 * DAY, keepRule: 'a' }, { keepUntil: T0 + 300 * DAY, keepRule: 'b' }, { keepUntil: T0 + 30 * DAY, keepRule: 'c' }], at), { rule: 'b', until: T0 + 300 * DAY }, 'the receipt kept longest');
  assert.deepEqual(keptByRule([{ keepUntil: T0 + 300 * DAY, keepRule: 'a' }, { keepUntil: null, keepRule: 'b' }], at), { rule: 'b', until: null }, 'for ever is longest');
});

test('lowering a minimum could let mail go sooner; raising it cannot', () => {
  const books = rule('books', 3650, 1825, ['books.test']);
  assert.match(whyItShortens(books, { ...books, minDays: 1000 }, 365)!, /lowers the rule's minimum from 1825 days to 1000 days/);
  assert.equal(whyItShortens(books, { ...books, minDays: 2000 }, 365), null);
  const { minDays: _, ...whole } = books;
  assert.equal(whyItShortens(books, whole, 365), null, 'no minimum: kept at least its days, a raise');
  assert.match(whyItShortens(whole, books, 365)!, /lowers the rule's minimum from 3650 days to 1825 days/, 'a minimum where there was none lowers it');
  assert.match(whyItShortens(books, { ...books, days: 3000, minDays: 1825 }, 365)!, /shortens the rule from 3650 days to 3000 days/);
  assert.equal(whyItShortens(null, rule('n', 3650, 0, ['news.test']), 365), null, 'a new rule: its mail had the default, which keeps nothing from them');
});

test("a rule's minimum keeps mail from leavers, erasure and early disposal until it ends; its maximum from disposal", { timeout: 180_000 }, async (t) => {
  const world = await startInProcessWorld({
    messages: {},
    mailboxes: { 'olga@corp.test': 'olga', 'bob@corp.test': 'bob' },
    users: { olga: ['owner'], bob: ['owner'], both: ['admin', 'approver'], appr: ['approver'], aud: ['auditor'] },
    config: { retention: { defaultDays: 365, disposeEveryHours: 0 }, oversight: { verifyEveryMinutes: 60, auditorDigest: 'off', ownerDigest: 'off' } },
  });
  t.after(() => world.stop());
  const { as, archive, clock } = world;
  const { disposal } = archive.services;
  const { meta } = archive.stores;
  const call = async (who: string, method: string, path: string, body?: unknown, status = 200) => {
    const r = await as[who].call(method, path, body);
    assert.equal(r.status, status, `${who} ${method} ${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const signInAgain = async () => {
    for (const who of ['olga', 'bob', 'both', 'appr', 'aud', 'adm', WATCHER]) assert.equal((await as[who].signIn(who, world.passwords[who])).status, 200, `${who} signs in again`);
  };

  // Bookkeeping: at least 30 days, at most 365 (as long as the default: it applies at once).
  // Counsel: 365 days, no minimum of its own.
  const refused = await call('adm', 'POST', '/api/v1/retention/rules', { name: 'Books', domains: ['books.test'], days: 365, minDays: 400 }, 400);
  assert.deepEqual(refused.error.fields, ['minDays']);
  assert.match(refused.error.message, /minDays.*from 0 to the rule's days \(365\)/);
  assert.deepEqual((await call('adm', 'POST', '/api/v1/retention/rules', { name: 'Books', domains: ['books.test'], days: 365, minDays: -1 }, 400)).error.fields, ['minDays']);
  const added = await call('adm', 'POST', '/api/v1/retention/rules', { name: 'Books', domains: ['books.test'], days: 365, minDays: 30 });
  assert.equal(added.applied, true);
  const books = added.rule.id as string;
  assert.equal(added.rule.minDays, 30);
  const counsel = (await call('adm', 'POST', '/api/v1/retention/rules', { name: 'Counsel', domains: ['legal.test'], days: 365 })).rule.id as string;

  const sha: Record<string, string> = {};
  for (const [key, from, rcpt] of [
    ['olgaBooks', 'ledger@books.test', 'olga@corp.test'], ['olgaPlain', 'x@ext.test', 'olga@corp.test'], ['olgaCounsel', 'c@legal.test', 'olga@corp.test'],
    ['erinBooks', 'erin@books.test', 'bob@corp.test'], ['slipBooks', 'pay@books.test', 'bob@corp.test'], ['slipCounsel', 'c@legal.test', 'bob@corp.test'],
    ['plainBooks', 'news@books.test', 'bob@corp.test'],
  ] as const) {
    const raw = rfc822({ from, to: rcpt, subject: `minimum ${key}`, date: 'Tue, 01 Dec 2026 09:00:00 +0000' });
    await world.deliver({ from, to: [rcpt] }, raw);
    sha[key] = createHash('sha256').update(raw).digest('hex');
  }
  // Fixed at capture, in the row and in the ledger entry.
  const captureOf = (key: string) => meta.read(async (tx) => {
    const c = (await meta.capturesOf(tx, (await meta.getMessage(tx, sha[key]!))!.id))[0]!;
    return { ...c, entry: (await meta.entry(tx, c.ledgerIndex))!.entry };
  });
  const olgaBooks = await captureOf('olgaBooks');
  const received = olgaBooks.receivedAt;
  assert.deepEqual([olgaBooks.retainUntil, olgaBooks.retentionRule, olgaBooks.keepUntil, olgaBooks.keepRule], [received + 365 * DAY, books, received + 30 * DAY, books]);
  assert.deepEqual([olgaBooks.entry.parameters.keepUntil, olgaBooks.entry.parameters.keepRule], [olgaBooks.keepUntil, books], 'the ledger entry holds it');
  const olgaCounsel = await captureOf('olgaCounsel');
  const slipCounsel = await captureOf('slipCounsel');
  assert.deepEqual([olgaCounsel.keepUntil, olgaCounsel.keepRule], [olgaCounsel.retainUntil, counsel], 'no minimum: kept at least to its retain-until');
  const view = await call('olga', 'GET', `/api/v1/messages/${sha.olgaBooks}`);
  assert.equal(view.captures[0].keepUntil, new Date(olgaBooks.keepUntil!).toISOString());

  // Olga left seven months ago: her mail is due under the leaver rule now.
  const left = day(clock.now() - 214 * DAY);
  const leave = await call('both', 'POST', '/api/v1/mailboxes/olga@corp.test/leaver', { left, reason: 'resigned' });
  await call('appr', 'POST', `/api/v1/leaver-changes/${leave.id}/approve`, { reason: 'HR confirmed' });
  const leaverPolicy = `leaver olga@corp.test (left ${left})`;
  const erase = async () => {
    const filed = await call('both', 'POST', '/api/v1/subject-requests', { kind: 'erasure', addresses: ['erin@books.test'], reference: 'DSR-7', reason: 'her request' });
    return (await call('appr', 'POST', `/api/v1/subject-requests/${filed.id}/approve`, { reason: 'checked' })).outcome;
  };
  const disposeEarly = async () => {
    const filed = await call('both', 'POST', '/api/v1/disposal-requests', { sha256s: [sha.slipBooks, sha.slipCounsel], reason: 'payslips sent to the wrong list' });
    return (await call('appr', 'POST', `/api/v1/disposal-requests/${filed.id}/approve`, { reason: 'confirmed with HR' })).outcome;
  };
  const keptUntil = `until ${day(received + 30 * DAY)}`;

  // --- day 29: the minimum keeps the books mail from all three, naming the rule and its date; the
  // default keeps nothing from the leaver rule; the rule without a minimum keeps to its end
  clock.advance(received + 29 * DAY - clock.now());
  await signInAgain();
  const early = await disposal.run();
  assert.deepEqual(early.plan.due.map((d) => [d.sha256, d.policy]), [[sha.olgaPlain, leaverPolicy]]);
  assert.deepEqual(early.plan.keptByRule.map((k) => [k.sha256, k.rule, k.until]).sort(), [
    [sha.olgaBooks, books, olgaBooks.keepUntil], [sha.olgaCounsel, counsel, olgaCounsel.keepUntil],
  ].sort(), "a rule's minimum keeps it");
  const keptErasure = await erase();
  assert.deepEqual(keptErasure.messages.disposed, []);
  assert.deepEqual(keptErasure.messages.kept, [{ sha256: sha.erinBooks, why: `the minimum of retention rule ${books} keeps it ${keptUntil} (Art. 17(3)(b))` }]);
  const keptEarly = await disposeEarly();
  assert.deepEqual(keptEarly.disposed, []);
  assert.deepEqual(keptEarly.kept, [
    { sha256: sha.slipBooks, why: `the minimum of retention rule ${books} keeps it ${keptUntil}` },
    { sha256: sha.slipCounsel, why: `the minimum of retention rule ${counsel} keeps it until ${day(slipCounsel.keepUntil!)}` },
  ], 'a rule without a minimum keeps its mail to its end');
  assert.equal((await as.olga.call('GET', `/api/v1/messages/${sha.olgaBooks}`)).status, 200);
  for (const key of ['erinBooks', 'slipBooks']) assert.equal((await as.bob.call('GET', `/api/v1/messages/${sha[key]}`)).status, 200, `${key} is still there`);

  // --- day 31: past the minimum, the three may take it though the maximum runs to day 365
  clock.advance(received + 31 * DAY - clock.now());
  await signInAgain();
  const later = await disposal.run();
  assert.deepEqual(later.plan.due.map((d) => [d.sha256, d.policy]), [[sha.olgaBooks, leaverPolicy]]);
  assert.deepEqual(later.plan.keptByRule.map((k) => k.sha256), [sha.olgaCounsel], 'the rule without a minimum still keeps it');
  assert.deepEqual(later.outcomes.map((o) => o.disposed), [[sha.olgaBooks]]);
  assert.equal((await as.olga.call('GET', `/api/v1/messages/${sha.olgaBooks}`)).status, 410);
  const erased = await erase();
  assert.deepEqual([erased.messages.disposed, erased.messages.kept], [[sha.erinBooks], []]);
  const disposedEarly = await disposeEarly();
  assert.deepEqual(disposedEarly.disposed, [sha.slipBooks]);
  assert.deepEqual(disposedEarly.kept.map((k: any) => k.sha256), [sha.slipCounsel]);
  for (const key of ['erinBooks', 'slipBooks']) assert.equal((await as.bob.call('GET', `/api/v1/messages/${sha[key]}`)).status, 410, `${key} is disposed`);

  // --- retention itself is unchanged: the books mail nothing took is disposed on day 366, not 365
  const plainBooks = await captureOf('plainBooks');
  clock.advance(plainBooks.retainUntil! - 60_000 - clock.now());
  assert.deepEqual((await disposal.plan()).due, [], 'day 365: nothing is due');
  clock.advance(plainBooks.retainUntil! + 60 * 60_000 - clock.now());
  await signInAgain();
  const year = await disposal.run();
  assert.deepEqual(year.plan.due.filter((d) => d.sha256 === sha.plainBooks).map((d) => d.policy), [`rule ${books}`]);
  assert.deepEqual(year.plan.due.map((d) => d.sha256).sort(), [sha.plainBooks, sha.olgaCounsel, sha.slipCounsel].sort());

  const entries = await world.takeAll();
  const disposed = entries.filter((e) => e.operation === 'dispose').map((e) => e.parameters.policy);
  assert.ok(disposed.includes(leaverPolicy) && disposed.some((p) => /^erasure request /.test(String(p))) && disposed.some((p) => /^disposal request /.test(String(p))));
  assert.deepEqual((await world.verify()).problems, []);
});

test('lowering a minimum is filed for someone else, raising it applies at once; at the console too', { timeout: 120_000 }, async (t) => {
  const world = await startInProcessWorld({
    messages: {},
    mailboxes: { 'bob@corp.test': 'bob' },
    users: { both: ['admin', 'approver'], appr: ['approver'], aud: ['auditor'] },
    config: { retention: { defaultDays: 365 } },
  });
  t.after(() => world.stop());
  const call = async (who: string, method: string, path: string, body?: unknown, status = 200) => {
    const r = await world.as[who].call(method, path, body);
    assert.equal(r.status, status, `${who} ${method} ${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const terms = { name: 'Books', domains: ['books.test'], days: 3650 };
  const id = (await call('both', 'POST', '/api/v1/retention/rules', { ...terms, minDays: 1825 })).rule.id as string;
  const lower = await call('both', 'POST', `/api/v1/retention/rules/${id}`, { ...terms, minDays: 1000, note: 'five years is enough' });
  assert.equal(lower.applied, false);
  assert.match(lower.change.why, /lowers the rule's minimum from 1825 days to 1000 days/);
  const higher = await call('both', 'POST', `/api/v1/retention/rules/${id}`, { ...terms, minDays: 2000 });
  assert.deepEqual([higher.applied, higher.rule.minDays], [true, 2000]);
  // Filed against the rule as it was: a rule changed since is not overwritten by an old filing.
  await call('appr', 'POST', `/api/v1/retention/changes/${lower.change.id}/approve`, { reason: 'ok' }, 409);
  const again = await call('both', 'POST', `/api/v1/retention/rules/${id}`, { ...terms, minDays: 1000 });
  await call('both', 'POST', `/api/v1/retention/changes/${again.change.id}/approve`, { reason: 'mine' }, 403);
  await call('appr', 'POST', `/api/v1/retention/changes/${again.change.id}/approve`, { reason: 'the law asks five years' });
  assert.equal((await call('aud', 'GET', '/api/v1/retention')).rules[0].minDays, 1000);
  const entries = await world.takeAll();
  assert.deepEqual(entries.filter((e) => /^retention\.(set|file|approve)$/.test(e.operation) && e.result === 'success').map((e) => [e.operation, e.parameters.rule?.minDays]),
    [['retention.set', 1825], ['retention.file', 1000], ['retention.set', 2000], ['retention.file', 1000], ['retention.approve', 1000]]);

  // `sealbox retention set --min-days`.
  const dir = tempDataDir();
  const config = testConfig({ retention: { defaultDays: 365 } });
  const common = ['--data', join(dir, 'archive'), '--config', config];
  (await openArchive(loadConfig(config, { data: join(dir, 'archive') }, {}), 'server')).close();
  const bad = await sealbox(['retention', 'set', ...common, '--name', 'Books', '--days', '365', '--min-days', '400', '--domain', 'books.test']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /minDays.*from 0 to the rule's days \(365\)/);
  const set = await sealbox(['retention', 'set', ...common, '--name', 'Books', '--days', '3650', '--min-days', '1825', '--domain', 'books.test']);
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout.toString(), /^applied: (ret_\S+) {2}Books: at least 1825 days, at most 3650 days \(domains books\.test\)$/m);
  const rule = /applied: (ret_\S+)/.exec(set.stdout.toString())![1]!;
  const lowered = await sealbox(['retention', 'set', ...common, '--rule', rule, '--name', 'Books', '--days', '3650', '--min-days', '365', '--domain', 'books.test']);
  assert.match(lowered.stdout.toString(), /^filed rch_\S+ \(lowers the rule's minimum from 1825 days to 365 days\)/m);
  assert.match((await sealbox(['retention', 'set', '--help'])).stdout.toString(), /--min-days <n>/);
});

test('a capture entry from before minimums: verify reads its keep-until as its retain-until, and names an edit of it', { timeout: 120_000 }, async (t) => {
  const world = await startInProcessWorld({
    messages: { one: { from: 'x@ext.test', to: 'bob@corp.test', subject: 'before minimums', date: 'Tue, 01 Dec 2026 09:00:00 +0000' } },
    mailboxes: { 'bob@corp.test': 'bob' },
    users: { aud: ['auditor'] },
    config: { retention: { defaultDays: 365 } },
  });
  t.after(() => world.stop());
  const { archive, sha } = world;
  const { meta } = archive.stores;
  // A second receipt of the message, as the writer recorded one before migration 0015: its entry
  // names no keep-until, its row was given the retain-until by the migration.
  const at = world.clock.now();
  const retainUntil = at + 365 * DAY;
  await meta.write(async (tx) => {
    const message = (await meta.getMessage(tx, sha.one!))!;
    await archive.ledger.catchUp(tx);
    const entry = await archive.ledger.append(tx, {
      type: 'capture', actor: 'capture:smtp', actorRoles: [], logonType: 'system', sessionId: null, clientIp: null, operation: 'capture',
      objects: { mailboxes: [], messages: [sha.one!] }, grantId: null, result: 'success',
      parameters: { captureId: 'cap_before_minimums', source: 'smtp', size: message.size, receivedAt: at, envelope: null, provenance: null, duplicate: true, retainUntil, retentionRule: null },
    });
    await meta.insertCapture(tx, { id: 'cap_before_minimums', source: 'smtp', receivedAt: at, envelope: null, provenance: null }, message.id, entry.index,
      { retainUntil, ruleId: null, keepUntil: retainUntil, keepRule: null });
  });
  await world.parts.checkpoint();
  assert.deepEqual((await world.verify()).problems, []);
  const db = new DatabaseSync(join(world.data, 'sealbox.db'));
  try {
    assert.equal(Number(db.prepare("UPDATE capture SET keep_until = keep_until - 300 * 86400000 WHERE capture_id = 'cap_before_minimums'").run().changes), 1);
  } finally {
    db.close();
  }
  const problems = (await world.verify()).problems;
  assert.equal(problems.length, 1, problems.join('\n'));
  assert.match(problems[0]!, new RegExp(`capture cap_before_minimums: keepUntil in the database differs from ledger entry \\d+: database ${retainUntil - 300 * DAY}, ledger ${retainUntil}`));
});
