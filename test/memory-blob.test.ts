import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MemoryBlob } from '../src/index/memory-blob.ts';
import { parseMessage } from '../src/index/parse-message.ts';
import { corpusFiles } from './support/corpus.ts';

const NativeBlob = globalThis.Blob;

async function same(parts: unknown[], options?: { type?: string; endings?: 'transparent' | 'native' }): Promise<void> {
  const native = new NativeBlob(parts as never, options);
  const memory = new MemoryBlob(parts as never, options);
  assert.ok(memory instanceof NativeBlob);
  assert.equal(Object.prototype.toString.call(memory), '[object Blob]');
  assert.equal(memory.size, native.size);
  assert.equal(memory.type, native.type);
  assert.deepEqual(new Uint8Array(await memory.arrayBuffer()), new Uint8Array(await native.arrayBuffer()));
  assert.deepEqual(await memory.bytes(), await native.bytes());
  assert.equal(await memory.text(), await native.text());
  assert.equal(await memory.slice(1, -1, 'x/y').text(), await native.slice(1, -1, 'x/y').text());
  assert.equal(await new Response(memory.stream()).text(), await native.text());
}

test('MemoryBlob holds the same bytes as Blob, whatever the parts', async () => {
  const bytes = Buffer.from('héllo\r\nworld');
  await same([]);
  await same(['line', '\n', bytes.subarray(2, 8), '\n'], { type: 'Application/Octet-Stream' });
  await same([bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length), new Uint16Array([1, 2]), new DataView(new ArrayBuffer(3))]);
  await same(['lone surrogate \ud800 replaced', { toString: () => 'object' }, 5]);
  await same([new MemoryBlob(['inner ', bytes]), ' and ', new NativeBlob(['native'])], { type: 'bad\u00e9type' });
  await same(['a\nb\r\nc'], { endings: 'native' });
  assert.throws(() => new MemoryBlob([], { endings: 'bogus' as never }), TypeError);
});

test('MemoryBlob is a copy: changing a source afterwards changes nothing', async () => {
  const source = Buffer.from('abc');
  const blob = new MemoryBlob([source]);
  source[0] = 0x7a;
  assert.equal(await blob.text(), 'abc');
  const first = await blob.arrayBuffer();
  new Uint8Array(first)[0] = 0x7a;
  assert.equal(await blob.text(), 'abc');
});

// The indexer thread parses with MemoryBlob as its Blob: the results must not change.
test('postal-mime reads the corpus the same with MemoryBlob as with Blob', async () => {
  const files = corpusFiles().filter((_, i) => i % 3 === 0);
  const before = [];
  for (const f of files) before.push(await parseMessage(readFileSync(f)));
  globalThis.Blob = MemoryBlob;
  try {
    for (const [i, f] of files.entries()) assert.deepEqual(await parseMessage(readFileSync(f)), before[i], f);
  } finally {
    globalThis.Blob = NativeBlob;
  }
});
