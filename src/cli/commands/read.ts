// One command's work, loaded only when that command runs (see ../main.ts).
import { SealboxError } from '../../core/errors.ts';
import { openReader } from '../archive-access.ts';
import type { CliOptions } from '../archive-access.ts';

// `sealbox search` and `sealbox show`: content read as a person, through the access decision.
export async function search(words: string[], o: CliOptions): Promise<void> {
  const r = await openReader(o);
  try {
    const result = await r.services.content.search({ ...r.ctx }, r.user, { query: words.join(' '), grantId: o.grant, limit: o.limit, note: o.reason });
    for (const h of result.hits) {
      if (o.json) process.stdout.write(JSON.stringify({ sha256: h.sha256, messageId: h.messageId, date: h.date === null ? null : new Date(h.date).toISOString(), from: h.from, subject: h.subject }) + '\n');
      else process.stdout.write(`${h.sha256.slice(0, 16)}  ${h.date === null ? '-' : new Date(h.date).toISOString().slice(0, 10)}  ${(h.from ?? '').slice(0, 30).padEnd(30)}  ${h.subject ?? ''}\n`);
    }
    if (!o.json) process.stderr.write(`${result.hits.length} message(s)${result.hits.length === o.limit ? ' (limit reached; use --limit)' : ''}\n`);
  } finally {
    r.close();
  }
}

export async function show(sha: string, o: CliOptions): Promise<void> {
  if (!/^[0-9a-f]{64}$/i.test(sha)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `"${sha}" is not a sha256 (64 hex digits)`);
  if (o.json && o.raw) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', '--json and --raw cannot be combined');
  const r = await openReader(o);
  try {
    if (o.raw) {
      const raw = await r.services.content.raw(r.ctx, r.user, sha.toLowerCase(), o.grant, o.reason);
      await new Promise<void>((resolve, reject) => process.stdout.write(raw, (err) => (err ? reject(err) : resolve())));
      return;
    }
    const view = await r.services.content.view(r.ctx, r.user, sha.toLowerCase(), o.grant, o.reason);
    process.stdout.write((o.json ? JSON.stringify(view) : JSON.stringify(view, null, 2)) + '\n');
  } finally {
    r.close();
  }
}
