import { waitUntil } from './wait.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config.ts';
import type { Config } from '../../src/core/config.ts';
import { openArchive as openConsoleArchive } from '../../src/archive.ts';
import type { SearchIndex } from '../../src/index/search-index.ts';
import type { Stores } from '../../src/store/open-stores.ts';
import type { Tx } from '../../src/core/transactions.ts';
import { sealbox, tempDataDir } from './sealbox.ts';

// A config for tests: no real DNS (an empty zone, or the one given), quiet logs.
export function testConfig(extra: Record<string, unknown> = {}, zone: Record<string, unknown> = {}): string {
  const dir = tempDataDir();
  const zoneFile = join(dir, 'zone.json');
  writeFileSync(zoneFile, JSON.stringify(zone));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ auth: { dns: zoneFile }, log: { level: 'warn' }, ...extra }));
  return file;
}

// Opens an archive in this process, to check thousands of messages without a process each.
// Opened by the same composition root as every command (role console).
// read(): one read transaction on its metadata store.
export async function openArchive(data: string): Promise<{ config: Config; stores: Stores; search: SearchIndex; read<T>(work: (tx: Tx) => Promise<T>): Promise<T>; close(): void }> {
  const archive = await openConsoleArchive(loadConfig(undefined, { data }, {}), 'console');
  return { config: archive.config, stores: archive.stores, search: archive.services.search, read: (work) => archive.stores.meta.read(work), close: () => archive.close() };
}

// Waits (with a deadline, no fixed sleep) until the indexer has covered every capture, checked
// its authentication and read its attachments' text (verdicts and text follow the document).
// config: the archive's config file, where the data folder alone does not hold it (PostgreSQL).
export async function waitForIndex(data: string, timeoutMs = 120_000, options: { config?: string } = {}): Promise<void> {
  let last = '';
  await waitUntil('the index covers every capture, its verdicts and its attachments\' text', async () => {
    const r = await sealbox(['stats', '--data', data, ...(options.config ? ['--config', options.config] : []), '--json']);
    last = `${r.stdout}${r.stderr}`;
    const stats = r.code === 0 ? JSON.parse(r.stdout.toString()) : null;
    return stats !== null && stats.indexLag.captures === 0 && stats.authPending === 0 && stats.extractionPending === 0;
  }, { timeoutMs, intervalMs: 200, detail: () => last });
}
