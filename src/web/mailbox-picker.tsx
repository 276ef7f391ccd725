import { useEffect, useId, useRef, useState } from 'react';
import type { KeyboardEvent } from 'react';
import { api, qs } from './api.ts';

export interface DirectoryEntry {
  name: string;
  displayName: string | null;
  owner: string | null;
  addresses: string[];
}

// Picks mailboxes from the directory by name, display name or address (GET /api/v1/mailboxes,
// which tells nothing about content). An ARIA combobox: the first match is highlighted, arrows
// move through the matches, Enter picks the highlighted one (pressed before the matches arrive,
// it picks the first once they do), Escape closes. Only a mailbox of the directory becomes a
// chip: typed text that matches nothing is said so in place, never sent to be refused later.
// `single`: one mailbox only (what is filed is about one), a new pick replacing the chosen one.
export function MailboxPicker({ value, onChange, label, single = false }: { value: string[]; onChange: (v: string[]) => void; label: string; single?: boolean }) {
  const id = useId();
  const [text, setText] = useState('');
  // The matches and the text they are for: Enter decides on matches for what is typed now.
  const [found, setFound] = useState<{ q: string; options: DirectoryEntry[] } | null>(null);
  const [active, setActive] = useState(-1);
  const [open, setOpen] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [chosen, setChosen] = useState<Record<string, DirectoryEntry>>({});
  const enterPressed = useRef(false);
  const latest = useRef(0);
  const q = text.trim();
  const options = found && found.q === q ? found.options.filter((m) => !value.includes(m.name)) : [];

  const pick = (m: DirectoryEntry) => {
    if (!value.includes(m.name)) onChange(single ? [m.name] : [...value, m.name]);
    setChosen((c) => ({ ...c, [m.name]: m }));
    setText('');
    setFound(null);
    setOpen(false);
    setActive(-1);
    setProblem(null);
  };
  // What Enter does once the matches for `query` are known.
  const decide = (query: string, matches: DirectoryEntry[], index: number) => {
    const free = matches.filter((m) => !value.includes(m.name));
    if (free[index]) pick(free[index]);
    else if (matches.length > 0) setProblem(`“${query}” is already chosen.`);
    else setProblem(`No mailbox matches “${query}”. Check the spelling, or try part of the name or the e-mail address.`);
  };

  useEffect(() => {
    if (q.length === 0) {
      setFound(null);
      return;
    }
    const n = ++latest.current;
    const timer = setTimeout(() => {
      api.get<{ mailboxes: DirectoryEntry[] }>(`/api/v1/mailboxes${qs({ q, limit: 10 })}`).then((r) => {
        if (n !== latest.current) return;
        setFound({ q, options: r.mailboxes });
        const free = r.mailboxes.filter((m) => !value.includes(m.name));
        setActive(free.length > 0 ? 0 : -1);
        setOpen(true);
        if (enterPressed.current) {
          enterPressed.current = false;
          decide(q, r.mailboxes, 0);
        }
      }, () => {
        if (n !== latest.current) return;
        enterPressed.current = false;
        setFound({ q, options: [] });
        setProblem('The directory could not be searched; try again.');
      });
    }, 120);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [q]);

  const key = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'ArrowDown' && options.length) {
      e.preventDefault();
      setOpen(true);
      setActive((a) => (a + 1) % options.length);
    } else if (e.key === 'ArrowUp' && options.length) {
      e.preventDefault();
      setOpen(true);
      setActive((a) => (a <= 0 ? options.length - 1 : a - 1));
    } else if (e.key === 'Enter') {
      // Never submits the form from here: Enter in the picker is about the picker.
      e.preventDefault();
      if (!q) return;
      if (found && found.q === q) decide(q, found.options, Math.max(active, 0));
      else enterPressed.current = true;
    } else if (e.key === 'Escape') setOpen(false);
  };
  const listId = `${id}-list`;
  const shown = open && options.length > 0;
  return (
    <div className="field">
      <label htmlFor={`${id}-input`}>{label}</label>
      {value.length > 0 && (
        <ul className="chips" aria-label={single ? 'Chosen mailbox' : 'Chosen mailboxes'}>
          {value.map((v) => {
            const m = chosen[v];
            const words = m?.displayName ?? v;
            return (
              <li key={v}>
                {words}{words !== v && <> <span className="muted">{v}</span></>}{' '}
                <button type="button" className="secondary" aria-label={`Remove ${words}`} onClick={() => onChange(value.filter((x) => x !== v))}>×</button>
              </li>
            );
          })}
        </ul>
      )}
      <input
        id={`${id}-input`} role="combobox" aria-autocomplete="list" aria-expanded={shown} aria-controls={listId}
        aria-activedescendant={shown && active >= 0 ? `${id}-opt-${active}` : undefined} autoComplete="off"
        aria-invalid={problem ? true : undefined}
        value={text} onChange={(e) => { setText(e.target.value); setProblem(null); enterPressed.current = false; }} onKeyDown={key}
        onBlur={() => {
          setTimeout(() => setOpen(false), 150);
          // Leaving text behind that was never picked would look chosen: say it is not.
          if (q && !enterPressed.current) setProblem(`“${q}” is not chosen yet: pick it from the list (Enter takes the highlighted one).`);
        }}
        onFocus={() => setOpen(true)}
        placeholder="a person's name or e-mail address" aria-describedby={`${id}-help ${id}-problem`}
      />
      <span id={`${id}-help`} className="muted">Type part of a name or address, then choose from the list (Enter takes the highlighted one).</span>
      <p id={`${id}-problem`} className="field-error" role="status" data-testid="picker-problem">{problem}</p>
      <ul id={listId} role="listbox" className="suggestions" hidden={!shown} aria-label="Matching mailboxes">
        {options.map((m, i) => (
          <li key={m.name} id={`${id}-opt-${i}`} role="option" aria-selected={i === active} onMouseDown={(e) => { e.preventDefault(); pick(m); }}>
            <strong>{m.displayName ?? m.name}</strong> <span className="muted">{m.addresses.join(', ')}{m.owner ? ` · owner ${m.owner}` : ''}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
