import { RawSmtpClient } from './smtp-client.ts';
import type { Reply } from './smtp-client.ts';

export interface Delivery {
  index: number;
  data: Buffer;
  envelope: { from: string; to: string[] };
}

// Delivers messages over `connections` parallel SMTP (or LMTP) sessions; returns each one's final reply.
export async function deliverAll(port: number, messages: Delivery[], options: { connections?: number; lmtp?: boolean; onReply?: (d: Delivery, r: Reply) => void } = {}): Promise<Map<number, Reply>> {
  const replies = new Map<number, Reply>();
  let next = 0;
  await Promise.all(Array.from({ length: options.connections ?? 8 }, async () => {
    let client: RawSmtpClient | null = null;
    while (next < messages.length) {
      const m = messages[next++];
      // A server that is gone (a crash test) ends this connection's work, not the whole run.
      if (!client) client = await RawSmtpClient.connect(port, { lmtp: options.lmtp }).catch(() => null);
      if (!client) break;
      const r = await client.send(m.envelope, m.data, { lmtp: options.lmtp });
      const reply = r.data.at(-1) ?? r.rcpt.at(-1) ?? r.mail;
      replies.set(m.index, reply);
      options.onReply?.(m, reply);
      if (reply.code === 0) client = null; // connection lost: reconnect for the next one
    }
    await client?.quit().catch(() => {});
  }));
  return replies;
}
