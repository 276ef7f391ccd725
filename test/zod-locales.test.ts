// The commands load zod without its translations of error messages (bin/zod-locales.js): checked
// in a process of its own, as bin/sealbox.js starts, so that a zod whose files moved is noticed
// here rather than as a slower `sealbox search`, and the configuration's messages stay zod's English.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');

test('with bin/zod-locales.js zod loads none of its translations, and still says what is wrong in English', () => {
  const script = `
    import { registerHooks } from 'node:module';
    import { skipZodLocales } from './bin/zod-locales.js';
    const loaded = [];
    registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
    skipZodLocales();
    const { z } = await import('zod');
    const issue = z.strictObject({ n: z.number().positive() }).safeParse({ n: -1, m: 1 }, { jitless: true }).error.issues;
    console.log(JSON.stringify({ locales: loaded.filter((u) => u.includes('/zod/v4/locales/')), exported: Object.keys(z.locales), messages: issue.map((i) => i.message) }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  // English is imported by zod apart from the others, and is the one loaded.
  assert.deepEqual(out.locales.map((u: string) => u.split('/').pop()), ['en.js']);
  assert.deepEqual(out.exported, []);
  assert.deepEqual(out.messages, ['Too small: expected number to be >0', 'Unrecognized key: "m"']);
});
