import { readFileSync } from 'node:fs';
import type { Entry } from 'ldapts';
import type { Config } from '../core/config.ts';
import { SealboxError } from '../core/errors.ts';
import { isAddress, sealboxUserName } from './directory-snapshot.ts';
import type { DirectoryPerson, DirectorySnapshot, SharedMailbox } from './directory-snapshot.ts';

export type LdapSettings = NonNullable<Config['directory']['ldap']>;
type Attributes = Required<LdapSettings['attributes']>;

// Active Directory and plain LDAP (inetOrgPerson, groupOfNames) by their usual attributes; each
// one can be renamed in directory.ldap.attributes.
const PRESETS: Record<LdapSettings['preset'], { userFilter: string; groupFilter: string; sharedOwnerAttribute: string; attributes: Attributes }> = {
  ad: {
    userFilter: '(&(objectCategory=person)(objectClass=user))',
    groupFilter: '(objectClass=group)',
    sharedOwnerAttribute: 'managedBy',
    attributes: { userName: 'sAMAccountName', mail: 'mail', aliases: 'proxyAddresses', displayName: 'displayName', manager: 'manager', department: 'department', groupName: 'cn', member: 'member' },
  },
  ldap: {
    userFilter: '(objectClass=inetOrgPerson)',
    groupFilter: '(objectClass=groupOfNames)',
    sharedOwnerAttribute: 'owner',
    attributes: { userName: 'uid', mail: 'mail', aliases: 'mailAlternateAddress', displayName: 'displayName', manager: 'manager', department: 'departmentNumber', groupName: 'cn', member: 'member' },
  },
};

// AD's userAccountControl flag ACCOUNTDISABLE.
const ACCOUNT_DISABLED = 2;

// DNs compare case-insensitively and without the spaces some servers put after commas.
const normalDn = (dn: string) => dn.trim().toLowerCase().replace(/\s*([,+=])\s*/g, '$1');

// Reads the whole directory into a snapshot: people (login, addresses, display name, manager,
// department, disabled), the groups they are in, and shared mailboxes with their owner. Read-only:
// it binds, searches and unbinds.
export class LdapDirectory {
  readonly #s: LdapSettings;
  readonly #readFile: (path: string) => string;

  constructor(settings: LdapSettings, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')) {
    this.#s = settings;
    this.#readFile = readFile;
  }

  async read(): Promise<DirectorySnapshot> {
    const s = this.#s;
    const preset = PRESETS[s.preset];
    const a: Attributes = { ...preset.attributes, ...Object.fromEntries(Object.entries(s.attributes).filter(([, v]) => v)) };
    const userFilter = s.userFilter ?? preset.userFilter;
    const ownerAttribute = s.sharedOwnerAttribute ?? preset.sharedOwnerAttribute;
    let password: string;
    try {
      password = this.#readFile(s.bindPasswordFile).replace(/\r?\n$/, '');
    } catch (err) {
      throw new SealboxError('SEALBOX_ERR_CONFIG', `directory.ldap.bindPasswordFile: cannot read ${s.bindPasswordFile}: ${(err as Error).message}`);
    }
    // ldapts is loaded when a directory is read, not by every process that could read one.
    const { Client } = await import('ldapts');
    let ca: string[] | undefined;
    try {
      ca = s.caFile ? [this.#readFile(s.caFile)] : undefined;
    } catch (err) {
      throw new SealboxError('SEALBOX_ERR_CONFIG', `directory.ldap.caFile: cannot read ${s.caFile}: ${(err as Error).message}`);
    }
    const client = new Client({ url: s.url, timeout: s.timeoutMs, connectTimeout: s.timeoutMs, ...(ca && !s.startTls ? { tlsOptions: { ca } } : {}) });
    const search = async (filter: string, attributes: string[]): Promise<Entry[]> => {
      const out: Entry[] = [];
      for (const base of s.baseDns) out.push(...(await client.search(base, { scope: 'sub', filter, attributes, paged: { pageSize: 500 } })).searchEntries);
      return out;
    };
    try {
      // The password goes out only once the connection is TLS, where StartTLS is asked for (a
      // server that cannot, or whose certificate fails, gets no bind at all).
      if (s.startTls) {
        try {
          await client.startTLS({ ...(ca ? { ca } : {}), ...tlsHost(s.url) });
        } catch (err) {
          throw new SealboxError('SEALBOX_ERR_UPSTREAM', `StartTLS with the directory at ${s.url} failed, so no password was sent: ${(err as Error).message}`);
        }
      }
      try {
        await client.bind(s.bindDn, password);
      } catch (err) {
        throw new SealboxError('SEALBOX_ERR_UPSTREAM', `the directory at ${s.url} refused the bind as ${s.bindDn}: ${(err as Error).message}`);
      }
      const department = s.attributes.department ? [a.department] : s.preset === 'ldap' ? [a.department, 'ou'] : [a.department];
      const users = await search(userFilter, [a.userName, a.mail, a.aliases, a.displayName, a.manager, ...department, 'memberOf', 'userAccountControl']);
      const disabled = new Set(s.disabledFilter ? (await search(`(&${userFilter}${s.disabledFilter})`, ['1.1'])).map((e) => normalDn(e.dn)) : []);
      const groups = new Map<string, string[]>();     // member DN → group names
      const groupNames = new Map<string, string>();   // group DN → name
      for (const g of await search(s.groupFilter ?? preset.groupFilter, [a.groupName, a.member])) {
        const name = values(g, a.groupName)[0];
        if (!name) continue;
        groupNames.set(normalDn(g.dn), name);
        for (const m of values(g, a.member)) groups.set(normalDn(m), [...(groups.get(normalDn(m)) ?? []), name]);
      }
      const sharedEntries = s.sharedFilter ? await search(s.sharedFilter, [a.mail, a.aliases, a.displayName, 'cn', ownerAttribute]) : [];
      const sharedDns = new Set(sharedEntries.map((e) => normalDn(e.dn)));

      const skipped: DirectorySnapshot['skipped'] = [];
      const byDn = new Map<string, string>();          // person DN → user name
      const people: DirectoryPerson[] = [];
      const seen = new Set<string>();
      for (const e of users) {
        const dn = normalDn(e.dn);
        if (sharedDns.has(dn)) continue;
        const login = values(e, a.userName)[0];
        const userName = login ? sealboxUserName(login) : null;
        if (!userName) {
          skipped.push({ entry: e.dn, why: login ? `"${login}" (${a.userName}) cannot be a Sealbox user name` : `no ${a.userName}` });
          continue;
        }
        if (seen.has(userName)) {
          skipped.push({ entry: e.dn, why: `${userName} is named by another entry too` });
          continue;
        }
        const addresses = this.#addresses(e, a);
        if (addresses.length === 0) {
          skipped.push({ entry: e.dn, why: 'no e-mail address' });
          continue;
        }
        seen.add(userName);
        byDn.set(dn, userName);
        const uac = Number(values(e, 'userAccountControl')[0]);
        const memberOf = values(e, 'memberOf').map((g) => groupNames.get(normalDn(g))).filter((g): g is string => Boolean(g));
        people.push({
          userName, displayName: values(e, a.displayName)[0] ?? null, addresses,
          manager: values(e, a.manager)[0] ?? null,      // a DN until resolved below
          department: department.map((attr) => values(e, attr)[0]).find(Boolean) ?? null,
          disabled: disabled.has(dn) || (s.preset === 'ad' && Number.isFinite(uac) && (uac & ACCOUNT_DISABLED) !== 0),
          groups: [...new Set([...(groups.get(dn) ?? []), ...memberOf])].sort(),
        });
      }
      for (const p of people) p.manager = p.manager ? byDn.get(normalDn(p.manager)) ?? null : null;
      const shared: SharedMailbox[] = [];
      for (const e of sharedEntries) {
        const addresses = this.#addresses(e, a);
        if (addresses.length === 0) {
          skipped.push({ entry: e.dn, why: 'shared mailbox without an e-mail address' });
          continue;
        }
        const owners = values(e, ownerAttribute).map((dn) => byDn.get(normalDn(dn))).filter((n): n is string => Boolean(n)).sort();
        shared.push({ name: addresses[0], displayName: values(e, a.displayName)[0] ?? values(e, 'cn')[0] ?? null, addresses, owner: owners[0] ?? null });
      }
      return { source: 'ldap', people, shared, skipped };
    } catch (err) {
      if (err instanceof SealboxError) throw err;
      throw new SealboxError('SEALBOX_ERR_UPSTREAM', `reading the directory at ${s.url} failed: ${(err as Error).message}`);
    } finally {
      await client.unbind().catch(() => {});
    }
  }

  // The primary address first: AD's proxyAddresses marks it SMTP: (other smtp: ones are aliases,
  // X500: and the like are not mail); plain LDAP's mail comes before its alternate addresses.
  #addresses(e: Entry, a: Attributes): string[] {
    const out: string[] = [];
    const aliases = values(e, a.aliases);
    const smtp = aliases.filter((v) => /^smtp:/i.test(v));
    if (smtp.length > 0) {
      out.push(...smtp.filter((v) => v.startsWith('SMTP:')).map((v) => v.slice(5)));
      out.push(...values(e, a.mail));
      out.push(...smtp.filter((v) => !v.startsWith('SMTP:')).map((v) => v.slice(5)));
    } else out.push(...values(e, a.mail), ...aliases.filter((v) => !/^[a-z0-9]+:/i.test(v) || v.includes('@')));
    return [...new Set(out.map((v) => v.trim().toLowerCase()).filter(isAddress))];
  }
}

// The name the server's certificate must bear: the URL's host (an IP address is checked against
// the certificate's IP addresses; TLS sends a name only as SNI).
function tlsHost(url: string): { host: string; servername?: string } {
  const host = (/^ldaps?:\/\/(\[[^\]]+\]|[^:/]+)/i.exec(url)?.[1] ?? '').replace(/^\[|\]$/g, '');
  return /^[\d.]+$|:/.test(host) ? { host } : { host, servername: host };
}

// An attribute's values as strings, whatever case the server wrote its name in.
function values(e: Entry, name: string): string[] {
  const key = Object.keys(e).find((k) => k.toLowerCase() === name.toLowerCase());
  const v = key ? e[key] : undefined;
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : String(x))).filter((x) => x !== '');
}
