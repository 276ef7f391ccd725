import type { Envelope } from '../../core/types.ts';
import type { Macros, MilterSession, MilterTransaction } from './milter-connection.ts';

// The milter conversation as evidence: the envelope from the commands themselves (MAIL, RCPT with
// their parameters, HELO, CONNECT), completed by the macros the MTA sent; nothing invented.
export function envelopeFromMilter(session: MilterSession, tx: MilterTransaction): Envelope {
  const macro = macroLookup(session, tx);
  const connect = session.connect;
  const inet = connect?.family === '4' || connect?.family === '6';
  const macroPort = Number(macro('{client_port}'));
  const tlsVersion = macro('{tls_version}');
  const cipher = macro('{cipher}');
  return {
    mailFrom: address(tx.mail[0]!),
    mailFromArgs: parameters(tx.mail.slice(1)),
    rcptTo: tx.rcpts.map((r) => ({ address: address(r.args[0]!), args: parameters(r.args.slice(1)) })),
    clientAddress: macro('{client_addr}') ?? (inet ? connect!.address : null),
    clientPort: Number.isInteger(macroPort) && macroPort > 0 ? macroPort : inet && connect!.port ? connect!.port : null,
    clientHelo: session.helo || null,
    // Postfix says "unknown" and Sendmail "[address]" when the client has no verified name.
    clientName: hostName(macro('{client_name}')) ?? hostName(connect?.hostname ?? null),
    authUser: macro('{auth_authen}'),
    queueId: macro('i'),
    protocol: null,
    tls: tlsVersion || cipher ? { protocol: tlsVersion ?? '', cipher: cipher ?? '' } : null,
    // The hop that delivered to Sealbox is the MTA's milter connection; `j` is the MTA's own name.
    transport: { address: stripMapped(session.peer.address), port: session.peer.port, helo: macro('j') },
    xforward: {},
  };
}

// What the milter conversation showed beyond the envelope: the negotiated version, the CONNECT
// facts and every macro, by the stage it came with.
export function milterProvenance(session: MilterSession, tx: MilterTransaction, mode: string): Record<string, unknown> {
  return {
    milter: {
      mode,
      version: session.version,
      connect: session.connect,
      macros: {
        connect: session.macros.connect, helo: session.macros.helo, mail: tx.macros.mail,
        rcpt: tx.rcpts.map((r) => r.macros), data: tx.macros.data, eoh: tx.macros.eoh, eom: tx.macros.eom,
      },
    },
  };
}

// The latest non-empty value: a macro sent again at a later stage (the queue id) wins.
function macroLookup(session: MilterSession, tx: MilterTransaction): (name: string) => string | null {
  const stages: Macros[] = [
    session.macros.connect, session.macros.helo, tx.macros.mail, ...tx.rcpts.map((r) => r.macros),
    tx.macros.data, tx.macros.eoh, tx.macros.eom,
  ];
  return (name) => {
    for (let i = stages.length - 1; i >= 0; i--) {
      const value = stages[i]![name];
      if (value) return value;
    }
    return null;
  };
}

// "<a@b>" → "a@b", "<>" → "" (the null sender). An address sent without brackets is kept as sent.
function address(arg: string): string {
  const trimmed = arg.trim();
  return trimmed.startsWith('<') && trimmed.endsWith('>') ? trimmed.slice(1, -1) : trimmed;
}

function parameters(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const arg of args) {
    const i = arg.indexOf('=');
    if (i < 0) out[arg.toUpperCase()] = '';
    else out[arg.slice(0, i).toUpperCase()] = arg.slice(i + 1);
  }
  return out;
}

function hostName(name: string | null): string | null {
  if (!name || name === 'unknown' || (name.startsWith('[') && name.endsWith(']'))) return null;
  return name;
}

function stripMapped(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
