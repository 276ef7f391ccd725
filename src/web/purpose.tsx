import { useEffect, useState } from 'react';
import { api } from './api.ts';

// Purposes are slugs in the policy, the requests and the ledger ("hr-investigation"); people
// read them in words. The policy may give a label for each (access.purposeLabels); any other is
// said from its slug: hyphens become spaces, the first letter a capital, known abbreviations
// in capitals ("HR investigation"). The slug stays the value sent and stored.
const ABBREVIATIONS = new Set(['hr', 'it', 'gdpr', 'dpo', 'dsar', 'sar', 'ceo', 'cfo', 'cto', 'id', 'pii', 'vip', 'eu', 'uk', 'us']);

export function purposeWords(slug: string, labels: Record<string, string> = {}): string {
  const label = labels[slug];
  if (label) return label;
  const words = slug.split(/[-_\s]+/).filter(Boolean).map((w) => (ABBREVIATIONS.has(w.toLowerCase()) ? w.toUpperCase() : w.toLowerCase()));
  if (words.length === 0) return slug;
  return words.map((w, i) => (i === 0 ? w[0].toUpperCase() + w.slice(1) : w)).join(' ');
}

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
