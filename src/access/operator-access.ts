import { userInfo } from 'node:os';
import { SealboxError } from '../core/errors.ts';
import type { LedgerEntry } from '../core/types.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { SqliteMetadataStore } from '../store/sqlite/metadata-store.ts';

// Until governed access exists, a person at the server's console reads content only with a
// stated reason, and every read is in the ledger before anything is shown. No entry, no content.
export function recordOperatorAccess(meta: SqliteMetadataStore, ledger: Ledger, access: {
  operation: string;
  reason: string | undefined;
  messages: string[];
  parameters: Record<string, unknown>;
}): LedgerEntry {
  const reason = access.reason?.trim();
  if (!reason) throw new SealboxError('SEALBOX_ERR_REASON_REQUIRED', 'a reason is required to read archived content: pass --reason "…" (it is written to the ledger)');
  try {
    return meta.transaction(() => {
      ledger.catchUp();
      return ledger.append({
        type: 'access', actor: `os:${userInfo().username}`, actorRoles: ['operator'], logonType: 'operator', sessionId: null, clientIp: null,
        operation: access.operation, objects: { mailboxes: [], messages: access.messages }, grantId: null, result: 'success',
        parameters: { reason, ...access.parameters },
      });
    });
  } catch (err) {
    throw new SealboxError('SEALBOX_ERR_LEDGER', undefined, { cause: err });
  }
}
