import { createSocket } from 'node:dgram';

export interface SlowDnsOptions {
  // Names whose questions are never answered, as a dead name server does not answer.
  drop?: (name: string) => boolean;
  // Milliseconds before an answer (0: at once).
  delayMs?: (name: string) => number;
}

export interface SlowDns {
  address: string;      // "127.0.0.1:port", as auth.servers takes it
  asked: Map<string, number>;   // "TYPE name" → how many times it was asked
  close(): Promise<void>;
}

// A DNS server on loopback (UDP) that knows no names: every question is answered "no such name"
// (NXDOMAIN), late or never as the options say. Enough for what authentication checks do with a
// real resolver when name servers are slow or dead, and for counting what they ask.
export async function startSlowDns(o: SlowDnsOptions = {}): Promise<SlowDns> {
  const socket = createSocket('udp4');
  const asked = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  socket.on('message', (query, peer) => {
    const q = question(query);
    if (!q) return;
    const key = `${q.type} ${q.name}`;
    asked.set(key, (asked.get(key) ?? 0) + 1);
    if (o.drop?.(q.name)) return;
    // The header with QR, AA, RA set and RCODE 3; the question as asked; no records.
    const answer = Buffer.from(query.subarray(0, q.end));
    answer[2] = 0x84 | (query[2]! & 0x01);
    answer[3] = 0x83;
    answer.writeUInt16BE(1, 4);
    answer.fill(0, 6, 12);
    const send = () => socket.send(answer, peer.port, peer.address);
    const delay = o.delayMs?.(q.name) ?? 0;
    if (delay <= 0) send();
    else {
      const t = setTimeout(() => { timers.delete(t); send(); }, delay);
      timers.add(t);
    }
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    asked,
    close: () => new Promise<void>((resolve) => {
      for (const t of timers) clearTimeout(t);
      socket.close(() => resolve());
    }),
  };
}

// The first question of a query: its name (lowercased, no final dot), type and where it ends.
function question(msg: Buffer): { name: string; type: string; end: number } | null {
  if (msg.length < 12 || msg.readUInt16BE(4) < 1) return null;
  const labels: string[] = [];
  let at = 12;
  while (at < msg.length && msg[at] !== 0) {
    const len = msg[at]!;
    if (len > 63 || at + 1 + len > msg.length) return null;
    labels.push(msg.toString('latin1', at + 1, at + 1 + len));
    at += 1 + len;
  }
  if (at + 5 > msg.length) return null;
  const code = msg.readUInt16BE(at + 1);
  const type = ({ 1: 'A', 2: 'NS', 5: 'CNAME', 12: 'PTR', 15: 'MX', 16: 'TXT', 28: 'AAAA' } as Record<number, string>)[code] ?? String(code);
  return { name: labels.join('.').toLowerCase(), type, end: at + 5 };
}
