import type { Actor } from '../access/audit.ts';
import type { Config } from '../core/config.ts';
import { SealboxError } from '../core/errors.ts';
import type { DirectorySync, SyncResult } from './directory-sync.ts';
import { LdapDirectory } from './ldap-directory.ts';

// A sync from directory.ldap, the same from the console, the API and the server's schedule: the
// directory read first (no transaction is held open on the network), then planned and applied.
export async function syncFromLdap(config: Config, sync: DirectorySync, actor: Actor, options: { dryRun?: boolean; confirm?: boolean }): Promise<SyncResult> {
  const settings = config.directory.ldap;
  if (!settings) throw new SealboxError('SEALBOX_ERR_CONFLICT', 'no LDAP directory is configured (directory.ldap)');
  const snapshot = await new LdapDirectory(settings).read();
  return sync.run(actor, snapshot, options);
}
