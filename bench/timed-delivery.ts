import { RawSmtpClient } from '../test/support/smtp-client.ts';

export interface TimedDelivery {
  seconds: number;       // first MAIL FROM to the last final reply
  startedAt: number;     // performance.now() at the start
  latencies: number[];   // ms from MAIL FROM to the final reply, per message
  acks: number[];        // performance.now() of each final reply, ascending
}

// Delivers every message over `connections` parallel SMTP or LMTP sessions (one transaction at a
// time each, as an MTA's delivery agents do) and times each one to its final reply. Any reply
// but 250 stops the run: a benchmark of failures measures nothing. As Postfix's smtp and lmtp
// clients do with a server that offers PIPELINING (Sealbox and Dovecot both do), MAIL, RCPT and
// DATA go in one write (since 2026-12-06); `pipelining: false` sends each command after the reply
// to the last, as the benchmark did before.
export async function deliverTimed(port: number, messages: Buffer[], options: { lmtp: boolean; pipelining?: boolean; connections: number; envelope(i: number): { from: string; to: string[] } }): Promise<TimedDelivery> {
  const latencies: number[] = [];
  const acks: number[] = [];
  let next = 0;
  const startedAt = performance.now();
  await Promise.all(Array.from({ length: options.connections }, async () => {
    const client = await RawSmtpClient.connect(port, { lmtp: options.lmtp });
    try {
      while (next < messages.length) {
        const i = next++;
        const t0 = performance.now();
        const r = await client.send(options.envelope(i), messages[i]!, { lmtp: options.lmtp, pipelining: options.pipelining ?? true });
        const t1 = performance.now();
        const bad = [r.mail, ...r.rcpt, ...r.data].find((x) => x.code !== 250);
        if (bad || r.data.length === 0) throw new Error(`message ${i}: ${bad ? `${bad.code} ${bad.text}` : 'no reply to DATA'}`);
        latencies.push(t1 - t0);
        acks.push(t1);
      }
    } finally {
      await client.quit().catch(() => {});
    }
  }));
  acks.sort((a, b) => a - b);
  return { seconds: (performance.now() - startedAt) / 1000, startedAt, latencies, acks };
}
