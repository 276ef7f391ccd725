import type { LedgerEntryType } from './types.ts';

// The one registry of what the ledger records, like core/errors.ts for errors: every operation
// an entry can name, the entry type it is written as, what it means, and — for the actions that
// change who may read what or take mail out — why oversight reviews it (high impact).
interface OperationSpec {
  type: LedgerEntryType;
  summary: string;
  highImpact?: string;
}

export const LEDGER_OPERATIONS = {
  // capture
  capture: { type: 'capture', summary: 'a message archived, with its envelope and provenance' },
  'capture.ingest': { type: 'admin', summary: 'a message submitted through the ingest API (refusals)' },

  // reading archived content
  search: { type: 'access', summary: 'a search (query, scope, results)' },
  view: { type: 'access', summary: "a message's metadata view" },
  raw: { type: 'access', summary: "a message's exact bytes downloaded" },
  body: { type: 'access', summary: "a message's body shown in the viewer (sanitised, remote content blocked)" },
  evidence: { type: 'access', summary: "a message's evidence (proofs, checkpoint) read" },
  'remote-content': { type: 'access', summary: "a message's remote content loaded on request" },
  'attachment-text': { type: 'access', summary: "the text read from inside one of a message's attachments, shown in the viewer" },
  export: { type: 'access', summary: 'messages exported under a grant', highImpact: 'messages exported' },
  'export.job': { type: 'access', summary: 'an export job started under a grant: the search it runs and the messages it will export' },
  'export.cancel': { type: 'access', summary: 'an export job cancelled by the one who started it: how far it got (messages packed of those it was to export); nothing of it was handed out' },
  'export.download': { type: 'access', summary: "a file of a finished export job downloaded (the messages it holds)" },

  // people, sign-in, tokens
  'session.create': { type: 'admin', summary: 'a sign-in, with a password or through an identity provider (refusals: wrong password, code, locked; a token the provider sent that fails its checks, a replayed or unknown sign-in)' },
  'session.csrf': { type: 'admin', summary: 'a request refused for a missing or wrong CSRF token' },
  'user.add': { type: 'admin', summary: 'a person created', highImpact: 'user added or roles changed' },
  'user.enrol': { type: 'admin', summary: 'a person enrolled (password, second factor)' },
  'user.roles': { type: 'admin', summary: "a person's roles changed", highImpact: 'roles changed' },
  'user.disable': { type: 'admin', summary: 'a person disabled', highImpact: 'user disabled' },
  'user.enable': { type: 'admin', summary: 'a person enabled again', highImpact: 'user enabled again' },
  'user.unlock': { type: 'admin', summary: 'an account locked after failed sign-ins opened again', highImpact: 'account unlocked after failed sign-ins' },
  'user.list': { type: 'admin', summary: 'the list of people read' },
  'user.recovery-codes': { type: 'admin', summary: 'a fresh set of recovery codes made' },
  'user.recovery.request': { type: 'admin', summary: 'an account recovery asked for', highImpact: 'account recovery asked for' },
  'user.recovery.approve': { type: 'admin', summary: 'an account recovery approved', highImpact: 'account recovery approved (a new enrolment code mailed to the person)' },
  'user.recovery.deny': { type: 'admin', summary: 'an account recovery denied' },
  'user.recovery.list': { type: 'admin', summary: 'account recoveries listed' },
  'user.role.file': { type: 'admin', summary: "a role filed for an approver (an identity provider's group would give it)", highImpact: 'role asked for through an identity provider group' },
  'user.role.approve': { type: 'admin', summary: 'a filed role approved and applied', highImpact: 'role approved' },
  'user.role.deny': { type: 'admin', summary: 'a filed role denied' },
  'user.role.cancel': { type: 'admin', summary: "a filed role no longer asked for (the person left the provider's group)" },
  'user.sso.link': { type: 'admin', summary: "a person linked their own account to their account at an identity provider (refusals: a round trip that failed its checks, a provider account named for someone else or linked already)", highImpact: 'account linked to an identity provider' },
  'user.sso.unlink': { type: 'admin', summary: 'a person unlinked their own account from an identity provider' },
  'user.role.list': { type: 'admin', summary: 'filed roles listed' },
  'token.create': { type: 'admin', summary: 'an API token created', highImpact: 'API token created' },
  'token.revoke': { type: 'admin', summary: 'an API token revoked' },
  'token.use': { type: 'admin', summary: 'an API token refused (revoked, expired, lacking the scope)' },

  // access requests and grants
  'request.file': { type: 'admin', summary: 'an access request filed' },
  'request.approve': { type: 'admin', summary: 'an access request approved', highImpact: 'access approved' },
  'request.deny': { type: 'admin', summary: 'an access request denied' },
  'request.revoke': { type: 'admin', summary: 'a grant revoked' },
  'request.read': { type: 'admin', summary: 'an access request read' },
  'request.list': { type: 'admin', summary: 'access requests listed' },
  'breakglass.open': { type: 'admin', summary: 'break-glass access opened', highImpact: 'break-glass access opened' },

  // the directory and policies
  'mailboxes.import': { type: 'admin', summary: 'the mailbox directory imported', highImpact: 'directory imported (owners, sensitivity, managers, departments)' },
  'directory.sync': { type: 'admin', summary: 'a directory sync (LDAP, SCIM) planned, applied or stopped by the mass-removal guard; what it changed has entries of its own' },
  'directory.sync.list': { type: 'admin', summary: 'directory syncs and their changes listed' },
  'directory.scim': { type: 'admin', summary: 'a SCIM request refused (users and groups an identity provider pushes; what an accepted one changes has the entries a directory sync has)' },
  'mailbox.list': { type: 'admin', summary: 'mailboxes listed' },
  'mailbox.policy': { type: 'admin', summary: "a mailbox's notification policy changed", highImpact: 'mailbox notification policy changed' },
  'ownership.list': { type: 'admin', summary: 'staged ownership changes listed' },
  'ownership.file': { type: 'admin', summary: "a mailbox's ownership filed for approval (a verified address at a sign-in through an identity provider)", highImpact: 'mailbox ownership asked for' },
  'ownership.approve': { type: 'admin', summary: 'a staged ownership change approved', highImpact: 'mailbox ownership change approved' },
  'ownership.deny': { type: 'admin', summary: 'a staged ownership change denied' },
  // retention (src/retention/): a change that could shorten what mail is kept waits for someone else
  'retention.list': { type: 'admin', summary: 'retention rules and their changes listed' },
  'hold.place': { type: 'admin', summary: "a legal hold placed on custodians' mail (their owners told)" },
  'hold.list': { type: 'admin', summary: 'legal holds and their releases listed' },
  'hold.release.file': { type: 'admin', summary: 'the release of a legal hold asked for', highImpact: 'release of a legal hold asked for' },
  'hold.release.approve': { type: 'admin', summary: 'a legal hold released: its mail follows retention again', highImpact: 'legal hold released' },
  'hold.release.deny': { type: 'admin', summary: 'the release of a legal hold denied' },
  'disposal.file': { type: 'admin', summary: 'early disposal of messages asked for (before their retention ends)', highImpact: 'early deletion asked for' },
  'disposal.list': { type: 'admin', summary: 'early disposal requests listed' },
  'disposal.approve': { type: 'admin', summary: 'early disposal approved (then carried out: a dispose entry)', highImpact: 'early deletion approved' },
  'disposal.deny': { type: 'admin', summary: 'early disposal denied' },
  'disposal.runs': { type: 'admin', summary: "disposal runs (the ledger's dispose entries) and what the next run would do listed" },
  'disposal.run': { type: 'admin', summary: 'disposal of what retention lets go run by a person rather than on its schedule (refusals: what a run destroys is recorded by its dispose entries, the person as their actor)' },
  'leaver.list': { type: 'admin', summary: 'leavers and their filed changes listed' },
  'leaver.file': { type: 'admin', summary: "a leaving date, its withdrawal or an exemption from the leaver rule filed for approval (a leaving date shortens the mailbox's retention)", highImpact: 'leaving date or leaver exemption asked for' },
  'leaver.approve': { type: 'admin', summary: 'a filed leaving date, withdrawal or exemption approved and applied', highImpact: 'leaving date or leaver exemption approved' },
  'leaver.deny': { type: 'admin', summary: 'a filed leaving date, withdrawal or exemption denied' },
  'subject.file': { type: 'admin', summary: "a data subject's erasure request filed (its id and reference; the person is not named)", highImpact: 'erasure of a person asked for' },
  'subject.list': { type: 'admin', summary: 'data-subject requests listed' },
  'subject.approve': { type: 'admin', summary: 'an erasure request approved (then carried out: dispose and ledger.erase entries)', highImpact: 'erasure of a person approved' },
  'subject.deny': { type: 'admin', summary: 'an erasure request denied' },
  'hold.acknowledge': { type: 'admin', summary: "a custodian acknowledged a legal hold's notice" },
  'retention.set': { type: 'admin', summary: 'a retention rule added or changed at once (it can only lengthen what mail is kept)' },
  'retention.file': { type: 'admin', summary: "a retention change that could shorten what mail is kept, or lower a rule's minimum (or a removal), filed for approval", highImpact: 'shorter retention asked for' },
  'retention.approve': { type: 'admin', summary: 'a filed retention change approved and applied', highImpact: 'shorter retention approved' },
  'retention.deny': { type: 'admin', summary: 'a filed retention change denied' },
  'policy.set': { type: 'admin', summary: 'the access policy changed', highImpact: 'access policy changed' },
  'notice.set': { type: 'admin', summary: 'the archiving notice changed' },
  'notice.acknowledge': { type: 'admin', summary: 'the archiving notice acknowledged' },
  'notifications.read': { type: 'admin', summary: "notices in the app marked read (refusals: someone else's, or one not shown yet)" },

  // oversight
  'ledger.read': { type: 'admin', summary: 'ledger entries read' },
  'ledger.export': { type: 'admin', summary: 'the ledger exported' },
  'ledger.checkpoints': { type: 'admin', summary: 'signed checkpoints read' },
  'ledger.verify-failed': { type: 'system', summary: 'the background verification found a problem' },
  dispose: { type: 'system', summary: 'messages destroyed by retention (data keys destroyed, then their bytes and index rows removed)' },
  'disposal.certificate': { type: 'admin', summary: 'a disposal certificate handed out' },
  'ledger.upgrade': { type: 'system', summary: 'the ledger writes version-2 entries from here on (personal data beside the leaf, committed to in it)' },
  'ledger.erase': { type: 'admin', summary: "entries' personal payloads erased (their commitments stay in the tree)", highImpact: 'personal data erased from the ledger' },
  'oversight.report': { type: 'admin', summary: 'an oversight report made' },
  'oversight.inventory': { type: 'admin', summary: 'the permission inventory read' },
  'review.list': { type: 'admin', summary: 'the review queue read' },
  'review.read': { type: 'admin', summary: 'a review item read' },
  'review.claim': { type: 'admin', summary: 'a review item claimed' },
  'review.close': { type: 'admin', summary: 'a review item closed' },
  'review.escalate': { type: 'admin', summary: 'a review item escalated' },
  'review.reopen': { type: 'admin', summary: 'a review item reopened' },
  'review.review': { type: 'admin', summary: 'a review item marked reviewed, with its note' },
  'review.sample': { type: 'system', summary: 'closed grants drawn for review' },
  'alert.raise': { type: 'system', summary: 'alerts raised by the oversight rules' },
  'digest.owners': { type: 'system', summary: 'owners sent their digest of accesses' },
  'digest.auditors': { type: 'system', summary: 'auditors sent their digest' },
  'health.read': { type: 'admin', summary: 'the health page read' },
} as const satisfies Record<string, OperationSpec>;

export type LedgerOperation = keyof typeof LEDGER_OPERATIONS;

// Why an operation is reviewed by someone else, or null. Key operations (`key.*`) are high impact
// whatever they are (none is recorded yet: the key tools arrive with retention).
export function highImpactReason(operation: string): string | null {
  if (operation.startsWith('key.')) return 'key operation';
  const spec: OperationSpec | undefined = (LEDGER_OPERATIONS as Record<string, OperationSpec>)[operation];
  return spec?.highImpact ?? null;
}
