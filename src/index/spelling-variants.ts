// Letters a reader expects to match their spelled-out form: "strassenfest" finds "Straßenfest"
// and the other way round, "aeble" finds "æble", "oeuvre" finds "œuvre", "soeren" finds
// "Søren". The full-text tokenizer already folds case and removes accents (é = e, ü = u, å = a,
// ł = l), but keeps these letters as letters of their own. Rather than rewrite the text as it is
// indexed (which would need every message indexed again, and would show snippets in the
// rewritten form), a search term is widened into each of its spellings: the index keeps the
// words as written, and any backend can search for the alternatives.
//
// Only letters that no tokenizer maps to a plain letter are here: "ue" is not widened to "ü",
// because "ü" is indexed as "u" and "blue" would then find "blu".
const SPELLED_OUT: Record<string, string> = { ß: 'ss', æ: 'ae', œ: 'oe', ø: 'oe' };
const LETTERS_FOR: Record<string, string[]> = { ss: ['ß'], ae: ['æ'], oe: ['œ', 'ø'] };
// A prefix ending half-way into a spelled-out pair ("stras*") may continue as the letter ("straß…").
const LETTERS_AFTER: Record<string, string[]> = { s: ['ß'], a: ['æ'], o: ['œ', 'ø'] };

// More spellings than this for one term are not tried (a word would need four such pairs).
export const MAX_SPELLINGS = 16;

// The spellings a term stands for, its own (lowercased, the letters spelled out) first. With
// `prefix`, the term is the start of a word.
export function spellingVariants(value: string, prefix = false): string[] {
  const canonical = value.toLowerCase().replace(/[ßæœø]/g, (c) => SPELLED_OUT[c]!);
  const out: string[] = [];
  // Every way to write the canonical form, pair by pair, the spelled-out form first.
  const walk = (i: number, written: string): void => {
    if (out.length >= MAX_SPELLINGS) return;
    if (i >= canonical.length) {
      out.push(written);
      return;
    }
    walk(i + 1, written + canonical[i]);
    for (const letter of LETTERS_FOR[canonical.slice(i, i + 2)] ?? []) walk(i + 2, written + letter);
  };
  walk(0, '');
  if (prefix) {
    for (const v of [...out]) {
      for (const letter of LETTERS_AFTER[v.at(-1) ?? ''] ?? []) {
        if (out.length < MAX_SPELLINGS) out.push(v.slice(0, -1) + letter);
      }
    }
  }
  return out;
}
