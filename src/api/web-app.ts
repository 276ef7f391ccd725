import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SealboxError } from '../core/errors.ts';

// Where `npm run build:web` (vite) writes the app; `npm install` runs it.
export const WEB_APP_DIR = fileURLToPath(new URL('../../dist/web/', import.meta.url));

// The app's pages load nothing from elsewhere and run only the bundled scripts; no inline
// script or style is needed (React sets styles through the DOM, which CSP allows).
export const APP_CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'", "object-src 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.ico': 'image/x-icon', '.woff2': 'font/woff2', '.json': 'application/json; charset=utf-8', '.txt': 'text/plain; charset=utf-8',
};

// Serves the built web app on the API's origin: hashed assets with a long cache, and the app's
// page for every other GET path outside /api/ (the app routes on the client), so a reload or
// a bookmark of any page works. API paths never fall back to the app.
export function webApp(app: FastifyInstance, dir: string = WEB_APP_DIR): void {
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0];
    if (path === '/api' || path.startsWith('/api/')) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no route ${req.method} ${req.url}`);
    if (path.startsWith('/assets/')) return asset(reply, dir, path.slice('/assets/'.length));
    let html: Buffer;
    try {
      html = await readFile(join(dir, 'index.html'));
    } catch {
      reply.status(503).type('text/plain; charset=utf-8');
      return 'The Sealbox web app is not built. Run `npm run build:web` (npm install does it), then reload.\nThe HTTP API is at /api/v1/ (see /api/openapi.json).\n';
    }
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').header('content-security-policy', APP_CSP);
    return html;
  };
  app.get('/', handler);
  app.get('/*', handler);
}

async function asset(reply: FastifyReply, dir: string, name: string) {
  // Vite's output names: letters, digits, '-', '_' and dots; nothing that climbs out.
  const type = TYPES[extname(name)];
  const file = join(dir, 'assets', name);
  const found = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(name) && type ? await stat(file).then((s) => s.isFile(), () => false) : false;
  if (!found) throw new SealboxError('SEALBOX_ERR_NOT_FOUND', `no file /assets/${name}`);
  reply.type(type).header('cache-control', 'public, max-age=31536000, immutable').header('content-security-policy', APP_CSP);
  return reply.send(createReadStream(file));
}
