import type { Tx } from '../core/transactions.ts';
// Named values kept with the archive (the metadata store holds them).
export interface SettingStore {
  getSetting(tx: Tx, key: string): Promise<string | null>;
  setSetting(tx: Tx, key: string, value: string): Promise<void>;
}
