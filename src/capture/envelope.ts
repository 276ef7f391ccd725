import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import type { Envelope } from '../core/types.ts';

// An envelope address as a receiver that is not SMTP reads one (the ingest API's headers and
// query, a journal report's fields): local part @ domain, without spaces, brackets, commas or
// control characters (U+0000 above all: no store keeps it, and PostgreSQL's text cannot).
export const ENVELOPE_ADDRESS = /^[^\s<>,@\p{Cc}]+@[^\s<>,@\p{Cc}]+$/u;

// What the connection itself showed, taken before XFORWARD/XCLIENT can replace the session's
// address and port, and the TLS version actually negotiated (smtp-server keeps only the cipher,
// whose "version" is the oldest protocol that suite exists in, not the one in use).
export interface HopFacts {
  address: string;
  port: number;
  tlsProtocol: string | null;
}

// The SMTP session as evidence: everything the sending hop told us, nothing invented.
export function envelopeFromSession(session: SMTPServerSession, hop: HopFacts): Envelope {
  const xforward = attributes(session.xForward);
  const xclient = attributes(session.xClient);
  const forwarded = { ...xclient, ...xforward };
  const mailFrom = session.envelope.mailFrom;
  const tls = session.secure && session.tlsOptions ? { protocol: hop.tlsProtocol ?? '', cipher: String(session.tlsOptions.name ?? '') } : null;
  const forwardedPort = Number(forwarded.PORT);
  const user = session.user as { username?: string } | string | undefined;
  return {
    mailFrom: mailFrom ? mailFrom.address : null,
    mailFromArgs: mailFrom ? args(mailFrom) : {},
    rcptTo: session.envelope.rcptTo.map((r) => ({ address: r.address, args: args(r) })),
    clientAddress: stripMapped(session.remoteAddress),
    // A forwarded client's port, if it came along; never the hop's port paired with its address.
    clientPort: known(forwarded.ADDR) ? (Number.isInteger(forwardedPort) && forwardedPort > 0 ? forwardedPort : null) : hop.port,
    clientHelo: 'HELO' in forwarded ? known(forwarded.HELO) : session.hostNameAppearsAs || null,
    clientName: known(forwarded.NAME),
    authUser: (typeof user === 'string' ? user : user?.username) ?? known(forwarded.LOGIN),
    queueId: known(forwarded.IDENT),
    protocol: forwarded.PROTO ?? session.transmissionType ?? null,
    tls,
    // XFORWARD HELO replaces the hop's own EHLO name in the session: then it is not known.
    transport: { address: stripMapped(hop.address), port: hop.port, helo: xforward.HELO !== undefined ? null : session.hostNameAppearsAs || null },
    xforward: forwarded,
  };
}

function args(address: SMTPServerAddress): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(address.args || {})) out[key.toUpperCase()] = value === true ? '' : String(value);
  return out;
}

// smtp-server keeps "KEY:DEFAULT" entries with the values before the override: not attributes.
// It turns [UNAVAILABLE] into false: record what the client sent, not the word "false".
function attributes(map: Map<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of map ?? []) if (!key.includes(':')) out[key] = value === false ? '[UNAVAILABLE]' : String(value);
  return out;
}

function known(value: string | undefined): string | null {
  return value && value !== '[UNAVAILABLE]' ? value : null;
}

function stripMapped(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
