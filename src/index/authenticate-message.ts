import { Buffer } from 'node:buffer';
import { isIP } from 'node:net';
import { arc, dkimVerify, dmarc, spf } from 'mailauth';
import type { ARCData, DKIMResult, SPFResult } from 'mailauth';
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

  // Without a DKIM-Signature or ARC header the verifier only reads the header block (the
  // From addresses for DMARC, the ARC chain), so that is all it is given.
  const headerEnd = headerBlockEnd(message);
  const dkimReport = await dkimVerify(mayBeSigned(message, headerEnd) ? message : message.subarray(0, headerEnd), { resolver: ctx.resolver, sender });

  let spfReport: SPFResult | null = null;
  if (ip) {
    let helo = ctx.clientHelo || ip;
    // mailauth writes an address HELO in the bracket syntax.
    if (isIP(helo)) helo = `[${helo}]`;
    spfReport = await spf({ resolver: ctx.resolver, ip, helo, sender, mta: ctx.mta });
  }
  // As authenticate does; mailauth's typings say a chain is never `false`, but it is when
  // the message has no ARC headers, and arc() answers "none" for it.
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
  const receivedSpf = readReceivedSpf(dkimReport.headers?.parsed);
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

function mayBeSigned(bytes: Buffer, headerEnd: number): boolean {
  return SIGNATURE_HEADER_RE.test(bytes.toString('latin1', 0, headerEnd));
}

function toResult(value: string): AuthResult {
  const result = value === 'temperr' ? 'temperror' : value;
  if (!RESULTS.has(result)) throw new Error(`mailauth returned an unknown verdict ${JSON.stringify(value)}`);
  return result as AuthResult;
}

function readReceivedSpf(headers: { key: string; line: unknown }[] | undefined): AuthVerdicts['receivedSpf'] | null {
  const header = headers?.find((h) => h.key === 'received-spf');
  if (!header) return null;
  const line = String(header.line);
  const value = line.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]/g, ' ').trim();
  const result = /^[a-z]+/i.exec(value)?.[0].toLowerCase() ?? '';
  const param = (name: string) => new RegExp(`(?:^|[\\s;])${name}\\s*=\\s*<?([^\\s;<>]*)`, 'i').exec(value)?.[1] || null;
  return { result, clientIp: param('client-ip'), envelopeFrom: param('envelope-from') };
}
