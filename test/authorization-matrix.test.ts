// Every role × every content and admin endpoint × every grant situation → allow or deny, as one
// table; every call is checked against the ledger: an allowed read is exactly one `access` entry
// with result success, a refusal exactly one entry with result denied, an admin change exactly
// one `admin` entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiClient } from './support/api-client.ts';
import type { LedgerEntryView } from './support/access-world.ts';
import { startInProcessWorld } from './support/in-process.ts';
import { waitUntil } from './support/wait.ts';
import type { InProcessWorld } from './support/in-process.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestProvider } from './support/oidc-provider.ts';
import { tempDataDir } from './support/sealbox.ts';

const ROLES = ['owner', 'requester', 'approver', 'auditor', 'admin', 'records', 'breakglass', 'none'] as const;
type Role = (typeof ROLES)[number];
// The user playing each role; "none" holds only the owner role and owns no mailbox.
const USER: Record<Role, string> = { owner: 'own', requester: 'req', approver: 'appr', auditor: 'aud', admin: 'adm', records: 'rec', breakglass: 'bg', none: 'plain' };

// Each with an attached text file, whose text the viewer reads (attachment-text).
const notes = { filename: 'notes.txt', text: 'Attached minutes of the meeting.' };
const MESSAGES = {
  own: { from: 'x@partner.test', to: 'own@corp.test', subject: 'Own quarterly report', date: 'Mon, 04 Mar 2024 09:00:00 +0000', attachment: notes },
  inScope: { from: 'x@partner.test', to: 'tgt@corp.test', subject: 'Target invoice March', date: 'Tue, 05 Mar 2024 09:00:00 +0000', attachment: notes },
  oldDate: { from: 'x@partner.test', to: 'tgt@corp.test', subject: 'Target contract signed', date: 'Mon, 01 Jan 2018 09:00:00 +0000', attachment: notes },
  otherBox: { from: 'x@partner.test', to: 'other@corp.test', subject: 'Other salary talk', date: 'Wed, 06 Mar 2024 09:00:00 +0000', attachment: notes },
};

// The grant situations a read can meet. All are the requester's, on tgt@corp.test in 2024, with
// search, read and export, except the break-glass one (opened by the break-glass holder).
const SITUATIONS = ['active', 'expired', 'revoked', 'pending', 'denied', 'lapsed', 'breakglass'] as const;
type Situation = (typeof SITUATIONS)[number];

interface Call {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  body?: unknown;
}

interface Row {
  name: string;
  // The expected HTTP status per role, in the order of ROLES:
  //          owner requester approver auditor admin records breakglass none
  expect: [number, number, number, number, number, number, number, number];
  // The call, given the fixtures (and a fresh target when the row consumes one).
  call: (f: Fixtures, target: string, role: Role) => Call;
  // A fresh target per case (a request made for this call), for rows whose success uses it up.
  target?: (f: Fixtures, role: Role) => Promise<string>;
  // What an allowed call writes: an access read, an admin change, or nothing (governance reads).
  writes: { type: 'access' | 'admin'; operation: string } | null;
  // What a refusal is recorded as (default: the same operation as `writes`).
  refusal?: { type: 'access' | 'admin'; operation: string };
  // More checks of an allowed answer.
  check?: (body: any, role: Role, f: Fixtures) => void;
}

interface Fixtures {
  world: InProcessWorld;
  job: string;        // the requester's export job, done
  jobFile: string;    // its zip
  hold: string;       // a legal hold whose scope the active grant covers (its mailbox and window)
  grant: Record<Situation, string>;
  sha: Record<keyof typeof MESSAGES, string>;
  file(input?: Record<string, unknown>): Promise<string>;
  approve(id: string): Promise<void>;
}

const GRANT_REQUEST = { purpose: 'legal-hold', justification: 'matrix case', ticket: 'LEG-9', mailboxes: ['tgt@corp.test'], dateFrom: '2024-01-01', dateTo: '2024-12-31', permissions: ['search', 'read', 'export'], durationHours: 2 };
const D = 403;
const ALL_DENIED: Row['expect'] = [D, D, D, D, D, D, D, D];
const only = (role: Role, status = 200, others = D): Row['expect'] => ROLES.map((r) => (r === role ? status : others)) as Row['expect'];
const allowing = (roles: Role[], status = 200, others = D): Row['expect'] => ROLES.map((r) => (roles.includes(r) ? status : others)) as Row['expect'];
const hits = (...keys: (keyof typeof MESSAGES)[]) => (body: any, _role: Role, f: Fixtures) =>
  assert.deepEqual(body.results.map((h: any) => h.sha256).sort(), keys.map((k) => f.sha[k]).sort());

function rows(): Row[] {
  const table: Row[] = [];
  const search = (q: string, grant: (f: Fixtures) => string | null) => (f: Fixtures): Call => ({ method: 'GET', path: `/api/v1/search?q=${encodeURIComponent(q)}${grant(f) ? `&grant=${grant(f)}` : ''}` });
  const view = (m: keyof typeof MESSAGES, grant: (f: Fixtures) => string | null, raw = false) => (f: Fixtures): Call => ({ method: 'GET', path: `/api/v1/messages/${f.sha[m]}${raw ? '/raw' : ''}${grant(f) ? `?grant=${grant(f)}` : ''}` });
  // The web viewer's reads of one message: its evidence, its body document, its remote content (recorded before it loads).
  const viewerReads = (m: keyof typeof MESSAGES, grant: (f: Fixtures) => string | null): { what: string; operation: string; call: (f: Fixtures) => Call }[] => [
    { what: 'evidence', operation: 'evidence', call: (f) => ({ method: 'GET', path: `/api/v1/messages/${f.sha[m]}/evidence${grant(f) ? `?grant=${grant(f)}` : ''}` }) },
    { what: 'body document', operation: 'body', call: (f) => ({ method: 'GET', path: `/api/v1/messages/${f.sha[m]}/body${grant(f) ? `?grant=${grant(f)}` : ''}` }) },
    { what: 'remote content', operation: 'remote-content', call: (f) => ({ method: 'POST', path: `/api/v1/messages/${f.sha[m]}/remote-content`, body: grant(f) ? { grant: grant(f) } : {} }) },
    { what: 'attachment text', operation: 'attachment-text', call: (f) => ({ method: 'GET', path: `/api/v1/messages/${f.sha[m]}/attachments/0/text${grant(f) ? `?grant=${grant(f)}` : ''}` }) },
  ];
  // A message's conversation: a listing like a search (the search permission, a search entry).
  const thread = (m: keyof typeof MESSAGES, grant: (f: Fixtures) => string | null) => (f: Fixtures): Call => ({ method: 'GET', path: `/api/v1/messages/${f.sha[m]}/thread${grant(f) ? `?grant=${grant(f)}` : ''}` });
  const noGrant = () => null;
  const access = (operation: string) => ({ type: 'access' as const, operation });
  const admin = (operation: string) => ({ type: 'admin' as const, operation });

  // Content: the owner's own mailbox, without a grant.
  table.push(
    { name: 'search own mailbox', expect: only('owner'), call: search('quarterly', noGrant), writes: access('search'), check: hits('own') },
    { name: 'view own message', expect: only('owner'), call: view('own', noGrant), writes: access('view'), check: (b, _r, f) => assert.equal(b.sha256, f.sha.own) },
    { name: 'raw own message', expect: only('owner'), call: view('own', noGrant, true), writes: access('raw'), check: (b, _r, f) => assert.ok(b.equals(f.world.raw.own)) },
    { name: 'search someone else\'s subject without a grant', expect: only('owner'), call: search('invoice', noGrant), writes: access('search'), check: hits() },
    { name: 'view a message outside own mailbox without a grant', expect: only('owner', 404), call: view('inScope', noGrant), writes: access('view') },
    { name: 'raw a message outside own mailbox without a grant', expect: only('owner', 404), call: view('inScope', noGrant, true), writes: access('raw') },
    { name: 'conversation of own message', expect: only('owner'), call: thread('own', noGrant), writes: access('search'), check: (b, _r, f) => assert.deepEqual(b.messages.map((m: any) => m.sha256), [f.sha.own]) },
    { name: 'conversation of a message outside own mailbox without a grant', expect: only('owner', 404), call: thread('inScope', noGrant), writes: access('search') },
  );
  for (const r of viewerReads('own', noGrant)) table.push({ name: `${r.what} of own message`, expect: only('owner'), call: r.call, writes: access(r.operation) });
  for (const r of viewerReads('inScope', noGrant)) table.push({ name: `${r.what} of a message outside own mailbox without a grant`, expect: only('owner', 404), call: r.call, writes: access(r.operation) });

  // Content under each grant situation: only an active grant of one's own opens anything, and
  // only its scope (mailbox and dates); everyone else gets 403 for the requester's grant.
  for (const situation of SITUATIONS) {
    const holder: Role = situation === 'breakglass' ? 'breakglass' : 'requester';
    const open = situation === 'active' || situation === 'breakglass';
    const g = (f: Fixtures) => f.grant[situation];
    table.push(
      { name: `search in scope, ${situation} grant`, expect: open ? only(holder) : ALL_DENIED, call: search('body', g), writes: access('search'), check: hits('inScope') },
      { name: `view in scope, ${situation} grant`, expect: open ? only(holder) : ALL_DENIED, call: view('inScope', g), writes: access('view'), check: (b, _r, f) => assert.equal(b.sha256, f.sha.inScope) },
      { name: `raw in scope, ${situation} grant`, expect: open ? only(holder) : ALL_DENIED, call: view('inScope', g, true), writes: access('raw'), check: (b, _r, f) => assert.ok(b.equals(f.world.raw.inScope)) },
      { name: `conversation in scope, ${situation} grant`, expect: open ? only(holder) : ALL_DENIED, call: thread('inScope', g), writes: access('search'), check: (b, _r, f) => assert.deepEqual(b.messages.map((m: any) => m.sha256), [f.sha.inScope]) },
    );
    for (const r of viewerReads('inScope', g)) table.push({ name: `${r.what} in scope, ${situation} grant`, expect: open ? only(holder) : ALL_DENIED, call: r.call, writes: access(r.operation) });
    if (!open) continue;
    for (const r of viewerReads('otherBox', g)) table.push({ name: `${r.what} of another mailbox, ${situation} grant`, expect: only(holder, 404), call: r.call, writes: access(r.operation) });
    table.push(
      { name: `search a subject out of scope, ${situation} grant`, expect: only(holder), call: search('salary OR contract OR quarterly', g), writes: access('search'), check: hits() },
      { name: `view another mailbox, ${situation} grant`, expect: only(holder, 404), call: view('otherBox', g), writes: access('view') },
      { name: `conversation of another mailbox, ${situation} grant`, expect: only(holder, 404), call: thread('otherBox', g), writes: access('search') },
      { name: `raw another mailbox, ${situation} grant`, expect: only(holder, 404), call: view('otherBox', g, true), writes: access('raw') },
      { name: `view outside the date window, ${situation} grant`, expect: only(holder, 404), call: view('oldDate', g), writes: access('view') },
      { name: `view the owner's own message, ${situation} grant`, expect: only(holder, 404), call: view('own', g), writes: access('view') },
    );
  }
  table.push({
    name: 'export in scope, active grant', expect: only('requester'), call: (f) => ({ method: 'GET', path: `/api/v1/export?q=body&grant=${f.grant.active}` }), writes: access('export'),
    check: (b, _r, f) => assert.ok(b.toString('latin1').includes('Target invoice March') && !b.toString('latin1').includes('salary')),
  });
  table.push({ name: 'export own mailbox', expect: only('owner'), call: () => ({ method: 'GET', path: '/api/v1/export?q=quarterly' }), writes: access('export') });
  // Export jobs: started only under an active grant that carries export; a job is its starter's
  // alone (anyone else: 404, the attempt recorded); a download is a recorded read.
  const startJob = (grant: (f: Fixtures) => string) => (f: Fixtures): Call => ({ method: 'POST', path: '/api/v1/exports', body: { q: 'body', grant: grant(f) } });
  table.push(
    { name: 'start an export job, active grant', expect: only('requester', 202), call: startJob((f) => f.grant.active), writes: access('export.job'), check: (b) => assert.deepEqual([b.state, b.found], ['queued', 1]) },
    { name: 'start an export job, expired grant', expect: ALL_DENIED, call: startJob((f) => f.grant.expired), writes: access('export.job') },
    { name: 'start an export job, break-glass grant without export', expect: ALL_DENIED, call: startJob((f) => f.grant.breakglass), writes: access('export.job') },
    // A case (legal hold) exported: under one's own active grant with export that covers the hold.
    // A records manager reads no mail, so places the hold but exports it only with such a grant.
    {
      name: 'start an export job of a legal hold, active grant', expect: only('requester', 202), writes: access('export.job'),
      call: (f) => ({ method: 'POST', path: `/api/v1/holds/${f.hold}/export`, body: { grant: f.grant.active } }), check: (b, _r, f) => assert.deepEqual([b.state, b.found, b.hold.id], ['queued', 1, f.hold]),
    },
    { name: 'start an export job of a legal hold, expired grant', expect: ALL_DENIED, writes: access('export.job'), call: (f) => ({ method: 'POST', path: `/api/v1/holds/${f.hold}/export`, body: { grant: f.grant.expired } }) },
    { name: 'list own export jobs', expect: allowing([...ROLES]), writes: null, call: () => ({ method: 'GET', path: '/api/v1/exports' }), check: (b, role, f) => assert.equal(b.jobs.some((j: any) => j.id === f.job), role === 'requester') },
    { name: 'read an export job', expect: only('requester', 200, 404), writes: null, refusal: access('export.job'), call: (f) => ({ method: 'GET', path: `/api/v1/exports/${f.job}` }), check: (b) => assert.equal(b.state, 'done') },
    {
      name: 'download a file of an export job', expect: only('requester', 200, 404), writes: access('export.download'), call: (f) => ({ method: 'GET', path: `/api/v1/exports/${f.job}/files/${f.jobFile}` }),
      check: (b) => assert.equal(b.subarray(0, 4).toString('latin1'), 'PK\x03\x04'),
    },
    {
      // The runner is stopped first, so the job waits (queued) to be cancelled.
      name: 'cancel an export job', expect: only('requester', 200, 404), writes: access('export.cancel'), refusal: access('export.job'),
      target: async (f) => {
        await f.world.parts.exports.stop();
        return (await f.world.as.req.call('POST', '/api/v1/exports', { q: 'body', grant: f.grant.active })).body.id;
      },
      call: (_f, id) => ({ method: 'POST', path: `/api/v1/exports/${id}/cancel` }), check: (b) => assert.equal(b.state, 'cancelled'),
    },
  );

  // Transparency: everyone may ask; each sees only their own mailboxes' accesses.
  table.push({
    name: 'transparency page', expect: allowing([...ROLES]), call: () => ({ method: 'GET', path: '/api/v1/mailboxes/mine/accesses' }), writes: null,
    check: (b, role) => assert.deepEqual(b.mailboxes, role === 'owner' ? ['own@corp.test'] : []),
  });

  // A custodian's own legal holds: everyone may ask; each sees only holds on their own mailboxes.
  table.push({
    name: 'my legal holds', expect: allowing([...ROLES]), call: () => ({ method: 'GET', path: '/api/v1/holds/mine' }), writes: null,
    check: (b, role) => assert.deepEqual(b.holds.map((h: any) => h.mailboxes), role === 'owner' ? [['own@corp.test']] : []),
  });

  // Records: kept by records managers and admins, seen by approvers and auditors too.
  const readers: Role[] = ['records', 'admin', 'approver', 'auditor'];
  table.push(
    { name: 'list retention rules', expect: allowing(readers), writes: null, refusal: admin('retention.list'), call: () => ({ method: 'GET', path: '/api/v1/retention' }) },
    { name: 'list legal holds', expect: allowing(readers), writes: null, refusal: admin('hold.list'), call: () => ({ method: 'GET', path: '/api/v1/holds' }) },
    { name: 'list disposal runs', expect: allowing(readers), writes: null, refusal: admin('disposal.runs'), call: () => ({ method: 'GET', path: '/api/v1/disposals' }) },
    { name: 'place a legal hold', expect: allowing(['records', 'admin']), writes: admin('hold.place'), call: () => ({ method: 'POST', path: '/api/v1/holds', body: { name: 'Matrix too', matter: 'LEG-10', custodians: ['own@corp.test'] } }) },
  );

  // Requests: list, read, file, decide, revoke; break-glass.
  table.push(
    {
      name: 'list requests', expect: allowing([...ROLES]), call: () => ({ method: 'GET', path: '/api/v1/requests' }), writes: null,
      check: (b, role, f) => assert.equal(b.requests.some((r: any) => r.id === f.grant.active), ['requester', 'approver', 'auditor', 'admin'].includes(role), 'who sees the requester\'s request'),
    },
    {
      name: 'read a request', expect: [404, 200, 200, 200, 200, 404, 404, 404], call: (f) => ({ method: 'GET', path: `/api/v1/requests/${f.grant.active}` }), writes: null, refusal: admin('request.read'),
      // What the answer offers is what the revoke rows below allow.
      check: (b, role, f) => {
        assert.equal(b.id, f.grant.active);
        assert.equal(b.you.mayRevoke, ['requester', 'approver', 'admin'].includes(role), `${role} may revoke`);
        assert.equal(b.you.mayDecide, false, 'nothing to decide on an active grant');
      },
    },
    { name: 'file a request', expect: only('requester'), call: () => ({ method: 'POST', path: '/api/v1/requests', body: GRANT_REQUEST }), writes: admin('request.file') },
    {
      name: 'open a break-glass grant', expect: only('breakglass'), writes: admin('breakglass.open'),
      call: () => ({ method: 'POST', path: '/api/v1/breakglass', body: { purpose: 'security-incident', justification: 'phishing', mailboxes: ['tgt@corp.test'], permissions: ['search'], durationHours: 0.25 } }),
    },
  );
  // Deciding: only approvers, only on pending requests (409 otherwise); everyone else 403 first,
  // and 404 for those to whom the request does not exist (not its requester, approver, auditor or
  // admin: answered like a missing request, as reading it is).
  const unknown = (expect: Row['expect'], requester: Role = 'requester'): Row['expect'] =>
    ROLES.map((r, i) => (r !== requester && ['owner', 'requester', 'records', 'breakglass', 'none'].includes(r) ? 404 : expect[i])) as Row['expect'];
  for (const decision of ['approve', 'deny'] as const) {
    table.push({
      name: `${decision} a pending request`, expect: unknown(only('approver')), target: (f) => f.file(), writes: admin(`request.${decision}`),
      call: (_f, id) => ({ method: 'POST', path: `/api/v1/requests/${id}/${decision}`, body: { reason: 'matrix' } }),
      check: (b) => assert.equal(b.state, decision === 'approve' ? 'active' : 'denied'),
    });
    for (const situation of ['active', 'expired', 'revoked', 'denied', 'lapsed', 'breakglass'] as const) {
      table.push({
        name: `${decision} a ${situation} request`, expect: unknown(only('approver', 409), situation === 'breakglass' ? 'breakglass' : 'requester'), writes: admin(`request.${decision}`),
        call: (f) => ({ method: 'POST', path: `/api/v1/requests/${f.grant[situation]}/${decision}`, body: { reason: 'matrix' } }),
      });
    }
  }
  // Revoking: the requester (own grant), approvers and admins; 409 once it is over.
  const revokers: Role[] = ['requester', 'approver', 'admin'];
  table.push(
    {
      name: 'revoke an active grant', expect: unknown(allowing(revokers)), writes: admin('request.revoke'), check: (b) => assert.equal(b.state, 'revoked'),
      target: async (f) => { const id = await f.file(); await f.approve(id); return id; },
      call: (_f, id) => ({ method: 'POST', path: `/api/v1/requests/${id}/revoke`, body: { reason: 'matrix' } }),
    },
    {
      name: 'revoke a pending request', expect: unknown(allowing(revokers)), writes: admin('request.revoke'), check: (b) => assert.equal(b.state, 'revoked'),
      target: (f) => f.file(), call: (_f, id) => ({ method: 'POST', path: `/api/v1/requests/${id}/revoke`, body: {} }),
    },
  );
  for (const situation of ['expired', 'revoked', 'denied', 'lapsed'] as const) {
    table.push({
      name: `revoke a ${situation} request`, expect: unknown(allowing(revokers, 409)), writes: admin('request.revoke'),
      call: (f) => ({ method: 'POST', path: `/api/v1/requests/${f.grant[situation]}/revoke`, body: {} }),
    });
  }

  // Administration and the ledger.
  let n = 0;
  table.push(
    { name: 'add a user', expect: only('admin'), writes: admin('user.add'), call: () => ({ method: 'POST', path: '/api/v1/users', body: { name: `new${++n}`, roles: ['owner'] } }) },
    { name: 'list users', expect: allowing(['admin', 'auditor']), writes: null, refusal: admin('user.list'), call: () => ({ method: 'GET', path: '/api/v1/users' }) },
    { name: 'read the access policy', expect: allowing([...ROLES]), writes: null, call: () => ({ method: 'GET', path: '/api/v1/policy' }), check: (b) => assert.equal(b.approvalsNeeded, 1) },
    { name: 'set the access policy', expect: only('admin'), writes: admin('policy.set'), call: () => ({ method: 'POST', path: '/api/v1/policy', body: { maxGrantHours: 48 } }), check: (b) => assert.equal(b.maxGrantHours, 48) },
    {
      name: 'set a mailbox notification policy', expect: only('admin'), writes: admin('mailbox.policy'),
      call: () => ({ method: 'POST', path: '/api/v1/mailboxes/tgt@corp.test/policy', body: { notifyMode: 'after', notifyAfterDays: 7 } }),
    },
    { name: 'read the ledger', expect: only('auditor'), writes: admin('ledger.read'), call: () => ({ method: 'GET', path: '/api/v1/ledger/entries?limit=1' }), check: (b) => assert.equal(b.entries.length, 1) },
    { name: 'read the ledger, filtered', expect: only('auditor'), writes: admin('ledger.read'), call: () => ({ method: 'GET', path: '/api/v1/ledger/entries?operation=view&result=denied&limit=5' }), check: (b) => assert.ok(b.entries.every((e: any) => e.operation === 'view' && e.result === 'denied')) },
    { name: 'export the ledger', expect: only('auditor'), writes: admin('ledger.export'), call: () => ({ method: 'GET', path: '/api/v1/ledger/export?format=csv&type=capture' }), check: (b) => assert.equal(b.toString('utf8').trimEnd().split('\r\n').length, 5) },
    { name: 'checkpoint history', expect: allowing(['auditor', 'admin']), writes: admin('ledger.checkpoints'), call: () => ({ method: 'GET', path: '/api/v1/ledger/checkpoints' }), check: (b) => assert.ok(b.checkpoints.every((c: any) => c.signatureValid && c.consistent)) },
    {
      name: 'permission inventory', expect: only('auditor'), writes: admin('oversight.inventory'), call: () => ({ method: 'GET', path: '/api/v1/oversight/inventory' }),
      check: (b, _r, f) => assert.ok(b.grants.some((g: any) => g.id === f.grant.active) && !b.grants.some((g: any) => g.id === f.grant.expired)),
    },
    { name: 'oversight report', expect: only('auditor'), writes: admin('oversight.report'), call: () => ({ method: 'GET', path: '/api/v1/oversight/report' }), check: (b) => assert.deepEqual(b.outsideDateWindow.violations, []) },
    { name: 'review queue', expect: allowing(['approver', 'auditor']), writes: null, refusal: admin('review.list'), call: () => ({ method: 'GET', path: '/api/v1/reviews' }), check: (b) => assert.ok(Array.isArray(b.reviews)) },
    // What the web app adds: the directory (no content), its import, health, the archiving notice.
    {
      name: 'look up mailboxes', expect: allowing(['requester', 'approver', 'auditor', 'admin', 'records', 'breakglass']), writes: null, refusal: admin('mailbox.list'),
      call: () => ({ method: 'GET', path: '/api/v1/mailboxes?q=tgt' }), check: (b) => assert.deepEqual(b.mailboxes.map((m: any) => m.name), ['tgt@corp.test']),
    },
    { name: 'import the directory', expect: only('admin'), writes: admin('mailboxes.import'), call: () => ({ method: 'POST', path: '/api/v1/mailboxes/import', body: { csv: 'addresses\nlisted@corp.test\n' } }) },
    // Directory sync: run by admins (no LDAP directory here: refused as not configured, and recorded), read by admins and auditors.
    { name: 'sync the directory from LDAP', expect: only('admin', 409), writes: admin('directory.sync'), call: () => ({ method: 'POST', path: '/api/v1/directory/sync', body: { dryRun: true } }) },
    // SCIM takes an admin's API token with the "scim" scope, never a session (test/directory-scim.test.ts has the tokens).
    { name: 'SCIM users from a session', expect: ALL_DENIED, writes: null, refusal: admin('directory.scim'), call: () => ({ method: 'GET', path: '/scim/v2/Users' }) },
    { name: 'SCIM provisioning from a session', expect: ALL_DENIED, writes: null, refusal: admin('directory.scim'), call: () => ({ method: 'POST', path: '/scim/v2/Users', body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'intruder@corp.test' } }) },
    { name: 'list directory syncs', expect: allowing(['admin', 'auditor']), writes: null, refusal: admin('directory.sync.list'), call: () => ({ method: 'GET', path: '/api/v1/directory/syncs' }), check: (b) => assert.deepEqual([b.ldap, b.syncs], [null, []]) },
    // Account recovery and staged ownership: one asks, someone else approves (never the one who asked).
    { name: 'ask for an account recovery', expect: only('admin'), writes: admin('user.recovery.request'), call: () => ({ method: 'POST', path: '/api/v1/users/appr2/recovery', body: { reason: 'lost phone' } }) },
    { name: 'list account recoveries', expect: allowing(['approver', 'auditor', 'admin']), writes: null, refusal: admin('user.recovery.list'), call: () => ({ method: 'GET', path: '/api/v1/recoveries' }), check: (b) => assert.ok(b.recoveries.every((r: any) => !('code' in r) && !('codeHash' in r))) },
    {
      name: 'approve an account recovery', expect: allowing(['approver']), writes: admin('user.recovery.approve'),
      target: async (f, role) => {
        const who = { owner: 'own', requester: 'req', approver: 'aud', auditor: 'bg', admin: 'plain', records: 'rec', breakglass: 'own', none: 'req' }[role];
        const pending = (await f.world.as.adm.call('GET', '/api/v1/recoveries')).body.recoveries.find((r: any) => r.user === who && r.state === 'pending');
        return pending?.id ?? (await f.world.as.adm.call('POST', `/api/v1/users/${who}/recovery`, { reason: 'matrix' })).body.id;
      },
      call: (_f, id) => ({ method: 'POST', path: `/api/v1/recoveries/${id}/approve`, body: { reason: 'checked in person' } }), check: (b) => assert.equal(b.state, 'approved'),
    },
    { name: 'list ownership changes', expect: allowing(['approver', 'auditor', 'admin']), writes: null, refusal: admin('ownership.list'), call: () => ({ method: 'GET', path: '/api/v1/ownership-changes' }) },
    {
      name: 'approve an ownership change', expect: allowing(['approver']), writes: admin('ownership.approve'),
      target: async (f) => (await f.world.as.adm.call('POST', '/api/v1/mailboxes/import', { csv: `addresses,owner\nstaged${++n}@corp.test,adm\n` })).body.staged[0].id,
      call: (_f, id) => ({ method: 'POST', path: `/api/v1/ownership-changes/${id}/approve`, body: { reason: 'adm runs this mailbox' } }), check: (b) => assert.equal(b.state, 'approved'),
    },
    // Roles an identity provider's groups asked for (sign-in through a provider): seen by admins,
    // approvers and auditors, decided by approvers only. The filed role is for `joiner`, who plays
    // no role in the table.
    { name: 'list identity providers', expect: allowing([...ROLES]), writes: null, call: () => ({ method: 'GET', path: '/api/v1/sso/providers' }), check: (b) => assert.deepEqual(b, { providers: [{ id: 'test', label: 'Test IdP' }], localSignIn: 'everyone' }) },
    // One's own links to a provider: each person their own account only; no route names another.
    { name: 'list my links to identity providers', expect: allowing([...ROLES]), writes: null, call: () => ({ method: 'GET', path: '/api/v1/sso/links' }), check: (b) => assert.deepEqual(b.links, [{ provider: 'test', label: 'Test IdP', linked: null }]) },
    { name: 'start linking my own account', expect: allowing([...ROLES]), writes: null, call: () => ({ method: 'POST', path: '/api/v1/sso/test/link' }), check: (b) => assert.match(b.location, /^http:\/\/127\.0\.0\.1:\d+\/auth\?/) },
    { name: 'finish a link no provider answered', expect: ALL_DENIED, writes: admin('user.sso.link'), call: () => ({ method: 'POST', path: '/api/v1/sso/link', body: {} }) },
    { name: 'unlink my own account (not linked)', expect: allowing([], 200, 404), writes: admin('user.sso.unlink'), call: () => ({ method: 'DELETE', path: '/api/v1/sso/links/test' }) },
    { name: 'list filed roles', expect: allowing(['approver', 'auditor', 'admin']), writes: null, refusal: admin('user.role.list'), call: () => ({ method: 'GET', path: '/api/v1/role-changes' }) },
    {
      name: 'approve a filed role', expect: allowing(['approver']), writes: admin('user.role.approve'),
      target: (f) => f.world.archive.services.db.write(async (tx) => {
        const s = f.world.archive.services;
        const joiner = (await s.people.byName(tx, 'joiner'))!;
        const pending = (await s.roleChanges.pendingFor(tx, joiner.id))[0];
        return pending?.id ?? (await s.roleChanges.file(tx, joiner, 'auditor', 'member of auditors at the provider', { id: null, label: 'sso:test' }))!.id;
      }),
      call: (_f, id) => ({ method: 'POST', path: `/api/v1/role-changes/${id}/approve`, body: { reason: 'joins internal audit' } }), check: (b) => assert.equal(b.state, 'approved'),
    },
    { name: 'system health', expect: allowing(['admin', 'auditor']), writes: null, refusal: admin('health.read'), call: () => ({ method: 'GET', path: '/api/v1/admin/health' }), check: (b) => assert.ok(b.listeners.some((l: any) => l.name === 'http')) },
    { name: 'read the archiving notice', expect: allowing([...ROLES]), writes: null, call: () => ({ method: 'GET', path: '/api/v1/notice' }) },
    { name: 'set the archiving notice', expect: only('admin'), writes: admin('notice.set'), call: () => ({ method: 'POST', path: '/api/v1/notice', body: { text: 'Mail is archived.' } }) },
  );
  return table;
}

test('authorization matrix: every role × every endpoint × every grant situation, each call recorded exactly once', { timeout: 180_000 }, async () => {
  // Listening too: the admins' health view names the HTTP listener (the row 'system health').
  // An identity provider (a real one on a loopback port) for the rows of one's own links to it.
  const idp = await startTestProvider({});
  const secretFile = join(tempDataDir(), 'client-secret');
  writeFileSync(secretFile, 'matrix-secret\n', { mode: 0o600 });
  const world = await startInProcessWorld({
    config: { sso: { providers: [{ id: 'test', label: 'Test IdP', issuer: idp.issuer, clientId: 'sealbox', clientSecretFile: secretFile }] } },
    messages: MESSAGES,
    mailboxes: { 'own@corp.test': 'own', 'tgt@corp.test': '', 'other@corp.test': '' },
    users: { own: ['owner'], req: ['requester'], appr: ['approver'], appr2: ['approver'], aud: ['auditor'], rec: ['records'], bg: ['breakglass'], plain: ['owner'], joiner: ['owner'] },
  }, { listen: true });
  idp.register({ clientId: 'sealbox', clientSecret: 'matrix-secret', redirectUris: [`${world.url}/api/v1/sso/test/callback`], postLogoutRedirectUris: [`${world.url}/`] });
  try {
    const as = world.as;
    const ok = async (client: ApiClient, method: string, path: string, body?: unknown) => {
      const r = await client.call(method, path, body);
      assert.equal(r.status, 200, `${method} ${path}: ${JSON.stringify(r.body)}`);
      return r.body;
    };
    const f: Fixtures = {
      world, sha: world.sha as Fixtures['sha'], grant: {} as Fixtures['grant'], job: '', jobFile: '', hold: '',
      file: async (input = {}) => (await ok(as.req, 'POST', '/api/v1/requests', { ...GRANT_REQUEST, ...input })).id,
      approve: async (id) => { await ok(as.appr2, 'POST', `/api/v1/requests/${id}/approve`, { reason: 'fixture' }); },
    };

    // The grant situations. A lapsing request is filed under a policy whose pending requests
    // lapse within seconds, and the policy is put back at once (lapse time is fixed at filing).
    await ok(as.adm, 'POST', '/api/v1/policy', { pendingLapseHours: 0.0005 });
    f.grant.lapsed = await f.file();
    assert.equal((await ok(as.req, 'GET', `/api/v1/requests/${f.grant.lapsed}`)).state, 'pending', 'before its time');
    await ok(as.adm, 'POST', '/api/v1/policy', {});
    f.grant.expired = await f.file({ durationHours: 0.001 });
    await f.approve(f.grant.expired);
    const short = await ok(as.req, 'GET', `/api/v1/requests/${f.grant.expired}`);
    assert.equal(short.state, 'active', 'before its time');
    f.grant.active = await f.file();
    await f.approve(f.grant.active);
    f.grant.revoked = await f.file();
    await f.approve(f.grant.revoked);
    await ok(as.req, 'POST', `/api/v1/requests/${f.grant.revoked}/revoke`, { reason: 'done' });
    f.grant.pending = await f.file();
    f.grant.denied = await f.file();
    await ok(as.appr2, 'POST', `/api/v1/requests/${f.grant.denied}/deny`, { reason: 'no case' });
    // A legal hold on the owner's mailbox, for the row 'my legal holds'.
    await ok(as.adm, 'POST', '/api/v1/holds', { name: 'Matrix', matter: 'LEG-9', custodians: ['own@corp.test'] });
    f.hold = (await ok(as.adm, 'POST', '/api/v1/holds', { name: 'Matrix case', matter: 'LEG-9', custodians: ['tgt@corp.test'], dateFrom: '2024-01-01', dateTo: '2024-12-31' })).id;
    f.grant.breakglass = (await ok(as.bg, 'POST', '/api/v1/breakglass', { ...GRANT_REQUEST, purpose: 'security-incident', ticket: null, permissions: ['search', 'read'], durationHours: 0.5 })).id;
    // A second past the short grant's end (1.8 s to lapse, 3.6 s to expire: the clock is moved,
    // nobody waits) both are over.
    world.clock.advance(Date.parse(short.endsAt) + 1000 - world.clock.now());
    for (const s of SITUATIONS) assert.equal((await ok(as.appr2, 'GET', `/api/v1/requests/${f.grant[s]}`)).state, s === 'breakglass' ? 'active' : s);
    // The requester's export job, run to its end here (serve runs them), for the export-job rows.
    const started = await as.req.call('POST', '/api/v1/exports', { q: 'body', grant: f.grant.active });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    f.job = started.body.id;
    world.parts.exports.run();
    const done = await waitUntil('the export job is done', async () => {
      const j = (await ok(as.req, 'GET', `/api/v1/exports/${f.job}`));
      assert.ok(j.state === 'queued' || j.state === 'running' || j.state === 'done', JSON.stringify(j));
      return j.state === 'done' && j;
    }, { timeoutMs: 30_000, intervalMs: 20 });
    f.jobFile = done.files[0].name;
    await world.takeAll();

    const failures: string[] = [];
    let cases = 0;
    for (const row of rows()) {
      for (const [i, role] of ROLES.entries()) {
        const name = USER[role];
        const target = row.target ? await row.target(f, role) : '';
        if (row.target) await world.takeAll();
        const call = row.call(f, target, role);
        const expected = row.expect[i];
        const r = await as[name].call(call.method, call.path, call.body);
        const entries: LedgerEntryView[] = await world.take(name);
        cases++;
        const where = `${row.name} as ${role} (${call.method} ${call.path})`;
        if (r.status !== expected) {
          failures.push(`${where}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}, expected ${expected}`);
          continue;
        }
        if (expected >= 200 && expected < 300) {
          try {
            row.check?.(r.body, role, f);
          } catch (err) {
            failures.push(`${where}: ${(err as Error).message}`);
          }
        } else {
          // SCIM answers in its own error shape (RFC 7644 §3.12), as identity providers read it.
          if (call.path.startsWith('/scim/')) assert.ok(r.body.schemas?.includes('urn:ietf:params:scim:api:messages:2.0:Error') && r.body.detail, `${where}: SCIM's error shape`);
          else assert.ok(typeof r.body.error?.code === 'string' && r.body.error.message, `${where}: one error shape`);
        }
        const want = expected >= 200 && expected < 300 ? (row.writes ? [{ ...row.writes, result: 'success' }] : []) : [{ ...(row.refusal ?? row.writes!), result: 'denied' }];
        const got = entries.map((e) => ({ type: e.type, operation: e.operation, result: e.result }));
        if (JSON.stringify(got) !== JSON.stringify(want)) failures.push(`${where}: ledger ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
        for (const e of entries) {
          if (e.sessionId === null) failures.push(`${where}: entry ${e.index} has no session id`);
          if (e.type === 'access' && e.result === 'success' && e.operation !== 'search' && e.operation !== 'export' && e.objects.messages.length !== 1) failures.push(`${where}: entry ${e.index} names ${e.objects.messages.length} messages`);
        }
      }
    }
    assert.equal(failures.length, 0, `${failures.length} of ${cases} cases failed:\n${failures.join('\n')}`);
    assert.ok(cases > 300, `${cases} cases`);
  } finally {
    await world.parts.exports.stop();
    await world.stop();
    await idp.close();
  }
});
