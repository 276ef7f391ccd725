import { generateSigningKey, signingKeyFromPem } from '../ledger/checkpoint.ts';
import type { SigningKey } from '../ledger/checkpoint.ts';
import { readOrCreateSecretFile } from './secret-file.ts';

// The ledger's Ed25519 checkpoint key, a PEM file readable only by its owner, made on first start.
export function openOrCreateSigningKey(file: string, name: string, options: { create: boolean }): { key: SigningKey; created: boolean } {
  const { content, created } = readOrCreateSecretFile(file, 'ledger signing key (keys.signingKeyFile)', { create: options.create, make: () => generateSigningKey(name).privateKeyPem });
  return { key: signingKeyFromPem(name, content), created };
}
