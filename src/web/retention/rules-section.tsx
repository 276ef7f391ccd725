import { useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import { api } from '../api.ts';
import { ErrorNote, Loading } from '../error-note.tsx';
import { useFormSubmit } from '../field-errors.tsx';
import { actorName, when } from '../format.ts';
import { MailboxPicker } from '../mailbox-picker.tsx';
import type { Outcome } from '../outcome-note.tsx';
import type { Me } from '../session.ts';
import { hasRole } from '../session.ts';
import { StateBadge } from '../state-badge.tsx';
import { useLoad } from '../use-load.ts';
import { Decision } from './decide-form.tsx';

const DIRECTIONS = [
  { value: 'inbound', label: 'inbound (from outside)' },
  { value: 'outbound', label: 'outbound (to outside)' },
  { value: 'internal', label: 'internal' },
] as const;

// GET /api/v1/retention
export interface Rule {
  id: string;
  name: string;
  mailboxes: string[];
  sensitivities: string[];
  departments: string[];
  domains: string[];
  directions: string[];
  days: number | null;        // the most it is kept (null: for ever)
  minDays?: number;           // the least (by law); absent: as long as days
}

export interface RuleChange {
  id: string;
  kind: 'set' | 'remove';
  ruleId: string;
  before: Rule | null;
  after: Rule | null;
  why: string;
  note: string | null;
  state: 'pending' | 'approved' | 'denied';
  filedBy: string;
  filedAt: string;
  decisionReason: string | null;
  decidedAt: string | null;
}

interface Retention {
  defaultDays: number | null;
  rules: Rule[];
  changes: RuleChange[];
}

// The retention rules: the default, each rule (what it matches, how long), the changes filed for
// an approver; for admins a rule added or a removal asked for; for approvers, the decisions.
// Whether a change applies at once or waits is the server's answer, said as it gives it.
export function RulesSection({ me, done }: { me: Me; done: (text: Outcome['text']) => void }) {
  const keeper = hasRole(me, ['admin', 'records']);
  const r = useLoad(() => api.get<Retention>('/api/v1/retention'), []);
  const changed = (text: Outcome['text']) => {
    done(text);
    r.reload();
  };
  const pending = r.data?.changes.filter((c) => c.state === 'pending') ?? [];
  const decided = r.data?.changes.filter((c) => c.state !== 'pending') ?? [];
  return (
    <section aria-labelledby="rules-h">
      <h2 id="rules-h">Retention rules</h2>
      {r.loading && !r.data && <Loading what="retention rules" />}
      <ErrorNote error={r.error} />
      {r.data && (
        <>
          <p data-testid="retention-default">
            Mail that matches no rule is kept <strong>{kept(r.data.defaultDays)}</strong> from its receipt (<code>retention.defaultDays</code> in the config file).
            Each message keeps the retention it was given when it arrived: a rule changed later does not shorten it.
          </p>
          {r.data.rules.length === 0 ? <p>No rule is set.</p> : (
            <table data-testid="retention-rules">
              <thead><tr><th scope="col">Rule</th><th scope="col">Matches</th><th scope="col">Kept</th>{keeper && <th scope="col">Remove</th>}</tr></thead>
              <tbody>
                {r.data.rules.map((rule) => (
                  <tr key={rule.id} data-rule={rule.id}>
                    <td>{rule.name}</td>
                    <td>{matches(rule)}</td>
                    <td>{terms(rule)}</td>
                    {keeper && <td><AskRemoval rule={rule} onFiled={changed} /></td>}
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h3>Changes waiting for an approver</h3>
          {pending.length === 0 && <p>No change is waiting.</p>}
          {pending.map((c) => (
            <ChangeCard key={c.id} c={c}>
              <Decision<RuleChange> me={me} filedBy={c.filedBy} path={`/api/v1/retention/changes/${encodeURIComponent(c.id)}`} what={`retention change ${c.id}`}
                onDecided={(x, decision) => changed(<>You {decision === 'approve' ? 'approved' : 'denied'} retention change <code>{x.id}</code>: it is now <StateBadge state={x.state} />{decision === 'approve' ? <>, and the rule {x.after ? 'applies to mail that arrives from now on' : 'is removed'}.</> : '; the rules stay as they were.'}</>)} />
            </ChangeCard>
          ))}
          {decided.length > 0 && (
            <details>
              <summary>Decided changes ({decided.length})</summary>
              {decided.map((c) => <ChangeCard key={c.id} c={c} />)}
            </details>
          )}
        </>
      )}
      {keeper && r.data && <AddRule defaultDays={r.data.defaultDays} onDone={changed} />}
    </section>
  );
}

export function kept(days: number | null): string {
  return days === null ? 'for ever' : `${days.toLocaleString('en')} day${days === 1 ? '' : 's'}`;
}

// A rule's terms as the server's ruleTerms says them: its days, or its minimum and its maximum.
function terms(rule: Rule): string {
  return rule.minDays === undefined ? kept(rule.days) : `at least ${kept(rule.minDays)}, at most ${kept(rule.days)}`;
}

function matches(rule: Rule): string {
  const parts = [
    rule.mailboxes.length ? `mailbox ${rule.mailboxes.join(' or ')}` : '',
    rule.sensitivities.length ? `sensitivity ${rule.sensitivities.join(' or ')}` : '',
    rule.departments.length ? `department ${rule.departments.join(' or ')}` : '',
    rule.domains.length ? `domain ${rule.domains.join(' or ')}` : '',
    rule.directions.length ? `${rule.directions.join(' or ')} mail` : '',
  ].filter(Boolean);
  return parts.join(', and ');
}

function describe(rule: Rule | null): string {
  return rule ? `“${rule.name}”: ${matches(rule)}, kept ${terms(rule)}` : '—';
}

function ChangeCard({ c, children }: { c: RuleChange; children?: ReactNode }) {
  return (
    <article className="card" aria-labelledby={`chg-${c.id}`} data-change={c.id} data-state={c.state}>
      <h4 id={`chg-${c.id}`}>
        {c.kind === 'remove' ? 'Remove a rule' : c.before ? 'Change a rule' : 'Add a rule'} <code>{c.id}</code> <StateBadge state={c.state} />
      </h4>
      <dl>
        {c.before && <><dt>Now</dt><dd>{describe(c.before)}</dd></>}
        <dt>{c.kind === 'remove' ? 'After' : 'Asked for'}</dt><dd>{c.after ? describe(c.after) : 'no such rule: its mail follows the other rules and the default'}</dd>
        <dt>Why it needs approval</dt><dd>{c.why}</dd>
        {c.note && <><dt>Reason given</dt><dd>{c.note}</dd></>}
        <dt>Filed</dt><dd>by {actorName(c.filedBy)}, {when(c.filedAt)}</dd>
        {c.decidedAt && <><dt>Decided</dt><dd>{when(c.decidedAt)}: “{c.decisionReason}”</dd></>}
      </dl>
      {children}
    </article>
  );
}

// Asking for a rule to go: always filed for an approver, with a reason.
function AskRemoval({ rule, onFiled }: { rule: Rule; onFiled: (text: Outcome['text']) => void }) {
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setError(null);
    try {
      const r = await api.post<{ change: RuleChange }>(`/api/v1/retention/rules/${encodeURIComponent(rule.id)}/remove`, { note: String(new FormData(e.currentTarget).get('note') ?? '').trim() || undefined });
      onFiled(<>Removing rule “{rule.name}” was filed as change <code>{r.change.id}</code>: it waits for an approver who is not you.</>);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <details>
      <summary>Ask to remove…</summary>
      <form onSubmit={submit} className="stack" aria-label={`Ask to remove rule ${rule.name}`}>
        <label>Why <textarea name="note" required maxLength={2000} /></label>
        <ErrorNote error={error} />
        <button type="submit" className="secondary">File the removal</button>
      </form>
    </details>
  );
}

const MATCHES = { mailboxes: 'matches', sensitivities: 'matches', departments: 'matches', domains: 'matches', directions: 'matches' };

function AddRule({ defaultDays, onDone }: { defaultDays: number | null; onDone: (text: Outcome['text']) => void }) {
  const [mailboxes, setMailboxes] = useState<string[]>([]);
  const [forever, setForever] = useState(false);
  const { busy, f, submit } = useFormSubmit(async ({ text, data }) => {
    const list = (k: string) => text(k).split(/[\s,;]+/).filter(Boolean);
    const r = await api.post<{ applied: boolean; rule?: Rule; change?: RuleChange }>('/api/v1/retention/rules', {
      name: text('name'), days: forever ? null : Number(text('days')), ...(text('minDays') ? { minDays: Number(text('minDays')) } : {}),
      // A department's name may hold spaces and commas, never ';' (as in the directory).
      mailboxes, sensitivities: list('sensitivities'), departments: text('departments').split(';').map((d) => d.trim()).filter(Boolean), domains: list('domains'),
      directions: data.getAll('directions').map(String), ...(text('note') ? { note: text('note') } : {}),
    });
    setMailboxes([]);
    setForever(false);
    onDone(r.applied
      ? <>Rule “{r.rule!.name}” applies at once: it can only lengthen what mail is kept. Mail that arrives from now on is kept by it.</>
      : <>Rule “{r.change!.after!.name}” was <strong>filed for approval</strong> as change <code>{r.change!.id}</code>, not applied: {r.change!.why}. An approver who is not you decides; approvers are told.</>);
  }, MATCHES);
  return (
    <form onSubmit={submit} className="stack" aria-labelledby="add-rule-h">
      <h3 id="add-rule-h">Add a rule</h3>
      <p className="muted">
        A rule at least as long as the default ({kept(defaultDays)}) applies at once. A shorter one could let mail go sooner, so it is filed for an approver who is not you.
        Its minimum is what the law requires to be kept: until then neither a leaver's schedule, an erasure nor an early disposal takes the mail; after it they may, though the rule keeps it to the end otherwise.
        Within each kind the values are alternatives; the kinds a rule names must all match.
      </p>
      <div className="row">
        <div className="field" data-field="name"><label htmlFor="rule-name">Name</label><input id="rule-name" name="name" required maxLength={200} {...f.input('name')} />{f.message('name')}</div>
      </div>
      <fieldset data-field="days">
        <legend>How long the mail is kept</legend>
        <label><input type="radio" name="kept" checked={!forever} onChange={() => setForever(false)} /> a number of days</label>
        <label><input type="radio" name="kept" checked={forever} onChange={() => setForever(true)} /> for ever</label>
        {!forever && <div className="field"><label htmlFor="rule-days">Days from its receipt</label><input id="rule-days" type="number" name="days" min={1} max={100000} step={1} required {...f.input('days')} /></div>}
        {f.message('days')}
        <div className="field" data-field="minDays">
          <label htmlFor="rule-min-days">Kept at least, in days (by law; empty: as long as above)</label>
          <input id="rule-min-days" type="number" name="minDays" min={0} max={100000} step={1} {...f.input('minDays')} />
          {f.message('minDays')}
        </div>
      </fieldset>
      <fieldset data-field="matches">
        <legend>Which mail</legend>
        <div className="stack">
          <MailboxPicker label="Mailboxes" value={mailboxes} onChange={setMailboxes} />
          <div className="field"><label htmlFor="rule-sens">Sensitivities (the directory's tags, separated by commas)</label><input id="rule-sens" name="sensitivities" {...f.input('matches')} /></div>
          <div className="field"><label htmlFor="rule-depts">Departments (as the directory writes them, separated by ;)</label><input id="rule-depts" name="departments" {...f.input('matches')} /></div>
          <div className="field"><label htmlFor="rule-domains">Correspondent domains (separated by commas)</label><input id="rule-domains" name="domains" {...f.input('matches')} /></div>
          <fieldset>
            <legend>Directions</legend>
            {DIRECTIONS.map((d) => <label key={d.value}><input type="checkbox" name="directions" value={d.value} /> {d.label}</label>)}
          </fieldset>
        </div>
        {f.message('matches')}
      </fieldset>
      <div className="field" data-field="note"><label htmlFor="rule-note">Why (kept with a change filed for approval)</label><textarea id="rule-note" name="note" maxLength={2000} {...f.input('note')} />{f.message('note')}</div>
      <ErrorNote error={f.error} />
      <button type="submit" disabled={busy}>Add the rule</button>
    </form>
  );
}
