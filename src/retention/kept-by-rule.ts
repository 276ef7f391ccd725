// A receipt's minimum as its capture fixed it (its row and its ledger entry).
export interface ReceiptMinimum {
  keepUntil: number | null;     // ms epoch; null: for ever
  keepRule: string | null;      // null: the default gave it
}

export interface KeptBy {
  rule: string;
  until: number | null;         // ms epoch; null: for ever
}

// The one answer to "may this message go before its retention ends?", which the leaver schedule,
// an Art. 17 erasure and an early disposal each ask: not while a retention rule's minimum (what
// the organisation must keep by law) still runs for one of its receipts; this returns the one
// that runs longest, to be named with its date. Past every minimum, a rule's longer maximum no
// longer keeps it from them, nor does the default at all (mail matching no rule is what a
// leaver's months and an erasure exist to cut short). Normal disposal does not ask: it waits
// for every receipt's retain-until.
export function keptByRule(receipts: readonly ReceiptMinimum[], at: number): KeptBy | null {
  let longest: KeptBy | null = null;
  for (const r of receipts) {
    if (r.keepRule === null || (r.keepUntil !== null && r.keepUntil <= at)) continue;
    if (longest === null || (longest.until !== null && (r.keepUntil === null || r.keepUntil > longest.until))) longest = { rule: r.keepRule, until: r.keepUntil };
  }
  return longest;
}

// A KeptBy said as the outcomes of erasures, early disposals and disposal plans say it.
export function keptSaid(k: KeptBy): string {
  return `the minimum of retention rule ${k.rule} keeps it ${k.until === null ? 'for ever' : `until ${new Date(k.until).toISOString().slice(0, 10)}`}`;
}
