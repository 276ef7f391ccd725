import { SealboxError } from '../core/errors.ts';
import type { SearchIndex } from '../index/search-index.ts';
import { ADDRESS_ROLES } from '../index/search-query.ts';
import type { Grants, NewRequest } from './grants.ts';
import { MAX_REQUEST_QUERY, PERMISSIONS, SUBJECT_ACCESS_PURPOSE } from './grants.ts';
import type { User } from './people.ts';
import type { Policy } from './policy.ts';

export { SUBJECT_ACCESS_PURPOSE };

// A data subject's addresses as a request names them (Art. 15 and 17 alike): lowercased, as the
// index keeps them, each once, each an address.
export function subjectAddresses(raw: readonly string[]): string[] {
  const addresses = [...new Set(raw.map((a) => a.trim().toLowerCase()).filter(Boolean))];
  if (addresses.length === 0) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', 'a data-subject request names the person\'s addresses', { fields: ['addresses'] });
  for (const a of addresses) if (!/^[^@\s\p{Cc}]+@[^@\s\p{Cc}]+$/u.test(a)) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `"${a}" is not an e-mail address`, { fields: ['addresses'] });
  return addresses;
}

export interface SubjectAccessInput {
  addresses: string[];
  reference: string;        // the ticket
  justification: string;
  durationHours: number;
}

// GDPR Art. 15: a copy of what the archive holds about a person. It has no way to mail of its
// own: it is an access request like any other (Grants.file), approved by someone else and
// exported under its grant, whose terms are found here. Its mailboxes are those holding mail in
// which one of the person's addresses takes part; its fixed query narrows them to exactly that
// mail. Finding the mailboxes is a search about the person: `searched` is told what it found
// (counts only) before anything else happens, so that the filing's entry, or the refusal's when
// nothing was found, records it.
export async function subjectAccessRequest(d: { grants: Grants; policy: Pick<Policy, 'recent'>; search: Pick<SearchIndex, 'messagesWith' | 'mailboxesWith'> }, requester: User,
  input: SubjectAccessInput, searched: (found: { addresses: number; messages: number; mailboxes: number }) => void): Promise<NewRequest> {
  const addresses = subjectAddresses(input.addresses);
  const query = participationQuery(addresses);
  if (query.length > MAX_REQUEST_QUERY) throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `these addresses make a query of ${query.length} characters, more than a request's ${MAX_REQUEST_QUERY}: file one request for fewer of them`, { fields: ['addresses'] });
  const terms = { purpose: SUBJECT_ACCESS_PURPOSE, justification: input.justification, ticket: input.reference, query, permissions: [...PERMISSIONS], durationHours: input.durationHours };
  // Heard like any filing before anyone is searched for: one that would be refused searches nothing
  // (Grants.file hears it again under the policy its transaction reads).
  d.grants.terms(await d.policy.recent(), requester, terms);
  const messages = (await d.search.messagesWith(addresses)).length;
  const mailboxes = await d.search.mailboxesWith(addresses);
  searched({ addresses: addresses.length, messages, mailboxes: mailboxes.length });
  // Filed even when no mailbox holds any of it (mail in which no mailbox takes part is outside
  // every grant's scope): the filer is answered the same either way, and learns what there is
  // only once someone else approved it (Grants.file sealed; the request's view, sealedFor).
  return { ...terms, mailboxes };
}

// The query that matches exactly the messages in which one of `addresses` takes part, in any role:
// the messages SearchIndex.messagesWith finds. Quoted, so that no address reads as anything else.
function participationQuery(addresses: readonly string[]): string {
  const quoted = (a: string) => `"${a.replace(/["\\]/g, (c) => '\\' + c)}"`;
  return addresses.flatMap((a) => ADDRESS_ROLES.map((role) => `${role}:${quoted(a)}`)).join(' OR ');
}

// The person an Art. 15 grant is about: the addresses its fixed query was made of, when the query
// is exactly one participationQuery made (any other query, even with that purpose, is not a
// subject-access grant's, and gets an ordinary package).
export function subjectOfQuery(query: string | null): string[] | null {
  if (!query) return null;
  const addresses: string[] = [];
  const term = /^(from|sender|to|cc|bcc):"((?:[^"\\]|\\.)*)"$/;
  for (const part of query.split(' OR ')) {
    const m = term.exec(part);
    if (!m) return null;
    const address = m[2].replace(/\\(.)/g, '$1');
    if (!addresses.includes(address)) addresses.push(address);
  }
  try {
    return participationQuery(subjectAddresses(addresses)) === query ? addresses : null;
  } catch {
    return null;
  }
}

// How a subject-access package treats mail of which others are the main party (Art. 15(4): the
// copy must not adversely affect the rights of others). The person is a main party of a message
// when one of their addresses is its author or a direct recipient: the From or Sender header, the
// envelope's sender (MAIL FROM), or a To header. Mail that reached them only as a Cc, a Bcc, or an
// envelope recipient no header names (a mailing list, an alias, a forward) is others' mail.
// `withhold` (the default, config export.subjectAccess.otherParties) leaves it out of the package
// and counts it; `include` puts it in.
export const OTHER_PARTIES = ['withhold', 'include'] as const;
export type OtherParties = (typeof OTHER_PARTIES)[number];
const MAIN_ROLES = new Set(['from', 'sender', 'to']);
export const MAIN_PARTY_RULE = 'the person is a main party of a message when one of their addresses is in its From or Sender header, is the SMTP envelope sender (MAIL FROM), or is in its To header; mail that reached them only by Cc, by Bcc, or as an envelope recipient no header names (a mailing list, an alias, a forward) has others as its main party';

export function isMainParty(addresses: readonly string[], participants: readonly { address: string; role: string }[]): boolean {
  const theirs = new Set(addresses);
  return participants.some((p) => theirs.has(p.address.toLowerCase()) && MAIN_ROLES.has(p.role));
}

// The person's addresses when a grant answers an Art. 15 request (its purpose, and its fixed
// query one filed here); null for any other grant.
export function subjectOfGrant(grant: { purpose: string; fixedQuery: string | null }): string[] | null {
  return grant.purpose === SUBJECT_ACCESS_PURPOSE ? subjectOfQuery(grant.fixedQuery) : null;
}

// Whether `viewer` sees a data subject's access request sealed: its filer (when not also an
// approver, auditor or admin, who see every request whole) until it is approved. Sealed, its
// mailboxes are not shown, and nothing else said about it depends on them.
export function sealedFor(viewer: { id: number; roles: readonly string[] }, r: { purpose: string; requesterId: number; approvedAt: number | null }): boolean {
  if (r.purpose !== SUBJECT_ACCESS_PURPOSE || r.approvedAt !== null || r.requesterId !== viewer.id) return false;
  return !viewer.roles.some((role) => role === 'approver' || role === 'auditor' || role === 'admin');
}
