// `bytes` copied into a Buffer with an ArrayBuffer of its own. Node hands out Buffers under 32 KB
// (allocUnsafe, concat, from) as views of a shared 64 KB pool, and whatever keeps such a view
// keeps the whole 64 KB: a cache that counts the view's length holds several times what it
// counts. Posting a view to another thread clones its whole ArrayBuffer, so a 10 KB segment
// arrives as 64 KB; a copy of its own can be transferred instead.
export function unpooled(bytes: Uint8Array): Buffer<ArrayBuffer> {
  const copy = Buffer.allocUnsafeSlow(bytes.byteLength);
  copy.set(bytes);
  return copy;
}
