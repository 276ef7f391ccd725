// Named values kept with the archive (the metadata store holds them).
export interface SettingStore {
  getSetting(key: string): string | null;
  setSetting(key: string, value: string): void;
}
