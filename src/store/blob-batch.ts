import { unpooled } from '../core/bytes.ts';
import type { MessageRow } from './metadata-store.ts';

// What a blob checker needs of a message: where its blob is, its raw size, and its seal.
export type BlobToCheck = Pick<MessageRow, 'size' | 'blobRef'> & { seal: Pick<MessageRow['seal'], 'nonce' | 'tag' | 'wrappedKey' | 'keyId'> };

// A batch of them as it crosses to a checker thread: one flat list of fields and one buffer of
// every seal's bytes. Posted as objects (four objects and three byte arrays a row) the corpus'
// rows took the verifying thread, which bounds verify, 18-33 ms to clone; packed, 5 ms.
export interface BlobBatch {
  fields: (string | number)[];   // per message: file, offset, length, size, keyId, and the lengths of nonce, tag, wrapped key
  seals: Uint8Array<ArrayBuffer>; // per message: nonce, tag, wrapped key
}

const FIELDS = 8;

export function packBatch(rows: BlobToCheck[]): BlobBatch {
  const fields: (string | number)[] = [];
  const bytes: Buffer[] = [];
  for (const { blobRef, size, seal } of rows) {
    fields.push(blobRef.file, blobRef.offset, blobRef.length, size, seal.keyId, seal.nonce.length, seal.tag.length, seal.wrappedKey.length);
    bytes.push(seal.nonce, seal.tag, seal.wrappedKey);
  }
  return { fields, seals: unpooled(Buffer.concat(bytes)) };
}

export function unpackBatch({ fields, seals }: BlobBatch): BlobToCheck[] {
  const all = Buffer.from(seals.buffer, seals.byteOffset, seals.byteLength);
  const rows: BlobToCheck[] = [];
  let at = 0;
  const take = (n: number) => all.subarray(at, (at += n));
  for (let i = 0; i < fields.length; i += FIELDS) {
    const [file, offset, length, size, keyId, nonce, tag, wrappedKey] = fields.slice(i, i + FIELDS) as [string, number, number, number, string, number, number, number];
    rows.push({ blobRef: { file, offset, length }, size, seal: { nonce: take(nonce), tag: take(tag), wrappedKey: take(wrappedKey), keyId } });
  }
  return rows;
}
