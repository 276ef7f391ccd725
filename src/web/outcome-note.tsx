import { useEffect, useRef } from 'react';
import type { ReactNode } from 'react';

export interface Outcome {
  text: ReactNode;
  at: number;   // a new outcome with the same words is still news
}

// What the last action did and the state it left, said where the user looks: the note takes the
// focus when a new outcome arrives (the card the action came from may be gone after the page
// reloads its list), so keyboard and screen-reader users land on it.
export function OutcomeNote({ outcome }: { outcome: Outcome | null }) {
  const ref = useRef<HTMLParagraphElement>(null);
  useEffect(() => {
    if (outcome) ref.current?.focus();
  }, [outcome]);
  if (!outcome) return null;
  return <p ref={ref} tabIndex={-1} className="success" role="status" data-testid="outcome">{outcome.text}</p>;
}
