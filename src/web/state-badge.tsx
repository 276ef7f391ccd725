// A request's state, as a word in a pill (colour is never the only sign).
export function StateBadge({ state }: { state: string }) {
  return <span className={`state state-${state}`}>{state}</span>;
}
