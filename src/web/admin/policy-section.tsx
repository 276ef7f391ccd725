import { useId, useRef, useState } from 'react';
import type { FormEvent } from 'react';
import { api, ApiError } from '../api.ts';
import { ErrorNote, Loading } from '../error-note.tsx';
import { forgetPurposeLabels, purposeWords } from '../purpose.tsx';
import { useLoad } from '../use-load.ts';

type PolicyValue = boolean | number | string[] | Record<string, number | string>;
type Policy = Record<string, PolicyValue>;

interface Field {
  key: string;
  label: string;
  help: string;
  kind: 'boolean' | 'number' | 'purposes' | 'sensitivity';
}

// The access policy (access.* in the config file) in words: each key a labelled field with what
// it does. The keys stay the API's; a key this page does not know yet is shown by its name.
const GROUPS: { legend: string; fields: Field[] }[] = [
  {
    legend: 'Requests and approvals',
    fields: [
      { key: 'purposes', kind: 'purposes', label: 'Purposes a request may give', help: 'One a line. The first word is what is stored (lowercase, with hyphens); after a colon, the words people see, e.g. "hr-investigation: HR investigation". Without words, they are made from it.' },
      { key: 'approvalsNeeded', kind: 'number', label: 'Approvals each request needs', help: 'Each from a different approver. Lowering it is done in the config file, not here.' },
      { key: 'sensitivityApprovals', kind: 'sensitivity', label: 'Approvals for sensitive mailboxes', help: 'One a line: a sensitivity tag of the directory, a colon, the approvals it needs, e.g. "executive: 2". Lowering is done in the config file.' },
      { key: 'maxGrantHours', kind: 'number', label: 'Longest grant, in hours', help: 'No request can ask for longer.' },
      { key: 'pendingLapseHours', kind: 'number', label: 'Hours before an undecided request lapses', help: 'A request no one decides on ends by itself after this long.' },
      { key: 'breakglassMaxMinutes', kind: 'number', label: 'Longest emergency access, in minutes', help: 'Break-glass grants last at most this long (60 at most).' },
      { key: 'linkedPeopleDays', kind: 'number', label: 'Days linked people may not approve each other', help: 'After someone creates, re-enrols or changes the roles of an account, the two do not approve each other\'s requests for this many days. Lowering is done in the config file.' },
    ],
  },
  {
    legend: 'Sign-in',
    fields: [
      { key: 'totpRequired', kind: 'boolean', label: 'A second factor for every role but plain mailbox owner', help: 'A one-time code from an authenticator app at each sign-in. Turning it off is done in the config file.' },
      { key: 'sessionHours', kind: 'number', label: 'Hours a sign-in lasts', help: 'Then one signs in again.' },
      { key: 'enrolmentHours', kind: 'number', label: 'Hours an enrolment or recovery code stays valid', help: 'An unused code stops working after this long.' },
      { key: 'lockoutAttempts', kind: 'number', label: 'Failed sign-ins before an account locks', help: 'Counted per account; a sign-in that succeeds starts the count again.' },
      { key: 'lockoutMinutes', kind: 'number', label: 'Minutes a locked account stays locked', help: 'It opens again by itself after this long, or when another admin unlocks it.' },
      { key: 'signinPerMinute', kind: 'number', label: 'Sign-in attempts a minute from one address', help: 'More are refused for a while (on top of the lockout).' },
      { key: 'requestsPerMinute', kind: 'number', label: 'API requests a minute from one address', help: 'More are refused for a while.' },
      { key: 'secureCookies', kind: 'boolean', label: 'Session cookie only over HTTPS', help: 'Turn off only where Sealbox is reached over plain HTTP on a trusted network.' },
    ],
  },
];
const KNOWN = new Set([...GROUPS.flatMap((g) => g.fields.map((f) => f.key)), 'purposeLabels']);
// Where the server's complaint about a key is shown.
const FIELD_OF: Record<string, string> = { purposeLabels: 'purposes' };

const sentence = (s: string) => `${s[0].toUpperCase()}${s.slice(1)}${/[.!?]$/.test(s) ? '' : '.'}`;

const purposeLines = (p: Policy) => (p.purposes as string[]).map((x) => {
  const label = (p.purposeLabels as Record<string, string> | undefined)?.[x];
  return label ? `${x}: ${label}` : x;
}).join('\n');

export function PolicySection({ admin }: { admin: boolean }) {
  const p = useLoad(() => Promise.all([api.get<Policy>('/api/v1/policy'), api.get<{ overrides: Record<string, unknown> }>('/api/v1/policy/overrides')]), []);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  const id = useId();
  const fieldId = (key: string) => `${id}-${key}`;
  const extra = p.data ? Object.entries(p.data[0]).filter(([k, v]) => !KNOWN.has(k) && (typeof v === 'number' || typeof v === 'boolean')) : [];

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    if (!p.data) return;
    const [current, overrides] = p.data;
    const f = new FormData(e.currentTarget);
    const next: Record<string, unknown> = {};
    const found: Record<string, string> = {};
    for (const [key, value] of Object.entries(current)) {
      const field = GROUPS.flatMap((g) => g.fields).find((x) => x.key === key);
      const kind = field?.kind ?? (typeof value === 'boolean' ? 'boolean' : typeof value === 'number' ? 'number' : null);
      const raw = String(f.get(key) ?? '').trim();
      if (kind === 'boolean') next[key] = f.get(key) === 'on';
      else if (kind === 'number') next[key] = raw === '' ? null : Number(raw);
      else if (kind === 'purposes') {
        const lines = raw.split('\n').map((l) => l.trim()).filter(Boolean);
        next.purposes = lines.map((l) => l.split(':')[0].trim());
        next.purposeLabels = Object.fromEntries(lines.filter((l) => l.includes(':')).map((l) => [l.split(':')[0].trim(), l.slice(l.indexOf(':') + 1).trim()]).filter(([, label]) => label));
      } else if (kind === 'sensitivity') {
        const pairs = raw.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => /^([^:]+):\s*(\d+)$/.exec(l));
        if (pairs.some((m) => !m)) found[key] = 'Each line needs a tag, a colon and a whole number, e.g. "executive: 2".';
        else next[key] = Object.fromEntries(pairs.map((m) => [m![1].trim(), Number(m![2])]));
      }
    }
    setSaved(false);
    setError(null);
    setErrors(found);
    if (Object.keys(found).length > 0) return focusField(Object.keys(found)[0]);
    // A change replaces what was set through the API before: what was set stays unless changed.
    const changed = Object.fromEntries(Object.entries(next).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(current[k] ?? {})));
    try {
      await api.post('/api/v1/policy', { ...overrides.overrides, ...changed });
      forgetPurposeLabels();
      setSaved(true);
      p.reload();
    } catch (err) {
      const named = err instanceof ApiError ? err.fields.map((k) => FIELD_OF[k] ?? k).filter((k) => document.getElementById(fieldId(k))) : [];
      if (named.length === 0) return setError(err);
      // A safeguard loosened (403) is refused whatever the value: said so by each field it names.
      const words = (err as ApiError).status === 403 ? 'Loosening this is done in the config file at the console, not here.' : sentence((err as Error).message.replace(/^policy: "[^"]+": /, ''));
      setErrors(Object.fromEntries(named.map((k) => [k, words])));
      setError(new Error(`Not saved: ${named.length === 1 ? 'one field needs' : 'some fields need'} a change (marked below).`));
      focusField(named[0]);
    }
  };
  const focusField = (key: string) => setTimeout(() => document.getElementById(fieldId(key))?.focus(), 0);

  const describe = (key: string) => `${fieldId(key)}-help ${fieldId(key)}-error`;
  const fieldError = (key: string) => <p id={`${fieldId(key)}-error`} className="field-error" data-testid={`policy-error-${key}`}>{errors[key]}</p>;
  const input = (field: Field, value: PolicyValue, policy: Policy) => {
    const common = { id: fieldId(field.key), name: field.key, 'aria-describedby': describe(field.key), 'aria-invalid': errors[field.key] ? true : undefined };
    switch (field.kind) {
      case 'boolean': return <input type="checkbox" {...common} defaultChecked={value as boolean} />;
      case 'number': return <input type="number" step="any" inputMode="decimal" {...common} defaultValue={value as number} />;
      case 'purposes': return <textarea rows={Math.max(3, (value as string[]).length)} {...common} defaultValue={purposeLines(policy)} />;
      case 'sensitivity': return <textarea rows={2} {...common} defaultValue={Object.entries(value as Record<string, number>).map(([k, v]) => `${k}: ${v}`).join('\n')} />;
    }
  };
  return (
    <section aria-labelledby="policy-h">
      <h2 id="policy-h">Access policy</h2>
      <p className="muted">What is set here overrides the config file; each change is recorded. The safeguards of four eyes and of signing in only tighten here: loosening them is an edit of the config file at the console.</p>
      {p.loading && <Loading what="the policy" />}
      {!p.data && <ErrorNote error={p.error} />}
      {p.data && (
        <form ref={form} onSubmit={submit} className="stack" aria-label="Access policy" noValidate>
          {GROUPS.map((g) => (
            <fieldset key={g.legend} disabled={!admin}>
              <legend>{g.legend}</legend>
              <div className="policy-grid">
                {g.fields.filter((x) => p.data![0][x.key] !== undefined).map((x) => (
                  <div className="field" key={x.key}>
                    {x.kind === 'boolean'
                      ? <label htmlFor={fieldId(x.key)} className="inline">{input(x, p.data![0][x.key], p.data![0])} {x.label}</label>
                      : <label htmlFor={fieldId(x.key)}>{x.label}</label>}
                    {x.kind !== 'boolean' && input(x, p.data![0][x.key], p.data![0])}
                    <span id={`${fieldId(x.key)}-help`} className="field-help">{x.help}</span>
                    {x.kind === 'purposes' && <span className="field-help">Shown as: {(p.data![0].purposes as string[]).map((s) => purposeWords(s, p.data![0].purposeLabels as Record<string, string>)).join(' · ')}</span>}
                    {fieldError(x.key)}
                  </div>
                ))}
                {g === GROUPS[GROUPS.length - 1] && extra.map(([key, value]) => (
                  <div className="field" key={key}>
                    <label htmlFor={fieldId(key)}>{key}</label>
                    {input({ key, label: key, help: '', kind: typeof value === 'boolean' ? 'boolean' : 'number' }, value, p.data![0])}
                    <span id={`${fieldId(key)}-help`} className="field-help">The config file's <code>access.{key}</code>.</span>
                    {fieldError(key)}
                  </div>
                ))}
              </div>
            </fieldset>
          ))}
          <ErrorNote error={error} />
          {admin && <button type="submit">Save policy</button>}
          {saved && <p className="success" role="status">Policy saved.</p>}
        </form>
      )}
    </section>
  );
}
