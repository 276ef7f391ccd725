// A small message is decompressed on a zstd context kept for the thread (decompressFrame): it must
// answer exactly as zstdDecompressSync does, whatever the frame, and go on after a bad one. It is
// compressed on one too (sealBuffer): the frame must be the one zstdCompressSync makes.
import assert from 'node:assert/strict';
import { createDecipheriv, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { constants, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { decompressFrame, frameExtent, openSealedBuffer, sealBuffer } from '../src/store/sealed-blob.ts';
import { FileKeyProvider } from '../src/store/key-provider.ts';

const outcome = (f: () => Buffer) => {
  try {
    return { bytes: f() };
  } catch (err) {
    return { error: (err as Error).message };
  }
};

test('decompressFrame answers as zstdDecompressSync for every kind of frame, and goes on after a bad one', () => {
  const text = Buffer.from('Subject: hello\r\n\r\n' + 'a line of mail text\r\n'.repeat(400));
  const frame = zstdCompressSync(text);
  const noise = randomBytes(3 * 1024 * 1024); // decompresses to more than the kept buffer holds
  const cases: [string, Buffer][] = [
    ['whole', frame],
    ['empty message', zstdCompressSync(Buffer.alloc(0))],
    ['larger than the kept buffer', zstdCompressSync(noise)],
    ['cut short', frame.subarray(0, frame.length - 7)],
    ['not zstd', Buffer.from('this is not a zstd frame at all')],
    ['no bytes', Buffer.alloc(0)],
    ['two frames', Buffer.concat([frame, frame])],
    ['bytes after the frame', Buffer.concat([frame, Buffer.from('xyz')])],
    ['a changed byte', Buffer.from(frame.map((b, i) => (i === frame.length >> 1 ? b ^ 0x40 : b)))],
    ['a frame that does not say its size', zstdCompressSync(text, { params: { [constants.ZSTD_c_contentSizeFlag]: 0 } })],
    ['a frame with a checksum', zstdCompressSync(text, { params: { [constants.ZSTD_c_checksumFlag]: 1 } })],
    ['a frame with a checksum, cut short', zstdCompressSync(text, { params: { [constants.ZSTD_c_checksumFlag]: 1 } }).subarray(0, -2)],
  ];
  for (let round = 0; round < 2; round++) {
    for (const [name, input] of cases) {
      const expected = outcome(() => zstdDecompressSync(input));
      const got = outcome(() => decompressFrame(input));
      assert.deepEqual(got, expected, `${name} (round ${round})`);
      // A good frame right after reads whole: a bad one did not spoil the context.
      assert.ok(decompressFrame(frame).equals(text), `a whole frame after "${name}"`);
    }
  }
});

// decompressFrame resets its context only after anything but one whole frame, which it tells by
// the frame's own headers: they must say where every kind of frame ends and what it holds.
test('frameExtent reads where a zstd frame ends and the size it holds', () => {
  const text = Buffer.from('a line of mail text\r\n'.repeat(20_000));   // more than one 128 KB block
  const kinds: [string, Buffer, Record<number, number>][] = [
    ['empty', Buffer.alloc(0), {}], ['one byte', Buffer.from('x'), {}], ['text', text, {}],
    ['incompressible (raw blocks)', randomBytes(300_000), {}], ['one byte repeated (RLE blocks)', Buffer.alloc(400_000), {}],
    ['257 bytes (a two-byte size)', randomBytes(257), {}], ['70,000 bytes (a four-byte size)', randomBytes(70_000), {}],
    ['with a checksum', text, { [constants.ZSTD_c_checksumFlag]: 1 }], ['level 19', text, { [constants.ZSTD_c_compressionLevel]: 19 }],
  ];
  for (const [name, raw, params] of kinds) {
    const frame = zstdCompressSync(raw, { params });
    assert.deepEqual(frameExtent(frame), { length: frame.length, contentSize: raw.length }, name);
    assert.deepEqual(frameExtent(Buffer.concat([frame, frame])), { length: frame.length, contentSize: raw.length }, `${name}, another frame after it`);
    assert.equal(frameExtent(frame.subarray(0, -1)), null, `${name}, cut short`);
  }
  assert.equal(frameExtent(zstdCompressSync(text, { params: { [constants.ZSTD_c_contentSizeFlag]: 0 } })), null, 'a frame that does not say its size');
  assert.equal(frameExtent(Buffer.from('not a zstd frame')), null);
});

test('a thousand sealed messages open bit-exact, one after another on the kept context', async () => {
  const keys = new FileKeyProvider(randomBytes(32));
  for (let i = 0; i < 1000; i++) {
    const raw = Buffer.concat([Buffer.from(`Subject: ${i}\r\n\r\n`), randomBytes(i % 7 === 0 ? 20_000 : i % 300), Buffer.from('text '.repeat(i))]);
    const { sealed, meta } = await sealBuffer(raw, keys);
    assert.ok((await openSealedBuffer(sealed, meta, keys)).equals(raw), `message ${i}`);
  }
});

test('a message is sealed as zstdCompressSync compresses it, on the kept context, whatever its size', async () => {
  const keys = new FileKeyProvider(randomBytes(32));
  const level3 = { params: { [constants.ZSTD_c_compressionLevel]: 3 } };
  const text = Buffer.from('Subject: hello\r\n\r\n' + 'a line of mail text\r\n'.repeat(400));
  // Empty, tiny, text, more than the first output buffer holds, more than the kept buffer may grow to.
  for (const raw of [Buffer.alloc(0), Buffer.from('x'), text, randomBytes(70_000), randomBytes(3 * 1024 * 1024), text]) {
    const { sealed, meta } = await sealBuffer(raw, keys);
    const decipher = createDecipheriv('aes-256-gcm', await keys.unwrap(meta.wrappedKey, meta.keyId), meta.nonce);
    decipher.setAuthTag(meta.tag);
    const frame = Buffer.concat([decipher.update(sealed), decipher.final()]);
    assert.ok(frame.equals(zstdCompressSync(raw, level3)), `${raw.length} bytes`);
    assert.equal(meta.sealedLength, sealed.length);
  }
});
