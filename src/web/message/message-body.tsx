import { useEffect, useRef, useState } from 'react';
import { api, qs } from '../api.ts';
import { ErrorNote } from '../error-note.tsx';

// What the server says of the body document it served the frame (GET …/body, Server-Timing
// "body"): its kind, how many remote references it blocks, its images and rows of text at a few
// widths in characters.
export interface BodyFacts { kind: string; remote: number; images: number; rows: [number, number][] }

export function parseBodyFacts(desc: string): BodyFacts | null {
  const f = new Map(desc.split(';').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const remote = Number(f.get('remote'));
  if (!f.has('kind') || !Number.isInteger(remote)) return null;
  const rows = (f.get('rows') ?? '').split(',').filter(Boolean).map((p) => p.split(':').map(Number) as [number, number]).filter(([c, r]) => c > 0 && r >= 0).sort((a, b) => a[0] - b[0]);
  return { kind: f.get('kind')!, remote, images: Number(f.get('images')) || 0, rows };
}

// The frame's height for its document at the frame's width: rows of text at the nearest width
// counted at or below it (more rows, never fewer), the images, the document's padding; within
// a floor and the window's height (taller mail scrolls in the frame, which can be resized).
export function frameHeight(facts: BodyFacts, width: number, viewport: number): number {
  const text = facts.kind === 'text';
  const charWidth = text ? 7.9 : 7.4;                 // 13px monospace; 14px system-ui, on average
  const lineHeight = text ? 13 * 1.45 : 14 * 1.45;     // as the document's own style sets them
  const columns = Math.max(1, Math.floor((width - 24 - 16) / charWidth));
  const below = facts.rows.filter(([c]) => c <= columns).at(-1);
  const rows = below ? below[1] : facts.rows.length > 0 ? Math.ceil(facts.rows[0][1] * facts.rows[0][0] / columns) : 8;
  const wanted = (rows + 1) * lineHeight + 24 + facts.images * 240 + 4;
  return Math.round(Math.min(Math.max(wanted, 72), Math.max(viewport * 0.75, 240)));
}

// The body in a sandboxed frame. Its document comes from Sealbox (GET …/body), sanitised with
// DOMPurify and served with a CSP of its own that runs no script and loads nothing remote; the
// frame's `sandbox` attribute grants nothing (no scripts, no same-origin, no forms, no popups,
// no top navigation), so even a document that slipped through could not act. Remote content
// (tracking pixels included) loads only after the button has recorded the read in the ledger:
// the entry's index is what the server needs to relax the frame's CSP for images, styles and fonts.
// The page cannot look into the frame (an opaque origin), so it sizes it, and offers remote
// content only when there is some, from what the server said of the document in the frame's own
// response (Server-Timing, read back through Resource Timing): no second request, no second
// ledger entry. Where the browser does not tell (no Resource Timing), the button stays and the
// frame keeps a middling height the reader can drag.
export function MessageBody({ sha256, grant, title }: { sha256: string; grant?: string; title: string }) {
  const [remote, setRemote] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [facts, setFacts] = useState<BodyFacts | null>(null);
  const [height, setHeight] = useState<number | null>(null);
  const frame = useRef<HTMLIFrameElement>(null);
  const src = `/api/v1/messages/${sha256}/body${qs({ grant, remote })}`;

  useEffect(() => {
    setFacts(null);
    if (typeof PerformanceObserver === 'undefined') return;
    const url = new URL(src, location.href).href;
    const take = (entries: PerformanceEntry[]) => {
      for (const e of entries) {
        if (e.name !== url || !('serverTiming' in e)) continue;
        const body = (e as PerformanceResourceTiming).serverTiming?.find((t) => t.name === 'body');
        const found = body ? parseBodyFacts(body.description) : null;
        if (found) setFacts(found);
      }
    };
    const observer = new PerformanceObserver((list) => take(list.getEntries()));
    observer.observe({ type: 'resource', buffered: true });
    return () => observer.disconnect();
  }, [src]);

  useEffect(() => {
    const el = frame.current;
    if (!facts || !el) return;
    const size = () => setHeight(frameHeight(facts, el.clientWidth, window.innerHeight));
    size();
    const resized = new ResizeObserver(() => size());
    resized.observe(el.parentElement ?? el);
    return () => resized.disconnect();
  }, [facts]);

  const loadRemote = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await api.post<{ ledgerIndex: number }>(`/api/v1/messages/${sha256}/remote-content`, grant ? { grant } : {});
      setRemote(r.ledgerIndex);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  // Offered unless the server said there is nothing remote in the body.
  const offer = remote === null && !(facts && facts.remote === 0);
  return (
    <div className="message-body" data-body-kind={facts?.kind ?? ''}>
      <p className="actions" role="status">
        {remote !== null && <span className="muted">Remote content loaded; recorded in the ledger as entry {remote}.</span>}
        {offer && (
          <>
            <span className="muted">Remote images and other remote content are blocked: loading them tells the sender the message was opened.</span>
            <button type="button" className="secondary" onClick={loadRemote} disabled={busy}>Load remote content</button>
          </>
        )}
      </p>
      <ErrorNote error={error} />
      <iframe
        ref={frame}
        key={remote ?? 'blocked'}
        title={title}
        sandbox=""
        referrerPolicy="no-referrer"
        src={src}
        className={height === null ? undefined : 'sized'}
        style={height === null ? undefined : { height }}
      />
    </div>
  );
}
