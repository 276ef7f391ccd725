import { MAX_ARGS, MAX_MACROS_PER_PACKET, MAX_PACKET_BYTES, Reply, commandName } from './milter-protocol.ts';

// The packet layer: length-prefixed frames in, typed commands out, replies encoded. It holds no
// connection state; anything malformed is a MilterProtocolError, after which the connection is
// closed (an MTA and a filter that disagree about framing cannot get back in step).

export class MilterProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MilterProtocolError';
  }
}

export interface Packet {
  command: number;
  data: Buffer;
}

export class PacketReader {
  readonly #max: number;
  #chunks: Buffer[] = [];
  #size = 0;
  #need: number | null = null; // length of the packet being read, once its prefix is in

  constructor(maxPacketBytes = MAX_PACKET_BYTES) {
    if (!Number.isInteger(maxPacketBytes) || maxPacketBytes < 1 || maxPacketBytes > 0x7fffffff) {
      throw new RangeError(`maxPacketBytes must be an integer from 1 to 2^31-1, got ${maxPacketBytes}`);
    }
    this.#max = maxPacketBytes;
  }

  // Bytes received that do not yet make a whole packet.
  get pending(): number {
    return this.#size + (this.#need === null ? 0 : 4);
  }

  // Every packet completed by this chunk. A bad length throws before its data is buffered.
  push(chunk: Buffer): Packet[] {
    const packets: Packet[] = [];
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#size += chunk.length;
    }
    for (;;) {
      if (this.#need === null) {
        if (this.#size < 4) break;
        const length = this.#take(4).readUInt32BE(0);
        if (length < 1) throw new MilterProtocolError('packet length 0: a packet holds at least its command byte');
        if (length > this.#max) throw new MilterProtocolError(`packet length ${length} exceeds the limit of ${this.#max} bytes`);
        this.#need = length;
      }
      if (this.#size < this.#need) break;
      const body = this.#take(this.#need);
      this.#need = null;
      packets.push({ command: body[0]!, data: body.subarray(1) });
    }
    return packets;
  }

  #take(n: number): Buffer {
    const first = this.#chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const c = this.#chunks[0]!;
        const used = Math.min(c.length, n - filled);
        c.copy(out, filled, 0, used);
        filled += used;
        if (used === c.length) this.#chunks.shift();
        else this.#chunks[0] = c.subarray(used);
      }
    }
    this.#size -= n;
    return out;
  }
}

// --- decoding: each command's data, strictly (every string NUL-terminated, nothing left over) ---

export interface OptNeg {
  version: number;
  actions: number;
  protocol: number;
}

export interface ConnectInfo {
  hostname: string;
  family: '4' | '6' | 'L' | 'U';   // inet, inet6, local (unix socket), unknown
  port: number | null;
  address: string | null;
}

export interface MacroPacket {
  for: number;                     // the command these macros belong to
  macros: [string, string][];
}

export function decodeOptNeg(data: Buffer): OptNeg {
  // libmilter ignores bytes after the three words; so does Sealbox.
  if (data.length < 12) throw new MilterProtocolError(`SMFIC_OPTNEG holds ${data.length} bytes, expected 12`);
  return { version: data.readUInt32BE(0), actions: data.readUInt32BE(4), protocol: data.readUInt32BE(8) };
}

export function decodeMacro(data: Buffer): MacroPacket {
  if (data.length < 1) throw new MilterProtocolError('SMFIC_MACRO without the command it belongs to');
  const parts = strings(data.subarray(1), 'SMFIC_MACRO');
  if (parts.length % 2 !== 0) throw new MilterProtocolError('SMFIC_MACRO with a name and no value');
  if (parts.length / 2 > MAX_MACROS_PER_PACKET) throw new MilterProtocolError(`SMFIC_MACRO with ${parts.length / 2} macros (limit ${MAX_MACROS_PER_PACKET})`);
  const macros: [string, string][] = [];
  for (let i = 0; i < parts.length; i += 2) macros.push([macroName(text(parts[i]!)), text(parts[i + 1]!)]);
  return { for: data[0]!, macros };
}

export function decodeConnect(data: Buffer): ConnectInfo {
  const end = data.indexOf(0);
  if (end < 0) throw new MilterProtocolError('SMFIC_CONNECT: host name not NUL-terminated');
  const hostname = text(data.subarray(0, end));
  if (end + 1 >= data.length) throw new MilterProtocolError('SMFIC_CONNECT: no address family');
  const family = String.fromCharCode(data[end + 1]!);
  if (family === 'U') {
    if (data.length !== end + 2) throw new MilterProtocolError('SMFIC_CONNECT: data after the unknown address family');
    return { hostname, family, port: null, address: null };
  }
  if (family !== '4' && family !== '6' && family !== 'L') throw new MilterProtocolError(`SMFIC_CONNECT: unknown address family ${JSON.stringify(family)}`);
  if (data.length < end + 4) throw new MilterProtocolError('SMFIC_CONNECT: no port');
  const port = data.readUInt16BE(end + 2);
  const [address] = strings(data.subarray(end + 4), 'SMFIC_CONNECT address', 1, 1);
  return { hostname, family, port, address: text(address!) };
}

export function decodeString(data: Buffer, what: string): string {
  return text(strings(data, what, 1, 1)[0]!);
}

// MAIL and RCPT: the address (normally in <>), then ESMTP parameters.
export function decodeArgs(data: Buffer, what: string): string[] {
  return strings(data, what, 1, 1 + MAX_ARGS).map(text);
}

// HEADER: name and value stay bytes, so that the message is rebuilt exactly as the MTA sent them.
export function decodeHeader(data: Buffer): { name: Buffer; value: Buffer } {
  const [name, value] = strings(data, 'SMFIC_HEADER', 2, 2);
  if (name!.length === 0) throw new MilterProtocolError('SMFIC_HEADER with an empty name');
  return { name: name!, value: value! };
}

export function expectEmpty(packet: Packet): void {
  if (packet.data.length !== 0) throw new MilterProtocolError(`${commandName(packet.command)} carries ${packet.data.length} unexpected bytes`);
}

function strings(data: Buffer, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  while (start < data.length) {
    const end = data.indexOf(0, start);
    if (end < 0) throw new MilterProtocolError(`${what}: string not NUL-terminated`);
    out.push(data.subarray(start, end));
    if (out.length > max) throw new MilterProtocolError(`${what}: more than ${max} strings`);
    start = end + 1;
  }
  if (out.length < min) throw new MilterProtocolError(`${what}: ${out.length} strings, expected at least ${min}`);
  return out;
}

function text(bytes: Buffer): string {
  return bytes.toString('utf8');
}

// Sendmail names long macros {name} and short ones by their letter; some MTAs send a long name
// without braces. One spelling, so that lookups do not depend on the MTA.
function macroName(name: string): string {
  return name.length > 1 && !name.startsWith('{') ? `{${name}}` : name;
}

// --- encoding replies ---

export function encodePacket(command: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const out = Buffer.allocUnsafe(5 + data.length);
  out.writeUInt32BE(data.length + 1, 0);
  out[4] = command;
  data.copy(out, 5);
  return out;
}

export function encodeOptNeg(reply: OptNeg, macroLists: Record<number, string> | null): Buffer {
  const parts = [Buffer.alloc(12)];
  parts[0]!.writeUInt32BE(reply.version, 0);
  parts[0]!.writeUInt32BE(reply.actions, 4);
  parts[0]!.writeUInt32BE(reply.protocol, 8);
  for (const [stage, list] of Object.entries(macroLists ?? {})) {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(Number(stage), 0);
    parts.push(head, Buffer.from(list + '\0', 'latin1'));
  }
  return encodePacket(Reply.OPTNEG, Buffer.concat(parts));
}

// A full SMTP reply ("552 5.3.4 text"); Postfix checks the form and that the enhanced code's
// class matches the reply code. '%' is doubled because Sendmail uses the text as a format.
export function encodeReplyCode(code: number, enhanced: string, message: string): Buffer {
  const line = `${code} ${enhanced} ${message.replace(/[\r\n\0]+/g, ' ').replace(/%/g, '%%')}`;
  return encodePacket(Reply.REPLYCODE, Buffer.from(line + '\0', 'utf8'));
}
