import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import type { Envelope } from '../core/types.ts';

// The SMTP session as evidence: everything the sending hop told us, nothing invented.
export function envelopeFromSession(session: SMTPServerSession): Envelope {
  const xforward = attributes(session.xForward);
  const xclient = attributes(session.xClient);
  const forwarded = { ...xclient, ...xforward };
  const hop = String(session.xForward?.get('ADDR:DEFAULT') || session.xClient?.get('ADDR:DEFAULT') || session.remoteAddress);
  const mailFrom = session.envelope.mailFrom;
  const tls = session.secure && session.tlsOptions ? { protocol: String((session.tlsOptions as any).version ?? ''), cipher: String(session.tlsOptions.name ?? '') } : null;
  const user = session.user as { username?: string } | string | undefined;
  return {
    mailFrom: mailFrom ? mailFrom.address : null,
    mailFromArgs: mailFrom ? args(mailFrom) : {},
    rcptTo: session.envelope.rcptTo.map((r) => ({ address: r.address, args: args(r) })),
    clientAddress: stripMapped(session.remoteAddress),
    clientPort: session.remotePort ?? null,
    clientHelo: forwarded.HELO ?? session.hostNameAppearsAs ?? null,
    clientName: forwarded.NAME && forwarded.NAME !== '[UNAVAILABLE]' ? forwarded.NAME : null,
    authUser: (typeof user === 'string' ? user : user?.username) ?? forwarded.LOGIN ?? null,
    queueId: forwarded.IDENT && forwarded.IDENT !== '[UNAVAILABLE]' ? forwarded.IDENT : null,
    protocol: forwarded.PROTO ?? session.transmissionType ?? null,
    tls,
    transport: { address: stripMapped(hop), port: session.remotePort ?? 0, helo: session.hostNameAppearsAs ?? null },
    xforward: forwarded,
  };
}

function args(address: SMTPServerAddress): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(address.args || {})) out[key.toUpperCase()] = value === true ? '' : String(value);
  return out;
}

// smtp-server keeps "KEY:DEFAULT" entries with the values before the override: not attributes.
function attributes(map: Map<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of map ?? []) if (!key.includes(':')) out[key] = String(value);
  return out;
}

function stripMapped(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
