import { userInfo } from 'node:os';
import { openArchive } from '../archive.ts';
import type { Archive } from '../archive.ts';
import { loadConfig } from '../core/config.ts';
import type { Config } from '../core/config.ts';
import { SealboxError } from '../core/errors.ts';

// What the commands share: the config from their flags, the archive opened for reading or for
// an operator's change, and a person identified by an API token.

// Commander's parsed options: each command reads the ones it declared.
export type CliOptions = Record<string, any>;

export const configOf = (o: { data?: string; config?: string; smtp?: string; lmtp?: string; http?: string; milter?: string }): Config =>
  loadConfig(o.config, { data: o.data, smtp: o.smtp, lmtp: o.lmtp, http: o.http, milter: o.milter });

// A console command's work on the archive (src/archive.ts, role console: it records, never
// signs), closed when the work is done, also when it throws.
export async function withArchive<T>(o: CliOptions, work: (archive: Archive) => T | Promise<T>): Promise<T> {
  const archive = await openArchive(configOf(o), 'console');
  try {
    return await work(archive);
  } finally {
    archive.close();
  }
}

// Content is read on the command line exactly as over HTTP: as the owner of the mailboxes, or
// under an active grant of one's own, identified by an API token; every read is in the ledger.
export async function openReader(o: { token?: string; data?: string; config?: string }, scope: 'content' | 'ledger' = 'content') {
  // Reading content needs the content services alone; the auditors' views (scope "ledger") all.
  const archive = await openArchive(configOf(o), 'console', { access: scope === 'content' ? 'content' : 'all' });
  const { stores } = archive;
  const services = archive.contentServices;
  const close = () => archive.close();
  const token = o.token ?? process.env.SEALBOX_TOKEN;
  const principal = token ? await stores.meta.read((tx) => services.credentials.token(tx, token)) : null;
  if (!principal || !principal.scopes!.includes(scope)) {
    // A refused token that names someone (revoked, expired, a forged secret, lacking the scope)
    // is recorded as over HTTP before the refusal is answered.
    const command = `sealbox ${process.argv[2] ?? ''}`.trim();
    const cli = { clientIp: null, userAgent: `sealbox-cli (${userInfo().username})` };
    try {
      if (principal) {
        await services.audit.denied({ ...cli, sessionId: principal.sessionId, user: principal.user, logonType: 'owner' }, { operation: 'token.use', parameters: { route: command, tokenId: principal.sessionId, scopes: principal.scopes } }, `token lacks the "${scope}" scope`);
      } else if (token) {
        const refused = await stores.meta.read((tx) => services.credentials.refusedToken(tx, token));
        if (refused) await services.audit.denied({ ...cli, sessionId: refused.tokenId, user: refused.user, logonType: 'owner' }, { operation: 'token.use', parameters: { route: command, tokenId: refused.tokenId } }, refused.why);
      }
    } finally {
      close();
    }
    if (!token) throw new SealboxError('SEALBOX_ERR_AUTH', `this needs your API token: --token TOKEN or SEALBOX_TOKEN (create one with: sealbox tokens create --name YOU --scope ${scope})`);
    if (!principal) throw new SealboxError('SEALBOX_ERR_AUTH', 'API token is unknown, expired or revoked');
    throw new SealboxError('SEALBOX_ERR_FORBIDDEN', `this API token lacks the "${scope}" scope`);
  }
  const ctx = { sessionId: principal.sessionId, clientIp: null, userAgent: `sealbox-cli (${userInfo().username})` };
  return { archive, services, user: principal.user, ctx, close };
}
