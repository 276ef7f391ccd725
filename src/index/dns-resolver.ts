import { Resolver as DnsResolver } from 'node:dns/promises';
import { isIPv4, isIPv6 } from 'node:net';
import type { Config } from '../core/config.ts';
import { readConfiguredFile } from '../core/configured-files.ts';
import { SealboxError } from '../core/errors.ts';

/**
 * DNS as mailauth's `resolver` option calls it: like `dns.promises.resolve(name, rrtype)`,
 * answering in node:dns shapes (TXT as arrays of string chunks, MX as
 * `{ exchange, priority }`) and rejecting with node:dns error codes. mailauth reads
 * ENOTFOUND and ENODATA as "no such record" and any other code as a temporary error.
 */
// `any`: the answer's shape depends on the record type, as with node:dns.
export type Resolver = (name: string, rrtype: string) => Promise<any>;

/** name → record type → answers, in the shapes node:dns returns. */
export type StaticZone = Record<string, Record<string, unknown[]>>;

/**
 * The system's DNS servers (or `servers`), with every lookup answered or failed with
 * ETIMEOUT within `timeoutMs`.
 */
export function systemResolver(timeoutMs = 5000, servers?: string[]): Resolver {
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) {
    throw new TypeError(`timeoutMs must be a positive integer, got ${timeoutMs}`);
  }
  // c-ares doubles the timeout on its retry, so two tries fit in the deadline.
  const dns = new DnsResolver({ timeout: Math.max(1, Math.floor(timeoutMs / 3)), tries: 2 });
  if (servers) dns.setServers(servers);

  return (name, rrtype) =>
    new Promise((resolve, reject) => {
      // The deadline covers everything c-ares does (several servers, retries).
      const timer = setTimeout(() => reject(dnsError('ETIMEOUT', rrtype, name)), timeoutMs);
      dns.resolve(name, rrtype).then(
        (answers) => {
          clearTimeout(timer);
          resolve(answers);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
}

/**
 * A declarative zone, answered the way node:dns answers: ENOTFOUND for a name the zone
 * does not hold, ENODATA for a record type the name does not have. For tests and for
 * deployments without DNS. The zone is checked when the resolver is made, so a
 * malformed zone file fails at start-up, naming the entry.
 */
export function staticZoneResolver(zone: StaticZone): Resolver {
  if (!isPlainObject(zone)) throw new TypeError('zone must be an object of names');
  const names = new Map<string, Map<string, unknown[]>>();
  for (const [name, rrsets] of Object.entries(zone)) {
    const key = normalizeName(name);
    if (!key) throw new TypeError(`zone: empty name ${JSON.stringify(name)}`);
    if (!isPlainObject(rrsets)) throw new TypeError(`zone[${JSON.stringify(name)}] must map record types to answers`);
    const types = names.get(key) ?? new Map<string, unknown[]>();
    for (const [rrtype, answers] of Object.entries(rrsets)) {
      const type = rrtype.toUpperCase();
      checkAnswers(`zone[${JSON.stringify(name)}].${type}`, type, answers);
      types.set(type, structuredClone(answers));
    }
    names.set(key, types);
  }

  return async (name, rrtype) => {
    const type = String(rrtype).toUpperCase();
    const types = names.get(normalizeName(String(name)));
    if (!types) throw dnsError('ENOTFOUND', type, name);
    const answers = types.get(type);
    if (!answers?.length) throw dnsError('ENODATA', type, name);
    // A copy, so that a caller cannot change the zone.
    return structuredClone(answers);
  };
}

function checkAnswers(where: string, type: string, answers: unknown): asserts answers is unknown[] {
  if (!Array.isArray(answers)) throw new TypeError(`${where} must be an array of answers`);
  const bad = (expected: string) => new TypeError(`${where} answers must be ${expected}`);
  switch (type) {
    case 'TXT':
      if (!answers.every((a) => Array.isArray(a) && a.every((chunk) => typeof chunk === 'string'))) {
        throw bad('arrays of strings, as node:dns returns TXT records');
      }
      break;
    case 'A':
      if (!answers.every((a) => typeof a === 'string' && isIPv4(a))) throw bad('IPv4 addresses');
      break;
    case 'AAAA':
      if (!answers.every((a) => typeof a === 'string' && isIPv6(a))) throw bad('IPv6 addresses');
      break;
    case 'MX':
      if (!answers.every((a) => isPlainObject(a) && typeof a.exchange === 'string' && Number.isInteger(a.priority))) {
        throw bad('{ exchange, priority } objects');
      }
      break;
    case 'CNAME':
    case 'NS':
    case 'PTR':
      if (!answers.every((a) => typeof a === 'string')) throw bad('host names');
      break;
    default:
    // Other types are passed through as written.
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// DNS names compare without case, and "example.com." is "example.com".
function normalizeName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

// Shaped like node:dns errors ("queryTxt ENOTFOUND example.com"), which mailauth reads.
// Without a stack trace: "no such record" is an answer, given for most lookups, and
// capturing a stack each time was a measurable share of the indexer's work.
function dnsError(code: string, rrtype: string, name: string): Error {
  const type = String(rrtype).toUpperCase();
  const syscall = `query${type.charAt(0)}${type.slice(1).toLowerCase()}`;
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return Object.assign(new Error(`${syscall} ${code} ${name}`), { code, syscall, hostname: name });
  } finally {
    Error.stackTraceLimit = limit;
  }
}

export interface CacheOptions {
  maxInFlight?: number;     // questions out at once; the rest wait their turn
  answerTtlMs?: number;     // answers, and "no such record", are kept this long
  failureTtlMs?: number;    // a timeout or server failure is kept this long
  maxEntries?: number;
  now?: () => number;
}

/**
 * Lookups as the authentication checks make them, over `inner`: the same question asked once at
 * a time (concurrent askers share the answer), answers and "no such record" kept for
 * `answerTtlMs`, a temporary failure for `failureTtlMs` — so that mail from a domain whose name
 * servers are dead costs one timeout now and then, not one per message — and at most
 * `maxInFlight` questions out at once. Mail from one sender comes in bursts: most lookups are
 * answered from here. A verdict made from a kept answer is still the verdict of that moment
 * (the checker records when it checked); the kept time is short beside a record's usual TTL.
 */
export function cachingResolver(inner: Resolver, o: CacheOptions = {}): Resolver {
  const maxInFlight = o.maxInFlight ?? 64;
  const answerTtl = o.answerTtlMs ?? 5 * 60_000;
  const failureTtl = o.failureTtlMs ?? 30_000;
  const maxEntries = o.maxEntries ?? 20_000;
  const now = o.now ?? Date.now;
  const kept = new Map<string, { until: number; answer: Promise<unknown> }>();
  const waiting: (() => void)[] = [];
  let out = 0;

  const ask = async (name: string, rrtype: string): Promise<unknown> => {
    if (out >= maxInFlight) await new Promise<void>((resolve) => waiting.push(resolve));
    out++;
    try {
      return await inner(name, rrtype);
    } finally {
      out--;
      waiting.shift()?.();
    }
  };

  return (name, rrtype) => {
    const key = `${String(rrtype).toUpperCase()} ${normalizeName(String(name))}`;
    const at = now();
    const hit = kept.get(key);
    if (hit && hit.until > at) return hit.answer as Promise<any>;
    if (hit) kept.delete(key);
    const answer = ask(name, rrtype);
    // In flight: shared until it settles, then kept for as long as its kind of answer is.
    const entry = { until: Infinity, answer };
    kept.set(key, entry);
    if (kept.size > maxEntries) kept.delete(kept.keys().next().value!);
    answer.then(
      () => { entry.until = now() + answerTtl; },
      (err: { code?: string }) => { entry.until = now() + (err?.code === 'ENOTFOUND' || err?.code === 'ENODATA' ? answerTtl : failureTtl); },
    );
    return answer as Promise<any>;
  };
}

/** The resolver `auth` configures: the system's, or the zone file `auth.dns` names, checked whole. */
export function resolverFor(auth: Config['auth']): Resolver {
  if (auth.dns === 'system') {
    try {
      return cachingResolver(systemResolver(auth.timeoutMs, auth.servers.length > 0 ? auth.servers : undefined));
    } catch (err) {
      throw new SealboxError('SEALBOX_ERR_CONFIG', `auth.servers: ${(err as Error).message}`);
    }
  }
  const text = readConfiguredFile('auth.dns', auth.dns);
  try {
    return staticZoneResolver(JSON.parse(text) as StaticZone);
  } catch (err) {
    throw new SealboxError('SEALBOX_ERR_CONFIG', `auth.dns: ${auth.dns} is not a valid zone: ${(err as Error).message}`);
  }
}
