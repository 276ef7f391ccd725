import { Buffer } from 'node:buffer';
import { isIP } from 'node:net';
import { authenticate } from 'mailauth';
import type { DKIMResult } from 'mailauth';
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

  const report = await authenticate(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength), {
    resolver: ctx.resolver,
    ip,
    helo: ctx.clientHelo || undefined,
    sender: ctx.mailFrom || undefined,
    mta: ctx.mta,
    // Client details come from our own envelope only; headers can be forged.
    trustReceived: false,
    // BIMI decides logo display, not authenticity.
    disableBimi: true,
  });

  const dkim = report.dkim.results
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
    // Without an address mailauth still answers (neutral); that is no verdict.
    spf: ip && report.spf ? { result: toResult(report.spf.status.result), domain: report.spf.domain } : null,
    dkim,
    arc: report.arc ? { result: toResult(report.arc.status.result) } : null,
    dmarc: report.dmarc
      ? { result: toResult(report.dmarc.status.result), policy: report.dmarc.policy || null, domain: report.dmarc.domain }
      : null,
  };
  const receivedSpf = readReceivedSpf(report.dkim.headers?.parsed);
  if (receivedSpf) verdicts.receivedSpf = receivedSpf;
  if (errors.length) verdicts.error = errors.join('; ');
  return verdicts;
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
