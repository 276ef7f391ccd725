// The metadata repositories' contracts — the store interfaces each stage declares (access,
// oversight) — run against every backend: the SQLite metadata store (src/store/sqlite/) and the
// PostgreSQL one (src/store/postgres/, on a private cluster, each test a schema of its own).
// Each suite checks the round trips,
// state changes, refusals and orders the service using that store relies on, through the
// interface alone (another repository of the same backend only where the service does the same).
// Every call runs in a transaction of the backend: writes in write(), what is only read back in
// read(); a call that fails runs in a write of its own, which it rolls back whole (as it would
// on PostgreSQL), and what it left behind is then read.
import { after, before, describe, test } from 'node:test';
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
import type { Transactions, Tx } from '../../src/core/transactions.ts';
import type { LedgerEntry, LedgerEntryType } from '../../src/core/types.ts';
import type { CaptureQueue } from '../../src/index/capture-queue.ts';
import { generateSigningKey, signCheckpoint } from '../../src/ledger/checkpoint.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import type { LedgerStore } from '../../src/ledger/ledger.ts';
import type { LedgerHistory } from '../../src/oversight/ledger-history.ts';
import type { OversightStore } from '../../src/oversight/oversight-store.ts';
import type { NewReviewItem, ReviewChange, ReviewStore } from '../../src/oversight/review-store.ts';
import type { RoleChangeStore } from '../../src/access/role-change-store.ts';
import type { SsoStore } from '../../src/access/sso-store.ts';
import { SqliteMetadataStore } from '../../src/store/sqlite/metadata-store.ts';
import { PostgresMetadataStore } from '../../src/store/postgres/metadata-store.ts';
import { postgresRepositories } from '../../src/store/postgres/repositories.ts';
import type { MetadataRepositories } from '../../src/store/repositories.ts';
import { sqliteRepositories } from '../../src/store/sqlite/repositories.ts';
import { postgresForSuite } from '../support/postgres.ts';

const postgres = postgresForSuite(before, after);

// Every repository of one backend, over one database, and the transactions they all run in.
interface Repositories {
  write: Transactions['write'];
  read: Transactions['read'];
  settings: SettingStore;
  people: PeopleStore;
  credentials: CredentialStore;
  mailboxes: MailboxStore;
  autoMailboxes: Pick<CaptureQueue, 'addAutoMailboxes'>;   // a transaction of its own
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
  sso: SsoStore;
  roleChanges: RoleChangeStore;
  close(): void | Promise<void>;
}

// One backend's repositories as its factory hands them out (src/store/*/repositories.ts), the
// same object openStores builds.
function fromFactory(meta: (SqliteMetadataStore | PostgresMetadataStore) & SettingStore & LedgerStore & AuditStore, repos: MetadataRepositories): Repositories {
  return {
    write: (work) => meta.write(work), read: (work) => meta.read(work), settings: meta, ledger: meta, close: () => meta.close(),
    people: repos.people, credentials: repos.credentials, mailboxes: repos.mailboxes, autoMailboxes: repos.captures, grants: repos.grants,
    ownership: repos.ownership, recoveries: repos.recoveries, links: repos.links, notifications: repos.notifications, notices: repos.notices,
    reviews: repos.reviews, oversight: repos.oversight, history: repos.history, sso: repos.sso, roleChanges: repos.roleChanges,
  };
}

function sqlite(meta: SqliteMetadataStore): Repositories {
  return fromFactory(meta, sqliteRepositories(meta));
}

function postgresRepos(meta: PostgresMetadataStore): Repositories {
  return fromFactory(meta, postgresRepositories(meta));
}

const BACKENDS: { name: string; open(dir: string): Repositories }[] = [
  { name: 'SQLite (src/store/sqlite)', open: (dir) => sqlite(new SqliteMetadataStore(join(dir, 'sealbox.db'))) },
  { name: 'PostgreSQL (src/store/postgres)', open: (dir) => postgresRepos(new PostgresMetadataStore({ url: postgres.url(), schema: postgres.schemaFor(dir) })) },
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
function withRepos(impl: (typeof BACKENDS)[number], fn: (r: Repositories) => Promise<void>): () => Promise<void> {
  return async () => {
    const repos = impl.open(tempDir());
    try {
      await fn(repos);
    } finally {
      await repos.close();
    }
  };
}

async function addPerson(tx: Tx, people: PeopleStore, name: string, roles: Role[] = ['owner'], at = T0): Promise<number> {
  await people.add(tx, { name, displayName: null, email: `${name}@corp.example`, roles, enrolmentHash: `enrol-${name}`, enrolmentExpires: at + 24 * HOUR, createdAt: at });
  return (await people.byName(tx, name))!.user.id;
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

// The indexes of entries walked in order, from a list or an asynchronous walk.
async function indexes(es: Iterable<{ index: number }> | AsyncIterable<{ index: number }>): Promise<number[]> {
  const out: number[] = [];
  for await (const e of es) out.push(e.index);
  return out;
}

for (const impl of BACKENDS) {
  describe(`SettingStore: ${impl.name}`, () => {
    test('a key never set is null; a value set reads back and the next replaces it', withRepos(impl, async ({ settings, write, read }) => {
      assert.equal(await read((tx) => settings.getSetting(tx, 'policy.access')), null);
      await write(async (tx) => {
        await settings.setSetting(tx, 'policy.access', '{"approvalsNeeded":2}');
        await settings.setSetting(tx, 'notice.other', 'x');
      });
      assert.equal(await read((tx) => settings.getSetting(tx, 'policy.access')), '{"approvalsNeeded":2}');
      await write((tx) => settings.setSetting(tx, 'policy.access', '{}'));
      await read(async (tx) => {
        assert.equal(await settings.getSetting(tx, 'policy.access'), '{}');
        assert.equal(await settings.getSetting(tx, 'notice.other'), 'x');
      });
    }));
  });

  describe(`PeopleStore: ${impl.name}`, () => {
    test('a person added reads back by name and by id; a name is taken once', withRepos(impl, async ({ people, write, read }) => {
      await write((tx) => people.add(tx, { name: 'alice', displayName: 'Alice Smith', email: 'alice@corp.example', roles: ['requester', 'approver'], enrolmentHash: 'h1', enrolmentExpires: T0 + HOUR, createdAt: T0 }));
      await read(async (tx) => {
        const account = await people.byName(tx, 'alice');
        assert.ok(account);
        assert.deepEqual(account, {
          user: { id: account.user.id, name: 'alice', displayName: 'Alice Smith', email: 'alice@corp.example', roles: ['requester', 'approver'], enrolled: false, disabled: false },
          passwordHash: null, totpWrapped: null, totpLastStep: 0, enrolmentHash: 'h1', enrolmentExpires: T0 + HOUR, failedLogins: 0, lockedUntil: 0,
        });
        assert.deepEqual(await people.byId(tx, account.user.id), account);
        assert.equal(await people.byName(tx, 'nobody'), null);
        assert.equal(await people.byId(tx, account.user.id + 1000), null);
      });
      await assert.rejects(write((tx) => people.add(tx, { name: 'alice', displayName: null, email: null, roles: ['owner'], enrolmentHash: 'h2', enrolmentExpires: T0, createdAt: T0 })));
      await read(async (tx) => {
        assert.equal((await people.byName(tx, 'alice'))?.enrolmentHash, 'h1', 'the first stays as it was');
        assert.equal((await people.list(tx)).length, 1);
      });
    }));

    test('list is by name', withRepos(impl, async ({ people, write, read }) => {
      await write(async (tx) => {
        for (const name of ['carol', 'alice', 'bob.k', 'bob']) await addPerson(tx, people, name);
      });
      assert.deepEqual((await read((tx) => people.list(tx))).map((u) => u.name), ['alice', 'bob', 'bob.k', 'carol']);
    }));

    test('enrolment: a code reissued with roles, then the secrets saved, the code used up and failures forgotten', withRepos(impl, ({ people, write }) => write(async (tx) => {
      const id = await addPerson(tx, people, 'alice');
      const other = await addPerson(tx, people, 'bob');
      await people.reissueEnrolment(tx, id, ['requester'], 'h2', T0 + 2 * HOUR);
      let a = (await people.byId(tx, id))!;
      assert.deepEqual([a.user.roles, a.enrolmentHash, a.enrolmentExpires], [['requester'], 'h2', T0 + 2 * HOUR]);
      await people.signInFailed(tx, id, 3, T0 + 15 * MINUTE);
      const totp = Buffer.from([1, 2, 3, 0, 255]);
      await people.saveEnrolment(tx, id, { passwordHash: 'scrypt$abc', totpWrapped: totp });
      a = (await people.byId(tx, id))!;
      assert.equal(a.user.enrolled, true);
      assert.equal(a.passwordHash, 'scrypt$abc');
      assert.ok(a.totpWrapped?.equals(totp));
      assert.deepEqual([a.enrolmentHash, a.enrolmentExpires, a.failedLogins, a.lockedUntil, a.totpLastStep], [null, null, 0, 0, 0]);
      await people.saveEnrolment(tx, other, { passwordHash: 'scrypt$def', totpWrapped: null });
      assert.equal((await people.byId(tx, other))!.totpWrapped, null, 'an owner enrols without a second factor');
      const waiting = await addPerson(tx, people, 'carol');
      await people.dropEnrolmentCode(tx, waiting);
      const w = (await people.byId(tx, waiting))!;
      assert.deepEqual([w.enrolmentHash, w.enrolmentExpires], [null, null]);
    })));

    test('sign-in: failures and lock as set; a success forgets them and no TOTP step goes back', withRepos(impl, ({ people, write }) => write(async (tx) => {
      const id = await addPerson(tx, people, 'alice');
      const account = async () => (await people.byId(tx, id))!;
      await people.signInFailed(tx, id, 4, 0);
      assert.deepEqual([(await account()).failedLogins, (await account()).lockedUntil], [4, 0]);
      await people.signInFailed(tx, id, 0, T0 + 15 * MINUTE);
      assert.deepEqual([(await account()).failedLogins, (await account()).lockedUntil], [0, T0 + 15 * MINUTE]);
      await people.signInFailed(tx, id, 2, 0);
      await people.signedIn(tx, id, 1000);
      assert.deepEqual([(await account()).failedLogins, (await account()).totpLastStep], [0, 1000]);
      await people.signedIn(tx, id, 0);   // a recovery code: no step
      assert.equal((await account()).totpLastStep, 1000);
      await people.signedIn(tx, id, 999);
      assert.equal((await account()).totpLastStep, 1000, 'an older step is never accepted again');
      await people.signedIn(tx, id, 1001);
      assert.equal((await account()).totpLastStep, 1001);
    })));

    test('roles and disabling; disabling someone who does not exist says so', withRepos(impl, ({ people, write }) => write(async (tx) => {
      const id = await addPerson(tx, people, 'alice', ['owner']);
      await addPerson(tx, people, 'bob');
      await people.setRoles(tx, id, ['approver', 'auditor']);
      assert.deepEqual((await people.byId(tx, id))!.user.roles, ['approver', 'auditor']);
      assert.equal(await people.setDisabled(tx, 'alice', true), true);
      assert.equal((await people.byName(tx, 'alice'))!.user.disabled, true);
      assert.equal((await people.byName(tx, 'bob'))!.user.disabled, false);
      assert.equal(await people.setDisabled(tx, 'alice', false), true);
      assert.equal((await people.byName(tx, 'alice'))!.user.disabled, false);
      assert.equal(await people.setDisabled(tx, 'nobody', true), false);
    })));

    test('recovery codes: each signs in once, a new set replaces the old, per person', withRepos(impl, ({ people, write }) => write(async (tx) => {
      const alice = await addPerson(tx, people, 'alice');
      const bob = await addPerson(tx, people, 'bob');
      await people.replaceRecoveryCodes(tx, alice, ['c1', 'c2', 'c3'], T0);
      await people.replaceRecoveryCodes(tx, bob, ['b1'], T0);
      assert.equal(await people.recoveryCodesLeft(tx, alice), 3);
      assert.equal(await people.useRecoveryCode(tx, alice, 'c2', T0 + 1), true);
      assert.equal(await people.useRecoveryCode(tx, alice, 'c2', T0 + 2), false, 'used up');
      assert.equal(await people.useRecoveryCode(tx, alice, 'b1', T0 + 2), false, "another person's code");
      assert.equal(await people.useRecoveryCode(tx, alice, 'nope', T0 + 2), false);
      assert.equal(await people.recoveryCodesLeft(tx, alice), 2);
      await people.replaceRecoveryCodes(tx, alice, ['c4'], T0 + 3);
      assert.equal(await people.recoveryCodesLeft(tx, alice), 1);
      assert.equal(await people.useRecoveryCode(tx, alice, 'c1', T0 + 4), false, 'the earlier codes stop working');
      assert.equal(await people.useRecoveryCode(tx, alice, 'c4', T0 + 4), true);
      assert.equal(await people.recoveryCodesLeft(tx, alice), 0);
      assert.equal(await people.recoveryCodesLeft(tx, bob), 1);
    })));
  });

  describe(`SsoStore and RoleChangeStore: ${impl.name}`, () => {
    test('a subject is bound once; a sign-in moves through its states once each; a bound person counts as enrolled', withRepos(impl, async ({ people, sso, write, read }) => {
      const alice = await write((tx) => addPerson(tx, people, 'alice'));
      await write((tx) => sso.bind(tx, { provider: 'idp', subject: 'sub-1', userId: alice, at: T0 }));
      await assert.rejects(write((tx) => sso.bind(tx, { provider: 'idp', subject: 'sub-1', userId: alice, at: T0 })), 'a subject is bound once');
      const login = { idHash: 'h1', provider: 'idp', oauthState: 'st', nonce: 'n', codeVerifier: 'v', redirectUri: 'https://x/cb', createdAt: T0, expiresAt: T0 + 10 * MINUTE };
      await write(async (tx) => {
        await sso.addLogin(tx, login);
        assert.equal(await sso.advance(tx, 'h1', 'started', 'checking'), true);
        assert.equal(await sso.advance(tx, 'h1', 'started', 'checking'), false, 'a step is taken once');
        assert.equal(await sso.advance(tx, 'h1', 'checking', 'authenticated', { userId: alice, providerMfa: 'amr:mfa', idToken: 'jwt', totpWrapped: Buffer.from('key') }), true);
      });
      await read(async (tx) => {
        assert.equal(await sso.identity(tx, 'idp', 'sub-1'), alice);
        assert.equal(await sso.identity(tx, 'idp', 'sub-2'), null);
        assert.equal(await sso.identity(tx, 'other', 'sub-1'), null);
        assert.deepEqual(await sso.login(tx, 'h1'), { ...login, purpose: 'sign-in', sessionId: null, subject: null, claimedName: null, state: 'authenticated', message: null, userId: alice, providerMfa: 'amr:mfa', idToken: 'jwt', totpWrapped: Buffer.from('key') });
        assert.equal((await people.byId(tx, alice))!.user.enrolled, true, 'an identity at a provider is a credential of their own');
      });
      await write((tx) => sso.dropExpired(tx, T0 + 11 * MINUTE));
      assert.equal(await read((tx) => sso.login(tx, 'h1')), null);
    }));

    test('a link round trip keeps its session, subject and claimed name; a person\'s links list and unbind', withRepos(impl, async ({ people, sso, write, read }) => {
      const bob = await write((tx) => addPerson(tx, people, 'bob'));
      const login = { idHash: 'h2', provider: 'idp', oauthState: 'st', nonce: 'n', codeVerifier: 'v', redirectUri: 'https://x/cb', createdAt: T0, expiresAt: T0 + 10 * MINUTE };
      await write(async (tx) => {
        await sso.addLogin(tx, { ...login, purpose: 'link', sessionId: 's-bob', userId: bob });
        assert.equal(await sso.advance(tx, 'h2', 'started', 'checking'), true);
        assert.equal(await sso.advance(tx, 'h2', 'checking', 'linkable', { subject: 'sub-9', claimedName: 'bob' }), true);
        await sso.bind(tx, { provider: 'idp', subject: 'sub-9', userId: bob, at: T0 + MINUTE });
        await sso.bind(tx, { provider: 'other', subject: 'x-1', userId: bob, at: T0 + 2 * MINUTE });
      });
      await read(async (tx) => {
        const l = (await sso.login(tx, 'h2'))!;
        assert.deepEqual([l.purpose, l.sessionId, l.userId, l.subject, l.claimedName, l.state], ['link', 's-bob', bob, 'sub-9', 'bob', 'linkable']);
        assert.deepEqual(await sso.identitiesOf(tx, bob), [
          { provider: 'idp', subject: 'sub-9', createdAt: T0 + MINUTE, lastSignIn: T0 + MINUTE },
          { provider: 'other', subject: 'x-1', createdAt: T0 + 2 * MINUTE, lastSignIn: T0 + 2 * MINUTE },
        ]);
      });
      assert.equal(await write((tx) => sso.unbind(tx, 'idp', bob)), true);
      assert.equal(await write((tx) => sso.unbind(tx, 'idp', bob)), false, 'once');
      assert.deepEqual((await read((tx) => sso.identitiesOf(tx, bob))).map((i) => i.provider), ['other']);
      assert.equal(await read((tx) => sso.identity(tx, 'idp', 'sub-9')), null);
    }));

    test('a filed role reads back, is listed for its person, and keeps its decision', withRepos(impl, async ({ people, roleChanges, write, read }) => {
      const alice = await write((tx) => addPerson(tx, people, 'alice'));
      await write((tx) => roleChanges.add(tx, { id: 'role_1', userId: alice, role: 'approver', why: 'member of legal', filedBy: null, filedByLabel: 'sso:idp', filedAt: T0 }));
      await write((tx) => roleChanges.add(tx, { id: 'role_2', userId: alice, role: 'auditor', why: 'member of audit', filedBy: null, filedByLabel: 'sso:idp', filedAt: T0 + MINUTE }));
      await write((tx) => roleChanges.decide(tx, 'role_1', { by: null, decision: 'cancel', reason: 'left legal', at: T0 + HOUR }));
      await read(async (tx) => {
        assert.deepEqual(await roleChanges.get(tx, 'role_1'), { id: 'role_1', userId: alice, role: 'approver', why: 'member of legal', filedBy: null, filedByLabel: 'sso:idp', filedAt: T0, decidedBy: null, decision: 'cancel', decisionReason: 'left legal', decidedAt: T0 + HOUR });
        assert.deepEqual((await roleChanges.forUser(tx, alice)).map((c) => c.id), ['role_1', 'role_2']);
        assert.deepEqual((await roleChanges.list(tx)).map((c) => c.id), ['role_2', 'role_1']);
        assert.equal(await roleChanges.get(tx, 'role_3'), null);
      });
    }));
  });

  describe(`CredentialStore: ${impl.name}`, () => {
    test('a session reads back by the hash of its cookie until it is ended', withRepos(impl, async ({ people, credentials, write, read }) => {
      const alice = await write(async (tx) => {
        const alice = await addPerson(tx, people, 'alice');
        await credentials.addSession(tx, { idHash: 's1', userId: alice, csrfHash: 'x1', createdAt: T0, expiresAt: T0 + 12 * HOUR, clientIp: '192.0.2.1', userAgent: 'test' });
        await credentials.addSession(tx, { idHash: 's2', userId: alice, csrfHash: 'x2', createdAt: T0, expiresAt: T0 + HOUR, clientIp: null, userAgent: null });
        return alice;
      });
      await read(async (tx) => {
        assert.deepEqual(await credentials.session(tx, 's1'), { userId: alice, csrfHash: 'x1', expiresAt: T0 + 12 * HOUR, sso: null });
        assert.equal(await credentials.session(tx, 's3'), null);
      });
      await write(async (tx) => {
        await credentials.endSession(tx, 's1');
        await credentials.endSession(tx, 's-unknown');
      });
      await read(async (tx) => {
        assert.equal(await credentials.session(tx, 's1'), null);
        assert.deepEqual(await credentials.session(tx, 's2'), { userId: alice, csrfHash: 'x2', expiresAt: T0 + HOUR, sso: null });
      });
    }));

    test('a token reads back by hash and by id; a revocation keeps its first time; a token hash is taken once', withRepos(impl, async ({ people, credentials, write, read }) => {
      const alice = await write(async (tx) => {
        const alice = await addPerson(tx, people, 'alice');
        await credentials.addToken(tx, { id: 'tok_1', userId: alice, tokenHash: 'th1', name: 'laptop', scopes: ['content', 'ledger'], createdAt: T0, expiresAt: T0 + 24 * HOUR });
        return alice;
      });
      const want = { id: 'tok_1', userId: alice, tokenHash: 'th1', scopes: ['content', 'ledger'], expiresAt: T0 + 24 * HOUR, revokedAt: null };
      await read(async (tx) => {
        assert.deepEqual(await credentials.tokenByHash(tx, 'th1'), want);
        assert.deepEqual(await credentials.token(tx, 'tok_1'), want);
        assert.equal(await credentials.tokenByHash(tx, 'th2'), null);
        assert.equal(await credentials.token(tx, 'tok_2'), null);
      });
      await write((tx) => credentials.revokeToken(tx, 'tok_1', T0 + 5));
      await write((tx) => credentials.revokeToken(tx, 'tok_1', T0 + 9));
      assert.equal((await read((tx) => credentials.token(tx, 'tok_1')))?.revokedAt, T0 + 5);
      await assert.rejects(write((tx) => credentials.addToken(tx, { id: 'tok_2', userId: alice, tokenHash: 'th1', name: 'copy', scopes: ['admin'], createdAt: T0, expiresAt: T0 + HOUR })));
      await read(async (tx) => {
        assert.equal(await credentials.token(tx, 'tok_2'), null);
        assert.deepEqual((await credentials.tokenByHash(tx, 'th1'))?.scopes, ['content', 'ledger']);
      });
    }));

    test("endAll ends every session and token of one person, and nobody else's", withRepos(impl, async ({ people, credentials, write, read }) => {
      const { alice, bob } = await write(async (tx) => {
        const alice = await addPerson(tx, people, 'alice');
        const bob = await addPerson(tx, people, 'bob');
        for (const [idHash, userId] of [['sa1', alice], ['sa2', alice], ['sb1', bob]] as const) {
          await credentials.addSession(tx, { idHash, userId, csrfHash: `c-${idHash}`, createdAt: T0, expiresAt: T0 + HOUR, clientIp: null, userAgent: null });
        }
        for (const [id, userId] of [['tok_a1', alice], ['tok_a2', alice], ['tok_b1', bob]] as const) {
          await credentials.addToken(tx, { id, userId, tokenHash: `h-${id}`, name: id, scopes: ['content'], createdAt: T0, expiresAt: T0 + HOUR });
        }
        await credentials.revokeToken(tx, 'tok_a2', T0 + 1);
        return { alice, bob };
      });
      await write((tx) => credentials.endAll(tx, alice, T0 + 2));
      await read(async (tx) => {
        assert.equal(await credentials.session(tx, 'sa1'), null);
        assert.equal(await credentials.session(tx, 'sa2'), null);
        assert.equal((await credentials.token(tx, 'tok_a1'))?.revokedAt, T0 + 2);
        assert.equal((await credentials.token(tx, 'tok_a2'))?.revokedAt, T0 + 1, 'an earlier revocation keeps its time');
        assert.equal((await credentials.session(tx, 'sb1'))?.userId, bob);
        assert.equal((await credentials.token(tx, 'tok_b1'))?.revokedAt, null);
      });
    }));
  });

  describe(`MailboxStore: ${impl.name}`, () => {
    test('apply makes a mailbox with its addresses; byName and holderOf read it', withRepos(impl, async ({ mailboxes, write, read }) => {
      await write((tx) => mailboxes.apply(tx, row('alice', ['alice@corp.example', 'a.smith@corp.example'], { displayName: 'Alice Smith', owner: 'alice', manager: 'carol' })));
      await read(async (tx) => {
        const m = await mailboxes.byName(tx, 'alice');
        assert.ok(m);
        assert.deepEqual({ ...m, addresses: sorted(m.addresses) },
          { id: m.id, name: 'alice', displayName: 'Alice Smith', owner: 'alice', sensitivity: null, department: null, manager: 'carol', auto: false, addresses: ['a.smith@corp.example', 'alice@corp.example'] });
        assert.deepEqual(await mailboxes.holderOf(tx, 'A.Smith@Corp.Example'), { name: 'alice', owner: 'alice' });
        assert.equal(await mailboxes.holderOf(tx, 'nobody@corp.example'), null);
        assert.equal(await mailboxes.byName(tx, 'nobody'), null);
      });
    }));

    test('apply again: a value left empty keeps the one there; addresses move to the mailbox that names them', withRepos(impl, ({ mailboxes, write }) => write(async (tx) => {
      await mailboxes.apply(tx, row('alice', ['alice@corp.example', 'a.smith@corp.example'], { displayName: 'Alice Smith', owner: 'alice' }));
      const id = (await mailboxes.byName(tx, 'alice'))!.id;
      await mailboxes.apply(tx, row('alice', ['alice@corp.example'], { sensitivity: 'executive', department: 'Finance' }));
      const alice = (await mailboxes.byName(tx, 'alice'))!;
      assert.deepEqual(alice, { ...alice, id, displayName: 'Alice Smith', owner: 'alice', sensitivity: 'executive', department: 'Finance' });
      await mailboxes.apply(tx, row('bob', ['bob@corp.example', 'a.smith@corp.example'], { owner: 'bob' }));
      assert.deepEqual(await mailboxes.holderOf(tx, 'a.smith@corp.example'), { name: 'bob', owner: 'bob' });
      assert.deepEqual((await mailboxes.byName(tx, 'alice'))!.addresses, ['alice@corp.example']);
      assert.deepEqual(sorted((await mailboxes.byName(tx, 'bob'))!.addresses), ['a.smith@corp.example', 'bob@corp.example']);
    })));

    test('ownedBy lists the mailboxes of one owner', withRepos(impl, async ({ mailboxes, write, read }) => {
      await write(async (tx) => {
        await mailboxes.apply(tx, row('sales', ['sales@corp.example'], { owner: 'alice' }));
        await mailboxes.apply(tx, row('bob', ['bob@corp.example'], { owner: 'bob' }));
        await mailboxes.apply(tx, row('alice', ['alice@corp.example'], { owner: 'alice' }));
      });
      await read(async (tx) => {
        const owned = await mailboxes.ownedBy(tx, 'alice');
        assert.deepEqual(sorted(owned.map((m) => m.name)), ['alice', 'sales']);
        for (const m of owned) assert.equal(m.id, (await mailboxes.byName(tx, m.name))!.id);
        assert.deepEqual(await mailboxes.ownedBy(tx, 'nobody'), []);
      });
    }));

    test('search: a prefix of the name, of a display-name word or of an address; directory mailboxes first, then by name; paged', withRepos(impl, async ({ mailboxes, autoMailboxes, write, read }) => {
      await write(async (tx) => {
        await mailboxes.apply(tx, row('alice', ['alice@corp.example', 'a.smith@corp.example'], { displayName: 'Alice Smith' }));
        await mailboxes.apply(tx, row('smithers', ['ws@corp.example'], { displayName: 'Waylon Smithers' }));
        await mailboxes.apply(tx, row('bob', ['bob@corp.example'], { displayName: 'Bob Stone' }));
      });
      await autoMailboxes.addAutoMailboxes(['smith.j@corp.example', 'zed@corp.example']);
      await read(async (tx) => {
        const names = async (text: string, limit = 20, offset = 0) => (await mailboxes.search(tx, text, { limit, offset })).map((m) => m.name);
        assert.deepEqual(await names('smith'), ['alice', 'smithers', 'smith.j@corp.example']);
        assert.deepEqual(await names('SMITH'), ['alice', 'smithers', 'smith.j@corp.example'], 'in any case');
        assert.deepEqual(await names('smith', 1, 1), ['smithers']);
        assert.deepEqual(await names('smith', 5, 3), []);
        assert.deepEqual(await names('a.smith'), ['alice'], 'by an address');
        assert.deepEqual(await names('stone'), ['bob'], 'by a word of the display name');
        assert.deepEqual(await names('mith'), [], 'a prefix, not a substring');
        assert.deepEqual(await names('%'), [], 'LIKE wildcards are text');
        assert.deepEqual(await names('_ob'), []);
        const [zed] = await mailboxes.search(tx, 'zed', { limit: 5, offset: 0 });
        assert.deepEqual(zed, { id: zed!.id, name: 'zed@corp.example', displayName: null, owner: null, sensitivity: null, department: null, manager: null, auto: true, addresses: ['zed@corp.example'] });
        const [alice] = await mailboxes.search(tx, 'alice', { limit: 5, offset: 0 });
        assert.deepEqual(alice!.addresses, ['a.smith@corp.example', 'alice@corp.example'], 'with its addresses');
      });
    }));

    test('automatic mailboxes: one per address the directory does not map; the directory takes them over', withRepos(impl, async ({ mailboxes, autoMailboxes, write, read }) => {
      await write((tx) => mailboxes.apply(tx, row('alice', ['alice@corp.example'])));
      await autoMailboxes.addAutoMailboxes(['alice@corp.example', 'erin@corp.example', 'erin@corp.example']);
      await read(async (tx) => {
        assert.deepEqual(await mailboxes.holderOf(tx, 'alice@corp.example'), { name: 'alice', owner: null }, 'an address the directory maps is left alone');
        assert.equal(await mailboxes.byName(tx, 'alice@corp.example'), null);
        assert.equal((await mailboxes.byName(tx, 'erin@corp.example'))?.auto, true);
      });
      await write((tx) => mailboxes.apply(tx, row('erin@corp.example', ['erin@corp.example', 'e.jones@corp.example'], { displayName: 'Erin Jones', owner: 'erin' })));
      const erin = (await read((tx) => mailboxes.byName(tx, 'erin@corp.example')))!;
      assert.deepEqual([erin.auto, erin.owner, sorted(erin.addresses)], [false, 'erin', ['e.jones@corp.example', 'erin@corp.example']]);
    }));
  });

  describe(`GrantStore: ${impl.name}`, () => {
    const world = (r: Repositories) => r.write(async (tx) => {
      const alice = await addPerson(tx, r.people, 'alice', ['requester']);
      const bob = await addPerson(tx, r.people, 'bob', ['approver']);
      const carol = await addPerson(tx, r.people, 'carol', ['approver']);
      await r.mailboxes.apply(tx, row('dave', ['dave@corp.example', 'd.k@corp.example'], { owner: 'dave' }));
      await r.mailboxes.apply(tx, row('board', ['board@corp.example'], { owner: 'erin', sensitivity: 'executive' }));
      return { alice, bob, carol, dave: (await r.grants.mailbox(tx, 'dave'))!, board: (await r.grants.mailbox(tx, 'board'))! };
    });

    test('mailbox: by its name in any case or by an address', withRepos(impl, async (r) => {
      const { dave } = await world(r);
      await r.read(async (tx) => {
        assert.deepEqual(dave, { id: (await r.mailboxes.byName(tx, 'dave'))!.id, name: 'dave', owner: 'dave', sensitivity: null });
        assert.deepEqual(await r.grants.mailbox(tx, 'DAVE'), dave);
        assert.deepEqual(await r.grants.mailbox(tx, ' D.K@corp.example '), dave);
        assert.deepEqual((await r.grants.mailbox(tx, 'board'))?.sensitivity, 'executive');
        assert.equal(await r.grants.mailbox(tx, 'nobody'), null);
        assert.deepEqual(await r.grants.sensitivities(tx), ['executive'], 'each tag carried, once');
      });
    }));

    test('a filed request reads back field for field, with no decision yet', withRepos(impl, async (r) => {
      const { alice, dave, board } = await world(r);
      const request = filed('req_1', alice, [dave, board], {
        ticket: null, dateFrom: Date.UTC(2026, 0, 1), dateTo: Date.UTC(2026, 1, 1), fixedQuery: 'from:x@vendor.example', permissions: ['search', 'read', 'export'],
        durationSeconds: 7200, approvalsNeeded: 2, startsAt: T0 + HOUR,
      });
      await r.write((tx) => r.grants.insert(tx, request));
      await r.read(async (tx) => {
        assert.deepEqual(await r.grants.get(tx, 'req_1'), { ...request, approvals: [], deniedAt: null, revokedAt: null });
        assert.equal(await r.grants.get(tx, 'req_none'), null);
      });
      await assert.rejects(r.write((tx) => r.grants.insert(tx, filed('req_1', alice, [dave]))), 'an id is taken once');
      assert.deepEqual((await r.read((tx) => r.grants.get(tx, 'req_1')))?.mailboxes, [dave, board]);
    }));

    test("list: newest first; or one requester's", withRepos(impl, async (r) => {
      const { alice, bob, dave } = await world(r);
      await r.write(async (tx) => {
        await r.grants.insert(tx, filed('req_b', alice, [dave], { createdAt: T0 }));
        await r.grants.insert(tx, filed('req_c', bob, [dave], { createdAt: T0 + 1 }));
        await r.grants.insert(tx, filed('req_a', alice, [dave], { createdAt: T0 + 2 }));
      });
      await r.read(async (tx) => {
        assert.deepEqual((await r.grants.list(tx, {})).map((x) => x.id), ['req_a', 'req_c', 'req_b']);
        assert.deepEqual((await r.grants.list(tx, { requesterId: alice })).map((x) => x.id), ['req_a', 'req_b']);
        assert.deepEqual(await r.grants.list(tx, { requesterId: 99_999 }), []);
      });
    }));

    test('approvals in the order they were given; one decision per approver', withRepos(impl, async (r) => {
      const { alice, bob, carol, board } = await world(r);
      await r.write(async (tx) => {
        await r.grants.insert(tx, filed('req_1', alice, [board], { approvalsNeeded: 2 }));
        await r.grants.addApproval(tx, 'req_1', { approverId: carol, decision: 'approve', reason: 'proportionate', at: T0 + 1 });
        await r.grants.addApproval(tx, 'req_1', { approverId: bob, decision: 'approve', reason: 'agreed', at: T0 + 2 });
      });
      await assert.rejects(r.write((tx) => r.grants.addApproval(tx, 'req_1', { approverId: bob, decision: 'deny', reason: 'changed my mind', at: T0 + 3 })));
      assert.deepEqual((await r.read((tx) => r.grants.get(tx, 'req_1')))?.approvals, [
        { approverId: carol, decision: 'approve', reason: 'proportionate', at: T0 + 1 },
        { approverId: bob, decision: 'approve', reason: 'agreed', at: T0 + 2 },
      ]);
    }));

    test('deny, approve and revoke record the times the states are read from', withRepos(impl, async (r) => {
      const { alice, bob, dave } = await world(r);
      await r.write(async (tx) => {
        const get = async (id: string) => (await r.grants.get(tx, id))!;
        for (const id of ['req_d', 'req_a', 'req_p']) await r.grants.insert(tx, filed(id, alice, [dave]));
        assert.equal(stateOf(await get('req_p'), T0 + 1), 'pending');
        await r.grants.deny(tx, 'req_d', T0 + 1);
        assert.equal((await get('req_d')).deniedAt, T0 + 1);
        assert.equal(stateOf(await get('req_d'), T0 + 2), 'denied');
        await r.grants.approve(tx, 'req_a', T0 + 2, { startsAt: T0 + HOUR, endsAt: T0 + 2 * HOUR });
        const approved = await get('req_a');
        assert.deepEqual([approved.approvedAt, approved.startsAt, approved.endsAt], [T0 + 2, T0 + HOUR, T0 + 2 * HOUR]);
        assert.deepEqual([T0 + 3, T0 + HOUR, T0 + 2 * HOUR].map((t) => stateOf(approved, t)), ['approved', 'active', 'expired']);
        await r.grants.revoke(tx, 'req_a', T0 + HOUR + 5, bob);
        assert.equal((await get('req_a')).revokedAt, T0 + HOUR + 5);
        assert.equal(stateOf(await get('req_a'), T0 + HOUR + 6), 'revoked');
        assert.equal(stateOf(await get('req_p'), T0 + 25 * HOUR), 'lapsed', 'untouched');
      });
    }));

    test('break-glass opens its review item, rev_<request id>, with the grant', withRepos(impl, async (r) => {
      const { alice, dave } = await world(r);
      await r.write(async (tx) => {
        await r.grants.insert(tx, filed('bg_1', alice, [dave], { breakglass: true, ticket: null, approvedAt: T0, startsAt: T0, endsAt: T0 + HOUR }));
        await r.grants.openBreakglassReview(tx, 'bg_1', alice, T0 + 1);
      });
      await r.read(async (tx) => {
        assert.deepEqual((await r.grants.get(tx, 'bg_1'))?.breakglass, true);
        const item = await r.reviews.get(tx, 'rev_bg_1');
        assert.ok(item);
        assert.deepEqual([item.kind, item.requestId, item.subjectUserId, item.state, item.createdAt], ['breakglass', 'bg_1', alice, 'open', T0 + 1]);
        assert.equal(await r.reviews.stateOf(tx, 'bg_1', 'breakglass'), 'open');
      });
    }));
  });

  describe(`OwnershipChangeStore: ${impl.name}`, () => {
    test('a staged change reads back as staged, then with its decision', withRepos(impl, async (r) => {
      const { alice, bob } = await r.write(async (tx) => ({ alice: await addPerson(tx, r.people, 'alice', ['admin']), bob: await addPerson(tx, r.people, 'bob', ['approver']) }));
      const directoryRow = row('dave', ['dave@corp.example', 'ceo@corp.example'], { owner: 'erin', displayName: 'Dave', sensitivity: 'executive', manager: 'frank' });
      const staged = {
        id: 'own_1', mailbox: 'dave', row: directoryRow, ownerBefore: 'dave', ownerAfter: 'erin',
        gains: [{ address: 'dave@corp.example', from: 'dave' }, { address: 'ceo@corp.example', from: null }],
        why: 'takes addresses or the mailbox from dave', stagedBy: alice, stagedByLabel: 'user:alice', stagedAt: T0,
      };
      await r.write(async (tx) => {
        await r.ownership.add(tx, staged);
        await r.ownership.add(tx, { ...staged, id: 'own_2', mailbox: 'new', row: row('new', ['new@corp.example'], { owner: 'erin' }), ownerBefore: null, gains: [], stagedBy: null, stagedByLabel: 'os:root', stagedAt: T0 + 1 });
      });
      const undecided = { decidedBy: null, decision: null, decisionReason: null, decidedAt: null };
      await r.read(async (tx) => {
        assert.deepEqual(await r.ownership.get(tx, 'own_1'), { ...staged, ...undecided });
        assert.deepEqual((await r.ownership.get(tx, 'own_2'))?.stagedBy, null);
        assert.equal(await r.ownership.get(tx, 'own_none'), null);
      });
      await r.write((tx) => r.ownership.decide(tx, 'own_1', { by: bob, decision: 'approve', reason: 'HR confirmed', at: T0 + 5 }));
      assert.deepEqual(await r.read((tx) => r.ownership.get(tx, 'own_1')), { ...staged, decidedBy: bob, decision: 'approve', decisionReason: 'HR confirmed', decidedAt: T0 + 5 });
      await r.write((tx) => r.ownership.decide(tx, 'own_2', { by: bob, decision: 'deny', reason: 'no', at: T0 + 6 }));
      assert.equal((await r.read((tx) => r.ownership.get(tx, 'own_2')))?.decision, 'deny');
    }));

    test('list: newest first', withRepos(impl, async (r) => {
      const base = { mailbox: 'm', row: row('m', ['m@corp.example']), ownerBefore: null, ownerAfter: 'erin', gains: [], why: 'w', stagedBy: null, stagedByLabel: 'os:root' };
      await r.write(async (tx) => {
        await r.ownership.add(tx, { ...base, id: 'own_b', stagedAt: T0 + 1 });
        await r.ownership.add(tx, { ...base, id: 'own_c', stagedAt: T0 });
        await r.ownership.add(tx, { ...base, id: 'own_a', stagedAt: T0 + 2 });
      });
      assert.deepEqual((await r.read((tx) => r.ownership.list(tx))).map((c) => c.id), ['own_a', 'own_b', 'own_c']);
    }));

    // A directory sync asks this for each row: a refusal must stand however many changes came
    // after it (list holds the latest 500 only).
    test('notApprovedFor: the changes of one mailbox that wait or were refused, however old', withRepos(impl, async (r) => {
      const bob = await r.write((tx) => addPerson(tx, r.people, 'bob', ['approver']));
      const base = { row: row('m', ['m@corp.example']), ownerBefore: null, ownerAfter: 'erin', gains: [], why: 'w', stagedBy: null, stagedByLabel: 'os:root' };
      await r.write(async (tx) => {
        for (const [id, at] of [['own_refused', T0], ['own_approved', T0 + 1], ['own_waiting', T0 + 2]] as const) await r.ownership.add(tx, { ...base, mailbox: 'm', id, stagedAt: at });
        await r.ownership.decide(tx, 'own_refused', { by: bob, decision: 'deny', reason: 'no', at: T0 + 3 });
        await r.ownership.decide(tx, 'own_approved', { by: bob, decision: 'approve', reason: 'yes', at: T0 + 3 });
        for (let i = 0; i < 501; i++) await r.ownership.add(tx, { ...base, mailbox: `other${i}`, id: `own_o${i}`, stagedAt: T0 + 10 + i });
      });
      await r.read(async (tx) => {
        assert.ok(!(await r.ownership.list(tx)).some((c) => c.mailbox === 'm'), 'past the latest 500');
        assert.deepEqual((await r.ownership.notApprovedFor(tx, 'm')).map((c) => [c.id, c.decision]), [['own_waiting', null], ['own_refused', 'deny']]);
        assert.deepEqual(await r.ownership.notApprovedFor(tx, 'nobody'), []);
      });
    }));
  });

  describe(`AccountRecoveryStore: ${impl.name}`, () => {
    const people3 = (r: Repositories) => r.write(async (tx) => ({
      alice: await addPerson(tx, r.people, 'alice'), bob: await addPerson(tx, r.people, 'bob', ['admin']), carol: await addPerson(tx, r.people, 'carol', ['approver']),
    }));

    test('an approved recovery keeps its code, used once, before it expires, by its own person', withRepos(impl, async (r) => {
      const { alice, bob, carol } = await people3(r);
      await r.write((tx) => r.recoveries.add(tx, { id: 'rec_1', userId: alice, requestedBy: bob, reason: 'lost phone', createdAt: T0, lapsesAt: T0 + 24 * HOUR }));
      await r.read(async (tx) => {
        assert.deepEqual(await r.recoveries.get(tx, 'rec_1'), {
          id: 'rec_1', userId: alice, requestedBy: bob, reason: 'lost phone', createdAt: T0, lapsesAt: T0 + 24 * HOUR,
          decidedBy: null, decision: null, decisionReason: null, decidedAt: null, codeHash: null, codeExpires: null, usedAt: null,
        });
        assert.equal(await r.recoveries.get(tx, 'rec_none'), null);
      });
      await r.write(async (tx) => {
        assert.equal(await r.recoveries.use(tx, alice, 'c1', T0 + 1), null, 'not approved yet');
        await r.recoveries.decide(tx, 'rec_1', { by: carol, decision: 'approve', reason: 'called her', at: T0 + 1, codeHash: 'c1', codeExpires: T0 + HOUR });
        const decided = (await r.recoveries.get(tx, 'rec_1'))!;
        assert.deepEqual(decided, { ...decided, decidedBy: carol, decision: 'approve', decisionReason: 'called her', decidedAt: T0 + 1, codeHash: 'c1', codeExpires: T0 + HOUR, usedAt: null });
        assert.equal(await r.recoveries.use(tx, bob, 'c1', T0 + 2), null, "someone else's code");
        assert.equal(await r.recoveries.use(tx, alice, 'c2', T0 + 2), null, 'a wrong code');
        assert.equal(await r.recoveries.use(tx, alice, 'c1', T0 + HOUR), null, 'expired');
        assert.equal(await r.recoveries.use(tx, alice, 'c1', T0 + 2), 'rec_1');
        assert.equal((await r.recoveries.get(tx, 'rec_1'))?.usedAt, T0 + 2);
        assert.equal(await r.recoveries.use(tx, alice, 'c1', T0 + 3), null, 'used up');
      });
    }));

    test('a denial keeps no code; cancelOpen ends what waits and voids unused codes, leaving decided ones', withRepos(impl, async (r) => {
      const { alice, bob, carol } = await people3(r);
      await r.write(async (tx) => {
        const add = (id: string, userId: number, at: number) => r.recoveries.add(tx, { id, userId, requestedBy: bob, reason: id, createdAt: at, lapsesAt: at + 24 * HOUR });
        await add('rec_wait', alice, T0);
        await add('rec_code', alice, T0 + 1);
        await add('rec_used', alice, T0 + 2);
        await add('rec_no', alice, T0 + 3);
        await add('rec_other', carol, T0 + 4);
        await r.recoveries.decide(tx, 'rec_code', { by: carol, decision: 'approve', reason: 'ok', at: T0 + 5, codeHash: 'k1', codeExpires: T0 + HOUR });
        await r.recoveries.decide(tx, 'rec_used', { by: carol, decision: 'approve', reason: 'ok', at: T0 + 5, codeHash: 'k2', codeExpires: T0 + HOUR });
        assert.equal(await r.recoveries.use(tx, alice, 'k2', T0 + 6), 'rec_used');
        await r.recoveries.decide(tx, 'rec_no', { by: carol, decision: 'deny', reason: 'not verified', at: T0 + 5 });
      });
      const no = await r.read((tx) => r.recoveries.get(tx, 'rec_no'));
      assert.deepEqual([no?.decision, no?.codeHash], ['deny', null]);

      await r.write((tx) => r.recoveries.cancelOpen(tx, alice, T0 + 9, 'account disabled'));
      await r.read(async (tx) => {
        const wait = (await r.recoveries.get(tx, 'rec_wait'))!;
        assert.deepEqual([wait.decision, wait.decisionReason, wait.decidedAt], ['cancel', 'account disabled', T0 + 9]);
        assert.equal((await r.recoveries.get(tx, 'rec_code'))?.decision, 'approve');
        assert.equal((await r.recoveries.get(tx, 'rec_code'))?.codeHash, null, 'an unused code is voided');
      });
      assert.equal(await r.write((tx) => r.recoveries.use(tx, alice, 'k1', T0 + 10)), null);
      await r.read(async (tx) => {
        const used = await r.recoveries.get(tx, 'rec_used');
        assert.deepEqual([used?.usedAt, used?.decision], [T0 + 6, 'approve']);
        assert.equal((await r.recoveries.get(tx, 'rec_no'))?.decision, 'deny');
        assert.equal((await r.recoveries.get(tx, 'rec_other'))?.decision, null, "another person's recovery waits on");
      });
    }));

    test('list: newest first', withRepos(impl, async (r) => {
      const { alice, bob } = await people3(r);
      await r.write(async (tx) => {
        for (const [id, at] of [['rec_b', T0 + 1], ['rec_c', T0], ['rec_a', T0 + 2]] as const) {
          await r.recoveries.add(tx, { id, userId: alice, requestedBy: bob, reason: 'x', createdAt: at, lapsesAt: at + HOUR });
        }
      });
      assert.deepEqual((await r.read((tx) => r.recoveries.list(tx))).map((x) => x.id), ['rec_a', 'rec_b', 'rec_c']);
    }));
  });

  describe(`PersonLinkStore: ${impl.name}`, () => {
    test('the links touching any of the people, oldest first; a link to oneself is not kept', withRepos(impl, async (r) => {
      const [alice, bob, carol, dave, erin] = await r.write(async (tx) => {
        const ids: number[] = [];
        for (const n of ['alice', 'bob', 'carol', 'dave', 'erin']) ids.push(await addPerson(tx, r.people, n));
        const [alice, bob, carol, dave, erin] = ids as [number, number, number, number, number];
        await r.links.record(tx, { actorId: alice, subjectId: bob, kind: 'created', at: T0 + 2 });
        await r.links.record(tx, { actorId: carol, subjectId: dave, kind: 'roles', at: T0 + 1 });
        await r.links.record(tx, { actorId: bob, subjectId: carol, kind: 'recovery', at: T0 + 3 });
        await r.links.record(tx, { actorId: alice, subjectId: alice, kind: 'created', at: T0 });
        await r.links.record(tx, { actorId: dave, subjectId: erin, kind: 'created', at: T0 + 4 });
        return [alice, bob, carol, dave, erin] as const;
      });
      const link = (actorId: number, subjectId: number, kind: string, at: number) => ({ actorId, subjectId, kind, at });
      await r.read(async (tx) => {
        assert.deepEqual(await r.links.touching(tx, [alice]), [link(alice, bob, 'created', T0 + 2)]);
        assert.deepEqual(await r.links.touching(tx, [bob]), [link(alice, bob, 'created', T0 + 2), link(bob, carol, 'recovery', T0 + 3)]);
        assert.deepEqual(await r.links.touching(tx, [alice, bob]), [link(alice, bob, 'created', T0 + 2), link(bob, carol, 'recovery', T0 + 3)], 'each link once');
        assert.deepEqual(await r.links.touching(tx, [carol, dave]), [link(carol, dave, 'roles', T0 + 1), link(bob, carol, 'recovery', T0 + 3), link(dave, erin, 'created', T0 + 4)]);
        assert.deepEqual(await r.links.touching(tx, []), []);
      });
    }));
  });

  describe(`NotificationStore: ${impl.name}`, () => {
    test("a mailbox's policy: none until set, then as set, replaced by the next", withRepos(impl, (r) => r.write(async (tx) => {
      await r.mailboxes.apply(tx, row('dave', ['dave@corp.example']));
      const id = (await r.mailboxes.byName(tx, 'dave'))!.id;
      assert.equal(await r.notifications.mailboxPolicy(tx, id), null);
      await r.notifications.setMailboxPolicy(tx, id, { notifyMode: 'after', notifyAfterDays: 14, legalBasis: null, notifyAlso: ['hr@corp.example', 'dpo@corp.example'] });
      assert.deepEqual(await r.notifications.mailboxPolicy(tx, id), { notifyMode: 'after', notifyAfterDays: 14, legalBasis: null, notifyAlso: ['hr@corp.example', 'dpo@corp.example'] });
      await r.notifications.setMailboxPolicy(tx, id, { notifyMode: 'none', notifyAfterDays: null, legalBasis: 'court order 12', notifyAlso: [] });
      assert.deepEqual(await r.notifications.mailboxPolicy(tx, id), { notifyMode: 'none', notifyAfterDays: null, legalBasis: 'court order 12', notifyAlso: [] });
    })));

    test('the outbox: one notification per recipient, due once its time has come, oldest first', withRepos(impl, async ({ notifications: n, write, read }) => {
      await write(async (tx) => {
        await n.enqueue(tx, { kind: 'request.filed', recipients: ['x@corp.example', 'https://hooks.example/a'], subject: 'S1', body: 'B1', createdAt: T0, notBefore: T0 });
        await n.enqueue(tx, { kind: 'mailbox.access-granted', recipients: ['z@corp.example'], subject: 'S2', body: 'B2', createdAt: T0 + 1, notBefore: T0 + HOUR });
        await n.enqueue(tx, { kind: 'breakglass.opened', recipients: ['w@corp.example'], subject: 'S3', body: 'B3', createdAt: T0 + 2, notBefore: T0 + 2 });
      });
      await read(async (tx) => {
        const due = await n.due(tx, T0 + 5, 10, 100);
        assert.deepEqual(due.map(({ id: _, ...rest }) => rest), [
          { kind: 'request.filed', recipient: 'x@corp.example', subject: 'S1', body: 'B1', createdAt: T0, attempts: 0 },
          { kind: 'request.filed', recipient: 'https://hooks.example/a', subject: 'S1', body: 'B1', createdAt: T0, attempts: 0 },
          { kind: 'breakglass.opened', recipient: 'w@corp.example', subject: 'S3', body: 'B3', createdAt: T0 + 2, attempts: 0 },
        ]);
        assert.equal(new Set(due.map((d) => d.id)).size, 3, 'each its own id');
        assert.deepEqual((await n.due(tx, T0 + 5, 10, 2)).map((d) => d.recipient), ['x@corp.example', 'https://hooks.example/a']);
        assert.deepEqual((await n.due(tx, T0 + HOUR, 10, 100)).map((d) => d.recipient), ['x@corp.example', 'https://hooks.example/a', 'z@corp.example', 'w@corp.example']);
        assert.deepEqual(await n.backlog(tx, T0 + 5), { waiting: 4, due: 3, failing: 0 });
      });
    }));

    test('a sent one leaves the outbox; a failed one waits for its retry, while attempts are left', withRepos(impl, ({ notifications: n, write }) => write(async (tx) => {
      await n.enqueue(tx, { kind: 'k', recipients: ['x@corp.example', 'y@corp.example'], subject: 's', body: 'b', createdAt: T0, notBefore: T0 });
      const [x, y] = await n.due(tx, T0, 10, 10);
      assert.ok(x && y);
      await n.markSent(tx, x.id, T0 + 1);
      await n.markFailed(tx, y.id, 1, T0 + MINUTE, 'connection refused');
      assert.deepEqual(await n.due(tx, T0 + 2, 10, 10), []);
      assert.deepEqual(await n.backlog(tx, T0 + 2), { waiting: 1, due: 0, failing: 1 });
      assert.deepEqual((await n.due(tx, T0 + MINUTE, 10, 10)).map((d) => [d.recipient, d.attempts]), [['y@corp.example', 1]]);
      await n.markFailed(tx, y.id, 3, T0 + 2 * MINUTE, 'again');
      assert.deepEqual(await n.due(tx, T0 + 2 * MINUTE, 3, 10), [], 'no attempts left');
      assert.deepEqual((await n.due(tx, T0 + 2 * MINUTE, 4, 10)).map((d) => d.attempts), [3]);
      await n.markSent(tx, y.id, T0 + 3 * MINUTE);
      assert.deepEqual(await n.backlog(tx, T0 + 3 * MINUTE), { waiting: 0, due: 0, failing: 0 });
    })));
  });

  describe(`NoticeStore: ${impl.name}`, () => {
    test("the notice in force, and who acknowledged which version; the first acknowledgement's time stands", withRepos(impl, async (r) => {
      const { alice, bob } = await r.write(async (tx) => {
        const alice = await addPerson(tx, r.people, 'alice');
        const bob = await addPerson(tx, r.people, 'bob');
        assert.equal(await r.notices.current(tx), null);
        await r.notices.save(tx, { text: 'Mail is archived.', version: 1, updatedAt: T0, updatedBy: 'admin' });
        await r.notices.save(tx, { text: 'Mail is archived for 10 years.', version: 2, updatedAt: T0 + 1, updatedBy: 'admin2' });
        return { alice, bob };
      });
      assert.deepEqual(await r.read((tx) => r.notices.current(tx)), { text: 'Mail is archived for 10 years.', version: 2, updatedAt: T0 + 1, updatedBy: 'admin2' });
      await r.write(async (tx) => {
        await r.notices.acknowledge(tx, alice, 1, T0 + 2);
        await r.notices.acknowledge(tx, alice, 1, T0 + 9);
        await r.notices.acknowledge(tx, bob, 1, T0 + 3);
        await r.notices.acknowledge(tx, bob, 2, T0 + 4);
      });
      await r.read(async (tx) => {
        assert.equal(await r.notices.acknowledgedAt(tx, alice, 1), T0 + 2);
        assert.equal(await r.notices.acknowledgedAt(tx, alice, 2), null);
        assert.equal(await r.notices.acknowledgedAt(tx, bob, 2), T0 + 4);
        assert.deepEqual([await r.notices.acknowledgements(tx, 1), await r.notices.acknowledgements(tx, 2), await r.notices.acknowledgements(tx, 3)], [2, 1, 0]);
      });
    }));
  });

  describe(`ReviewStore: ${impl.name}`, () => {
    const item = (id: string, extra: Partial<NewReviewItem> = {}): NewReviewItem => ({
      id, kind: 'high-impact', requestId: 'req_1', subjectUserId: 7, reason: 'access approved', ledgerIndex: 12, ...extra,
    });

    test('an item is queued once, and reads back as queued', withRepos(impl, async ({ reviews, write, read }) => {
      assert.equal(await write((tx) => reviews.add(tx, item('rev_a'), T0)), true);
      assert.equal(await write((tx) => reviews.add(tx, item('rev_a', { reason: 'again' }), T0 + 1)), false);
      const got = await read((tx) => reviews.get(tx, 'rev_a'));
      assert.ok(got);
      assert.deepEqual({ ...got, updatedAt: undefined }, {
        id: 'rev_a', kind: 'high-impact', requestId: 'req_1', subjectUserId: 7, reason: 'access approved', ledgerIndex: 12,
        state: 'open', claimedBy: null, createdAt: T0, updatedAt: undefined, closedBy: null, note: null,
      });
      assert.equal(await write((tx) => reviews.add(tx, item('rev_n', { kind: 'alert', requestId: null, subjectUserId: null, ledgerIndex: null }), T0)), true);
      await read(async (tx) => {
        const n = await reviews.get(tx, 'rev_n');
        assert.deepEqual([n?.requestId, n?.subjectUserId, n?.ledgerIndex], [null, null, null]);
        assert.equal(await reviews.get(tx, 'rev_none'), null);
      });
    }));

    test('list: newest first, narrowed by state and kind', withRepos(impl, async ({ reviews, write, read }) => {
      await write(async (tx) => {
        await reviews.add(tx, item('rev_1', { kind: 'sample' }), T0);
        await reviews.add(tx, item('rev_2', { kind: 'alert' }), T0 + 2);
        await reviews.add(tx, item('rev_3', { kind: 'sample' }), T0 + 1);
        await reviews.update(tx, 'rev_3', { state: 'claimed', at: T0 + 3, note: null, claimedBy: 1 });
      });
      await read(async (tx) => {
        const ids = async (filter: { state?: string; kind?: string }) => (await reviews.list(tx, filter)).map((i) => i.id);
        assert.deepEqual(await ids({}), ['rev_2', 'rev_3', 'rev_1']);
        assert.deepEqual(await ids({ state: 'open' }), ['rev_2', 'rev_1']);
        assert.deepEqual(await ids({ kind: 'sample' }), ['rev_3', 'rev_1']);
        assert.deepEqual(await ids({ state: 'open', kind: 'sample' }), ['rev_1']);
        assert.deepEqual(await ids({ state: 'closed' }), []);
      });
    }));

    test('a step changes what it names and keeps the rest; a null note keeps the last one', withRepos(impl, ({ reviews, write }) => write(async (tx) => {
      await reviews.add(tx, item('rev_a'), T0);
      const step = async (change: ReviewChange) => {
        await reviews.update(tx, 'rev_a', change);
        const i = (await reviews.get(tx, 'rev_a'))!;
        return { state: i.state, claimedBy: i.claimedBy, closedBy: i.closedBy, note: i.note, updatedAt: i.updatedAt };
      };
      assert.deepEqual(await step({ state: 'claimed', at: T0 + 1, note: null, claimedBy: 3 }), { state: 'claimed', claimedBy: 3, closedBy: null, note: null, updatedAt: T0 + 1 });
      assert.deepEqual(await step({ state: 'reviewed', at: T0 + 2, note: 'looked proportionate' }), { state: 'reviewed', claimedBy: 3, closedBy: null, note: 'looked proportionate', updatedAt: T0 + 2 });
      assert.deepEqual(await step({ state: 'closed', at: T0 + 3, note: null, closedBy: 4, closedAt: T0 + 3 }), { state: 'closed', claimedBy: 3, closedBy: 4, note: 'looked proportionate', updatedAt: T0 + 3 });
      assert.equal(await reviews.stateOf(tx, 'req_1', 'high-impact'), 'closed');
      assert.deepEqual(await step({ state: 'open', at: T0 + 4, note: 'needs another look', claimedBy: null, closedBy: null, closedAt: null }), { state: 'open', claimedBy: null, closedBy: null, note: 'needs another look', updatedAt: T0 + 4 });
      assert.equal((await reviews.get(tx, 'rev_a'))?.createdAt, T0);
      assert.equal(await reviews.stateOf(tx, 'req_1', 'high-impact'), 'open');
      assert.equal(await reviews.stateOf(tx, 'req_1', 'sample'), null);
      assert.equal(await reviews.stateOf(tx, 'req_2', 'high-impact'), null);
    })));
  });

  describe(`OversightStore: ${impl.name}`, () => {
    const alert = (id: string, rule: 'breakglass' | 'volume' | 'manager') => ({ id, rule, text: `text of ${id}`, requestId: 'req_1', ledgerIndex: 3, subject: 'alice' });

    test('its settings round-trip (the sweep keeps its cursor and marks there)', withRepos(impl, async ({ oversight, write, read }) => {
      assert.equal(await read((tx) => oversight.getSetting(tx, 'oversight.cursor')), null);
      await write((tx) => oversight.setSetting(tx, 'oversight.cursor', '41'));
      await write((tx) => oversight.setSetting(tx, 'oversight.cursor', '42'));
      assert.equal(await read((tx) => oversight.getSetting(tx, 'oversight.cursor')), '42');
    }));

    test('an alert is raised once; alerts are counted per rule in a window, by rule', withRepos(impl, async ({ oversight, write, read }) => {
      await write(async (tx) => {
        assert.equal(await oversight.addAlert(tx, alert('breakglass:bg_1', 'breakglass'), T0), true);
        assert.equal(await oversight.addAlert(tx, { ...alert('breakglass:bg_1', 'breakglass'), text: 'again' }, T0 + 1), false);
        assert.equal(await oversight.hasAlert(tx, 'breakglass:bg_1'), true);
        assert.equal(await oversight.hasAlert(tx, 'volume:req_1'), false);
        await oversight.addAlert(tx, alert('volume:req_1', 'volume'), T0 + 1);
        await oversight.addAlert(tx, alert('manager:req_1:dave', 'manager'), T0 + 2);
        await oversight.addAlert(tx, alert('volume:req_2', 'volume'), T0 + 5);
      });
      await read(async (tx) => {
        assert.deepEqual((await oversight.alertCounts(tx, T0, T0 + 5)).map((a) => ({ ...a })), [{ rule: 'breakglass', n: 1 }, { rule: 'manager', n: 1 }, { rule: 'volume', n: 1 }]);
        assert.deepEqual((await oversight.alertCounts(tx, T0 + 1, T0 + 6)).map((a) => ({ ...a })), [{ rule: 'manager', n: 1 }, { rule: 'volume', n: 2 }]);
        assert.deepEqual(await oversight.alertCounts(tx, T0 + 6, T0 + 9), []);
      });
    }));

    test('messages read under a grant are counted once each, per grant', withRepos(impl, ({ oversight, write }) => write(async (tx) => {
      const [a, b, c] = ['a', 'b', 'c'].map((x) => x.repeat(64));
      assert.equal(await oversight.addMessagesRead(tx, 'req_1', [a!, b!]), 2);
      assert.equal(await oversight.addMessagesRead(tx, 'req_1', [b!, c!, c!]), 3);
      assert.equal(await oversight.addMessagesRead(tx, 'req_2', [a!]), 1);
      assert.equal(await oversight.addMessagesRead(tx, 'req_1', []), 3);
    })));

    test('closed grants not yet drawn for the sample, by id; a draw takes one out; what a request extends', withRepos(impl, async (r) => {
      const now = T0 + 5 * HOUR;
      const { alice, bob } = await r.write(async (tx) => {
        const alice = await addPerson(tx, r.people, 'alice', ['requester', 'breakglass']);
        const bob = await addPerson(tx, r.people, 'bob', ['requester']);
        await r.mailboxes.apply(tx, row('dave', ['dave@corp.example']));
        const dave = (await r.grants.mailbox(tx, 'dave'))!;
        const approved = (endsAt: number) => ({ approvedAt: T0, startsAt: T0, endsAt });
        await r.grants.insert(tx, filed('req_e', alice, [dave], approved(T0 + HOUR)));                     // ran out
        await r.grants.insert(tx, filed('req_b', bob, [dave], approved(T0 + 10 * HOUR)));                  // revoked below
        await r.grants.insert(tx, filed('req_c', alice, [dave], approved(T0 + 10 * HOUR)));                // still running
        await r.grants.insert(tx, filed('req_d', alice, [dave]));                                          // never approved
        await r.grants.insert(tx, filed('req_a', bob, [dave], { ...approved(T0 + HOUR), breakglass: true })); // reviewed anyway
        await r.grants.insert(tx, filed('req_f', alice, [dave], { ...approved(now), extends: 'req_e' }));   // ends exactly now
        await r.grants.revoke(tx, 'req_b', T0 + 2 * HOUR, alice);
        await r.grants.deny(tx, 'req_d', T0 + 1);
        return { alice, bob };
      });
      await r.read(async (tx) => {
        assert.deepEqual(await r.oversight.closedGrantsNotDrawn(tx, now, 100), [{ id: 'req_b', requesterId: bob }, { id: 'req_e', requesterId: alice }, { id: 'req_f', requesterId: alice }]);
        assert.deepEqual(await r.oversight.closedGrantsNotDrawn(tx, now, 1), [{ id: 'req_b', requesterId: bob }]);
      });
      await r.write(async (tx) => {
        await r.oversight.recordDraw(tx, 'req_b', true, now);
        await r.oversight.recordDraw(tx, 'req_f', false, now);
      });
      await r.read(async (tx) => {
        assert.deepEqual(await r.oversight.closedGrantsNotDrawn(tx, now, 100), [{ id: 'req_e', requesterId: alice }], 'drawn or not, each is drawn once');
        assert.equal(await r.oversight.extendsOf(tx, 'req_f'), 'req_e');
        assert.equal(await r.oversight.extendsOf(tx, 'req_e'), null);
        assert.equal(await r.oversight.extendsOf(tx, 'req_none'), null);
      });
    }));

    test('mailboxes as the directory has them, and who manages whom', withRepos(impl, async (r) => {
      await r.write(async (tx) => {
        await r.mailboxes.apply(tx, row('dave', ['dave@corp.example'], { owner: 'dave', manager: 'carol', sensitivity: 'executive' }));
        await r.mailboxes.apply(tx, row('erin', ['erin@corp.example'], { owner: 'erin', manager: 'dave' }));
      });
      await r.autoMailboxes.addAutoMailboxes(['x@corp.example']);
      await r.read(async (tx) => {
        const id = async (name: string) => (await r.mailboxes.byName(tx, name))!.id;
        assert.deepEqual(await r.oversight.mailbox(tx, 'dave'), { id: await id('dave'), name: 'dave', owner: 'dave', sensitivity: 'executive', manager: 'carol' });
        assert.equal(await r.oversight.mailbox(tx, 'nobody'), null);
        const all = await r.oversight.mailboxes(tx);
        assert.deepEqual(sorted(all.map((m) => m.name)), ['dave', 'erin', 'x@corp.example']);
        assert.deepEqual(all.find((m) => m.name === 'x@corp.example'), { id: await id('x@corp.example'), name: 'x@corp.example', owner: null, sensitivity: null, manager: null });
        assert.equal(await r.oversight.manages(tx, 'carol', 'dave'), true);
        assert.equal(await r.oversight.manages(tx, 'dave', 'erin'), true);
        assert.equal(await r.oversight.manages(tx, 'dave', 'carol'), false);
        assert.equal(await r.oversight.manages(tx, 'erin', 'dave'), false);
      });
    }));

    test('live tokens: not revoked, not expired, held by someone not disabled', withRepos(impl, async (r) => {
      await r.write(async (tx) => {
        const alice = await addPerson(tx, r.people, 'alice');
        const bob = await addPerson(tx, r.people, 'bob');
        const carol = await addPerson(tx, r.people, 'carol');
        const token = (id: string, userId: number, expiresAt: number) =>
          r.credentials.addToken(tx, { id, userId, tokenHash: `h-${id}`, name: id, scopes: ['content', 'requests'], createdAt: T0, expiresAt });
        await token('tok_live', alice, T0 + HOUR);
        await token('tok_revoked', alice, T0 + HOUR);
        await token('tok_expired', alice, T0 + 10);
        await token('tok_disabled', bob, T0 + HOUR);
        await token('tok_carol', carol, T0 + HOUR);
        await r.credentials.revokeToken(tx, 'tok_revoked', T0 + 1);
        await r.people.setDisabled(tx, 'bob', true);
      });
      const live = (await r.read((tx) => r.oversight.liveTokens(tx, T0 + 10))).map((t) => ({ ...t })).sort((a, b) => (a.id < b.id ? -1 : 1));
      assert.deepEqual(live, [
        { id: 'tok_carol', user: 'carol', scopes: ['content', 'requests'], expiresAt: T0 + HOUR },
        { id: 'tok_live', user: 'alice', scopes: ['content', 'requests'], expiresAt: T0 + HOUR },
      ]);
    }));
  });

  describe(`LedgerHistory: ${impl.name}`, () => {
    test('entries by index, in a time window (captures left out), after an index and under a grant, in ledger order', withRepos(impl, async (r) => {
      const clock = { t: T0, now() { return this.t; } };
      const key = generateSigningKey('conformance.example/ledger');
      const ledger = await Ledger.open({ store: r.ledger, origin: 'conformance.example/ledger', clock, sign: (body) => signCheckpoint(body, key) });
      const audit = new Audit(r.ledger, ledger);
      const actor = (name: string): Actor => ({ user: { id: 1, name, displayName: null, email: null, roles: ['requester'], enrolled: true, disabled: false }, logonType: 'delegated', sessionId: null, clientIp: null, userAgent: null });
      const ops: [string, 'search' | 'request.approve' | 'view' | 'review.sample', string | null][] = [
        ['alice', 'search', 'req_1'], ['bob', 'request.approve', 'req_1'], ['oversight', 'review.sample', null], ['alice', 'view', 'req_1'], ['bob', 'search', 'req_2'],
      ];
      const times: number[] = [];
      for (const [k, [who, operation, grantId]] of ops.entries()) {
        times.push(clock.t);
        await audit.record(actor(who), { operation, grantId, mailboxes: [{ id: 5, name: 'dave' }] }, async () => null);
        clock.t += MINUTE;
        // Mail archived between the second and the third (entry 2): no action.
        if (k === 1) {
          await r.write(async (tx) => {
            await ledger.catchUp(tx);
            await ledger.append(tx, { type: 'capture', actor: 'capture:smtp', actorRoles: [], logonType: 'system', sessionId: null, clientIp: '203.0.113.5', operation: 'capture',
              objects: { mailboxes: [], messages: ['c'.repeat(64)] }, grantId: null, result: 'success', parameters: { captureId: 'cap-1' } });
          });
          clock.t += MINUTE;
        }
      }

      await r.read(async (tx) => {
        const second = await r.history.entryAt(tx, 1);
        assert.deepEqual([second?.index, second?.time, second?.actor, second?.operation, second?.grantId], [1, times[1], 'user:bob', 'request.approve', 'req_1']);
        assert.equal((await r.history.entryAt(tx, 2))?.operation, 'capture');
        assert.equal(await r.history.entryAt(tx, 6), null);
        assert.deepEqual(await indexes(r.history.actionsBetween(tx, times[1]!, times[4]!)), [1, 3, 4], '[from, until), the capture left out');
        assert.deepEqual(await indexes(r.history.actionsBetween(tx, -Infinity, times[2]!)), [0, 1]);
        assert.deepEqual(await indexes(r.history.actionsBetween(tx, times[4]! + 1, Infinity)), []);
        // Two walks under way at once (a report reads two periods side by side).
        const outer = r.history.actionsBetween(tx, -Infinity, Infinity)[Symbol.asyncIterator]();
        assert.equal((await outer.next()).value?.index, 0);
        assert.deepEqual(await indexes(r.history.actionsBetween(tx, times[3]!, Infinity)), [4, 5]);
        assert.deepEqual([(await outer.next()).value?.index, (await outer.next()).value?.index], [1, 3]);
        await outer.return?.();
        // After an index: every entry, captures too (the sweep looks at each).
        assert.deepEqual(await indexes(await r.history.entriesAfter(tx, 1, 2)), [2, 3]);
        assert.deepEqual(await indexes(await r.history.entriesAfter(tx, -1, 100)), [0, 1, 2, 3, 4, 5]);
        assert.deepEqual(await indexes(await r.history.entriesAfter(tx, 5, 100)), []);
        assert.deepEqual(await indexes(await r.history.entriesOfGrant(tx, 'req_1')), [0, 1, 4]);
        assert.deepEqual(await indexes(await r.history.entriesOfGrant(tx, 'req_none')), []);
      });
    }));

    test('the entries of some operations before a time (a replay of access), in ledger order, no capture among them', withRepos(impl, async (r) => {
      const clock = { t: T0, now() { return this.t; } };
      const key = generateSigningKey('conformance.example/ledger');
      const ledger = await Ledger.open({ store: r.ledger, origin: 'conformance.example/ledger', clock, sign: (body) => signCheckpoint(body, key) });
      const written: [LedgerEntryType, string, LedgerEntry['result']][] = [
        ['admin', 'user.add', 'success'], ['access', 'search', 'success'], ['capture', 'capture', 'success'], ['admin', 'request.file', 'success'],
        ['admin', 'request.approve', 'denied'], ['access', 'view', 'success'], ['admin', 'user.add', 'success'], ['admin', 'token.create', 'success'],
      ];
      const times: number[] = [];
      await r.write(async (tx) => {
        await ledger.catchUp(tx);
        for (const [type, operation, result] of written) {
          times.push(clock.t);
          await ledger.append(tx, { type, actor: type === 'capture' ? 'capture:smtp' : 'user:alice', actorRoles: [], logonType: type === 'capture' ? 'system' : 'delegated', sessionId: null, clientIp: null,
            operation, objects: { mailboxes: ['dave'], messages: [] }, grantId: operation.startsWith('request.') ? 'req_1' : null, result, parameters: { n: times.length } });
          clock.t += MINUTE;
        }
      });

      await r.read(async (tx) => {
        const ops = ['request.approve', 'user.add', 'request.file', 'capture'];
        // In index order, not grouped by operation; a refusal too (the replay picks the successes);
        // the capture left out though named; `until` itself not included.
        assert.deepEqual(await indexes(r.history.actionsOf(tx, ops, times[6]!)), [0, 3, 4]);
        assert.deepEqual(await indexes(r.history.actionsOf(tx, ops, times[6]! + 1)), [0, 3, 4, 6]);
        assert.deepEqual(await indexes(r.history.actionsOf(tx, ['token.create'], Infinity)), [7]);
        assert.deepEqual(await indexes(r.history.actionsOf(tx, ['request.deny'], Infinity)), []);
        assert.deepEqual(await indexes(r.history.actionsOf(tx, [], Infinity)), []);
        assert.deepEqual(await indexes(r.history.actionsOf(tx, ops, times[0]!)), []);
        // The same entries, payloads and all, as the walk over every action gives them.
        const all: LedgerEntry[] = [];
        for await (const e of r.history.actionsBetween(tx, -Infinity, Infinity)) all.push(e);
        const of: LedgerEntry[] = [];
        for await (const e of r.history.actionsOf(tx, ops, Infinity)) of.push(e);
        assert.deepEqual(of, all.filter((e) => ops.includes(e.operation)));
        assert.deepEqual(of.map((e) => e.parameters), [{ n: 1 }, { n: 4 }, { n: 5 }, { n: 7 }]);
      });
    }));

    test('a walk over more actions than a page reads each once, in ledger order, within its window', withRepos(impl, async (r) => {
      const clock = { t: T0, now() { return this.t; } };
      const key = generateSigningKey('conformance.example/ledger');
      const ledger = await Ledger.open({ store: r.ledger, origin: 'conformance.example/ledger', clock, sign: (body) => signCheckpoint(body, key) });
      await r.write(async (tx) => {
        await ledger.catchUp(tx);
        for (let n = 0; n < 1_300; n++) {
          const capture = n % 5 === 0;
          await ledger.append(tx, { type: capture ? 'capture' : 'access', actor: capture ? 'capture:smtp' : 'user:alice', actorRoles: [], logonType: capture ? 'system' : 'owner', sessionId: null, clientIp: null,
            operation: capture ? 'capture' : 'search', objects: { mailboxes: [], messages: [] }, grantId: null, result: 'success', parameters: { n } });
          clock.t += MINUTE;
        }
      });
      const actions = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k).filter((n) => n % 5 !== 0);
      await r.read(async (tx) => {
        assert.deepEqual(await indexes(r.history.actionsBetween(tx, -Infinity, Infinity)), actions(0, 1_300));
        assert.deepEqual(await indexes(r.history.actionsBetween(tx, T0 + 100 * MINUTE, T0 + 1_200 * MINUTE)), actions(100, 1_200));
      });
    }));
  });

  describe(`Repositories in one transaction: ${impl.name}`, () => {
    test("what they write inside the Audit's transaction is undone with it, and kept when it commits", withRepos(impl, async (r) => {
      const { alice, dave } = await r.write(async (tx) => {
        const alice = await addPerson(tx, r.people, 'alice', ['requester']);
        await r.mailboxes.apply(tx, row('dave', ['dave@corp.example']));
        return { alice, dave: (await r.grants.mailbox(tx, 'dave'))! };
      });
      const clock = { now: () => T0 };
      const key = generateSigningKey('conformance.example/ledger');
      const ledger = await Ledger.open({ store: r.ledger, origin: 'conformance.example/ledger', clock, sign: (body) => signCheckpoint(body, key) });
      const audit = new Audit(r.ledger, ledger);
      const actor: Actor = { user: (await r.read((tx) => r.people.byId(tx, alice)))!.user, logonType: 'delegated', sessionId: null, clientIp: null, userAgent: null };
      const work = (fail: boolean) => async (tx: Tx) => {
        await r.grants.insert(tx, filed('req_t', alice, [dave]));
        await r.notifications.enqueue(tx, { kind: 'request.filed', recipients: ['bob@corp.example'], subject: 's', body: 'b', createdAt: T0, notBefore: T0 });
        await r.reviews.add(tx, { id: 'rev_t', kind: 'high-impact', requestId: 'req_t', subjectUserId: alice, reason: 'r', ledgerIndex: null }, T0);
        await r.settings.setSetting(tx, 'oversight.cursor', '7');
        await r.links.record(tx, { actorId: alice, subjectId: await addPerson(tx, r.people, 'bob'), kind: 'created', at: T0 });
        if (fail) throw new Error('fault after the writes');
        return 'req_t';
      };
      await assert.rejects(audit.record(actor, { operation: 'request.file', grantId: 'req_t', mailboxes: [dave] }, work(true)), (err: any) => err.code === 'SEALBOX_ERR_LEDGER');
      await r.read(async (tx) => {
        assert.equal(await r.grants.get(tx, 'req_t'), null);
        assert.deepEqual(await r.notifications.due(tx, T0, 10, 10), []);
        assert.equal(await r.reviews.get(tx, 'rev_t'), null);
        assert.equal(await r.settings.getSetting(tx, 'oversight.cursor'), null);
        assert.equal(await r.people.byName(tx, 'bob'), null);
        assert.deepEqual(await r.links.touching(tx, [alice]), []);
        assert.equal(await r.ledger.ledgerSize(tx), 0);
      });

      assert.equal(await audit.record(actor, { operation: 'request.file', grantId: 'req_t', mailboxes: [dave] }, work(false)), 'req_t');
      await r.read(async (tx) => {
        assert.equal((await r.grants.get(tx, 'req_t'))?.id, 'req_t');
        assert.equal((await r.notifications.due(tx, T0, 10, 10)).length, 1);
        assert.equal((await r.reviews.get(tx, 'rev_t'))?.state, 'open');
        assert.equal(await r.settings.getSetting(tx, 'oversight.cursor'), '7');
        assert.equal((await r.links.touching(tx, [alice])).length, 1);
        assert.deepEqual((await r.history.entriesOfGrant(tx, 'req_t')).map((e) => e.operation), ['request.file']);
      });
    }));
  });
}
