import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { SealboxError } from './errors.ts';
import { ROLES } from '../access/roles.ts';

// The one configuration schema. Defaults give the embedded mode: one data folder, loopback listeners.
// Unknown keys are rejected (strictObject) so a typo never silently falls back to a default.

// Hosts that never leave the machine: a provider there may answer over plain http (tests, a
// provider run beside Sealbox).
export const LOOPBACK = /^(127(\.\d{1,3}){3}|\[::1\]|localhost)$/;

// Whether an ldap:// URL names the loopback (where a password in the clear never leaves the machine).
function isLoopbackUrl(url: string): boolean {
  const host = /^ldaps?:\/\/(\[[^\]]+\]|[^:/]+)/i.exec(url)?.[1]?.toLowerCase().replace(/^\[|\]$/g, '') ?? '';
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, 'expected HOST:PORT');

const listener = (port: number) => z.strictObject({
  enabled: z.boolean().default(true),
  listen: hostPort.default(`127.0.0.1:${port}`),
});

// Who may read what, and how sign-in works: also changeable at run time by admins (src/access/policy.ts).
export const accessPolicySchema = z.strictObject({
  totpRequired: z.boolean().default(true),          // for every role except plain owner
  sessionHours: z.number().positive().max(24 * 30).default(12),
  secureCookies: z.boolean().default(true),
  enrolmentHours: z.number().positive().default(24),
  lockoutAttempts: z.number().int().min(1).default(5),
  lockoutMinutes: z.number().positive().default(15),
  signinPerMinute: z.number().int().positive().default(20),       // per client address, on top of the lockout
  requestsPerMinute: z.number().int().positive().default(1200),   // per client address
  approvalsNeeded: z.number().int().min(1).max(10).default(1),
  sensitivityApprovals: z.record(z.string(), z.number().int().min(1).max(10)).default({ executive: 2 }),
  maxGrantHours: z.number().positive().default(72),
  pendingLapseHours: z.number().positive().default(24),
  breakglassMaxMinutes: z.number().positive().max(60).default(60),
  purposes: z.array(z.string().min(1)).min(1).default(['legal-hold', 'hr-investigation', 'user-support', 'subject-access-request', 'security-incident']),
  // How the web app names a purpose (the slug stays the value stored and sent); a purpose without
  // a label is shown in words made from its slug ("hr-investigation": "HR investigation").
  purposeLabels: z.record(z.string(), z.string().min(1).max(100)).default({}),
  // Four eyes means two people: for this many days after someone created, enrolled or changed
  // the roles of an account, the two do not approve each other's requests (src/access/four-eyes.ts).
  linkedPeopleDays: z.number().min(0).max(3650).default(30),
}).superRefine((policy, ctx) => {
  for (const key of Object.keys(policy.purposeLabels)) {
    if (!policy.purposes.includes(key)) ctx.addIssue({ code: 'custom', path: ['purposeLabels', key], message: `names "${key}", which is not one of the purposes` });
  }
});

const schema = z.strictObject({
  data: z.string().min(1).default('./sealbox-data'),
  smtp: listener(2525).prefault({}),
  lmtp: listener(2424).prefault({}),
  http: listener(8025).prefault({}),                // the web app and the HTTP API
  milter: z.strictObject({
    enabled: z.boolean().default(false),
    listen: hostPort.default('127.0.0.1:8891'),
    // guarantee: end of message is answered only after the commit (tempfail on any fault);
    // observe: answered once the message is in the durable spool, archived in the background.
    mode: z.enum(['guarantee', 'observe']).default('guarantee'),
    spool: z.string().min(1).optional(),             // default <data>/milter-spool
  }).prefault({}),
  receiver: z.strictObject({
    hostname: z.string().min(1).default('sealbox.localhost'),
    maxMessageBytes: z.number().int().positive().default(150 * 1024 * 1024),
    maxRecipients: z.number().int().positive().default(50_000),
    allowedClients: z.array(z.string().min(1)).default([]),          // empty: any client
    recipientDomains: z.array(z.string().min(1)).default([]),        // empty: any domain
    trustedClients: z.array(z.string().min(1)).default(['127.0.0.1', '::1']), // may send XFORWARD/XCLIENT
    journalClients: z.array(z.string().min(1)).default(['127.0.0.1', '::1']), // Exchange journal reports unwrapped from these
    tls: z.strictObject({ key: z.string().min(1), cert: z.string().min(1) }).optional(),
    socketTimeoutSeconds: z.number().int().positive().default(300),
  }).prefault({}),
  internalDomains: z.array(z.string().min(1)).default([]),
  // How long mail is kept (src/retention/): rules, changed through the API and the console, say so
  // for the mail they match; mail matching none is kept this many days (null: for ever). Fixed for
  // each capture when it is committed.
  retention: z.strictObject({
    defaultDays: z.number().int().min(1).max(100_000).nullable().default(null),
    // The server disposes of mail past its retention and under no legal hold this often
    // (0: never; `sealbox dispose --run` does it by hand).
    disposeEveryHours: z.number().min(0).max(576).default(24),
    // A leaver's mail (src/retention/leavers.ts) is disposed this many months after the day they
    // left, unless a rule's minimum or a hold keeps it (Datatilsynet: at most 6). Fixed into each
    // leaving date when it is filed, so changing it later does not shorten one agreed to.
    leaverMonths: z.number().int().min(1).max(1200).default(6),
  }).prefault({}),
  // Export jobs (src/export/export-jobs.ts): evidence packages the server makes in the background.
  export: z.strictObject({
    // A job's zip is split into volumes of at most this many bytes (a job may ask for another size).
    volumeBytes: z.number().int().min(1024 * 1024).max(2 ** 50).default(2 * 1024 ** 3),
    // How many jobs this server runs at once; 0: none (they wait, queued, for a server that does).
    jobs: z.number().int().min(0).max(8).default(1),
    // Where finished jobs' volumes are written and downloaded from (relative: to the config
    // file); default <data>/exports. Several nodes: a folder they all reach, since the node
    // holding the duties makes the files and any node serves the download.
    folder: z.string().min(1).optional(),
    // A data subject's copy (GDPR Art. 15): mail of which others are the main party (the person
    // only in Cc, Bcc, or as a list's or alias's recipient) is withheld and counted, or included.
    // A job may ask for the other; the default protects the others.
    subjectAccess: z.strictObject({
      otherParties: z.enum(['withhold', 'include']).default('withhold'),
    }).prefault({}),
  }).prefault({}),
  commit: z.strictObject({
    maxBatch: z.number().int().min(1).max(10_000).default(512),
    // A message in memory up to this size is sealed in one piece; larger ones stream to their own file.
    inlineBlobBytes: z.number().int().min(4096).max(64 * 1024 * 1024).default(1024 * 1024),
  }).prefault({}),
  ledger: z.strictObject({
    origin: z.string().regex(/^\S+$/, 'no white space').default('sealbox.localhost/ledger'),
    checkpointEveryEntries: z.number().int().positive().default(10_000),
    checkpointEverySeconds: z.number().int().positive().default(60),
    // Outside witnesses that keep every signed checkpoint, so a rewritten history is caught later
    // (`sealbox verify --against`): folders to write them to (e.g. another machine's mount),
    // addresses to mail them to (through notify.smtp) and signed webhooks to post them to.
    witnesses: z.strictObject({
      directories: z.array(z.string().min(1)).default([]),
      emails: z.array(z.string().min(3)).default([]),
      webhooks: z.array(z.strictObject({ url: z.string().url(), secretFile: z.string().min(1) })).default([]),
    }).prefault({}),
  }).prefault({}),
  // The backends, chosen in one place (src/store/open-stores.ts). The embedded default: SQLite for
  // metadata, the ledger and search; sealed blobs in local files. Blobs may instead go to an S3
  // bucket with Object Lock (src/store/s3-blob-driver.ts).
  store: z.strictObject({
    kind: z.enum(['sqlite', 'postgres']).default('sqlite'),
    // store.kind "postgres": metadata, the ledger and the search index in one PostgreSQL database
    // (src/store/postgres/, src/index/postgres/; README, "Scale-out").
    postgres: z.strictObject({
      // postgres://user@host:port/database, without a password (that goes in passwordFile).
      url: z.string().regex(/^postgres(ql)?:\/\/[^\s]+$/, 'a postgres://user@host:port/database URL'),
      // A file (mode 0600) holding the password alone: never the password itself here. Without
      // it, pg reads PGPASSWORD or ~/.pgpass, or the server trusts the user.
      passwordFile: z.string().min(1).optional(),
      // The schema the archive's tables live in (made if missing).
      schema: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a plain lowercase PostgreSQL name').default('public'),
      // Connections per process at most (a write holds one, each read one).
      poolSize: z.number().int().min(2).max(200).default(10),
      // The longest a write waits for the archive's write lock, and for the answer to its COMMIT
      // (a synchronous standby that stopped confirming holds every COMMIT): past it the write
      // fails, and mail is answered 451 rather than left without a reply.
      writeTimeoutMs: z.number().int().min(100).max(600_000).default(30_000),
    }).optional(),
  }).superRefine((store, ctx) => {
    if (store.kind === 'postgres' && !store.postgres) ctx.addIssue({ code: 'custom', path: ['postgres'], message: 'store.kind "postgres" needs store.postgres (url, passwordFile)' });
    if (store.postgres && /^postgres(ql)?:\/\/[^/@]*:[^/@]*@/.test(store.postgres.url)) {
      ctx.addIssue({ code: 'custom', path: ['postgres', 'url'], message: 'holds a password: put it in store.postgres.passwordFile (mode 0600) instead' });
    }
  }).prefault({}),
  blobs: z.strictObject({
    kind: z.enum(['files', 's3']).default('files'),
    s3: z.strictObject({
      endpoint: z.string().url(),
      bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)'),
      region: z.string().min(1).default('us-east-1'),
      // A file (mode 0600) holding {"accessKeyId": ..., "secretAccessKey": ...}: never the keys themselves here.
      credentialsFile: z.string().min(1),
      forcePathStyle: z.boolean().default(true),
      prefix: z.string().regex(/^([\w.-]+\/)*$/, 'empty, or folder names each ending in /').default(''),
      partMiB: z.number().int().min(5).max(5120).default(8),
      // Object Lock needs a date: what is kept for ever is locked this long from its put.
      foreverLockDays: z.number().int().min(1).max(36_500).default(3650),
      // How often the server gives S3 legal holds to the objects holding mail under a legal hold,
      // and takes them off objects no hold covers any more.
      holdSyncSeconds: z.number().int().min(1).max(86_400).default(60),
    }).optional(),
  }).superRefine((blobs, ctx) => {
    if (blobs.kind === 's3' && !blobs.s3) ctx.addIssue({ code: 'custom', path: ['s3'], message: 'blobs.kind "s3" needs blobs.s3 (endpoint, bucket, credentialsFile)' });
  }).prefault({}),
  // Free space where Sealbox writes (data folder, blobs, milter spool), checked once a second.
  storage: z.strictObject({
    warnFreeBytes: z.number().int().min(0).default(2 * 1024 ** 3),      // below: a warning in the log and on the health page
    refuseFreeBytes: z.number().int().min(0).default(256 * 1024 ** 2),  // below: new mail is answered 452 before anything is written
  }).prefault({}),
  index: z.strictObject({
    batch: z.number().int().min(1).max(10_000).default(200),
    // How often the index thread checks, when idle, that the index holds exactly one document per
    // live message (sealbox verify --index); the health page shows the last result. 0: never.
    checkEveryMinutes: z.number().min(0).default(60),
    // Read the text inside attachments (PDF, Office, OpenDocument, RTF, archives, attached mail)
    // after each message is indexed, and make it searchable.
    attachmentText: z.boolean().default(true),
    // Read the text in pictures (PNG, JPEG, TIFF) and in PDFs without a text layer with Debian's
    // tesseract, in these languages (tesseract's names, joined by "+": "eng+nor+deu").
    ocr: z.boolean().default(false),
    ocrLanguages: z.string().regex(/^[a-z][a-z0-9_]{1,30}(\+[a-z][a-z0-9_]{1,30}){0,9}$/, 'tesseract language names joined by "+", e.g. "eng+nor"').default('eng'),
  }).prefault({}),
  auth: z.strictObject({
    enabled: z.boolean().default(true),
    // 'system' uses the host's resolver; a path names a JSON zone file (offline sites, tests).
    dns: z.string().min(1).default('system'),
    // With dns 'system': the name servers to ask instead of the host's ("ip" or "ip:port").
    servers: z.array(z.string().min(1)).default([]),
    timeoutMs: z.number().int().positive().default(5000),
  }).prefault({}),
  keys: z.strictObject({
    masterKeyFile: z.string().min(1).optional(),   // default <data>/keys/master.key
    signingKeyFile: z.string().min(1).optional(),  // default <data>/keys/ledger-signing.pem
  }).prefault({}),
  access: accessPolicySchema.prefault({}),
  // Single sign-on through OpenID Connect providers (src/access/sso-sign-in.ts). A first sign-in
  // creates the person; groups give roles, but only owner and requester at once: any other role a
  // group would give waits for an approver (an administrator often runs the provider too).
  sso: z.strictObject({
    // The web app's address as browsers reach it, e.g. https://archive.example.org: each provider
    // redirects to <publicUrl>/api/v1/sso/<id>/callback (register that), and RP-initiated logout
    // returns to <publicUrl>/. Default: the scheme and Host of the browser's request, which is
    // wrong behind a proxy that ends TLS.
    publicUrl: z.string().url().refine((u) => /^https?:\/\//.test(u), 'expected an http(s) URL').optional(),
    providers: z.array(z.strictObject({
      id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'lowercase letters, digits and -, at most 32'),
      label: z.string().min(1).max(60),                          // the button: "Sign in with <label>"
      issuer: z.string().url(),                                  // https:// (http:// only on the loopback)
      clientId: z.string().min(1),
      // A file holding the client secret (never the secret itself in the config); absent: a public
      // client, proven by PKCE alone.
      clientSecretFile: z.string().min(1).optional(),
      scopes: z.array(z.string().min(1)).default(['openid', 'profile', 'email']),
      usernameClaim: z.string().min(1).default('preferred_username'),   // becomes the Sealbox user name
      groupsClaim: z.string().min(1).default('groups'),
      // The provider's word that the person signed in with more than a password: any of these in
      // the ID token's `amr`, or its `acr` equal to one of these. None by default: trusting them
      // means trusting whoever runs the provider, so Sealbox asks for its own TOTP instead.
      mfaAmr: z.array(z.string().min(1)).default([]),
      mfaAcr: z.array(z.string().min(1)).default([]),
    })).default([]),
    // Role → the provider groups that give it (a group named in several providers' tokens counts
    // in each). Owner and requester apply at once; every other role is filed for an approver.
    // Without an `owner` entry everyone who signs in is an owner (reading nothing but the
    // mailboxes the directory gives them). A role not named here is left as Sealbox has it.
    roleGroups: z.partialRecord(z.enum(ROLES), z.array(z.string().min(1)).min(1)).default({}),
    // Who may still sign in with a local password: everyone, or only the named accounts (the
    // first administrator, break-glass holders for when the provider is down).
    localSignIn: z.union([z.literal('everyone'), z.array(z.string().min(1)).min(1)]).default('everyone'),
  }).superRefine((sso, ctx) => {
    const ids = sso.providers.map((p) => p.id);
    ids.forEach((id, i) => { if (ids.indexOf(id) !== i) ctx.addIssue({ code: 'custom', path: ['providers', i, 'id'], message: `"${id}" names two providers` }); });
    sso.providers.forEach((p, i) => {
      if (!URL.canParse(p.issuer)) return;   // named by the issuer's own check
      const url = new URL(p.issuer);
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.test(url.hostname))) ctx.addIssue({ code: 'custom', path: ['providers', i, 'issuer'], message: 'must be https:// (http:// only for a provider on the loopback)' });
      if (!p.scopes.includes('openid')) ctx.addIssue({ code: 'custom', path: ['providers', i, 'scopes'], message: 'must include "openid"' });
    });
  }).prefault({}),
  // Directory sync (src/directory/): people, mailboxes, managers, departments, roles and leavers
  // read from LDAP / Active Directory on a schedule, or pushed by an identity provider over SCIM.
  // Whatever would give someone a role or a mailbox, or a leaving date, is filed for someone
  // else's approval exactly as the CSV import and sign-in through a provider do.
  directory: z.strictObject({
    // A sync that would disable or mark as gone more than this share of the people the directory
    // named before stops and asks for confirmation (`sealbox directory sync --confirm`).
    maxRemovalShare: z.number().min(0).max(1).default(0.1),
    ldap: z.strictObject({
      url: z.string().regex(/^ldaps?:\/\/\S+$/, 'expected ldap://HOST[:PORT] or ldaps://HOST[:PORT]'),
      bindDn: z.string().min(1),
      bindPasswordFile: z.string().min(1),                      // the password in a file, never in the config
      baseDns: z.array(z.string().min(1)).min(1),
      // ad: Active Directory's attributes; ldap: inetOrgPerson and groupOfNames (OpenLDAP, 389-ds).
      preset: z.enum(['ad', 'ldap']).default('ldap'),
      userFilter: z.string().min(3).optional(),                  // default: the preset's
      groupFilter: z.string().min(3).optional(),
      // People matching this filter are disabled (LDAP has no one attribute for it; AD's
      // userAccountControl bit 2 counts too under the ad preset).
      disabledFilter: z.string().min(3).optional(),
      // Shared mailboxes and distribution lists: entries with an address whose owner is named by
      // `sharedOwnerAttribute` (a DN); absent: none are read.
      sharedFilter: z.string().min(3).optional(),
      sharedOwnerAttribute: z.string().min(1).optional(),        // default: owner (ldap), managedBy (ad)
      // Attribute names, over the preset's.
      attributes: z.strictObject({
        userName: z.string().min(1).optional(),
        mail: z.string().min(1).optional(),
        aliases: z.string().min(1).optional(),
        displayName: z.string().min(1).optional(),
        manager: z.string().min(1).optional(),
        department: z.string().min(1).optional(),
        groupName: z.string().min(1).optional(),
        member: z.string().min(1).optional(),
      }).prefault({}),
      everyMinutes: z.number().min(0).max(10_080).default(60),  // 0: only on demand
      timeoutMs: z.number().int().positive().default(10_000),
      caFile: z.string().min(1).optional(),                      // for ldaps:// or StartTLS with a private CA
      // ldap:// only: upgrade the connection with StartTLS before the bind (the server's
      // certificate checked against caFile or the system's CAs).
      startTls: z.boolean().default(false),
      // ldap:// without StartTLS to a host other than the loopback sends the bind password in the
      // clear: refused unless this says so.
      allowPlaintext: z.boolean().default(false),
    }).superRefine((l, ctx) => {
      const plain = l.url.startsWith('ldap://');
      if (!plain && l.startTls) ctx.addIssue({ code: 'custom', path: ['startTls'], message: 'StartTLS is for ldap:// URLs; ldaps:// is TLS from the start' });
      if (plain && !l.startTls && !l.allowPlaintext && !isLoopbackUrl(l.url)) {
        ctx.addIssue({ code: 'custom', path: ['url'], message: `${l.url} would carry the bind password in the clear: set startTls: true (or use ldaps://), or allowPlaintext: true to accept that` });
      }
    }).optional(),
  }).prefault({}),
  notify: z.strictObject({
    smtp: hostPort.nullable().default(null),                     // relay for notification mail; null: mail is not sent
    from: z.string().min(3).default('sealbox@localhost'),
    auditors: z.array(z.string().min(3)).default([]),            // addresses told of break-glass use besides auditor users
    webhooks: z.array(z.strictObject({ url: z.string().url(), secretFile: z.string().min(1) })).default([]),
    retrySeconds: z.number().int().positive().default(60),
    maxAttempts: z.number().int().positive().default(10),
  }).prefault({}),
  // Oversight (src/oversight/): the review queue's random sample, what counts as high impact,
  // alert thresholds and scheduled digests. Alerts and digests go to users with the auditor role,
  // notify.auditors and notify.webhooks.
  oversight: z.strictObject({
    sampleRate: z.number().min(0).max(1).default(0.1),          // share of closed grants put in the review queue
    sampleSeed: z.string().min(8).optional(),                   // default: made once, kept in <data>/keys/review-sample.seed (0600)
    bulkSearchResults: z.number().int().positive().default(500),     // a search with at least this many results is high impact
    alertMessagesPerGrant: z.number().int().positive().default(100), // messages read or exported under one grant
    alertExtensions: z.number().int().positive().default(2),         // a grant extended this many times in a row
    verifyEveryMinutes: z.number().positive().default(60),           // the ledger re-verified in the background
    ledgerRoundDays: z.number().positive().default(7),               // …each entry re-hashed at least this often (the newest every time)
    auditorDigest: z.enum(['daily', 'weekly', 'off']).default('daily'),
    ownerDigest: z.enum(['daily', 'weekly', 'off']).default('weekly'),
    sweepSeconds: z.number().positive().default(5),
  }).prefault({}),
  log: z.strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  }).prefault({}),
});

export type Config = z.infer<typeof schema>;

export interface ConfigOverrides {
  data?: string;
  smtp?: string;
  lmtp?: string;
  http?: string;
  milter?: string;
  logLevel?: string;
}

// Precedence: flags > environment (SEALBOX_*) > config file > defaults.
export function loadConfig(file: string | undefined, overrides: ConfigOverrides = {}, env = process.env): Config {
  let raw: Record<string, any> = {};
  const path = file ?? env.SEALBOX_CONFIG;
  if (path) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new SealboxError('SEALBOX_ERR_CONFIG', `cannot read config file ${path}: ${(err as Error).message}`);
    }
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new SealboxError('SEALBOX_ERR_CONFIG', `config file ${path} is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new SealboxError('SEALBOX_ERR_CONFIG', `config file ${path} must hold a JSON object`);
    }
  }
  const pick = (flag: string | undefined, name: string) => flag ?? env[name];
  const data = pick(overrides.data, 'SEALBOX_DATA');
  if (data) raw.data = data;
  for (const [key, envName] of [['smtp', 'SEALBOX_SMTP'], ['lmtp', 'SEALBOX_LMTP'], ['http', 'SEALBOX_HTTP'], ['milter', 'SEALBOX_MILTER']] as const) {
    const value = pick(overrides[key], envName);
    if (value === undefined) continue;
    raw[key] = { ...(raw[key] ?? {}), ...(value === 'off' ? { enabled: false } : { enabled: true, listen: value }) };
  }
  const level = pick(overrides.logLevel, 'SEALBOX_LOG_LEVEL');
  if (level) raw.log = { ...(raw.log ?? {}), level };

  // Parsed once a process: zod's JIT (a parser generated and compiled for each object shape)
  // cost ~10 ms of every command's start and saves nothing on a single parse.
  const parsed = schema.safeParse(raw, { jitless: true });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.join('.');
    const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => (where ? `${where}.${k}` : k)) : [];
    const detail = keys.length > 0 ? `unknown key ${keys.map((k) => `"${k}"`).join(', ')}` : `"${where}": ${issue.message}`;
    throw new SealboxError('SEALBOX_ERR_CONFIG', `invalid configuration${path ? ` in ${path}` : ''}: ${detail}`);
  }
  const config = parsed.data;
  config.data = resolve(config.data);
  return config;
}

export function parseHostPort(value: string): { host: string; port: number } {
  const i = value.lastIndexOf(':');
  const host = value.slice(0, i).replace(/^\[|\]$/g, '');
  return { host, port: Number(value.slice(i + 1)) };
}
