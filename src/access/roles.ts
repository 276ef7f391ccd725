// The names of roles and of API token scopes, on their own so that the command line can name
// them in its help without loading the access stage.
export const ROLES = ['owner', 'requester', 'approver', 'auditor', 'admin', 'breakglass'] as const;
export type Role = (typeof ROLES)[number];

// ingest: submit messages (POST /api/v1/ingest); only admins hold such tokens.
export const TOKEN_SCOPES = ['content', 'requests', 'approvals', 'ledger', 'admin', 'ingest'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];
