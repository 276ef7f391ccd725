// Streaming Content-Transfer-Encoding decoders (RFC 2045 §6): the bytes go in as they arrive and
// come out decoded, holding back only an unfinished quantum. Strict: bytes that the encoding
// cannot produce are an error (TransferDecodeError), never silently skipped.

export class TransferDecodeError extends Error {}

export interface TransferDecoder {
  write(chunk: Buffer): Buffer;
  end(): Buffer;
}

const EMPTY = Buffer.alloc(0);

// null: an encoding this decoder does not know.
export function transferDecoder(encoding: string | null): TransferDecoder | null {
  switch (encoding ?? '7bit') {
    case '7bit':
    case '8bit':
    case 'binary':
      return { write: (chunk) => chunk, end: () => EMPTY };
    case 'base64':
      return new Base64Decoder();
    case 'quoted-printable':
      return new QuotedPrintableDecoder();
    default:
      return null;
  }
}

class Base64Decoder implements TransferDecoder {
  #rest = '';          // fewer than four characters of the next quantum
  #padded = false;     // a quantum with '=' has ended the data

  write(chunk: Buffer): Buffer {
    const text = this.#rest + chunk.toString('latin1').replace(/[ \t\r\n]+/g, '');
    if (text.length === 0) return EMPTY;
    if (this.#padded) throw new TransferDecodeError('base64: data after the padding');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new TransferDecodeError('base64: a character outside the base64 alphabet, or padding in the middle');
    const usable = text.length - (text.length % 4);
    this.#rest = text.slice(usable);
    if (usable > 0 && text[usable - 1] === '=') {
      this.#padded = true;
      if (this.#rest.length > 0) throw new TransferDecodeError('base64: data after the padding');
    }
    return Buffer.from(text.slice(0, usable), 'base64');
  }

  end(): Buffer {
    if (this.#rest.length > 0) throw new TransferDecodeError(`base64: the data ends in an incomplete quantum ("${this.#rest}")`);
    return EMPTY;
  }
}

class QuotedPrintableDecoder implements TransferDecoder {
  #held = '';   // an unfinished escape or soft line break, or white space that may end a line

  write(chunk: Buffer): Buffer {
    const text = this.#held + chunk.toString('latin1');
    const tail = /(=[ \t]*\r?|=[0-9A-Fa-f]|[ \t]+\r?)$/.exec(text);
    const cut = tail ? tail.index : text.length;
    this.#held = text.slice(cut);
    return decode(text.slice(0, cut));
  }

  end(): Buffer {
    // A soft line break with no line after it ends the data; white space at the end is padding.
    const text = this.#held.replace(/=[ \t]*\r?$/, '').replace(/[ \t]+\r?$/, (m) => (m.endsWith('\r') ? '\r' : ''));
    this.#held = '';
    return decode(text);
  }
}

function decode(text: string): Buffer {
  // Soft line breaks go; white space before a hard line break was added in transport (§6.7).
  const s = text.replace(/=[ \t]*\r?\n/g, '').replace(/[ \t]+(?=\r?\n)/g, '');
  const out = Buffer.allocUnsafe(s.length);
  let o = 0;
  let from = 0;
  for (let i = s.indexOf('='); i !== -1; i = s.indexOf('=', from)) {
    o += out.write(s.slice(from, i), o, 'latin1');
    const hex = s.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new TransferDecodeError(`quoted-printable: "=${hex}" is not an escape`);
    out[o++] = parseInt(hex, 16);
    from = i + 3;
  }
  o += out.write(s.slice(from), o, 'latin1');
  return out.subarray(0, o);
}
