// Standing checks of the seams (README, Architecture): SQL lives only behind the store
// interfaces, and a repository or service call made in a transaction is never dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(import.meta.dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

const SQL = /node:sqlite|\.prepare(Once)?\(|INSERT (OR [A-Z]+ )?INTO |SELECT [^'`\n]* FROM |UPDATE [a-z_]+ SET |DELETE FROM |CREATE (TABLE|INDEX|VIRTUAL)|json_extract|json_each|BEGIN IMMEDIATE|PRAGMA /;

test('no SQL and no node:sqlite outside src/store/ and the backends\' folders (sqlite/, postgres/)', () => {
  const found: string[] = [];
  for (const file of sources('src')) {
    if (file.startsWith('src/store/') || file.includes('/sqlite/') || file.includes('/postgres/')) continue;
    readFileSync(join(ROOT, file), 'utf8').split('\n').forEach((line, i) => {
      if (SQL.test(line)) found.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(found, [], 'SQL outside the stores');
  // The check sees SQL where it is: the stores are full of it.
  assert.ok(sources('src/store/sqlite').some((f) => SQL.test(readFileSync(join(ROOT, f), 'utf8'))));
  assert.ok(sources('src/index/postgres').some((f) => SQL.test(readFileSync(join(ROOT, f), 'utf8'))));
});

// A statement that starts with a call whose first argument is the transaction, not awaited,
// returned or voided: its write may land after the transaction ended, its failure unseen. The
// few synchronous functions that take a tx (the SQLite handle, the ledger's rollback mark, the
// PostgreSQL index's rows waiting for their transaction) are named.
const DROPPED = /^\s*(?!await |return |void |const |let |yield )([\w.#]+(?:\.\w+|\.#\w+)*)\(tx\s*[,)]/;
const SYNC_WITH_TX = new Set(['on', 'this.#remember', 'this.#marked.add', 'this.#pending.delete']);
// The Audit opens its own transaction: its calls take no tx, and are awaited all the same.
const AUDIT = /^\s*(?!await |return |void )[\w.#]*audit\.(record|recordEach|recordOrRefuse|denied|within)\(/;
const dropped = (line: string) => {
  const m = DROPPED.exec(line);
  return (m !== null && !SYNC_WITH_TX.has(m[1]!)) || AUDIT.test(line);
};

test('every call made with a transaction is awaited', () => {
  const found: string[] = [];
  for (const file of [...sources('src'), ...sources('test'), ...sources('bench')]) {
    readFileSync(join(ROOT, file), 'utf8').split('\n').forEach((line, i, lines) => {
      // An arrow's body on the next line is its value, returned.
      if (dropped(line) && !lines[i - 1]?.trimEnd().endsWith('=>')) found.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(found, [], 'a Promise dropped');
  assert.ok(dropped('    store.add(tx, row);') && !dropped('    await store.add(tx, row);') && dropped('  s.audit.denied(ctx, e, why);'), 'the pattern catches what it is for');
});
