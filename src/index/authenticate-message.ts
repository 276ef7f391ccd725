import { Buffer } from 'node:buffer';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import type * as Mailauth from 'mailauth';
import type { ARCData, DKIMResult, DKIMVerifyResult, SPFResult } from 'mailauth';
import type { Resolver } from './dns-resolver.ts';

/** Verdict values as Authentication-Results (RFC 8601) writes them. */
export type AuthResult = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'temperror' | 'permerror' | 'policy';

export type AuthVerdicts = {
  /** null when the client address is unknown (imported mail): SPF cannot be checked */
  spf: { result: AuthResult; domain: string } | null;
  /** one entry per DKIM-Signature; empty when the message is not signed */
  dkim: DkimVerdict[];
  arc: { result: AuthResult } | null;
  /** null when DMARC does not apply: the message has no single From address */
  dmarc: { result: AuthResult; policy: string | null; domain: string } | null;
  /**
   * What the topmost Received-SPF header claims: written by an earlier hop, not
   * verified here, and the only SPF evidence that imported mail carries.
   */
  receivedSpf?: { result: string; clientIp: string | null; envelopeFrom: string | null };
  /** why a check could not be made as asked */
  error?: string;
};

export type DkimVerdict = {
  result: AuthResult;
  domain: string;
  selector: string;
  /** whether the signing domain aligns with the From domain (relaxed) */
  aligned?: boolean;
  /** the verifier's reason, e.g. "body hash did not verify" */
  comment?: string;
};

export type AuthContext = {
  clientAddress?: string | null;
  clientHelo?: string | null;
  mailFrom?: string | null;
  /** our host name, as written into the verdicts */
  mta: string;
  resolver: Resolver;
};

// mailauth's four checks from their own modules: its index also loads BIMI's certificate and
// SVG validation and DKIM signing, ~12 MB that the index thread would hold and never use.
const requireFromMailauth = createRequire(createRequire(import.meta.url).resolve('mailauth'));
const { dkimVerify } = requireFromMailauth('./dkim/verify') as Pick<typeof Mailauth, 'dkimVerify'>;
const { spf } = requireFromMailauth('./spf') as Pick<typeof Mailauth, 'spf'>;
const { dmarc } = requireFromMailauth('./dmarc') as Pick<typeof Mailauth, 'dmarc'>;
const { arc } = requireFromMailauth('./arc') as Pick<typeof Mailauth, 'arc'>;
// The address parser mailauth's DKIM verifier reads From with (its own nodemailer), so
// that DMARC is judged on the same From whichever path below found it.
const parseAddressList = requireFromMailauth('nodemailer/lib/addressparser') as (value: string) => { address?: string }[];

const RESULTS: ReadonlySet<string> = new Set<AuthResult>([
  'pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror', 'policy',
]);

/**
 * SPF, DKIM, ARC and DMARC verdicts for a message as it was received. Verdicts,
 * including fail and temperror, are values; a fault in the verification throws.
 *
 * mailauth's parts are called one by one, in the order and with the inputs its
 * `authenticate` uses, leaving out what an archive does not record (BIMI, the parsed
 * Received chain) and the work whose answer is known: SPF without a client address,
 * and hashing the body of a message that carries no signature.
 */
export async function authenticateMessage(raw: Uint8Array, ctx: AuthContext): Promise<AuthVerdicts> {
  const errors: string[] = [];
  let ip: string | undefined;
  if (ctx.clientAddress) {
    // Envelopes write IPv6 literals as "[IPv6:…]"; SPF wants the bare address.
    const address = ctx.clientAddress.trim().replace(/^\[(.*)\]$/, '$1').replace(/^ipv6:/i, '');
    if (isIP(address)) ip = address;
    else errors.push(`client address ${JSON.stringify(ctx.clientAddress)} is not an IP address; SPF not checked`);
  }
  const message = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const sender = ctx.mailFrom || undefined;

  // Without a DKIM-Signature or ARC header, all the verifier would find is the From
  // addresses: its byte-by-byte pass over the whole message is skipped.
  // The header block, one character per byte, as mailauth reads it.
  const head = message.toString('latin1', 0, headerBlockEnd(message));
  const dkimReport = SIGNATURE_HEADER_RE.test(head)
    ? await dkimVerify(message, { resolver: ctx.resolver, sender })
    : unsignedReport(head);

  let spfReport: SPFResult | null = null;
  if (ip) {
    let helo = ctx.clientHelo || ip;
    // mailauth writes an address HELO in the bracket syntax.
    if (isIP(helo)) helo = `[${helo}]`;
    spfReport = await spf({ resolver: ctx.resolver, ip, helo, sender, mta: ctx.mta });
  }
  // mailauth's typings say a chain is never `false`, but it is when the message has no ARC
  // headers, and arc() answers "none" for it.
  const arcReport = await arc(dkimReport.arc as ARCData, { resolver: ctx.resolver });
  const dmarcReport = await dmarc({
    headerFrom: dkimReport.headerFrom,
    spfDomains: spfReport?.status.result === 'pass' && spfReport.domain ? [spfReport.domain] : [],
    dkimDomains: dkimReport.results
      .filter((r) => r.status.result === 'pass')
      .map((r) => ({ id: r.id, domain: r.signingDomain, aligned: r.status.aligned, underSized: r.status.underSized })),
    arcResult: arcReport,
    resolver: ctx.resolver,
  });

  const dkim = dkimReport.results
    // mailauth reports an unsigned message as one "none" entry without a domain.
    .filter((r) => r.signingDomain)
    .map((r: DKIMResult & { bodyHash?: string; bodyHashExpecting?: string }) => {
      let result = toResult(r.status.result);
      // mailauth, like Gmail, says neutral when the body hash does not match. RFC 6376
      // 6.3 makes that a PERMFAIL, and to an archive it is the mark of an altered body.
      if (result === 'neutral' && r.bodyHashExpecting && r.bodyHash !== r.bodyHashExpecting) result = 'fail';
      const verdict: DkimVerdict = { result, domain: r.signingDomain, selector: r.selector ?? '' };
      if (r.status.aligned !== undefined) verdict.aligned = Boolean(r.status.aligned);
      if (r.status.comment) verdict.comment = r.status.comment;
      return verdict;
    });

  const verdicts: AuthVerdicts = {
    spf: spfReport ? { result: toResult(spfReport.status.result), domain: spfReport.domain } : null,
    dkim,
    arc: arcReport ? { result: toResult(arcReport.status.result) } : null,
    dmarc: dmarcReport
      ? { result: toResult(dmarcReport.status.result), policy: dmarcReport.policy || null, domain: dmarcReport.domain }
      : null,
  };
  const receivedSpf = readReceivedSpf('receivedSpf' in dkimReport ? dkimReport.receivedSpf : firstLine(dkimReport.headers?.parsed, 'received-spf'));
  if (receivedSpf) verdicts.receivedSpf = receivedSpf;
  if (errors.length) verdicts.error = errors.join('; ');
  return verdicts;
}

// Where mailauth's message parser ends the header block: after the first empty line, with
// a bare LF read as CRLF; the whole message when there is none.
function headerBlockEnd(bytes: Buffer): number {
  for (let lf = bytes.indexOf(0x0a); lf >= 0; lf = bytes.indexOf(0x0a, lf + 1)) {
    if (bytes[lf - 1] === 0x0a || (lf >= 2 && bytes[lf - 1] === 0x0d && bytes[lf - 2] === 0x0a)) return lf + 1;
  }
  return bytes.length;
}

// Whether a header line could be a DKIM-Signature or ARC header, erring towards yes: the
// verifier then reads the whole message.
const SIGNATURE_HEADER_RE = /(?:^|\n)[ \t]*(?:dkim-signature|arc-)/i;

type UnsignedReport = { headerFrom: string[]; results: DKIMVerifyResult['results']; arc: { chain: false }; receivedSpf: string | null };

// What dkimVerify reports for a message without signatures, read as it reads it, and the
// first Received-SPF line.
function unsignedReport(head: string): UnsignedReport {
  const headerFrom: string[] = [];
  let receivedSpf: string | null = null;
  for (const { key, text } of parseHeaderBlock(head)) {
    if (key === 'from') {
      const line = utf8(text);
      for (const addr of parseAddressList(line.slice(line.indexOf(':') + 1).trim())) if (addr?.address) headerFrom.push(addr.address);
    } else if (key === 'received-spf' && receivedSpf === null) {
      receivedSpf = utf8(text);
    }
  }
  return { headerFrom, results: [], arc: { chain: false }, receivedSpf };
}

// mailauth's parseHeaders: unfolded header lines (one character per byte) and their
// lowercased names.
function parseHeaderBlock(head: string): { key: string | null; text: string }[] {
  const rows: string[] = [];
  for (const line of head.replace(/[\r\n]+$/, '').split(/\r?\n/)) {
    if (rows.length > 0 && /^\s/.test(line)) rows[rows.length - 1] += `\r\n${line}`;
    else rows.push(line);
  }
  return rows.map((text) => {
    const name = /^[^:]+/.exec(text);
    return { key: name ? name[0].trim().toLowerCase() : null, text };
  });
}

// A header line's bytes read as UTF-8, as mailauth reads them.
function utf8(text: string): string {
  return Buffer.from(text, 'latin1').toString('utf8');
}

function firstLine(headers: { key: string | null; line: unknown }[] | undefined, key: string): string | null {
  const header = headers?.find((h) => h.key === key);
  return header ? String(header.line) : null;
}

function toResult(value: string): AuthResult {
  const result = value === 'temperr' ? 'temperror' : value;
  if (!RESULTS.has(result)) throw new Error(`mailauth returned an unknown verdict ${JSON.stringify(value)}`);
  return result as AuthResult;
}

function readReceivedSpf(line: string | null): AuthVerdicts['receivedSpf'] | null {
  if (line === null) return null;
  const value = line.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]/g, ' ').trim();
  const result = /^[a-z]+/i.exec(value)?.[0].toLowerCase() ?? '';
  const param = (name: string) => new RegExp(`(?:^|[\\s;])${name}\\s*=\\s*<?([^\\s;<>]*)`, 'i').exec(value)?.[1] || null;
  return { result, clientIp: param('client-ip'), envelopeFrom: param('envelope-from') };
}
