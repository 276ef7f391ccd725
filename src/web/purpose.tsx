import { useEffect, useState } from 'react';
import { purposeWords } from '../core/purpose-words.ts';
import { api } from './api.ts';

// Purposes in words (src/core/purpose-words.ts says how, for the notices too); the slug stays
// the value sent and stored.
export { purposeWords };

// The labels of the policy in force, read once per page load (GET /api/v1/policy is open to
// everyone signed in); forgotten when an admin saves the policy.
let labels: Promise<Record<string, string>> | null = null;
let known: Record<string, string> = {};

function load(): Promise<Record<string, string>> {
  labels ??= api.get<{ purposeLabels?: Record<string, string> }>('/api/v1/policy').then(
    (p) => (known = p.purposeLabels ?? {}),
    () => {
      labels = null;
      return known;
    },
  );
  return labels;
}

export function forgetPurposeLabels(): void {
  labels = null;
}

export function usePurposeLabels(): Record<string, string> {
  const [value, setValue] = useState(known);
  useEffect(() => {
    let current = true;
    void load().then((l) => current && setValue(l));
    return () => {
      current = false;
    };
  }, []);
  return value;
}

// A purpose in words, wherever one is shown.
export function Purpose({ value }: { value: string }) {
  return <>{purposeWords(value, usePurposeLabels())}</>;
}
