import { BlockList, isIP } from 'node:net';
import type { Config } from '../core/config.ts';
import { SealboxError } from '../core/errors.ts';

// Which peers the capture listeners believe, decided in one place for SMTP, LMTP, the milter and
// the ingest API (built once, in serve). receiver.allowedClients: who may connect to submit at
// all (empty: anyone); for the milter that is the MTA, not the SMTP client it is filtering.
// receiver.journalClients: whose Exchange journal reports are unwrapped (empty: no one); the
// sender of the report is the peer itself for SMTP/LMTP and the API, and the MTA's SMTP client
// for the milter.
export class ClientPolicy {
  readonly #allowed: BlockList | null;
  readonly #journal: BlockList | null;

  // Throws SEALBOX_ERR_CONFIG naming the key when an entry is not an address or CIDR range.
  constructor(receiver: Pick<Config['receiver'], 'allowedClients' | 'journalClients'>) {
    this.#allowed = blockList(receiver.allowedClients, 'receiver.allowedClients');
    this.#journal = blockList(receiver.journalClients, 'receiver.journalClients');
  }

  // Why this peer may not submit to Sealbox, or null when it may.
  connectRefusal(peer: string): string | null {
    if (!this.#allowed || listed(this.#allowed, peer)) return null;
    return `client ${plainAddress(peer)} is not in receiver.allowedClients`;
  }

  // Why a journal report from this peer is archived as received but not unwrapped, or null: the
  // report states the envelope of the message it carries, so only named clients are believed.
  journalRefusal(peer: string): string | null {
    if (this.#journal && listed(this.#journal, peer)) return null;
    return `not unwrapped: client ${plainAddress(peer)} is not in receiver.journalClients`;
  }
}

// An IPv4 peer of a dual-stack listener is reported as ::ffff:a.b.c.d; lists name it a.b.c.d.
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

function listed(list: BlockList, peer: string): boolean {
  const address = plainAddress(peer);
  const type = isIP(address);
  return type !== 0 && list.check(address, type === 6 ? 'ipv6' : 'ipv4');
}

function blockList(entries: string[], key: string): BlockList | null {
  if (entries.length === 0) return null;
  const list = new BlockList();
  for (const entry of entries) {
    const [addr, bits, ...rest] = entry.split('/');
    const type = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    const prefix = bits === undefined ? null : Number(bits);
    if (!isIP(addr) || rest.length > 0 || (prefix !== null && !(/^\d+$/.test(bits) && prefix <= (type === 'ipv6' ? 128 : 32)))) {
      throw new SealboxError('SEALBOX_ERR_CONFIG', `${key}: "${entry}" is not an IP address or CIDR range`);
    }
    if (prefix === null) list.addAddress(addr, type);
    else list.addSubnet(addr, prefix, type);
  }
  return list;
}
