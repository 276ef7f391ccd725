import type { DOMPurify } from 'dompurify';
import PostalMime from 'postal-mime';
import { installMemoryBlob } from '../index/memory-blob.ts';

// postal-mime joins each part's lines through a Blob: see MemoryBlob.
installMemoryBlob();

// The document the web app's message viewer shows in its sandboxed iframe: the mail's HTML
// body sanitised with DOMPurify (its plain text in a <pre> when there is no HTML), `cid:`
// images turned into data: URLs, served with a CSP of its own. Three layers, each enough
// alone against scripts: DOMPurify removes them, the CSP `sandbox` directive (and the
// iframe's sandbox attribute) forbids them, and `script-src` is 'none'. Nothing remote loads
// unless the viewer asked for it and that was recorded in the ledger first (`remote`).
//
// It is served by Sealbox, not built in the browser as a srcdoc, because a srcdoc document
// inherits the app page's CSP: its inline styles would be blocked and remote images could
// never be allowed on demand.

export interface MessageDocument {
  html: string;
  csp: string;
  kind: 'html' | 'text' | 'none';
  remoteReferences: number;   // URLs to remote content the HTML holds (loaded only on demand)
  // How tall the document is about to be, for the viewer to size its frame (which, sandboxed and
  // of an opaque origin, it cannot measure): rows of text at a few widths in characters, images.
  layout: { rows: Record<number, number>; images: number };
}

// The widths in characters the rows are counted at; the viewer takes the nearest below its own.
const LAYOUT_COLUMNS = [30, 40, 60, 80, 100, 120, 160];

// The document's facts the viewer needs, as a Server-Timing header: the frame's own request is
// one the app's page can read back (Resource Timing) without fetching, and recording, the body
// again. desc is "kind=html;remote=3;images=1;rows=40:52,60:38,…".
export function bodyServerTiming(doc: MessageDocument): string {
  const rows = Object.entries(doc.layout.rows).map(([c, r]) => `${c}:${r}`).join(',');
  return `body;desc="kind=${doc.kind};remote=${doc.remoteReferences};images=${doc.layout.images};rows=${rows}"`;
}

// Rows of text a body takes at each width: a line wraps every `columns` characters.
function textLayout(text: string, images = 0): MessageDocument['layout'] {
  const lines = text.split('\n').map((l) => l.length);
  const rows: Record<number, number> = {};
  for (const c of LAYOUT_COLUMNS) rows[c] = lines.reduce((n, len) => n + Math.max(1, Math.ceil(len / c)), 0);
  return { rows, images };
}

const NO_LAYOUT = textLayout('');

const MIME_OPTIONS = Object.freeze({ attachmentEncoding: 'base64', maxNestingDepth: 100, maxHeadersSize: 2 * 1024 * 1024 } as const);

// Inline images larger than this stay out of the document (it is held in memory whole).
const MAX_INLINE_IMAGE_BYTES = 8 * 1024 * 1024;
// Parsing and sanitising run on the server's thread: a message or an HTML body beyond these is
// not rendered (the viewer says so; the .eml and the attachments are still there).
export const MAX_RENDERED_MESSAGE_BYTES = 48 * 1024 * 1024;
export const MAX_SANITISED_HTML_CHARS = 4 * 1024 * 1024;

const FORBID_TAGS = ['form', 'input', 'button', 'select', 'option', 'textarea', 'base', 'link', 'meta', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'portal', 'script', 'noscript', 'template'];
const FORBID_ATTR = ['ping', 'action', 'formaction', 'srcdoc', 'http-equiv'];
const REMOTE = /^\s*(?:https?:)?\/\//i;
const CSS_REMOTE = /url\(\s*['"]?\s*(?:https?:)?\/\//gi;

let purifier: Promise<DOMPurify> | null = null;

// One DOM for the process, made at the first HTML body shown: creating a window costs ~50 ms,
// sanitising a message ~1–20 ms. jsdom and DOMPurify are loaded then, not at start, because
// loading them holds ~70 MB in a process that may never render a body (an ingest-only node).
function purify(): Promise<DOMPurify> {
  purifier ??= (async () => {
    const [{ default: createDOMPurify }, { JSDOM }] = await Promise.all([import('dompurify'), import('jsdom')]);
    return createDOMPurify(new JSDOM('').window as unknown as Parameters<typeof createDOMPurify>[0]);
  })();
  return purifier;
}

export function documentCsp(remote: boolean): string {
  const far = remote ? ' http: https:' : '';
  return [
    'sandbox', "default-src 'none'", "script-src 'none'", `style-src 'unsafe-inline'${far}`, `img-src data:${far}`, `font-src data:${far}`,
    "frame-ancestors 'self'", "form-action 'none'", "base-uri 'none'",
  ].join('; ');
}

export async function renderMessageDocument(raw: Uint8Array, options: { remote: boolean }): Promise<MessageDocument> {
  const csp = documentCsp(options.remote);
  if (raw.byteLength > MAX_RENDERED_MESSAGE_BYTES) {
    return { html: page(`<p class="sealbox-empty">This message (${raw.byteLength} bytes) is too large to display here. Download the .eml to read it.</p>`, ''), csp, kind: 'none', remoteReferences: 0, layout: NO_LAYOUT };
  }
  let email: Awaited<ReturnType<typeof PostalMime.parse>> | null = null;
  try {
    email = await PostalMime.parse(raw, MIME_OPTIONS);
  } catch {
    email = null;
  }
  if (email?.html && email.html.length > MAX_SANITISED_HTML_CHARS && !email.text) {
    return { html: page(`<p class="sealbox-empty">This message's HTML body (${email.html.length} characters) is too large to display here. Download the .eml to read it.</p>`, ''), csp, kind: 'none', remoteReferences: 0, layout: NO_LAYOUT };
  }
  if (email?.html && email.html.length <= MAX_SANITISED_HTML_CHARS) {
    const inline = new Map<string, string>();
    for (const a of email.attachments) {
      if (!a.contentId || typeof a.content !== 'string' || a.content.length > MAX_INLINE_IMAGE_BYTES * 4 / 3) continue;
      if (!/^image\/[a-z0-9.+-]+$/i.test(a.mimeType)) continue;
      inline.set(a.contentId.replace(/^<|>$/g, '').toLowerCase(), `data:${a.mimeType.toLowerCase()};base64,${a.content}`);
    }
    const { body, remoteReferences } = await sanitize(email.html, inline);
    return { html: page(body, ''), csp, kind: 'html', remoteReferences, layout: htmlLayout(body) };
  }
  const text = email?.text ?? (email ? '' : Buffer.from(raw).toString('latin1'));
  if (!text) return { html: page('<p class="sealbox-empty">This message has no text body.</p>', ''), csp, kind: 'none', remoteReferences: 0, layout: NO_LAYOUT };
  return { html: page(`<pre class="sealbox-text">${escapeHtml(text)}</pre>`, ''), csp, kind: 'text', remoteReferences: 0, layout: textLayout(text) };
}

// An HTML body's text, a line per block, and its images: an estimate (its styles are its own).
function htmlLayout(body: string): MessageDocument['layout'] {
  const text = body.replace(/<(style|title)\b[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<(?:br|\/p|\/div|\/tr|\/li|\/h[1-6]|\/blockquote|\/table)\b[^>]*>/gi, '\n').replace(/<[^>]*>/g, '')
    .replace(/&[#a-z0-9]+;/gi, ' ').replace(/[ \t\r]+/g, ' ').replace(/\n\s*\n+/g, '\n\n').trim();
  return textLayout(text, (body.match(/<img\b/gi) ?? []).length);
}

async function sanitize(html: string, inline: Map<string, string>): Promise<{ body: string; remoteReferences: number }> {
  const p = await purify();
  let remoteReferences = 0;
  p.addHook('afterSanitizeAttributes', (node) => {
    const el = node as unknown as { tagName: string; textContent: string | null; getAttribute(n: string): string | null; setAttribute(n: string, v: string): void; removeAttribute(n: string): void; hasAttribute(n: string): boolean };
    for (const name of ['src', 'background', 'poster', 'srcset', 'href', 'xlink:href']) {
      const value = el.getAttribute?.(name);
      if (value == null) continue;
      if (/^\s*cid:/i.test(value) && name !== 'href') {
        const found = inline.get(value.trim().slice(4).toLowerCase());
        if (found) el.setAttribute(name, found);
        else el.removeAttribute(name);
      } else if (REMOTE.test(value) && name !== 'href') remoteReferences++;
    }
    const style = el.getAttribute?.('style');
    if (style) remoteReferences += style.match(CSS_REMOTE)?.length ?? 0;
    if (el.tagName === 'A' && el.hasAttribute('href')) {
      // The frame has no popups and no top navigation: a click goes nowhere, the address stays
      // readable (title). Nothing is fetched behind the reader's back.
      el.setAttribute('target', '_blank');
      el.setAttribute('rel', 'noopener noreferrer');
      el.setAttribute('title', el.getAttribute('href') ?? '');
    }
    if (el.tagName === 'STYLE') remoteReferences += el.textContent?.match(CSS_REMOTE)?.length ?? 0;
  });
  try {
    const clean = p.sanitize(html, {
      WHOLE_DOCUMENT: true, FORBID_TAGS, FORBID_ATTR, ALLOW_DATA_ATTR: false, ALLOW_UNKNOWN_PROTOCOLS: false,
      ADD_TAGS: ['style'], RETURN_TRUSTED_TYPE: false,
    }) as string;
    // Keep the sanitised <head> styles and the body; our own <head> comes first.
    const head = /<head>([\s\S]*?)<\/head>/i.exec(clean)?.[1] ?? '';
    const body = /<body[^>]*>([\s\S]*)<\/body>/i.exec(clean)?.[1] ?? clean;
    return { body: `${head}${body}`, remoteReferences };
  } finally {
    p.removeHook('afterSanitizeAttributes');
  }
}

function page(body: string, title: string): string {
  return '<!doctype html><html><head><meta charset="utf-8">'
    + '<meta http-equiv="x-dns-prefetch-control" content="off">'
    + `<title>${escapeHtml(title)}</title>`
    + '<style>html{color-scheme:light}body{margin:0;padding:12px;font:14px/1.45 system-ui,sans-serif;overflow-wrap:anywhere}'
    + 'pre.sealbox-text{white-space:pre-wrap;word-break:break-word;font:13px/1.45 ui-monospace,monospace;margin:0}img{max-width:100%;height:auto}</style>'
    + `</head><body>${body}</body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
