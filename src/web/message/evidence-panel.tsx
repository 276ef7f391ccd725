import { useEffect, useState } from 'react';
import { api, qs } from '../api.ts';
import { ErrorNote, Loading } from '../error-note.tsx';
import { when } from '../format.ts';
import { useLoad } from '../use-load.ts';
import { fromBase64, leafHashOf, parseCheckpointNote, verifyInclusion, verifyNoteSignature } from './inclusion-proof.ts';

export interface Evidence {
  sha256: string;
  size: number;
  verifierKey: string;
  checkpoint: { size: number; rootHash: string; note: string; createdAt: string; signatureValid: boolean } | null;
  captures: { captureId: string; source: string; receivedAt: string; ledgerIndex: number; leaf: string | null; leafHash: string | null; proof: string[] | null }[];
}

interface Checked {
  signature: 'valid' | 'invalid' | 'unsupported';
  captures: Record<string, { leafNamesMessage: boolean; proof: boolean | null }>;
}

// The evidence that a message is what was received: its sha256, each capture's ledger entry and
// the inclusion proof of that entry in the signed checkpoint, verified here, in the browser.
export function EvidencePanel({ sha256, grant }: { sha256: string; grant?: string }) {
  const ev = useLoad(() => api.get<Evidence>(`/api/v1/messages/${sha256}/evidence${qs({ grant })}`), [sha256, grant]);
  const [checked, setChecked] = useState<Checked | null>(null);
  useEffect(() => {
    setChecked(null);
    if (ev.data) check(ev.data).then(setChecked, () => setChecked({ signature: 'invalid', captures: {} }));
  }, [ev.data]);
  const mark = (ok: boolean | null | undefined, yes: string, no: string) =>
    ok == null ? <span className="muted">…</span> : ok ? <span className="verdict ok">✓ {yes}</span> : <span className="verdict bad">✗ {no}</span>;
  return (
    <section aria-labelledby="evidence-h" className="evidence">
      <h2 id="evidence-h">Evidence</h2>
      {ev.loading && <Loading what="the evidence" />}
      <ErrorNote error={ev.error} />
      {ev.data && (
        <>
          <p className="muted">The message's identity is the SHA-256 of its exact bytes (above, <code title={ev.data.sha256}>{ev.data.sha256.slice(0, 16)}…</code>). Each receipt was written to the ledger; each entry's inclusion proof is checked here, in this browser, against the signed checkpoint.</p>
          <dl>
            <dt>Signed checkpoint</dt>
            <dd>
              {ev.data.checkpoint ? (
                <>
                  size {ev.data.checkpoint.size}, signed {when(ev.data.checkpoint.createdAt)}, root <code>{ev.data.checkpoint.rootHash}</code>{' '}
                  <span data-testid="checkpoint-signature">{checked ? (checked.signature === 'unsupported'
                    ? mark(ev.data.checkpoint.signatureValid, 'signature valid (checked by Sealbox; this browser has no Ed25519)', 'signature invalid')
                    : mark(checked.signature === 'valid', 'signature valid (checked here)', 'signature invalid')) : mark(null, '', '')}</span>
                </>
              ) : 'none signed yet'}
            </dd>
            <dt>Verifier key</dt><dd><code>{ev.data.verifierKey}</code></dd>
          </dl>
          <table>
            <caption>Captures and their ledger entries</caption>
            <thead><tr><th scope="col">Received</th><th scope="col">Source</th><th scope="col">Ledger index</th><th scope="col">Inclusion proof</th></tr></thead>
            <tbody>
              {ev.data.captures.map((c) => {
                const v = checked?.captures[c.captureId];
                return (
                  <tr key={c.captureId}>
                    <td>{when(c.receivedAt)}</td>
                    <td>{c.source}</td>
                    <td>{c.ledgerIndex}</td>
                    <td data-testid="inclusion-proof">
                      {c.proof === null ? <span className="muted">not yet in a signed checkpoint</span> : (
                        <>
                          {mark(v?.proof, `verified (${c.proof.length} hashes up to the checkpoint's root)`, 'does not verify')}
                          {v && !v.leafNamesMessage && <span className="verdict bad"> ✗ the entry does not name this message</span>}
                          <details><summary>Proof</summary><pre>{JSON.stringify({ leafHash: c.leafHash, proof: c.proof }, null, 1)}</pre></details>
                        </>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {ev.data.checkpoint && <details><summary>The signed checkpoint</summary><pre>{ev.data.checkpoint.note}</pre></details>}
        </>
      )}
    </section>
  );
}

async function check(e: Evidence): Promise<Checked> {
  const out: Checked = { signature: 'invalid', captures: {} };
  if (!e.checkpoint) return out;
  const cp = parseCheckpointNote(e.checkpoint.note);
  out.signature = await verifyNoteSignature(cp, e.verifierKey);
  for (const c of e.captures) {
    if (!c.leaf || !c.proof) continue;
    const leaf = fromBase64(c.leaf);
    let names = false;
    try {
      // Version 2 names the messages in the leaf itself; version 1 among the entry's objects.
      const entry = JSON.parse(new TextDecoder().decode(leaf)) as { index: number; v?: number; messages?: string[]; objects?: { messages: string[] } };
      names = entry.index === c.ledgerIndex && ((entry.v === 2 ? entry.messages : entry.objects?.messages) ?? []).includes(e.sha256);
    } catch {
      names = false;
    }
    const proof = await verifyInclusion(c.ledgerIndex, cp.size, await leafHashOf(leaf), c.proof.map(fromBase64), cp.rootHash);
    out.captures[c.captureId] = { leafNamesMessage: names, proof: proof && names };
  }
  return out;
}
