import { ImapFlow } from 'imapflow';
import type { ListResponse } from 'imapflow';
import { SealboxError } from '../../core/errors.ts';
import type { ImportContext, ImportItem, ImportSource } from './import-runner.ts';

export interface ImapImportOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  tls: boolean;              // implicit TLS (993); otherwise plain, upgraded by STARTTLS when offered
  folders: string[] | null;  // null: every selectable folder
}

const FETCH_CHUNK = 200;     // UIDs per FETCH: bounds what the server sends before we commit
const RECENT = '\\Recent';  // belongs to a session, not to the message: not recorded

interface FolderState {
  uidValidity: string;
  through: number;           // every UID up to this one is in the archive
}

// An IMAP account, folder by folder, read-only (EXAMINE, BODY.PEEK[]: nothing is marked seen).
// A message is keyed by server host name, user, folder, UIDVALIDITY and UID. Per folder, the highest UID
// below which everything is archived is remembered, so the next run asks only for newer UIDs;
// a changed UIDVALIDITY (the server renumbered the folder) means the folder is read again.
export class ImapImport implements ImportSource {
  readonly source = 'import:imap' as const;
  readonly #o: ImapImportOptions;
  #client: ImapFlow | null = null;
  #folders: { path: string; messages: number; specialUse: string | null }[] = [];

  constructor(options: ImapImportOptions) {
    this.#o = options;
  }

  async survey(): Promise<{ total: number; unit: 'messages' }> {
    const { host, port, user, password, tls } = this.#o;
    const client = new ImapFlow({ host, port, secure: tls, auth: { user, pass: password }, logger: false, disableAutoIdle: true, clientInfo: { name: 'sealbox' } });
    client.on('error', () => {}); // surfaced by the command that was waiting
    try {
      await client.connect();
    } catch (err) {
      const e = err as { authenticationFailed?: boolean; message?: string; code?: string };
      const why = e.authenticationFailed ? 'authentication failed' : `${e.message ?? err}${e.code ? ` (${e.code})` : ''}`;
      throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `cannot log in to IMAP ${host}:${port} as ${user}: ${why}`);
    }
    this.#client = client;
    const list: ListResponse[] = await client.list({ statusQuery: { messages: true } });
    const selectable = list.filter((f) => !f.flags.has('\\Noselect') && !f.flags.has('\\NonExistent'));
    if (this.#o.folders) {
      const missing = this.#o.folders.filter((p) => !selectable.some((f) => f.path === p));
      if (missing.length) {
        await client.logout().catch(() => {});
        throw new SealboxError('SEALBOX_ERR_BAD_INPUT', `no such IMAP folder: ${missing.join(', ')} (there are: ${selectable.map((f) => f.path).join(', ')})`);
      }
    }
    for (const f of selectable) {
      if (this.#o.folders && !this.#o.folders.includes(f.path)) continue;
      this.#folders.push({ path: f.path, messages: f.status?.messages ?? 0, specialUse: f.specialUse ?? null });
    }
    return { total: this.#folders.reduce((n, f) => n + f.messages, 0), unit: 'messages' };
  }

  // Not the port: the same server reached over TLS instead of STARTTLS is the same mailbox.
  #key(folder: string, uidValidity: string, uid: number): string {
    return `${this.#o.host}\0${this.#o.user}\0${folder}\0${uidValidity}\0${uid}`;
  }

  async *items(ctx: ImportContext): AsyncGenerator<ImportItem> {
    const client = this.#client!;
    try {
      for (const folder of this.#folders) {
        if (ctx.signal.aborted) return;
        try {
          yield* this.#folder(ctx, client, folder);
        } catch (err) {
          // Most likely the connection is gone: what was committed stays, a re-run goes on.
          ctx.failed({ folder: folder.path }, err);
          if (!client.usable) return;
        }
      }
    } finally {
      await client.logout().catch(() => client.close());
    }
  }

  async *#folder(ctx: ImportContext, client: ImapFlow, folder: { path: string; messages: number; specialUse: string | null }): AsyncGenerator<ImportItem> {
    const { host, port, user } = this.#o;
    const lock = await client.getMailboxLock(folder.path, { readOnly: true });
    try {
      const mailbox = client.mailbox;
      if (!mailbox) throw new Error(`could not open folder ${folder.path}`);
      const uidValidity = mailbox.uidValidity.toString();
      const stateName = `${host}/${user}/${folder.path}`;
      const state = await ctx.state.get(stateName) as FolderState | undefined;
      const from = state && state.uidValidity === uidValidity ? state.through + 1 : 1;
      // "N:*" always names the highest UID, even below N: filtered here.
      const found = mailbox.exists === 0 ? [] : ((await client.search({ uid: `${from}:*` }, { uid: true })) || []);
      const uids = found.filter((u) => u >= from).sort((a, b) => a - b);
      const below = Math.max(0, mailbox.exists - uids.length);
      if (below > 0) {
        ctx.skipped(below);
        ctx.advance(below);
      }
      const todo: number[] = [];
      for (const u of uids) if (!await ctx.isImported(this.#key(folder.path, uidValidity, u))) todo.push(u);
      if (uids.length > todo.length) {
        ctx.skipped(uids.length - todo.length);
        ctx.advance(uids.length - todo.length);
      }
      for (let i = 0; i < todo.length; i += FETCH_CHUNK) {
        if (ctx.signal.aborted) return;
        const chunk = todo.slice(i, i + FETCH_CHUNK);
        const fetched = new Set<number>();
        for await (const msg of client.fetch(chunk.join(','), { uid: true, flags: true, internalDate: true, size: true, source: true }, { uid: true })) {
          fetched.add(msg.uid);
          ctx.advance(1);
          const at = { folder: folder.path, uidValidity, uid: msg.uid };
          if (!msg.source) {
            ctx.failed(at, new Error('the server sent no message body'));
            continue;
          }
          const internalDate = msg.internalDate ? new Date(msg.internalDate) : null;
          yield {
            at, key: this.#key(folder.path, uidValidity, msg.uid), raw: msg.source,
            provenance: {
              host, port, user, folder: folder.path, specialUse: folder.specialUse, uidValidity, uid: msg.uid,
              flags: [...(msg.flags ?? [])].filter((f) => f !== RECENT).sort(), internalDate: internalDate && !Number.isNaN(internalDate.getTime()) ? internalDate.toISOString() : null,
              size: msg.size ?? msg.source.length,
            },
          };
          if (ctx.signal.aborted) break;
        }
        // UIDs expunged since the search are simply gone; they are not failures.
        ctx.advance(chunk.filter((u) => !fetched.has(u)).length);
      }
      // Everything up to the first UID not yet in the archive is done: the next run starts there.
      await ctx.settle();
      let through = from - 1;
      for (const u of uids) {
        if (!await ctx.isImported(this.#key(folder.path, uidValidity, u))) break;
        through = u;
      }
      if (!state || state.uidValidity !== uidValidity || through > state.through) await ctx.state.set(stateName, { uidValidity, through } satisfies FolderState);
    } finally {
      lock.release();
    }
  }
}
