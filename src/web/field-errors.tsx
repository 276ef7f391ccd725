import { useId, useState } from 'react';
import type { FormEvent } from 'react';
import { ApiError } from './api.ts';

// A form's refusal said by the fields the API names (`fields` of {error}): the message beside
// each named field of this form (its input marked invalid and described by it), a short note
// where the form's error goes, the focus on the first. A refusal naming no field of the form is
// shown whole. `alias` gathers API fields shown in one place (a fieldset's several inputs).
export function useFieldErrors(alias: Record<string, string> = {}) {
  const id = useId();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const place = (key: string) => alias[key] ?? key;
  const errorId = (key: string) => `${id}-${key}-error`;
  return {
    error,
    clear: () => {
      setErrors({});
      setError(null);
    },
    fail: (err: unknown, form: HTMLFormElement | null) => {
      const named = err instanceof ApiError ? [...new Set(err.fields.map(place))].filter((k) => form?.querySelector(`[data-field="${k}"]`)) : [];
      if (named.length === 0) {
        setErrors({});
        setError(err);
        return;
      }
      const words = sentence((err as Error).message.replace(/^body\.[\w.]+: /, ''));
      setErrors(Object.fromEntries(named.map((k) => [k, words])));
      setError(new Error(`Not done: ${named.length === 1 ? 'one field needs' : 'some fields need'} a change (marked below).`));
      setTimeout(() => form?.querySelector<HTMLElement>(`[data-field="${named[0]}"] :is(input, textarea, select)`)?.focus(), 0);
    },
    // Spread on the input of a field: marked invalid and described by its message while refused
    // (after its help, the id of which is `help`).
    input: (key: string, help?: string) => ({
      'aria-invalid': errors[key] ? true : undefined,
      'aria-describedby': [help, errors[key] ? errorId(key) : null].filter(Boolean).join(' ') || undefined,
    }),
    message: (key: string) => <p id={errorId(key)} className="field-error" data-testid={`field-error-${key}`}>{errors[key]}</p>,
  };
}

const sentence = (s: string) => `${s[0]?.toUpperCase() ?? ''}${s.slice(1)}${/[.!?]$/.test(s) ? '' : '.'}`;

// A form that files something: its fields read trimmed (`text`; `data` for the rest), the button
// busy meanwhile, a refusal shown by the fields it names (useFieldErrors), the form emptied once
// `send` has done. `send` throws to refuse, an ApiError of its own for a check made here.
export function useFormSubmit(send: (form: { text: (key: string) => string; data: FormData; el: HTMLFormElement }) => Promise<void>, alias: Record<string, string> = {}) {
  const [busy, setBusy] = useState(false);
  const f = useFieldErrors(alias);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const el = e.currentTarget;
    const data = new FormData(el);
    const text = (key: string) => String(data.get(key) ?? '').trim();
    f.clear();
    setBusy(true);
    try {
      await send({ text, data, el });
      el.reset();
    } catch (err) {
      f.fail(err, el);
    } finally {
      setBusy(false);
    }
  };
  return { busy, f, submit };
}
