// The one registry of Sealbox errors. Each has a stable code, the SMTP reply and the HTTP
// status it becomes; only the protocol edges (SMTP/LMTP, HTTP, CLI) translate.

interface ErrorSpec {
  smtp: number;      // SMTP/LMTP reply code
  http: number;      // HTTP status
  message: string;   // default human message
}

export const ERRORS = {
  SEALBOX_ERR_INTERNAL: { smtp: 451, http: 500, message: 'internal error; the message was not archived, please retry' },
  SEALBOX_ERR_STORE_UNAVAILABLE: { smtp: 451, http: 503, message: 'archive storage is unavailable; please retry later' },
  SEALBOX_ERR_INSUFFICIENT_STORAGE: { smtp: 452, http: 507, message: 'insufficient storage in the archive; please retry later' },
  SEALBOX_ERR_SHUTTING_DOWN: { smtp: 421, http: 503, message: 'Sealbox is shutting down; please retry later' },
  SEALBOX_ERR_MESSAGE_TOO_LARGE: { smtp: 552, http: 413, message: 'message exceeds the configured size limit' },
  SEALBOX_ERR_CLIENT_NOT_ALLOWED: { smtp: 554, http: 403, message: 'client address is not allowed to submit journal copies' },
  SEALBOX_ERR_RECIPIENT_DOMAIN: { smtp: 550, http: 400, message: 'recipient domain is not archived here' },
  SEALBOX_ERR_TOO_MANY_RECIPIENTS: { smtp: 452, http: 400, message: 'too many recipients' },
  SEALBOX_ERR_BAD_ENVELOPE: { smtp: 501, http: 400, message: 'malformed envelope' },
  SEALBOX_ERR_CONFIG: { smtp: 451, http: 500, message: 'invalid configuration' },
  SEALBOX_ERR_QUERY: { smtp: 501, http: 400, message: 'malformed search query' },
  SEALBOX_ERR_NOT_FOUND: { smtp: 550, http: 404, message: 'not found' },
  SEALBOX_ERR_DISPOSED: { smtp: 550, http: 410, message: 'destroyed by retention policy' },
  SEALBOX_ERR_REASON_REQUIRED: { smtp: 550, http: 400, message: 'a reason is required to read archived content' },
  SEALBOX_ERR_BAD_INPUT: { smtp: 501, http: 400, message: 'bad input' },
  SEALBOX_ERR_AUTH: { smtp: 535, http: 401, message: 'sign-in required or failed' },
  SEALBOX_ERR_LOCKED: { smtp: 535, http: 423, message: 'account temporarily locked after failed sign-ins' },
  SEALBOX_ERR_FORBIDDEN: { smtp: 550, http: 403, message: 'not allowed' },
  SEALBOX_ERR_CSRF: { smtp: 550, http: 403, message: 'missing or wrong CSRF token' },
  SEALBOX_ERR_CONFLICT: { smtp: 550, http: 409, message: 'not possible in the current state' },
  SEALBOX_ERR_RATE_LIMITED: { smtp: 421, http: 429, message: 'too many requests; slow down' },
  SEALBOX_ERR_UPSTREAM: { smtp: 451, http: 502, message: 'an identity provider did not answer as it should' },
  SEALBOX_ERR_LEDGER: { smtp: 451, http: 500, message: 'ledger could not be written; nothing was served' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export class SealboxError extends Error {
  readonly code: ErrorCode;
  readonly responseCode: number;   // what smtp-server sends back
  readonly statusCode: number;
  readonly fields: string[] | undefined;   // the input fields at fault, for a form to show the message by

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; fields?: string[] }) {
    super(message ?? ERRORS[code].message, options);
    this.name = 'SealboxError';
    this.code = code;
    this.responseCode = ERRORS[code].smtp;
    this.statusCode = ERRORS[code].http;
    this.fields = options?.fields;
  }
}

// Anything that is not a deliberate SealboxError is a fault: it becomes a temporary failure.
export function asSealboxError(err: unknown): SealboxError {
  if (err instanceof SealboxError) return err;
  return new SealboxError('SEALBOX_ERR_INTERNAL', undefined, { cause: err });
}
