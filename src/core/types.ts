// Domain words shared by every stage (DESIGN.md "Domain words").

export type CaptureSource = 'smtp' | 'lmtp' | 'milter' | 'exchange-journal' | `import:${string}` | 'api';

export interface EnvelopeRecipient {
  address: string;                   // as given in RCPT TO, without <>
  args: Record<string, string>;      // NOTIFY, ORCPT, …
}

// Absent fields mean "not known" (an import has no envelope): never invented.
export interface Envelope {
  mailFrom: string | null;           // '' for the null sender <>
  mailFromArgs: Record<string, string>; // SIZE, BODY, SMTPUTF8, RET, ENVID, …
  rcptTo: EnvelopeRecipient[];
  clientAddress: string | null;      // the peer that sent it to us, or the XFORWARD/XCLIENT ADDR when trusted
  clientPort: number | null;
  clientHelo: string | null;
  clientName: string | null;         // reverse DNS name, when the MTA forwarded it
  authUser: string | null;
  queueId: string | null;            // the MTA's queue id (XFORWARD IDENT)
  protocol: string | null;           // SMTP / ESMTP / LMTP …
  tls: { protocol: string; cipher: string } | null;
  transport: { address: string; port: number; helo: string | null }; // the hop that delivered to Sealbox
  xforward: Record<string, string>;  // attributes as received from a trusted client (XFORWARD/XCLIENT)
}

export interface CaptureRecord {
  id: string;                        // capture id (ULID-like, time ordered)
  source: CaptureSource;
  receivedAt: number;                // ms epoch
  envelope: Envelope | null;
  provenance: Record<string, unknown> | null; // importer: file/offset, folder/UID …
}

export type LedgerEntryType = 'capture' | 'access' | 'admin' | 'system';
export type LogonType = 'owner' | 'delegated' | 'breakglass' | 'admin' | 'system';

// One entry of the append-only ledger. Its canonical serialisation is the Merkle leaf.
export interface LedgerEntry {
  index: number;
  time: number;
  type: LedgerEntryType;
  actor: string;
  actorRoles: string[];
  logonType: LogonType;
  sessionId: string | null;
  clientIp: string | null;
  operation: string;
  objects: { mailboxes: string[]; messages: string[] };
  grantId: string | null;
  result: 'success' | 'denied' | 'error';
  parameters: Record<string, unknown>;
  // An erasure entry: the indexes of the entries whose personal payload it erases (version 2).
  erases?: number[];
  // Read back: this entry's personal payload was erased (clientIp, mailboxes, parameters empty).
  erased?: true;
}
