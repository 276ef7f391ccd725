import { createHmac, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDataDir } from './sealbox.ts';

export interface WebhookPost {
  body: string;
  signature: string;
  json: any;
}

// A local webhook receiver (loopback only) with its shared secret in a file, as Sealbox's
// config names it: where signed notifications, alerts and witnessed checkpoints land.
export async function startWebhookSink(): Promise<{ url: string; secretFile: string; posts: WebhookPost[]; signedOk(post: WebhookPost): boolean; close(): Promise<void> }> {
  const posts: WebhookPost[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      posts.push({ body, signature: String(req.headers['x-sealbox-signature']), json: JSON.parse(body) });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const secret = randomBytes(16).toString('hex');
  const secretFile = join(tempDataDir(), 'webhook.secret');
  writeFileSync(secretFile, secret);
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`,
    secretFile, posts,
    // x-sealbox-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>
    signedOk: (post) => {
      const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(post.signature);
      return m !== null && createHmac('sha256', secret).update(`${m[1]}.${post.body}`).digest('hex') === m[2];
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
