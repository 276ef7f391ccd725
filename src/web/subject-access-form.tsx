import { useState } from 'react';
import type { FormEvent } from 'react';
import { api } from './api.ts';
import type { AccessRequest } from './access-request.ts';
import { SUBJECT_ACCESS_PURPOSE } from './access-request.ts';
import { ErrorNote } from './error-note.tsx';
import { useFieldErrors } from './field-errors.tsx';
import { purposeWords } from './purpose.tsx';

// A data subject's access request (GDPR Art. 15): the person's addresses, a reference, a
// justification and a duration. The server finds the mailboxes holding mail in which the person
// takes part and files an ordinary request for exactly that mail (POST
// /api/v1/subject-requests/access), approved by someone else like any other; `onFiled` gets it.
// The request's ticket is the reference here, so a refusal naming `ticket` is said by that field.
export function SubjectAccessForm({ policy, onFiled }: { policy: { purposes: string[]; purposeLabels?: Record<string, string>; maxGrantHours: number }; onFiled: (r: AccessRequest) => void }) {
  const [busy, setBusy] = useState(false);
  const f = useFieldErrors({ ticket: 'reference' });
  if (!policy.purposes.includes(SUBJECT_ACCESS_PURPOSE)) {
    return <p className="notice">The access policy does not allow the purpose “{purposeWords(SUBJECT_ACCESS_PURPOSE, policy.purposeLabels)}”, so no such request can be filed; an administrator can add it to the policy's purposes.</p>;
  }
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const data = new FormData(form);
    const text = (k: string) => String(data.get(k) ?? '').trim();
    f.clear();
    setBusy(true);
    try {
      const r = await api.post<AccessRequest>('/api/v1/subject-requests/access', {
        addresses: text('addresses').split(/[\s,;]+/).filter(Boolean), reference: text('reference'), justification: text('justification'), durationHours: Number(data.get('durationHours')),
      });
      form.reset();
      onFiled(r);
    } catch (err) {
      f.fail(err, form);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} className="stack" aria-label="Data subject's access request">
      <div className="field" data-field="addresses">
        <label htmlFor="sar-addresses">The person's e-mail addresses</label>
        <textarea id="sar-addresses" name="addresses" rows={2} required {...f.input('addresses', 'sar-addresses-help')} />
        <span id="sar-addresses-help" className="field-help">One a line. The request covers the mailboxes holding mail in which one of them takes part (as sender, recipient, Cc or Bcc), and only that mail.</span>
        {f.message('addresses')}
      </div>
      <div className="row">
        <div className="field" data-field="reference"><label htmlFor="sar-reference">Reference (the person's request in your records)</label><input id="sar-reference" name="reference" required maxLength={200} placeholder="e.g. DSAR-12" {...f.input('reference')} />{f.message('reference')}</div>
        <div className="field" data-field="durationHours"><label htmlFor="sar-duration">Duration (hours)</label><input id="sar-duration" type="number" name="durationHours" min={1} max={policy.maxGrantHours} defaultValue={Math.min(8, policy.maxGrantHours)} required {...f.input('durationHours')} />{f.message('durationHours')}</div>
      </div>
      <div className="field" data-field="justification">
        <label htmlFor="sar-justification">Justification</label>
        <textarea id="sar-justification" name="justification" required maxLength={5000} {...f.input('justification', 'sar-justification-help')} />
        <span id="sar-justification-help" className="field-help">How the person asked and how you checked it was them; the owners of those mailboxes may see it.</span>
        {f.message('justification')}
      </div>
      <ErrorNote error={f.error} />
      <button type="submit" disabled={busy}>{busy ? 'Filing…' : 'File the access request'}</button>
    </form>
  );
}
