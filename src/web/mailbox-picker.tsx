import { useEffect, useId, useRef, useState } from 'react';
import type { KeyboardEvent } from 'react';
import { api, qs } from './api.ts';

interface DirectoryEntry {
  name: string;
  displayName: string | null;
  owner: string | null;
  addresses: string[];
}

// Picks mailboxes by name, display name or address, suggesting from the directory as one types
// (GET /api/v1/mailboxes, which tells nothing about content). An ARIA combobox: arrows move
// through the suggestions, Enter picks one (or takes what was typed as it is), Escape closes.
export function MailboxPicker({ value, onChange, label }: { value: string[]; onChange: (v: string[]) => void; label: string }) {
  const id = useId();
  const [text, setText] = useState('');
  const [options, setOptions] = useState<DirectoryEntry[]>([]);
  const [active, setActive] = useState(-1);
  const [open, setOpen] = useState(false);
  const latest = useRef(0);
  useEffect(() => {
    const q = text.trim();
    if (q.length === 0) {
      setOptions([]);
      return;
    }
    const n = ++latest.current;
    const timer = setTimeout(() => {
      api.get<{ mailboxes: DirectoryEntry[] }>(`/api/v1/mailboxes${qs({ q, limit: 10 })}`).then((r) => {
        if (n !== latest.current) return;
        setOptions(r.mailboxes.filter((m) => !value.includes(m.name)));
        setActive(-1);
        setOpen(true);
      }, () => n === latest.current && setOptions([]));
    }, 120);
    return () => clearTimeout(timer);
  }, [text, value]);
  const pick = (name: string) => {
    if (name && !value.includes(name)) onChange([...value, name]);
    setText('');
    setOptions([]);
    setOpen(false);
  };
  const key = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'ArrowDown' && options.length) {
      e.preventDefault();
      setOpen(true);
      setActive((a) => (a + 1) % options.length);
    } else if (e.key === 'ArrowUp' && options.length) {
      e.preventDefault();
      setActive((a) => (a <= 0 ? options.length - 1 : a - 1));
    } else if (e.key === 'Enter') {
      e.preventDefault();
      if (open && active >= 0 && options[active]) pick(options[active].name);
      else if (text.trim()) pick(text.trim().toLowerCase());
    } else if (e.key === 'Escape') setOpen(false);
  };
  const listId = `${id}-list`;
  return (
    <div className="field">
      <label htmlFor={`${id}-input`}>{label}</label>
      {value.length > 0 && (
        <ul className="chips" aria-label="Chosen mailboxes">
          {value.map((v) => (
            <li key={v}>{v} <button type="button" className="secondary" aria-label={`Remove ${v}`} onClick={() => onChange(value.filter((x) => x !== v))}>×</button></li>
          ))}
        </ul>
      )}
      <input
        id={`${id}-input`} role="combobox" aria-autocomplete="list" aria-expanded={open && options.length > 0} aria-controls={listId}
        aria-activedescendant={active >= 0 ? `${id}-opt-${active}` : undefined} autoComplete="off"
        value={text} onChange={(e) => setText(e.target.value)} onKeyDown={key} onBlur={() => setTimeout(() => setOpen(false), 150)}
        placeholder="name or address" aria-describedby={`${id}-help`}
      />
      <span id={`${id}-help`} className="muted">Type a name or address and choose from the list; Enter adds what you typed.</span>
      <ul id={listId} role="listbox" className="suggestions" hidden={!open || options.length === 0} aria-label="Matching mailboxes">
        {options.map((m, i) => (
          <li key={m.name} id={`${id}-opt-${i}`} role="option" aria-selected={i === active} onMouseDown={(e) => { e.preventDefault(); pick(m.name); }}>
            <strong>{m.displayName ?? m.name}</strong> <span className="muted">{m.addresses.join(', ')}{m.owner ? ` · owner ${m.owner}` : ''}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
