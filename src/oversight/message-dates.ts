// A message's Date as the search index has it, for the enforcement check: null when the
// message has no date or is not indexed.
export interface MessageDates {
  dateOf(sha256: string): number | null;
}
