// The names of roles and of API token scopes, on their own so that the command line can name
// them in its help without loading the access stage.
export const ROLES = ['owner', 'requester', 'approver', 'auditor', 'admin', 'records', 'breakglass'] as const;
export type Role = (typeof ROLES)[number];

// Who keeps the records: files retention rules and their changes, legal holds and their release,
// early disposal, leaving dates, data-subject requests; sees disposal runs and their certificates.
// A records manager reads no mail by the role, and like an administrator cannot shorten, release or
// destroy alone: every such filing waits for an approver who is neither the filer nor linked to
// them (FourEyes). Administrators keep these powers for small organisations with no records manager.
export const RECORD_KEEPERS: readonly Role[] = ['admin', 'records'];
// Who sees them: the keepers, the approvers who decide on them, the auditors who check them.
export const RECORD_READERS: readonly Role[] = [...RECORD_KEEPERS, 'approver', 'auditor'];

// ingest: submit messages (POST /api/v1/ingest); scim: push users and groups (/scim/v2/…, an
// identity provider's provisioning); only admins hold such tokens.
export const TOKEN_SCOPES = ['content', 'requests', 'approvals', 'ledger', 'admin', 'ingest', 'scim'] as const;
export const ADMIN_ONLY_SCOPES: readonly TokenScope[] = ['ingest', 'scim'];
export type TokenScope = (typeof TOKEN_SCOPES)[number];
