import { useState } from 'react';
import type { FormEvent } from 'react';
import { ApiError, qs } from '../api.ts';
import { ErrorNote } from '../error-note.tsx';

// What the certificate says, for the summary (src/retention/disposal-certificate.ts).
interface DisposalCertificate {
  issuedAt: string;
  disposed: { messages: number; entries: number; policies: string[] };
}

type Result =
  | { kind: 'done'; certificate: DisposalCertificate; file: string }
  | { kind: 'not-yet'; message: string }
  | { kind: 'none'; message: string };

// The disposal certificate for a period, for auditors and records managers: downloaded as the server wrote it (the
// exact bytes, to be checked offline) and summed up here. Until a signed checkpoint covers the
// last disposal there is none yet (409), and the page says so in plain words.
export function CertificateSection() {
  const [result, setResult] = useState<Result | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    const text = (k: string) => String(data.get(k) ?? '').trim();
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const until = text('until') ? new Date(Date.parse(`${text('until')}T00:00:00Z`) + 86_400_000).toISOString() : null;
      const res = await fetch(`/api/v1/disposals/certificate${qs({ since: text('since') ? `${text('since')}T00:00:00Z` : null, until })}`, { credentials: 'same-origin', cache: 'no-store', headers: { accept: 'application/json' } });
      const body = await res.text();
      if (!res.ok) {
        const err = (JSON.parse(body || 'null') as { error?: { code?: string; message?: string } } | null)?.error;
        if (res.status === 409) return setResult({ kind: 'not-yet', message: err?.message ?? '' });
        if (res.status === 404 && err?.code === 'SEALBOX_ERR_NOT_FOUND') return setResult({ kind: 'none', message: err.message ?? '' });
        throw new ApiError(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? res.statusText);
      }
      const certificate = JSON.parse(body) as DisposalCertificate;
      const file = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'sealbox-disposal-certificate.json';
      const url = URL.createObjectURL(new Blob([body], { type: 'application/json' }));
      const link = document.createElement('a');
      link.href = url;
      link.download = file;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      setResult({ kind: 'done', certificate, file });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="certificate-h">
      <h2 id="certificate-h">Disposal certificate</h2>
      <p className="muted">
        What retention and erasures disposed of in a period: each dispose entry of the ledger with its inclusion proof in the latest signed checkpoint.
        It can be checked offline with <code>scripts/verify-disposal-certificate.mjs</code>, without Sealbox. Handing it out is recorded in the ledger.
      </p>
      <form onSubmit={submit} className="stack" aria-label="Disposal certificate">
        <div className="row">
          <label>From (optional) <input type="date" name="since" /></label>
          <label>to (inclusive, optional) <input type="date" name="until" /></label>
        </div>
        <button type="submit" disabled={busy}>Download the disposal certificate</button>
      </form>
      <ErrorNote error={error} />
      <div role="status" data-testid="certificate-result">
        {result?.kind === 'not-yet' && (
          <p className="warning"><strong>Not yet in a signed checkpoint.</strong> The latest disposals are recorded, but no signed checkpoint covers them yet, so there is no certificate to prove them. The server signs one regularly (<code>ledger.checkpointEverySeconds</code>): try again in a little while. <span className="muted">({result.message})</span></p>
        )}
        {result?.kind === 'none' && <p className="notice">Nothing was disposed of in that period, so there is nothing to certify.</p>}
        {result?.kind === 'done' && (
          <p className="success">
            Downloaded <code>{result.file}</code>: {result.certificate.disposed.messages} message{result.certificate.disposed.messages === 1 ? '' : 's'} disposed of in {result.certificate.disposed.entries} ledger entr{result.certificate.disposed.entries === 1 ? 'y' : 'ies'}
            {result.certificate.disposed.policies.length > 0 && <> under {result.certificate.disposed.policies.join(', ')}</>}.
          </p>
        )}
      </div>
    </section>
  );
}
