import { useRef, useState } from 'react';

// Copies a text (an enrolment link, an authenticator key). Where the browser offers no clipboard
// (a page on plain HTTP other than localhost), the text is selected instead, to copy by hand.
export function CopyButton({ text, label, testId }: { text: string; label: string; testId?: string }) {
  const [said, setSaid] = useState('');
  const shown = useRef<HTMLElement>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setSaid('Copied.');
    } catch {
      if (shown.current) getSelection()?.selectAllChildren(shown.current);
      setSaid('Selected: press Ctrl+C (⌘C) to copy.');
    }
  };
  return (
    <>
      <code ref={shown} data-testid={testId}>{text}</code>{' '}
      <button type="button" className="secondary" onClick={() => void copy()}>{label}</button>{' '}
      <span role="status">{said}</span>
    </>
  );
}
