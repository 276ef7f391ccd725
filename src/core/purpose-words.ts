// Purposes are slugs in the policy, the requests and the ledger ("hr-investigation"); people
// read them in words, in the web app and in the notices alike. The policy may give a label for
// each (access.purposeLabels); any other is said from its slug: hyphens become spaces, the first
// letter a capital, known abbreviations in capitals ("HR investigation").
const ABBREVIATIONS = new Set(['hr', 'it', 'gdpr', 'dpo', 'dsar', 'sar', 'ceo', 'cfo', 'cto', 'id', 'pii', 'vip', 'eu', 'uk', 'us']);

export function purposeWords(slug: string, labels: Record<string, string> = {}): string {
  const label = labels[slug];
  if (label) return label;
  const words = slug.split(/[-_\s]+/).filter(Boolean).map((w) => (ABBREVIATIONS.has(w.toLowerCase()) ? w.toUpperCase() : w.toLowerCase()));
  if (words.length === 0) return slug;
  return words.map((w, i) => (i === 0 ? w[0].toUpperCase() + w.slice(1) : w)).join(' ');
}
