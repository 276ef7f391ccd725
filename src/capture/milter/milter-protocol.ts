// The words of the Sendmail 8 mail filter (milter) protocol, version 6, as Sendmail's libmilter
// and Postfix's milter8 client speak it. Every packet is a 32-bit big-endian length (counting the
// command byte), one command byte, then the command's data.

// MTA → filter commands (SMFIC_*).
export const Command = {
  ABORT: 0x41,    // 'A' abort the current message, keep the connection
  BODY: 0x42,     // 'B' a chunk of body (CRLF line ends, as on the wire)
  CONNECT: 0x43,  // 'C' hostname\0 family [port(16) address\0]
  MACRO: 0x44,    // 'D' command-code (name\0 value\0)*
  BODYEOB: 0x45,  // 'E' end of message
  HELO: 0x48,     // 'H' helo\0
  QUIT_NC: 0x4b,  // 'K' quit this SMTP connection, a new one follows on the same socket
  HEADER: 0x4c,   // 'L' name\0 value\0
  MAIL: 0x4d,     // 'M' <sender>\0 (esmtp-arg\0)*
  EOH: 0x4e,      // 'N' end of headers
  OPTNEG: 0x4f,   // 'O' version(32) actions(32) protocol(32)
  QUIT: 0x51,     // 'Q' close the connection
  RCPT: 0x52,     // 'R' <recipient>\0 (esmtp-arg\0)*
  DATA: 0x54,     // 'T' DATA command
  UNKNOWN: 0x55,  // 'U' an SMTP command the MTA did not know: command\0
} as const;

// Filter → MTA replies (SMFIR_*). Sealbox only ever continues, tempfails or rejects: it never
// edits a message.
export const Reply = {
  CONTINUE: 0x63,  // 'c'
  REJECT: 0x72,    // 'r'
  TEMPFAIL: 0x74,  // 't'
  REPLYCODE: 0x79, // 'y' "ddd d.d.d text\0"
  OPTNEG: 0x4f,    // 'O' version(32) actions(32) protocol(32) (stage(32) macro-list\0)*
} as const;

// Actions the filter may take (SMFIF_*): Sealbox asks only to name the macros it wants.
export const SMFIF_SETSYMLIST = 0x100;

// Protocol flags (SMFIP_*): steps the filter does not want, replies it will not send, and features.
export const Flag = {
  NOUNKNOWN: 0x100,
  NR_HDR: 0x80,        // no reply to each header
  SKIP: 0x400,
  RCPT_REJ: 0x800,     // the MTA also sends recipients it rejected
  NR_CONN: 0x1000,
  NR_HELO: 0x2000,
  NR_MAIL: 0x4000,
  NR_RCPT: 0x8000,
  NR_DATA: 0x10000,
  NR_UNKN: 0x20000,
  NR_EOH: 0x40000,
  NR_BODY: 0x80000,
  HDR_LEADSPC: 0x100000, // header values keep their leading white space (otherwise one space is eaten)
} as const;

// Steps Sealbox never answers (the MTA need not wait for them) when the MTA offers that, plus
// header values with their leading white space, which byte-exact reconstruction needs.
export const WANTED_FLAGS = Flag.NR_CONN | Flag.NR_HELO | Flag.NR_MAIL | Flag.NR_RCPT | Flag.NR_DATA
  | Flag.NR_UNKN | Flag.NR_HDR | Flag.NR_EOH | Flag.NR_BODY | Flag.HDR_LEADSPC;

// Which command's reply each no-reply flag suppresses.
export const NO_REPLY_FLAG: Partial<Record<number, number>> = {
  [Command.CONNECT]: Flag.NR_CONN,
  [Command.HELO]: Flag.NR_HELO,
  [Command.MAIL]: Flag.NR_MAIL,
  [Command.RCPT]: Flag.NR_RCPT,
  [Command.DATA]: Flag.NR_DATA,
  [Command.UNKNOWN]: Flag.NR_UNKN,
  [Command.HEADER]: Flag.NR_HDR,
  [Command.EOH]: Flag.NR_EOH,
  [Command.BODY]: Flag.NR_BODY,
};

// Macro stages (SMFIM_*) for the macro lists sent with the OPTNEG reply.
export const Stage = { CONNECT: 0, HELO: 1, ENVFROM: 2, ENVRCPT: 3, DATA: 4, EOM: 5, EOH: 6 } as const;

// The macros Sealbox asks for, per stage. Postfix replaces *all* its default lists once a filter
// sends any, so every stage Sealbox cares about is listed. `i` (queue id) is asked at every
// stage after MAIL: Postfix knows it only once the queue file exists, which by default is after
// the first accepted RCPT (smtpd_delay_open_until_valid_rcpt).
export const MACROS_WANTED: Record<number, string> = {
  [Stage.CONNECT]: 'j _ {daemon_name} {daemon_addr} {daemon_port} {client_addr} {client_port} {client_name} {client_ptr}',
  [Stage.HELO]: '{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}',
  [Stage.ENVFROM]: 'i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer}',
  [Stage.ENVRCPT]: 'i {rcpt_addr} {rcpt_host} {rcpt_mailer}',
  [Stage.DATA]: 'i',
  [Stage.EOH]: 'i',
  [Stage.EOM]: 'i',
};

export const PROTOCOL_VERSION = 6;
export const MIN_PROTOCOL_VERSION = 2;

// Limits. A packet longer than MAX_PACKET_BYTES is refused before a byte of it is buffered.
// Postfix sends body chunks of at most 65,535 bytes but a header in one packet (up to its
// header_size_limit, 102,400 by default), so the limit leaves room for both.
export const MAX_PACKET_BYTES = 1024 * 1024;
export const MAX_MACROS_PER_PACKET = 256;      // name/value pairs in one SMFIC_MACRO
export const MAX_HEADERS = 10_000;             // header fields in one message
export const MAX_ARGS = 64;                    // ESMTP parameters on one MAIL or RCPT

export function commandName(code: number): string {
  for (const [name, value] of Object.entries(Command)) if (value === code) return `SMFIC_${name}`;
  return code >= 0x20 && code < 0x7f ? `unknown command '${String.fromCharCode(code)}'` : `unknown command 0x${code.toString(16).padStart(2, '0')}`;
}
