import { createPrivateKey, sign } from 'node:crypto';
import type { CheckpointSigner } from './checkpoint.ts';

// A detached Ed25519 signature by the ledger's key over a statement about the archive (an
// evidence package's manifest), kept apart from checkpoints. The key signs C2SP notes, whose
// signed text always ends with a newline (signNote refuses any other, parseNote cuts the text
// there); a statement must not, so a statement's signature never verifies as a note's — nobody
// can pass it off as a checkpoint the log never signed — and a note's never as a statement's.
// Each statement's first line names what it is, so one kind cannot be taken for another.
export function signStatement(statement: string, key: Pick<CheckpointSigner, 'privateKeyPem'>): Buffer {
  if (!/^sealbox [^\n]+\n/.test(statement)) throw new Error('a signed statement begins with a line "sealbox <what it is>"');
  if (statement.endsWith('\n')) throw new Error('a signed statement must not end with a newline (a note\'s text does)');
  return sign(null, Buffer.from(statement, 'utf8'), createPrivateKey({ key: key.privateKeyPem, format: 'pem' }));
}
