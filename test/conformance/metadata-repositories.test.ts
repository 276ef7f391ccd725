// The metadata repositories' contracts — the store interfaces each stage declares (access,
// oversight) — run against every backend: today the SQLite metadata store (src/store/sqlite/);
// a PostgreSQL backend joins by adding a line to BACKENDS. Each suite checks the round trips,
// state changes, refusals and orders the service using that store relies on, through the
// interface alone (another repository of the same backend only where the service does the same).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccountRecoveryStore } from '../../src/access/account-recovery-store.ts';
import { Audit } from '../../src/access/audit.ts';
import type { Actor, AuditStore } from '../../src/access/audit.ts';
import type { CredentialStore } from '../../src/access/credential-store.ts';
import type { DirectoryRow } from '../../src/access/directory-csv.ts';
import type { FiledRequest, GrantStore } from '../../src/access/grant-store.ts';
import { stateOf } from '../../src/access/grants.ts';
import type { RequestMailbox } from '../../src/access/grants.ts';
import type { MailboxStore } from '../../src/access/mailbox-store.ts';
import type { NoticeStore } from '../../src/access/notice-store.ts';
import type { NotificationStore } from '../../src/access/notification-store.ts';
import type { OwnershipChangeStore } from '../../src/access/ownership-change-store.ts';
import type { PeopleStore } from '../../src/access/people-store.ts';
import type { PersonLinkStore } from '../../src/access/person-link-store.ts';
import type { Role } from '../../src/access/roles.ts';
import type { SettingStore } from '../../src/access/setting-store.ts';
import type { CaptureQueue } from '../../src/index/capture-queue.ts';
import { generateSigningKey, signCheckpoint } from '../../src/ledger/checkpoint.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import type { LedgerStore } from '../../src/ledger/ledger.ts';
import type { LedgerHistory } from '../../src/oversight/ledger-history.ts';
import type { OversightStore } from '../../src/oversight/oversight-store.ts';
import type { NewReviewItem, ReviewChange, ReviewStore } from '../../src/oversight/review-store.ts';
import { SqliteAccountRecoveryStore } from '../../src/store/sqlite/account-recovery-store.ts';
import { SqliteCaptureQueue } from '../../src/store/sqlite/capture-queue.ts';
import { SqliteCredentialStore } from '../../src/store/sqlite/credential-store.ts';
import { SqliteGrantStore } from '../../src/store/sqlite/grant-store.ts';
import { SqliteLedgerHistory } from '../../src/store/sqlite/ledger-history.ts';
import { SqliteMailboxStore } from '../../src/store/sqlite/mailbox-store.ts';
import { SqliteMetadataStore } from '../../src/store/sqlite/metadata-store.ts';
import { SqliteNoticeStore } from '../../src/store/sqlite/notice-store.ts';
import { SqliteNotificationStore } from '../../src/store/sqlite/notification-store.ts';
import { SqliteOversightStore } from '../../src/store/sqlite/oversight-store.ts';
import { SqliteOwnershipChangeStore } from '../../src/store/sqlite/ownership-change-store.ts';
import { SqlitePeopleStore } from '../../src/store/sqlite/people-store.ts';
import { SqlitePersonLinkStore } from '../../src/store/sqlite/person-link-store.ts';
import { SqliteReviewStore } from '../../src/store/sqlite/review-store.ts';

// Every repository of one backend, over one database (they share its transactions).
interface Repositories {
  settings: SettingStore;
  people: PeopleStore;
  credentials: CredentialStore;
  mailboxes: MailboxStore;
  autoMailboxes: Pick<CaptureQueue, 'addAutoMailboxes'>;
  grants: GrantStore;
  ownership: OwnershipChangeStore;
  recoveries: AccountRecoveryStore;
  links: PersonLinkStore;
  notifications: NotificationStore;
  notices: NoticeStore;
  reviews: ReviewStore;
  oversight: OversightStore;
  history: LedgerHistory;
  ledger: LedgerStore & AuditStore;   // the ledger the history reads, and the Audit's transactions
  close(): void;
}

function sqlite(meta: SqliteMetadataStore): Repositories {
  return {
    settings: meta, people: new SqlitePeopleStore(meta), credentials: new SqliteCredentialStore(meta), mailboxes: new SqliteMailboxStore(meta),
    autoMailboxes: new SqliteCaptureQueue(meta), grants: new SqliteGrantStore(meta), ownership: new SqliteOwnershipChangeStore(meta),
    recoveries: new SqliteAccountRecoveryStore(meta), links: new SqlitePersonLinkStore(meta), notifications: new SqliteNotificationStore(meta),
    notices: new SqliteNoticeStore(meta), reviews: new SqliteReviewStore(meta), oversight: new SqliteOversightStore(meta),
    history: new SqliteLedgerHistory(meta), ledger: meta, close: () => meta.close(),
  };
}

const BACKENDS: { name: string; open(dir: string): Repositories }[] = [
  { name: 'SQLite (src/store/sqlite)', open: (dir) => sqlite(new SqliteMetadataStore(join(dir, 'sealbox.db'))) },
];

const T0 = Date.UTC(2026, 2, 1, 9, 0, 0);
const MINUTE = 60_000;
const HOUR = 3_600_000;

// One folder for the whole file, removed at exit; a fresh one inside it for each backend opened.
const ROOT = mkdtempSync(join(tmpdir(), 'sealbox-conformance-'));
process.once('exit', () => rmSync(ROOT, { recursive: true, force: true }));

function tempDir(): string {
  return mkdtempSync(join(ROOT, 'db-'));
}

// Each test opens a fresh backend and closes it when done.
function withRepos(impl: (typeof BACKENDS)[number], fn: (r: Repositories) => void): () => void {
  return () => {
    const repos = impl.open(tempDir());
    try {
      fn(repos);
    } finally {
      repos.close();
    }
  };
}

function addPerson(people: PeopleStore, name: string, roles: Role[] = ['owner'], at = T0): number {
  people.add({ name, displayName: null, email: `${name}@corp.example`, roles, enrolmentHash: `enrol-${name}`, enrolmentExpires: at + 24 * HOUR, createdAt: at });
  return people.byName(name)!.user.id;
}

function row(name: string, addresses: string[], extra: Partial<DirectoryRow> = {}): DirectoryRow {
  return { name, addresses, displayName: null, owner: null, sensitivity: null, manager: null, ...extra };
}

function filed(id: string, requesterId: number, mailboxes: RequestMailbox[], extra: Partial<FiledRequest> = {}): FiledRequest {
  return {
    id, requesterId, purpose: 'legal-hold', justification: 'case 42', ticket: 'LEGAL-42', mailboxes, dateFrom: null, dateTo: null, fixedQuery: null,
    permissions: ['search', 'read'], durationSeconds: 3600, approvalsNeeded: 1, breakglass: false, createdAt: T0, lapsesAt: T0 + 24 * HOUR,
    approvedAt: null, startsAt: null, endsAt: null, extends: null, ...extra,
  };
}

const sorted = (xs: string[]) => [...xs].sort();

for (const impl of BACKENDS) {
  describe(`SettingStore: ${impl.name}`, () => {
    test('a key never set is null; a value set reads back and the next replaces it', withRepos(impl, ({ settings }) => {
      assert.equal(settings.getSetting('policy.access'), null);
      settings.setSetting('policy.access', '{"approvalsNeeded":2}');
      settings.setSetting('notice.other', 'x');
      assert.equal(settings.getSetting('policy.access'), '{"approvalsNeeded":2}');
      settings.setSetting('policy.access', '{}');
      assert.equal(settings.getSetting('policy.access'), '{}');
      assert.equal(settings.getSetting('notice.other'), 'x');
    }));
  });

  describe(`PeopleStore: ${impl.name}`, () => {
    test('a person added reads back by name and by id; a name is taken once', withRepos(impl, ({ people }) => {
      people.add({ name: 'alice', displayName: 'Alice Smith', email: 'alice@corp.example', roles: ['requester', 'approver'], enrolmentHash: 'h1', enrolmentExpires: T0 + HOUR, createdAt: T0 });
      const account = people.byName('alice');
      assert.ok(account);
      assert.deepEqual(account, {
        user: { id: account.user.id, name: 'alice', displayName: 'Alice Smith', email: 'alice@corp.example', roles: ['requester', 'approver'], enrolled: false, disabled: false },
        passwordHash: null, totpWrapped: null, totpLastStep: 0, enrolmentHash: 'h1', enrolmentExpires: T0 + HOUR, failedLogins: 0, lockedUntil: 0,
      });
      assert.deepEqual(people.byId(account.user.id), account);
      assert.equal(people.byName('nobody'), null);
      assert.equal(people.byId(account.user.id + 1000), null);
      assert.throws(() => people.add({ name: 'alice', displayName: null, email: null, roles: ['owner'], enrolmentHash: 'h2', enrolmentExpires: T0, createdAt: T0 }));
      assert.equal(people.byName('alice')?.enrolmentHash, 'h1', 'the first stays as it was');
      assert.equal(people.list().length, 1);
    }));

    test('list is by name', withRepos(impl, ({ people }) => {
      for (const name of ['carol', 'alice', 'bob.k', 'bob']) addPerson(people, name);
      assert.deepEqual(people.list().map((u) => u.name), ['alice', 'bob', 'bob.k', 'carol']);
    }));

    test('enrolment: a code reissued with roles, then the secrets saved, the code used up and failures forgotten', withRepos(impl, ({ people }) => {
      const id = addPerson(people, 'alice');
      const other = addPerson(people, 'bob');
      people.reissueEnrolment(id, ['requester'], 'h2', T0 + 2 * HOUR);
      let a = people.byId(id)!;
      assert.deepEqual([a.user.roles, a.enrolmentHash, a.enrolmentExpires], [['requester'], 'h2', T0 + 2 * HOUR]);
      people.signInFailed(id, 3, T0 + 15 * MINUTE);
      const totp = Buffer.from([1, 2, 3, 0, 255]);
      people.saveEnrolment(id, { passwordHash: 'scrypt$abc', totpWrapped: totp });
      a = people.byId(id)!;
      assert.equal(a.user.enrolled, true);
      assert.equal(a.passwordHash, 'scrypt$abc');
      assert.ok(a.totpWrapped?.equals(totp));
      assert.deepEqual([a.enrolmentHash, a.enrolmentExpires, a.failedLogins, a.lockedUntil, a.totpLastStep], [null, null, 0, 0, 0]);
      people.saveEnrolment(other, { passwordHash: 'scrypt$def', totpWrapped: null });
      assert.equal(people.byId(other)!.totpWrapped, null, 'an owner enrols without a second factor');
      const waiting = addPerson(people, 'carol');
      people.dropEnrolmentCode(waiting);
      assert.deepEqual([people.byId(waiting)!.enrolmentHash, people.byId(waiting)!.enrolmentExpires], [null, null]);
    }));

    test('sign-in: failures and lock as set; a success forgets them and no TOTP step goes back', withRepos(impl, ({ people }) => {
      const id = addPerson(people, 'alice');
      people.signInFailed(id, 4, 0);
      assert.deepEqual([people.byId(id)!.failedLogins, people.byId(id)!.lockedUntil], [4, 0]);
      people.signInFailed(id, 0, T0 + 15 * MINUTE);
      assert.deepEqual([people.byId(id)!.failedLogins, people.byId(id)!.lockedUntil], [0, T0 + 15 * MINUTE]);
      people.signInFailed(id, 2, 0);
      people.signedIn(id, 1000);
      assert.deepEqual([people.byId(id)!.failedLogins, people.byId(id)!.totpLastStep], [0, 1000]);
      people.signedIn(id, 0);   // a recovery code: no step
      assert.equal(people.byId(id)!.totpLastStep, 1000);
      people.signedIn(id, 999);
      assert.equal(people.byId(id)!.totpLastStep, 1000, 'an older step is never accepted again');
      people.signedIn(id, 1001);
      assert.equal(people.byId(id)!.totpLastStep, 1001);
    }));

    test('roles and disabling; disabling someone who does not exist says so', withRepos(impl, ({ people }) => {
      const id = addPerson(people, 'alice', ['owner']);
      addPerson(people, 'bob');
      people.setRoles(id, ['approver', 'auditor']);
      assert.deepEqual(people.byId(id)!.user.roles, ['approver', 'auditor']);
      assert.equal(people.setDisabled('alice', true), true);
      assert.equal(people.byName('alice')!.user.disabled, true);
      assert.equal(people.byName('bob')!.user.disabled, false);
      assert.equal(people.setDisabled('alice', false), true);
      assert.equal(people.byName('alice')!.user.disabled, false);
      assert.equal(people.setDisabled('nobody', true), false);
    }));

    test('recovery codes: each signs in once, a new set replaces the old, per person', withRepos(impl, ({ people }) => {
      const alice = addPerson(people, 'alice');
      const bob = addPerson(people, 'bob');
      people.replaceRecoveryCodes(alice, ['c1', 'c2', 'c3'], T0);
      people.replaceRecoveryCodes(bob, ['b1'], T0);
      assert.equal(people.recoveryCodesLeft(alice), 3);
      assert.equal(people.useRecoveryCode(alice, 'c2', T0 + 1), true);
      assert.equal(people.useRecoveryCode(alice, 'c2', T0 + 2), false, 'used up');
      assert.equal(people.useRecoveryCode(alice, 'b1', T0 + 2), false, "another person's code");
      assert.equal(people.useRecoveryCode(alice, 'nope', T0 + 2), false);
      assert.equal(people.recoveryCodesLeft(alice), 2);
      people.replaceRecoveryCodes(alice, ['c4'], T0 + 3);
      assert.equal(people.recoveryCodesLeft(alice), 1);
      assert.equal(people.useRecoveryCode(alice, 'c1', T0 + 4), false, 'the earlier codes stop working');
      assert.equal(people.useRecoveryCode(alice, 'c4', T0 + 4), true);
      assert.equal(people.recoveryCodesLeft(alice), 0);
      assert.equal(people.recoveryCodesLeft(bob), 1);
    }));
  });

  describe(`CredentialStore: ${impl.name}`, () => {
    test('a session reads back by the hash of its cookie until it is ended', withRepos(impl, ({ people, credentials }) => {
      const alice = addPerson(people, 'alice');
      credentials.addSession({ idHash: 's1', userId: alice, csrfHash: 'x1', createdAt: T0, expiresAt: T0 + 12 * HOUR, clientIp: '192.0.2.1', userAgent: 'test' });
      credentials.addSession({ idHash: 's2', userId: alice, csrfHash: 'x2', createdAt: T0, expiresAt: T0 + HOUR, clientIp: null, userAgent: null });
      assert.deepEqual(credentials.session('s1'), { userId: alice, csrfHash: 'x1', expiresAt: T0 + 12 * HOUR });
      assert.equal(credentials.session('s3'), null);
      credentials.endSession('s1');
      credentials.endSession('s-unknown');
      assert.equal(credentials.session('s1'), null);
      assert.deepEqual(credentials.session('s2'), { userId: alice, csrfHash: 'x2', expiresAt: T0 + HOUR });
    }));

    test('a token reads back by hash and by id; a revocation keeps its first time; a token hash is taken once', withRepos(impl, ({ people, credentials }) => {
      const alice = addPerson(people, 'alice');
      credentials.addToken({ id: 'tok_1', userId: alice, tokenHash: 'th1', name: 'laptop', scopes: ['content', 'ledger'], createdAt: T0, expiresAt: T0 + 24 * HOUR });
      const want = { id: 'tok_1', userId: alice, tokenHash: 'th1', scopes: ['content', 'ledger'], expiresAt: T0 + 24 * HOUR, revokedAt: null };
      assert.deepEqual(credentials.tokenByHash('th1'), want);
      assert.deepEqual(credentials.token('tok_1'), want);
      assert.equal(credentials.tokenByHash('th2'), null);
      assert.equal(credentials.token('tok_2'), null);
      credentials.revokeToken('tok_1', T0 + 5);
      credentials.revokeToken('tok_1', T0 + 9);
      assert.equal(credentials.token('tok_1')?.revokedAt, T0 + 5);
      assert.throws(() => credentials.addToken({ id: 'tok_2', userId: alice, tokenHash: 'th1', name: 'copy', scopes: ['admin'], createdAt: T0, expiresAt: T0 + HOUR }));
      assert.equal(credentials.token('tok_2'), null);
      assert.deepEqual(credentials.tokenByHash('th1')?.scopes, ['content', 'ledger']);
    }));

    test("endAll ends every session and token of one person, and nobody else's", withRepos(impl, ({ people, credentials }) => {
      const alice = addPerson(people, 'alice');
      const bob = addPerson(people, 'bob');
      for (const [idHash, userId] of [['sa1', alice], ['sa2', alice], ['sb1', bob]] as const) {
        credentials.addSession({ idHash, userId, csrfHash: `c-${idHash}`, createdAt: T0, expiresAt: T0 + HOUR, clientIp: null, userAgent: null });
      }
      for (const [id, userId] of [['tok_a1', alice], ['tok_a2', alice], ['tok_b1', bob]] as const) {
        credentials.addToken({ id, userId, tokenHash: `h-${id}`, name: id, scopes: ['content'], createdAt: T0, expiresAt: T0 + HOUR });
      }
      credentials.revokeToken('tok_a2', T0 + 1);
      credentials.endAll(alice, T0 + 2);
      assert.equal(credentials.session('sa1'), null);
      assert.equal(credentials.session('sa2'), null);
      assert.equal(credentials.token('tok_a1')?.revokedAt, T0 + 2);
      assert.equal(credentials.token('tok_a2')?.revokedAt, T0 + 1, 'an earlier revocation keeps its time');
      assert.equal(credentials.session('sb1')?.userId, bob);
      assert.equal(credentials.token('tok_b1')?.revokedAt, null);
    }));
  });

  describe(`MailboxStore: ${impl.name}`, () => {
    test('apply makes a mailbox with its addresses; byName and holderOf read it', withRepos(impl, ({ mailboxes }) => {
      mailboxes.apply(row('alice', ['alice@corp.example', 'a.smith@corp.example'], { displayName: 'Alice Smith', owner: 'alice', manager: 'carol' }));
      const m = mailboxes.byName('alice');
      assert.ok(m);
      assert.deepEqual({ ...m, addresses: sorted(m.addresses) },
        { id: m.id, name: 'alice', displayName: 'Alice Smith', owner: 'alice', sensitivity: null, auto: false, addresses: ['a.smith@corp.example', 'alice@corp.example'] });
      assert.deepEqual(mailboxes.holderOf('A.Smith@Corp.Example'), { name: 'alice', owner: 'alice' });
      assert.equal(mailboxes.holderOf('nobody@corp.example'), null);
      assert.equal(mailboxes.byName('nobody'), null);
    }));

    test('apply again: a value left empty keeps the one there; addresses move to the mailbox that names them', withRepos(impl, ({ mailboxes }) => {
      mailboxes.apply(row('alice', ['alice@corp.example', 'a.smith@corp.example'], { displayName: 'Alice Smith', owner: 'alice' }));
      const id = mailboxes.byName('alice')!.id;
      mailboxes.apply(row('alice', ['alice@corp.example'], { sensitivity: 'executive' }));
      assert.deepEqual(mailboxes.byName('alice'), { ...mailboxes.byName('alice')!, id, displayName: 'Alice Smith', owner: 'alice', sensitivity: 'executive' });
      mailboxes.apply(row('bob', ['bob@corp.example', 'a.smith@corp.example'], { owner: 'bob' }));
      assert.deepEqual(mailboxes.holderOf('a.smith@corp.example'), { name: 'bob', owner: 'bob' });
      assert.deepEqual(mailboxes.byName('alice')!.addresses, ['alice@corp.example']);
      assert.deepEqual(sorted(mailboxes.byName('bob')!.addresses), ['a.smith@corp.example', 'bob@corp.example']);
    }));

    test('ownedBy lists the mailboxes of one owner', withRepos(impl, ({ mailboxes }) => {
      mailboxes.apply(row('sales', ['sales@corp.example'], { owner: 'alice' }));
      mailboxes.apply(row('bob', ['bob@corp.example'], { owner: 'bob' }));
      mailboxes.apply(row('alice', ['alice@corp.example'], { owner: 'alice' }));
      const owned = mailboxes.ownedBy('alice');
      assert.deepEqual(sorted(owned.map((m) => m.name)), ['alice', 'sales']);
      for (const m of owned) assert.equal(m.id, mailboxes.byName(m.name)!.id);
      assert.deepEqual(mailboxes.ownedBy('nobody'), []);
    }));

    test('search: a prefix of the name, of a display-name word or of an address; directory mailboxes first, then by name; paged', withRepos(impl, ({ mailboxes, autoMailboxes }) => {
      mailboxes.apply(row('alice', ['alice@corp.example', 'a.smith@corp.example'], { displayName: 'Alice Smith' }));
      mailboxes.apply(row('smithers', ['ws@corp.example'], { displayName: 'Waylon Smithers' }));
      mailboxes.apply(row('bob', ['bob@corp.example'], { displayName: 'Bob Stone' }));
      autoMailboxes.addAutoMailboxes(['smith.j@corp.example', 'zed@corp.example']);
      const names = (text: string, limit = 20, offset = 0) => mailboxes.search(text, { limit, offset }).map((m) => m.name);
      assert.deepEqual(names('smith'), ['alice', 'smithers', 'smith.j@corp.example']);
      assert.deepEqual(names('SMITH'), ['alice', 'smithers', 'smith.j@corp.example'], 'in any case');
      assert.deepEqual(names('smith', 1, 1), ['smithers']);
      assert.deepEqual(names('smith', 5, 3), []);
      assert.deepEqual(names('a.smith'), ['alice'], 'by an address');
      assert.deepEqual(names('stone'), ['bob'], 'by a word of the display name');
      assert.deepEqual(names('mith'), [], 'a prefix, not a substring');
      assert.deepEqual(names('%'), [], 'LIKE wildcards are text');
      assert.deepEqual(names('_ob'), []);
      const [zed] = mailboxes.search('zed', { limit: 5, offset: 0 });
      assert.deepEqual(zed, { id: zed!.id, name: 'zed@corp.example', displayName: null, owner: null, sensitivity: null, auto: true, addresses: ['zed@corp.example'] });
      const [alice] = mailboxes.search('alice', { limit: 5, offset: 0 });
      assert.deepEqual(alice!.addresses, ['a.smith@corp.example', 'alice@corp.example'], 'with its addresses');
    }));

    test('automatic mailboxes: one per address the directory does not map; the directory takes them over', withRepos(impl, ({ mailboxes, autoMailboxes }) => {
      mailboxes.apply(row('alice', ['alice@corp.example']));
      autoMailboxes.addAutoMailboxes(['alice@corp.example', 'erin@corp.example', 'erin@corp.example']);
      assert.deepEqual(mailboxes.holderOf('alice@corp.example'), { name: 'alice', owner: null }, 'an address the directory maps is left alone');
      assert.equal(mailboxes.byName('alice@corp.example'), null);
      assert.equal(mailboxes.byName('erin@corp.example')?.auto, true);
      mailboxes.apply(row('erin@corp.example', ['erin@corp.example', 'e.jones@corp.example'], { displayName: 'Erin Jones', owner: 'erin' }));
      const erin = mailboxes.byName('erin@corp.example')!;
      assert.deepEqual([erin.auto, erin.owner, sorted(erin.addresses)], [false, 'erin', ['e.jones@corp.example', 'erin@corp.example']]);
    }));
  });

  describe(`GrantStore: ${impl.name}`, () => {
    const world = (r: Repositories) => {
      const alice = addPerson(r.people, 'alice', ['requester']);
      const bob = addPerson(r.people, 'bob', ['approver']);
      const carol = addPerson(r.people, 'carol', ['approver']);
      r.mailboxes.apply(row('dave', ['dave@corp.example', 'd.k@corp.example'], { owner: 'dave' }));
      r.mailboxes.apply(row('board', ['board@corp.example'], { owner: 'erin', sensitivity: 'executive' }));
      return { alice, bob, carol, dave: r.grants.mailbox('dave')!, board: r.grants.mailbox('board')! };
    };

    test('mailbox: by its name in any case or by an address', withRepos(impl, (r) => {
      const { dave } = world(r);
      assert.deepEqual(dave, { id: r.mailboxes.byName('dave')!.id, name: 'dave', owner: 'dave', sensitivity: null });
      assert.deepEqual(r.grants.mailbox('DAVE'), dave);
      assert.deepEqual(r.grants.mailbox(' D.K@corp.example '), dave);
      assert.deepEqual(r.grants.mailbox('board')?.sensitivity, 'executive');
      assert.equal(r.grants.mailbox('nobody'), null);
    }));

    test('a filed request reads back field for field, with no decision yet', withRepos(impl, (r) => {
      const { alice, dave, board } = world(r);
      const request = filed('req_1', alice, [dave, board], {
        ticket: null, dateFrom: Date.UTC(2026, 0, 1), dateTo: Date.UTC(2026, 1, 1), fixedQuery: 'from:x@vendor.example', permissions: ['search', 'read', 'export'],
        durationSeconds: 7200, approvalsNeeded: 2, startsAt: T0 + HOUR,
      });
      r.grants.insert(request);
      assert.deepEqual(r.grants.get('req_1'), { ...request, approvals: [], deniedAt: null, revokedAt: null });
      assert.equal(r.grants.get('req_none'), null);
      assert.throws(() => r.grants.insert(filed('req_1', alice, [dave])), 'an id is taken once');
      assert.deepEqual(r.grants.get('req_1')?.mailboxes, [dave, board]);
    }));

    test("list: newest first; or one requester's", withRepos(impl, (r) => {
      const { alice, bob, dave } = world(r);
      r.grants.insert(filed('req_b', alice, [dave], { createdAt: T0 }));
      r.grants.insert(filed('req_c', bob, [dave], { createdAt: T0 + 1 }));
      r.grants.insert(filed('req_a', alice, [dave], { createdAt: T0 + 2 }));
      assert.deepEqual(r.grants.list({}).map((x) => x.id), ['req_a', 'req_c', 'req_b']);
      assert.deepEqual(r.grants.list({ requesterId: alice }).map((x) => x.id), ['req_a', 'req_b']);
      assert.deepEqual(r.grants.list({ requesterId: 99_999 }), []);
    }));

    test('approvals in the order they were given; one decision per approver', withRepos(impl, (r) => {
      const { alice, bob, carol, board } = world(r);
      r.grants.insert(filed('req_1', alice, [board], { approvalsNeeded: 2 }));
      r.grants.addApproval('req_1', { approverId: carol, decision: 'approve', reason: 'proportionate', at: T0 + 1 });
      r.grants.addApproval('req_1', { approverId: bob, decision: 'approve', reason: 'agreed', at: T0 + 2 });
      assert.throws(() => r.grants.addApproval('req_1', { approverId: bob, decision: 'deny', reason: 'changed my mind', at: T0 + 3 }));
      assert.deepEqual(r.grants.get('req_1')?.approvals, [
        { approverId: carol, decision: 'approve', reason: 'proportionate', at: T0 + 1 },
        { approverId: bob, decision: 'approve', reason: 'agreed', at: T0 + 2 },
      ]);
    }));

    test('deny, approve and revoke record the times the states are read from', withRepos(impl, (r) => {
      const { alice, bob, dave } = world(r);
      for (const id of ['req_d', 'req_a', 'req_p']) r.grants.insert(filed(id, alice, [dave]));
      assert.equal(stateOf(r.grants.get('req_p')!, T0 + 1), 'pending');
      r.grants.deny('req_d', T0 + 1);
      assert.equal(r.grants.get('req_d')?.deniedAt, T0 + 1);
      assert.equal(stateOf(r.grants.get('req_d')!, T0 + 2), 'denied');
      r.grants.approve('req_a', T0 + 2, { startsAt: T0 + HOUR, endsAt: T0 + 2 * HOUR });
      const approved = r.grants.get('req_a')!;
      assert.deepEqual([approved.approvedAt, approved.startsAt, approved.endsAt], [T0 + 2, T0 + HOUR, T0 + 2 * HOUR]);
      assert.deepEqual([T0 + 3, T0 + HOUR, T0 + 2 * HOUR].map((t) => stateOf(approved, t)), ['approved', 'active', 'expired']);
      r.grants.revoke('req_a', T0 + HOUR + 5, bob);
      assert.equal(r.grants.get('req_a')?.revokedAt, T0 + HOUR + 5);
      assert.equal(stateOf(r.grants.get('req_a')!, T0 + HOUR + 6), 'revoked');
      assert.equal(stateOf(r.grants.get('req_p')!, T0 + 25 * HOUR), 'lapsed', 'untouched');
    }));

    test('break-glass opens its review item, rev_<request id>, with the grant', withRepos(impl, (r) => {
      const { alice, dave } = world(r);
      r.grants.insert(filed('bg_1', alice, [dave], { breakglass: true, ticket: null, approvedAt: T0, startsAt: T0, endsAt: T0 + HOUR }));
      r.grants.openBreakglassReview('bg_1', alice, T0 + 1);
      assert.deepEqual(r.grants.get('bg_1')?.breakglass, true);
      const item = r.reviews.get('rev_bg_1');
      assert.ok(item);
      assert.deepEqual([item.kind, item.requestId, item.subjectUserId, item.state, item.createdAt], ['breakglass', 'bg_1', alice, 'open', T0 + 1]);
      assert.equal(r.reviews.stateOf('bg_1', 'breakglass'), 'open');
    }));
  });

  describe(`OwnershipChangeStore: ${impl.name}`, () => {
    test('a staged change reads back as staged, then with its decision', withRepos(impl, (r) => {
      const alice = addPerson(r.people, 'alice', ['admin']);
      const bob = addPerson(r.people, 'bob', ['approver']);
      const directoryRow = row('dave', ['dave@corp.example', 'ceo@corp.example'], { owner: 'erin', displayName: 'Dave', sensitivity: 'executive', manager: 'frank' });
      const staged = {
        id: 'own_1', mailbox: 'dave', row: directoryRow, ownerBefore: 'dave', ownerAfter: 'erin',
        gains: [{ address: 'dave@corp.example', from: 'dave' }, { address: 'ceo@corp.example', from: null }],
        why: 'takes addresses or the mailbox from dave', stagedBy: alice, stagedByLabel: 'user:alice', stagedAt: T0,
      };
      r.ownership.add(staged);
      r.ownership.add({ ...staged, id: 'own_2', mailbox: 'new', row: row('new', ['new@corp.example'], { owner: 'erin' }), ownerBefore: null, gains: [], stagedBy: null, stagedByLabel: 'os:root', stagedAt: T0 + 1 });
      const undecided = { decidedBy: null, decision: null, decisionReason: null, decidedAt: null };
      assert.deepEqual(r.ownership.get('own_1'), { ...staged, ...undecided });
      assert.deepEqual(r.ownership.get('own_2')?.stagedBy, null);
      assert.equal(r.ownership.get('own_none'), null);
      r.ownership.decide('own_1', { by: bob, decision: 'approve', reason: 'HR confirmed', at: T0 + 5 });
      assert.deepEqual(r.ownership.get('own_1'), { ...staged, decidedBy: bob, decision: 'approve', decisionReason: 'HR confirmed', decidedAt: T0 + 5 });
      r.ownership.decide('own_2', { by: bob, decision: 'deny', reason: 'no', at: T0 + 6 });
      assert.equal(r.ownership.get('own_2')?.decision, 'deny');
    }));

    test('list: newest first', withRepos(impl, (r) => {
      const base = { mailbox: 'm', row: row('m', ['m@corp.example']), ownerBefore: null, ownerAfter: 'erin', gains: [], why: 'w', stagedBy: null, stagedByLabel: 'os:root' };
      r.ownership.add({ ...base, id: 'own_b', stagedAt: T0 + 1 });
      r.ownership.add({ ...base, id: 'own_c', stagedAt: T0 });
      r.ownership.add({ ...base, id: 'own_a', stagedAt: T0 + 2 });
      assert.deepEqual(r.ownership.list().map((c) => c.id), ['own_a', 'own_b', 'own_c']);
    }));
  });

  describe(`AccountRecoveryStore: ${impl.name}`, () => {
    const people3 = (r: Repositories) => ({ alice: addPerson(r.people, 'alice'), bob: addPerson(r.people, 'bob', ['admin']), carol: addPerson(r.people, 'carol', ['approver']) });

    test('an approved recovery keeps its code, used once, before it expires, by its own person', withRepos(impl, (r) => {
      const { alice, bob, carol } = people3(r);
      r.recoveries.add({ id: 'rec_1', userId: alice, requestedBy: bob, reason: 'lost phone', createdAt: T0, lapsesAt: T0 + 24 * HOUR });
      assert.deepEqual(r.recoveries.get('rec_1'), {
        id: 'rec_1', userId: alice, requestedBy: bob, reason: 'lost phone', createdAt: T0, lapsesAt: T0 + 24 * HOUR,
        decidedBy: null, decision: null, decisionReason: null, decidedAt: null, codeHash: null, codeExpires: null, usedAt: null,
      });
      assert.equal(r.recoveries.get('rec_none'), null);
      assert.equal(r.recoveries.use(alice, 'c1', T0 + 1), null, 'not approved yet');
      r.recoveries.decide('rec_1', { by: carol, decision: 'approve', reason: 'called her', at: T0 + 1, codeHash: 'c1', codeExpires: T0 + HOUR });
      assert.deepEqual(r.recoveries.get('rec_1'), { ...r.recoveries.get('rec_1')!, decidedBy: carol, decision: 'approve', decisionReason: 'called her', decidedAt: T0 + 1, codeHash: 'c1', codeExpires: T0 + HOUR, usedAt: null });
      assert.equal(r.recoveries.use(bob, 'c1', T0 + 2), null, "someone else's code");
      assert.equal(r.recoveries.use(alice, 'c2', T0 + 2), null, 'a wrong code');
      assert.equal(r.recoveries.use(alice, 'c1', T0 + HOUR), null, 'expired');
      assert.equal(r.recoveries.use(alice, 'c1', T0 + 2), 'rec_1');
      assert.equal(r.recoveries.get('rec_1')?.usedAt, T0 + 2);
      assert.equal(r.recoveries.use(alice, 'c1', T0 + 3), null, 'used up');
    }));

    test('a denial keeps no code; cancelOpen ends what waits and voids unused codes, leaving decided ones', withRepos(impl, (r) => {
      const { alice, bob, carol } = people3(r);
      const add = (id: string, userId: number, at: number) => r.recoveries.add({ id, userId, requestedBy: bob, reason: id, createdAt: at, lapsesAt: at + 24 * HOUR });
      add('rec_wait', alice, T0);
      add('rec_code', alice, T0 + 1);
      add('rec_used', alice, T0 + 2);
      add('rec_no', alice, T0 + 3);
      add('rec_other', carol, T0 + 4);
      r.recoveries.decide('rec_code', { by: carol, decision: 'approve', reason: 'ok', at: T0 + 5, codeHash: 'k1', codeExpires: T0 + HOUR });
      r.recoveries.decide('rec_used', { by: carol, decision: 'approve', reason: 'ok', at: T0 + 5, codeHash: 'k2', codeExpires: T0 + HOUR });
      assert.equal(r.recoveries.use(alice, 'k2', T0 + 6), 'rec_used');
      r.recoveries.decide('rec_no', { by: carol, decision: 'deny', reason: 'not verified', at: T0 + 5 });
      assert.deepEqual([r.recoveries.get('rec_no')?.decision, r.recoveries.get('rec_no')?.codeHash], ['deny', null]);

      r.recoveries.cancelOpen(alice, T0 + 9, 'account disabled');
      const wait = r.recoveries.get('rec_wait')!;
      assert.deepEqual([wait.decision, wait.decisionReason, wait.decidedAt], ['cancel', 'account disabled', T0 + 9]);
      assert.equal(r.recoveries.get('rec_code')?.decision, 'approve');
      assert.equal(r.recoveries.get('rec_code')?.codeHash, null, 'an unused code is voided');
      assert.equal(r.recoveries.use(alice, 'k1', T0 + 10), null);
      assert.deepEqual([r.recoveries.get('rec_used')?.usedAt, r.recoveries.get('rec_used')?.decision], [T0 + 6, 'approve']);
      assert.equal(r.recoveries.get('rec_no')?.decision, 'deny');
      assert.equal(r.recoveries.get('rec_other')?.decision, null, "another person's recovery waits on");
    }));

    test('list: newest first', withRepos(impl, (r) => {
      const { alice, bob } = people3(r);
      for (const [id, at] of [['rec_b', T0 + 1], ['rec_c', T0], ['rec_a', T0 + 2]] as const) {
        r.recoveries.add({ id, userId: alice, requestedBy: bob, reason: 'x', createdAt: at, lapsesAt: at + HOUR });
      }
      assert.deepEqual(r.recoveries.list().map((x) => x.id), ['rec_a', 'rec_b', 'rec_c']);
    }));
  });

  describe(`PersonLinkStore: ${impl.name}`, () => {
    test('the links touching any of the people, oldest first; a link to oneself is not kept', withRepos(impl, (r) => {
      const [alice, bob, carol, dave, erin] = ['alice', 'bob', 'carol', 'dave', 'erin'].map((n) => addPerson(r.people, n)) as [number, number, number, number, number];
      r.links.record({ actorId: alice, subjectId: bob, kind: 'created', at: T0 + 2 });
      r.links.record({ actorId: carol, subjectId: dave, kind: 'roles', at: T0 + 1 });
      r.links.record({ actorId: bob, subjectId: carol, kind: 'recovery', at: T0 + 3 });
      r.links.record({ actorId: alice, subjectId: alice, kind: 'created', at: T0 });
      r.links.record({ actorId: dave, subjectId: erin, kind: 'created', at: T0 + 4 });
      const link = (actorId: number, subjectId: number, kind: string, at: number) => ({ actorId, subjectId, kind, at });
      assert.deepEqual(r.links.touching([alice]), [link(alice, bob, 'created', T0 + 2)]);
      assert.deepEqual(r.links.touching([bob]), [link(alice, bob, 'created', T0 + 2), link(bob, carol, 'recovery', T0 + 3)]);
      assert.deepEqual(r.links.touching([alice, bob]), [link(alice, bob, 'created', T0 + 2), link(bob, carol, 'recovery', T0 + 3)], 'each link once');
      assert.deepEqual(r.links.touching([carol, dave]), [link(carol, dave, 'roles', T0 + 1), link(bob, carol, 'recovery', T0 + 3), link(dave, erin, 'created', T0 + 4)]);
      assert.deepEqual(r.links.touching([]), []);
    }));
  });

  describe(`NotificationStore: ${impl.name}`, () => {
    test("a mailbox's policy: none until set, then as set, replaced by the next", withRepos(impl, (r) => {
      r.mailboxes.apply(row('dave', ['dave@corp.example']));
      const id = r.mailboxes.byName('dave')!.id;
      assert.equal(r.notifications.mailboxPolicy(id), null);
      r.notifications.setMailboxPolicy(id, { notifyMode: 'after', notifyAfterDays: 14, legalBasis: null, notifyAlso: ['hr@corp.example', 'dpo@corp.example'] });
      assert.deepEqual(r.notifications.mailboxPolicy(id), { notifyMode: 'after', notifyAfterDays: 14, legalBasis: null, notifyAlso: ['hr@corp.example', 'dpo@corp.example'] });
      r.notifications.setMailboxPolicy(id, { notifyMode: 'none', notifyAfterDays: null, legalBasis: 'court order 12', notifyAlso: [] });
      assert.deepEqual(r.notifications.mailboxPolicy(id), { notifyMode: 'none', notifyAfterDays: null, legalBasis: 'court order 12', notifyAlso: [] });
    }));

    test('the outbox: one notification per recipient, due once its time has come, oldest first', withRepos(impl, ({ notifications: n }) => {
      n.enqueue({ kind: 'request.filed', recipients: ['x@corp.example', 'https://hooks.example/a'], subject: 'S1', body: 'B1', createdAt: T0, notBefore: T0 });
      n.enqueue({ kind: 'mailbox.access-granted', recipients: ['z@corp.example'], subject: 'S2', body: 'B2', createdAt: T0 + 1, notBefore: T0 + HOUR });
      n.enqueue({ kind: 'breakglass.opened', recipients: ['w@corp.example'], subject: 'S3', body: 'B3', createdAt: T0 + 2, notBefore: T0 + 2 });
      const due = n.due(T0 + 5, 10, 100);
      assert.deepEqual(due.map(({ id: _, ...rest }) => rest), [
        { kind: 'request.filed', recipient: 'x@corp.example', subject: 'S1', body: 'B1', createdAt: T0, attempts: 0 },
        { kind: 'request.filed', recipient: 'https://hooks.example/a', subject: 'S1', body: 'B1', createdAt: T0, attempts: 0 },
        { kind: 'breakglass.opened', recipient: 'w@corp.example', subject: 'S3', body: 'B3', createdAt: T0 + 2, attempts: 0 },
      ]);
      assert.equal(new Set(due.map((d) => d.id)).size, 3, 'each its own id');
      assert.deepEqual(n.due(T0 + 5, 10, 2).map((d) => d.recipient), ['x@corp.example', 'https://hooks.example/a']);
      assert.deepEqual(n.due(T0 + HOUR, 10, 100).map((d) => d.recipient), ['x@corp.example', 'https://hooks.example/a', 'z@corp.example', 'w@corp.example']);
      assert.deepEqual(n.backlog(T0 + 5), { waiting: 4, due: 3, failing: 0 });
    }));

    test('a sent one leaves the outbox; a failed one waits for its retry, while attempts are left', withRepos(impl, ({ notifications: n }) => {
      n.enqueue({ kind: 'k', recipients: ['x@corp.example', 'y@corp.example'], subject: 's', body: 'b', createdAt: T0, notBefore: T0 });
      const [x, y] = n.due(T0, 10, 10);
      assert.ok(x && y);
      n.markSent(x.id, T0 + 1);
      n.markFailed(y.id, 1, T0 + MINUTE, 'connection refused');
      assert.deepEqual(n.due(T0 + 2, 10, 10), []);
      assert.deepEqual(n.backlog(T0 + 2), { waiting: 1, due: 0, failing: 1 });
      assert.deepEqual(n.due(T0 + MINUTE, 10, 10).map((d) => [d.recipient, d.attempts]), [['y@corp.example', 1]]);
      n.markFailed(y.id, 3, T0 + 2 * MINUTE, 'again');
      assert.deepEqual(n.due(T0 + 2 * MINUTE, 3, 10), [], 'no attempts left');
      assert.deepEqual(n.due(T0 + 2 * MINUTE, 4, 10).map((d) => d.attempts), [3]);
      n.markSent(y.id, T0 + 3 * MINUTE);
      assert.deepEqual(n.backlog(T0 + 3 * MINUTE), { waiting: 0, due: 0, failing: 0 });
    }));
  });

  describe(`NoticeStore: ${impl.name}`, () => {
    test("the notice in force, and who acknowledged which version; the first acknowledgement's time stands", withRepos(impl, (r) => {
      const alice = addPerson(r.people, 'alice');
      const bob = addPerson(r.people, 'bob');
      assert.equal(r.notices.current(), null);
      r.notices.save({ text: 'Mail is archived.', version: 1, updatedAt: T0, updatedBy: 'admin' });
      r.notices.save({ text: 'Mail is archived for 10 years.', version: 2, updatedAt: T0 + 1, updatedBy: 'admin2' });
      assert.deepEqual(r.notices.current(), { text: 'Mail is archived for 10 years.', version: 2, updatedAt: T0 + 1, updatedBy: 'admin2' });
      r.notices.acknowledge(alice, 1, T0 + 2);
      r.notices.acknowledge(alice, 1, T0 + 9);
      r.notices.acknowledge(bob, 1, T0 + 3);
      r.notices.acknowledge(bob, 2, T0 + 4);
      assert.equal(r.notices.acknowledgedAt(alice, 1), T0 + 2);
      assert.equal(r.notices.acknowledgedAt(alice, 2), null);
      assert.equal(r.notices.acknowledgedAt(bob, 2), T0 + 4);
      assert.deepEqual([r.notices.acknowledgements(1), r.notices.acknowledgements(2), r.notices.acknowledgements(3)], [2, 1, 0]);
    }));
  });

  describe(`ReviewStore: ${impl.name}`, () => {
    const item = (id: string, extra: Partial<NewReviewItem> = {}): NewReviewItem => ({
      id, kind: 'high-impact', requestId: 'req_1', subjectUserId: 7, reason: 'access approved', ledgerIndex: 12, ...extra,
    });

    test('an item is queued once, and reads back as queued', withRepos(impl, ({ reviews }) => {
      assert.equal(reviews.add(item('rev_a'), T0), true);
      assert.equal(reviews.add(item('rev_a', { reason: 'again' }), T0 + 1), false);
      const got = reviews.get('rev_a');
      assert.ok(got);
      assert.deepEqual({ ...got, updatedAt: undefined }, {
        id: 'rev_a', kind: 'high-impact', requestId: 'req_1', subjectUserId: 7, reason: 'access approved', ledgerIndex: 12,
        state: 'open', claimedBy: null, createdAt: T0, updatedAt: undefined, closedBy: null, note: null,
      });
      assert.equal(reviews.add(item('rev_n', { kind: 'alert', requestId: null, subjectUserId: null, ledgerIndex: null }), T0), true);
      assert.deepEqual([reviews.get('rev_n')?.requestId, reviews.get('rev_n')?.subjectUserId, reviews.get('rev_n')?.ledgerIndex], [null, null, null]);
      assert.equal(reviews.get('rev_none'), null);
    }));

    test('list: newest first, narrowed by state and kind', withRepos(impl, ({ reviews }) => {
      reviews.add(item('rev_1', { kind: 'sample' }), T0);
      reviews.add(item('rev_2', { kind: 'alert' }), T0 + 2);
      reviews.add(item('rev_3', { kind: 'sample' }), T0 + 1);
      reviews.update('rev_3', { state: 'claimed', at: T0 + 3, note: null, claimedBy: 1 });
      const ids = (filter: { state?: string; kind?: string }) => reviews.list(filter).map((i) => i.id);
      assert.deepEqual(ids({}), ['rev_2', 'rev_3', 'rev_1']);
      assert.deepEqual(ids({ state: 'open' }), ['rev_2', 'rev_1']);
      assert.deepEqual(ids({ kind: 'sample' }), ['rev_3', 'rev_1']);
      assert.deepEqual(ids({ state: 'open', kind: 'sample' }), ['rev_1']);
      assert.deepEqual(ids({ state: 'closed' }), []);
    }));

    test('a step changes what it names and keeps the rest; a null note keeps the last one', withRepos(impl, ({ reviews }) => {
      reviews.add(item('rev_a'), T0);
      const step = (change: ReviewChange) => {
        reviews.update('rev_a', change);
        const i = reviews.get('rev_a')!;
        return { state: i.state, claimedBy: i.claimedBy, closedBy: i.closedBy, note: i.note, updatedAt: i.updatedAt };
      };
      assert.deepEqual(step({ state: 'claimed', at: T0 + 1, note: null, claimedBy: 3 }), { state: 'claimed', claimedBy: 3, closedBy: null, note: null, updatedAt: T0 + 1 });
      assert.deepEqual(step({ state: 'reviewed', at: T0 + 2, note: 'looked proportionate' }), { state: 'reviewed', claimedBy: 3, closedBy: null, note: 'looked proportionate', updatedAt: T0 + 2 });
      assert.deepEqual(step({ state: 'closed', at: T0 + 3, note: null, closedBy: 4, closedAt: T0 + 3 }), { state: 'closed', claimedBy: 3, closedBy: 4, note: 'looked proportionate', updatedAt: T0 + 3 });
      assert.equal(reviews.stateOf('req_1', 'high-impact'), 'closed');
      assert.deepEqual(step({ state: 'open', at: T0 + 4, note: 'needs another look', claimedBy: null, closedBy: null, closedAt: null }), { state: 'open', claimedBy: null, closedBy: null, note: 'needs another look', updatedAt: T0 + 4 });
      assert.equal(reviews.get('rev_a')?.createdAt, T0);
      assert.equal(reviews.stateOf('req_1', 'high-impact'), 'open');
      assert.equal(reviews.stateOf('req_1', 'sample'), null);
      assert.equal(reviews.stateOf('req_2', 'high-impact'), null);
    }));
  });

  describe(`OversightStore: ${impl.name}`, () => {
    const alert = (id: string, rule: 'breakglass' | 'volume' | 'manager') => ({ id, rule, text: `text of ${id}`, requestId: 'req_1', ledgerIndex: 3, subject: 'alice' });

    test('its settings round-trip (the sweep keeps its cursor and marks there)', withRepos(impl, ({ oversight }) => {
      assert.equal(oversight.getSetting('oversight.cursor'), null);
      oversight.setSetting('oversight.cursor', '41');
      oversight.setSetting('oversight.cursor', '42');
      assert.equal(oversight.getSetting('oversight.cursor'), '42');
    }));

    test('an alert is raised once; alerts are counted per rule in a window, by rule', withRepos(impl, ({ oversight }) => {
      assert.equal(oversight.addAlert(alert('breakglass:bg_1', 'breakglass'), T0), true);
      assert.equal(oversight.addAlert({ ...alert('breakglass:bg_1', 'breakglass'), text: 'again' }, T0 + 1), false);
      assert.equal(oversight.hasAlert('breakglass:bg_1'), true);
      assert.equal(oversight.hasAlert('volume:req_1'), false);
      oversight.addAlert(alert('volume:req_1', 'volume'), T0 + 1);
      oversight.addAlert(alert('manager:req_1:dave', 'manager'), T0 + 2);
      oversight.addAlert(alert('volume:req_2', 'volume'), T0 + 5);
      assert.deepEqual(oversight.alertCounts(T0, T0 + 5).map((a) => ({ ...a })), [{ rule: 'breakglass', n: 1 }, { rule: 'manager', n: 1 }, { rule: 'volume', n: 1 }]);
      assert.deepEqual(oversight.alertCounts(T0 + 1, T0 + 6).map((a) => ({ ...a })), [{ rule: 'manager', n: 1 }, { rule: 'volume', n: 2 }]);
      assert.deepEqual(oversight.alertCounts(T0 + 6, T0 + 9), []);
    }));

    test('messages read under a grant are counted once each, per grant', withRepos(impl, ({ oversight }) => {
      const [a, b, c] = ['a', 'b', 'c'].map((x) => x.repeat(64));
      assert.equal(oversight.addMessagesRead('req_1', [a!, b!]), 2);
      assert.equal(oversight.addMessagesRead('req_1', [b!, c!, c!]), 3);
      assert.equal(oversight.addMessagesRead('req_2', [a!]), 1);
      assert.equal(oversight.addMessagesRead('req_1', []), 3);
    }));

    test('closed grants not yet drawn for the sample, by id; a draw takes one out; what a request extends', withRepos(impl, (r) => {
      const alice = addPerson(r.people, 'alice', ['requester', 'breakglass']);
      const bob = addPerson(r.people, 'bob', ['requester']);
      r.mailboxes.apply(row('dave', ['dave@corp.example']));
      const dave = r.grants.mailbox('dave')!;
      const now = T0 + 5 * HOUR;
      const approved = (endsAt: number) => ({ approvedAt: T0, startsAt: T0, endsAt });
      r.grants.insert(filed('req_e', alice, [dave], approved(T0 + HOUR)));                     // ran out
      r.grants.insert(filed('req_b', bob, [dave], approved(T0 + 10 * HOUR)));                  // revoked below
      r.grants.insert(filed('req_c', alice, [dave], approved(T0 + 10 * HOUR)));                // still running
      r.grants.insert(filed('req_d', alice, [dave]));                                          // never approved
      r.grants.insert(filed('req_a', bob, [dave], { ...approved(T0 + HOUR), breakglass: true })); // reviewed anyway
      r.grants.insert(filed('req_f', alice, [dave], { ...approved(now), extends: 'req_e' }));   // ends exactly now
      r.grants.revoke('req_b', T0 + 2 * HOUR, alice);
      r.grants.deny('req_d', T0 + 1);
      assert.deepEqual(r.oversight.closedGrantsNotDrawn(now, 100), [{ id: 'req_b', requesterId: bob }, { id: 'req_e', requesterId: alice }, { id: 'req_f', requesterId: alice }]);
      assert.deepEqual(r.oversight.closedGrantsNotDrawn(now, 1), [{ id: 'req_b', requesterId: bob }]);
      r.oversight.recordDraw('req_b', true, now);
      r.oversight.recordDraw('req_f', false, now);
      assert.deepEqual(r.oversight.closedGrantsNotDrawn(now, 100), [{ id: 'req_e', requesterId: alice }], 'drawn or not, each is drawn once');
      assert.equal(r.oversight.extendsOf('req_f'), 'req_e');
      assert.equal(r.oversight.extendsOf('req_e'), null);
      assert.equal(r.oversight.extendsOf('req_none'), null);
    }));

    test('mailboxes as the directory has them, and who manages whom', withRepos(impl, (r) => {
      r.mailboxes.apply(row('dave', ['dave@corp.example'], { owner: 'dave', manager: 'carol', sensitivity: 'executive' }));
      r.mailboxes.apply(row('erin', ['erin@corp.example'], { owner: 'erin', manager: 'dave' }));
      r.autoMailboxes.addAutoMailboxes(['x@corp.example']);
      const id = (name: string) => r.mailboxes.byName(name)!.id;
      assert.deepEqual(r.oversight.mailbox('dave'), { id: id('dave'), name: 'dave', owner: 'dave', sensitivity: 'executive', manager: 'carol' });
      assert.equal(r.oversight.mailbox('nobody'), null);
      assert.deepEqual(sorted(r.oversight.mailboxes().map((m) => m.name)), ['dave', 'erin', 'x@corp.example']);
      assert.deepEqual(r.oversight.mailboxes().find((m) => m.name === 'x@corp.example'), { id: id('x@corp.example'), name: 'x@corp.example', owner: null, sensitivity: null, manager: null });
      assert.equal(r.oversight.manages('carol', 'dave'), true);
      assert.equal(r.oversight.manages('dave', 'erin'), true);
      assert.equal(r.oversight.manages('dave', 'carol'), false);
      assert.equal(r.oversight.manages('erin', 'dave'), false);
    }));

    test('live tokens: not revoked, not expired, held by someone not disabled', withRepos(impl, (r) => {
      const alice = addPerson(r.people, 'alice');
      const bob = addPerson(r.people, 'bob');
      const carol = addPerson(r.people, 'carol');
      const token = (id: string, userId: number, expiresAt: number) =>
        r.credentials.addToken({ id, userId, tokenHash: `h-${id}`, name: id, scopes: ['content', 'requests'], createdAt: T0, expiresAt });
      token('tok_live', alice, T0 + HOUR);
      token('tok_revoked', alice, T0 + HOUR);
      token('tok_expired', alice, T0 + 10);
      token('tok_disabled', bob, T0 + HOUR);
      token('tok_carol', carol, T0 + HOUR);
      r.credentials.revokeToken('tok_revoked', T0 + 1);
      r.people.setDisabled('bob', true);
      const live = r.oversight.liveTokens(T0 + 10).map((t) => ({ ...t })).sort((a, b) => (a.id < b.id ? -1 : 1));
      assert.deepEqual(live, [
        { id: 'tok_carol', user: 'carol', scopes: ['content', 'requests'], expiresAt: T0 + HOUR },
        { id: 'tok_live', user: 'alice', scopes: ['content', 'requests'], expiresAt: T0 + HOUR },
      ]);
    }));
  });

  describe(`LedgerHistory: ${impl.name}`, () => {
    test('entries by index, in a time window, after an index and under a grant, in ledger order', withRepos(impl, (r) => {
      const clock = { t: T0, now() { return this.t; } };
      const key = generateSigningKey('conformance.example/ledger');
      const ledger = new Ledger({ store: r.ledger, origin: 'conformance.example/ledger', clock, sign: (body) => signCheckpoint(body, key) });
      const audit = new Audit(r.ledger, ledger);
      const actor = (name: string): Actor => ({ user: { id: 1, name, displayName: null, email: null, roles: ['requester'], enrolled: true, disabled: false }, logonType: 'delegated', sessionId: null, clientIp: null, userAgent: null });
      const ops: [string, 'search' | 'request.approve' | 'view' | 'review.sample', string | null][] = [
        ['alice', 'search', 'req_1'], ['bob', 'request.approve', 'req_1'], ['oversight', 'review.sample', null], ['alice', 'view', 'req_1'], ['bob', 'search', 'req_2'],
      ];
      const times: number[] = [];
      for (const [who, operation, grantId] of ops) {
        times.push(clock.t);
        audit.record(actor(who), { operation, grantId, mailboxes: [{ id: 5, name: 'dave' }] }, () => null);
        clock.t += MINUTE;
      }
      const idx = (es: Iterable<{ index: number }>) => [...es].map((e) => e.index);

      const second = r.history.entryAt(1);
      assert.deepEqual([second?.index, second?.time, second?.actor, second?.operation, second?.grantId], [1, times[1], 'user:bob', 'request.approve', 'req_1']);
      assert.equal(r.history.entryAt(5), null);
      assert.deepEqual(idx(r.history.entriesBetween(times[1]!, times[4]!)), [1, 2, 3], '[from, until)');
      assert.deepEqual(idx(r.history.entriesBetween(-Infinity, times[2]!)), [0, 1]);
      assert.deepEqual(idx(r.history.entriesBetween(times[4]! + 1, Infinity)), []);
      // Two walks under way at once (a report reads two periods side by side).
      const outer = r.history.entriesBetween(-Infinity, Infinity)[Symbol.iterator]();
      assert.equal(outer.next().value?.index, 0);
      assert.deepEqual(idx(r.history.entriesBetween(times[3]!, Infinity)), [3, 4]);
      assert.deepEqual([outer.next().value?.index, outer.next().value?.index], [1, 2]);
      assert.deepEqual(idx(r.history.entriesAfter(1, 2)), [2, 3]);
      assert.deepEqual(idx(r.history.entriesAfter(-1, 100)), [0, 1, 2, 3, 4]);
      assert.deepEqual(idx(r.history.entriesAfter(4, 100)), []);
      assert.deepEqual(idx(r.history.entriesOfGrant('req_1')), [0, 1, 3]);
      assert.deepEqual(idx(r.history.entriesOfGrant('req_none')), []);
    }));
  });

  describe(`Repositories in one transaction: ${impl.name}`, () => {
    test("what they write inside the Audit's transaction is undone with it, and kept when it commits", withRepos(impl, (r) => {
      const alice = addPerson(r.people, 'alice', ['requester']);
      r.mailboxes.apply(row('dave', ['dave@corp.example']));
      const dave = r.grants.mailbox('dave')!;
      const clock = { now: () => T0 };
      const key = generateSigningKey('conformance.example/ledger');
      const ledger = new Ledger({ store: r.ledger, origin: 'conformance.example/ledger', clock, sign: (body) => signCheckpoint(body, key) });
      const audit = new Audit(r.ledger, ledger);
      const actor: Actor = { user: r.people.byId(alice)!.user, logonType: 'delegated', sessionId: null, clientIp: null, userAgent: null };
      const work = (fail: boolean) => () => {
        r.grants.insert(filed('req_t', alice, [dave]));
        r.notifications.enqueue({ kind: 'request.filed', recipients: ['bob@corp.example'], subject: 's', body: 'b', createdAt: T0, notBefore: T0 });
        r.reviews.add({ id: 'rev_t', kind: 'high-impact', requestId: 'req_t', subjectUserId: alice, reason: 'r', ledgerIndex: null }, T0);
        r.settings.setSetting('oversight.cursor', '7');
        r.links.record({ actorId: alice, subjectId: addPerson(r.people, 'bob'), kind: 'created', at: T0 });
        if (fail) throw new Error('fault after the writes');
        return 'req_t';
      };
      assert.throws(() => audit.record(actor, { operation: 'request.file', grantId: 'req_t', mailboxes: [dave] }, work(true)), (err: any) => err.code === 'SEALBOX_ERR_LEDGER');
      assert.equal(r.grants.get('req_t'), null);
      assert.deepEqual(r.notifications.due(T0, 10, 10), []);
      assert.equal(r.reviews.get('rev_t'), null);
      assert.equal(r.settings.getSetting('oversight.cursor'), null);
      assert.equal(r.people.byName('bob'), null);
      assert.deepEqual(r.links.touching([alice]), []);
      assert.equal(r.ledger.ledgerSize(), 0);

      assert.equal(audit.record(actor, { operation: 'request.file', grantId: 'req_t', mailboxes: [dave] }, work(false)), 'req_t');
      assert.equal(r.grants.get('req_t')?.id, 'req_t');
      assert.equal(r.notifications.due(T0, 10, 10).length, 1);
      assert.equal(r.reviews.get('rev_t')?.state, 'open');
      assert.equal(r.settings.getSetting('oversight.cursor'), '7');
      assert.equal(r.links.touching([alice]).length, 1);
      assert.deepEqual(r.history.entriesOfGrant('req_t').map((e) => e.operation), ['request.file']);
    }));
  });
}
