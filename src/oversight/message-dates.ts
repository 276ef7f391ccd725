// Messages' Date as the search index has it, for the enforcement check: null for a message that
// has no date or is not indexed.
export interface MessageDates {
  datesOf(sha256s: readonly string[]): Promise<Map<string, number | null>>;
}
