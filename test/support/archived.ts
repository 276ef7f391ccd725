import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { openArchive } from '../../src/archive.ts';
import type { Archive } from '../../src/archive.ts';
import { loadConfig } from '../../src/core/config.ts';
import { checkIndex } from '../../src/index/index-completeness.ts';

// Every message archived bit-exact under its sha256 and the search index holding exactly one
// document for each distinct one, nothing else: read through the archive a console command
// opens on the config (any backend). more: further checks on the same opened archive.
export async function assertArchivedOnce(config: string, messages: readonly { index: number; data: Buffer }[], more?: (archive: Archive) => Promise<void>): Promise<void> {
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const archive = await openArchive(loadConfig(config, {}, {}), 'console');
  try {
    const { meta, reader } = archive.stores;
    for (const m of messages) {
      const row = await meta.read((tx) => meta.getMessage(tx, sha(m.data)));
      assert.ok(row, `message ${m.index} is archived`);
      assert.ok((await reader.readSmall(row)).equals(m.data), `message ${m.index} reads back bit-exact`);
    }
    const distinct = new Set(messages.map((m) => sha(m.data))).size;
    const completeness = await checkIndex(archive.stores.repos.captures, archive.index.store);
    assert.deepEqual([completeness.missing, completeness.stray, completeness.documents], [[], [], distinct], 'one document per message, nothing else');
    await more?.(archive);
  } finally {
    archive.close();
  }
}
