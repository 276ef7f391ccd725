import { useState } from 'react';
import type { FormEvent } from 'react';
import { api } from '../api.ts';
import { CopyButton } from '../copy-button.tsx';
import { ErrorNote, Loading } from '../error-note.tsx';
import { when } from '../format.ts';
import { useSession } from '../session.ts';
import { useLoad } from '../use-load.ts';

const ROLES = ['owner', 'requester', 'approver', 'auditor', 'admin', 'records', 'breakglass'] as const;

// GET /api/v1/users
export interface UserRow {
  name: string;
  displayName: string | null;
  email: string | null;
  roles: string[];
  enrolled: boolean;
  disabled: boolean;
  mailboxes: string[];
  lockedUntil: string | null;   // locked after failed sign-ins, until then
}

// People and what an admin may do about each, within the rule that nobody gets a credential for
// someone else's account: the enrolment code only of someone not enrolled yet (with its link);
// for anyone enrolled, an account recovery someone else approves, whose code goes to the person.
export function UsersSection({ admin }: { admin: boolean }) {
  const { me } = useSession();
  const users = useLoad(() => api.get<{ users: UserRow[] }>('/api/v1/users'), []);
  const [added, setAdded] = useState<Added | null>(null);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    const roles = f.getAll('roles').map(String);
    const text = (k: string) => String(f.get(k) ?? '').trim();
    setError(null);
    setAdded(null);
    try {
      const r = await api.post<Added>('/api/v1/users', {
        name: text('name'), roles, ...(text('displayName') ? { displayName: text('displayName') } : {}), ...(text('email') ? { email: text('email') } : {}),
      });
      setAdded(r);
      form.reset();
      users.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="users-h">
      <h2 id="users-h">Users and roles</h2>
      {users.loading && <Loading what="users" />}
      <ErrorNote error={users.error} />
      {users.data && (
        <div className="scroll">
          <table>
            <thead><tr><th scope="col">User</th><th scope="col">E-mail</th><th scope="col">Roles</th><th scope="col">Mailboxes</th><th scope="col">Status</th>{admin && <th scope="col">Change</th>}</tr></thead>
            <tbody>
              {users.data.users.map((u) => (
                <tr key={u.name} data-user={u.name}>
                  <td>{u.displayName ? <>{u.displayName}<br /><span className="muted">{u.name}</span></> : u.name}</td>
                  <td>{u.email ?? '—'}</td>
                  <td>{u.roles.join(', ')}</td>
                  <td>{u.mailboxes.length > 0 ? u.mailboxes.join(', ') : '—'}</td>
                  <td data-testid="user-status">{status(u)}</td>
                  {admin && <td>{u.name === me.name ? <span className="muted">not your own</span> : <UserEditor user={u} onChanged={users.reload} />}</td>}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {admin && (
        <form onSubmit={submit} className="stack" aria-label="Add a user">
          <h3>Add a user</h3>
          <div className="row">
            <label>User name <input name="name" required pattern="[a-z0-9][a-z0-9._\-]{0,63}" title="lowercase letters, digits, . _ -" /></label>
            <label>Display name <input name="displayName" /></label>
            <label>Email <input name="email" type="email" /></label>
          </div>
          <fieldset>
            <legend>Roles</legend>
            {ROLES.map((r) => <label key={r}><input type="checkbox" name="roles" value={r} defaultChecked={r === 'owner'} /> {r}</label>)}
            <p className="muted">Owner and requester apply at once. Any other role waits for an approver who is neither you nor linked to you or the person; approvers, auditors and admins who must start at once are added at the console (<code>sealbox users add</code>).</p>
          </fieldset>
          <ErrorNote error={error} />
          <button type="submit">Add user</button>
          {added && (added.enrolmentCode === null
            ? <p role="status">{added.name} added. They own mailboxes already, so their enrolment code was mailed to {added.codeMailedTo!.join(', ')}; you do not see it.{added.mailProblem && <> But {added.mailProblem}.</>}</p>
            : <EnrolmentHandout name={added.name} code={added.enrolmentCode} what={`${added.name} added.`} />)}
          {added?.filed && <p role="status">{filedNote(added.filed)}</p>}
        </form>
      )}
    </section>
  );
}

// What adding a user answers: the enrolment code to hand on, or where it was mailed instead.
interface Added {
  name: string;
  enrolmentCode: string | null;
  codeMailedTo?: string[];
  mailProblem?: string;       // the mail cannot go yet (notify.smtp unset)
  filed?: FiledRole[];        // roles that wait for an approver (beyond owner and requester)
}

interface FiledRole {
  role: string;
  change: string;
}

// A role beyond owner and requester could be the admin's own power under another name (the API
// hands them a new account's first code), so an admin only files it: an approver who is
// neither decides.
function filedNote(filed: FiledRole[]): string {
  return `${filed.map((f) => `${f.role} (role change ${f.change})`).join(', ')} ${filed.length > 1 ? 'wait' : 'waits'} for an approver who is neither you nor linked to you or the person; it applies once approved.`;
}

function status(u: UserRow): string {
  if (u.disabled) return 'disabled';
  if (u.lockedUntil) return `locked after failed sign-ins, until ${when(u.lockedUntil)}`;
  return u.enrolled ? 'enrolled' : 'waiting for enrolment';
}

// The enrolment link of someone not enrolled yet: the web app's Enrol page with the name and the
// code filled in. Both are in the fragment (after #), which the browser never sends, so the
// code lands in no server or proxy log; the code alone can be read out or typed instead.
export function enrolmentLink(name: string, code: string): string {
  return `${location.origin}/enrol#${new URLSearchParams({ name, code }).toString()}`;
}

function EnrolmentHandout({ name, code, what }: { name: string; code: string; what: string }) {
  const link = enrolmentLink(name, code);
  return (
    <div className="success" role="status" data-testid="enrolment-handout">
      <p>{what} Send {name} this enrolment link, shown only now; it works once, until {name} enrols:</p>
      <p><CopyButton text={link} label="Copy the link" testId="enrolment-link" /></p>
      <p>Or give them the one-time code to type on the Enrol page: <code data-testid="enrolment-code">{code}</code></p>
    </div>
  );
}

// What an admin may do about someone else: unlock, a new enrolment code (not enrolled yet), an
// account recovery (enrolled), roles, disabling. Roles that need a second factor the person
// lacks file an account recovery: someone else approves it and the code goes to the person.
function UserEditor({ user, onChanged }: { user: UserRow; onChanged: () => void }) {
  const [error, setError] = useState<unknown>(null);
  const [outcome, setOutcome] = useState<string | null>(null);
  const [code, setCode] = useState<string | null>(null);
  const act = async (work: () => Promise<string | null>) => {
    setError(null);
    setOutcome(null);
    try {
      setOutcome(await work());
      onChanged();
    } catch (err) {
      setError(err);
    }
  };
  const path = (what: string) => `/api/v1/users/${encodeURIComponent(user.name)}/${what}`;
  const saveRoles = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const roles = new FormData(e.currentTarget).getAll('roles').map(String);
    void act(async () => {
      const r = await api.post<{ recovery: string | null; filed?: FiledRole[] }>(path('roles'), { roles });
      const filed = r.filed ? ` ${filedNote(r.filed)}` : '';
      return r.recovery
        ? `Roles saved. ${user.name} now needs a second factor: account recovery ${r.recovery} waits for someone else's approval, and ${user.name} gets the code by e-mail.${filed}`
        : `Roles saved.${filed}`;
    });
  };
  const toggle = () => {
    if (!user.disabled && !window.confirm(`Disable ${user.name}? Their sessions and tokens stop working at once.`)) return;
    void act(async () => {
      await api.post(path('disable'), { disabled: !user.disabled });
      return null;
    });
  };
  const unlock = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const reason = String(new FormData(e.currentTarget).get('reason') ?? '').trim();
    void act(async () => {
      await api.post(path('unlock'), reason ? { reason } : {});
      return `${user.name} can sign in again, with their own password; they are told.`;
    });
  };
  const askRecovery = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const reason = String(new FormData(e.currentTarget).get('reason') ?? '').trim();
    void act(async () => {
      const r = await api.post<{ id: string }>(path('recovery'), { reason });
      return `Account recovery ${r.id} waits for someone else's approval; then ${user.name} gets the code by e-mail. You never see it.`;
    });
  };
  const reissue = () => void act(async () => {
    const r = await api.post<Added>('/api/v1/users', { name: user.name, roles: user.roles });
    const filed = r.filed ? filedNote(r.filed) : null;
    if (r.enrolmentCode === null) return `A new enrolment code for ${user.name} was mailed to ${r.codeMailedTo!.join(', ')} (they own mailboxes); you do not see it.${r.mailProblem ? ` But ${r.mailProblem}.` : ''}${filed ? ` ${filed}` : ''}`;
    setCode(r.enrolmentCode);
    return filed;
  });
  return (
    <div className="stack">
      {user.lockedUntil && !user.disabled && (
        <form onSubmit={unlock} className="stack" aria-label={`Unlock ${user.name}`}>
          <label>Why unlock now (optional) <input name="reason" /></label>
          <button type="submit">Unlock {user.name}</button>
        </form>
      )}
      {!user.enrolled && !user.disabled && (
        <button type="button" className="secondary" onClick={reissue}>New enrolment code for {user.name}</button>
      )}
      {user.enrolled && !user.disabled && (
        <details>
          <summary>Account recovery</summary>
          <form onSubmit={askRecovery} className="stack" aria-label={`Account recovery of ${user.name}`}>
            <p className="muted">For a lost password or authenticator: a new enrolment. Someone else approves it; the code goes to {user.name}'s e-mail, never to you.</p>
            <label>Reason <input name="reason" required /></label>
            <button type="submit">Ask for recovery</button>
          </form>
        </details>
      )}
      <details>
        <summary>Roles</summary>
        <form onSubmit={saveRoles} className="stack" aria-label={`Roles of ${user.name}`}>
          <fieldset>
            <legend>Roles of {user.name}</legend>
            {ROLES.map((r) => <label key={r}><input type="checkbox" name="roles" value={r} defaultChecked={user.roles.includes(r)} /> {r}</label>)}
          </fieldset>
          <button type="submit">Save roles</button>
        </form>
      </details>
      <button type="button" className={user.disabled ? 'secondary' : 'danger'} onClick={toggle}>{user.disabled ? 'Enable' : 'Disable'} {user.name}</button>
      {code && <EnrolmentHandout name={user.name} code={code} what="The earlier enrolment code no longer works." />}
      {outcome && <p className="notice" role="status" data-testid="user-outcome">{outcome}</p>}
      <ErrorNote error={error} />
    </div>
  );
}
