// How dates and sizes read on every page: local time, to the minute, with the zone.
export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return dateAndTime(d);
}

// A formatter made once, at its first use: toLocaleString with options makes a new one every
// call, which on the ledger's page of 100 entries was a fifth of a second of its first load.
function formatter(options: Intl.DateTimeFormatOptions): (d: Date) => string {
  let f: Intl.DateTimeFormat | null = null;
  return (d) => (f ??= new Intl.DateTimeFormat(undefined, options)).format(d);
}

const dateAndTime = formatter({ year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' });
// The time of day to the second, with the zone (ledger entries a second apart told apart).
export const clockTime = formatter({ hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZoneName: 'short' });
// The time of day to the minute.
export const minuteTime = formatter({ hour: '2-digit', minute: '2-digit' });

export function day(iso: string | null | undefined): string {
  if (!iso) return '—';
  return iso.slice(0, 10);
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} kB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(1)} GB`;
}

// "in 3 h 20 min" / "12 min ago", for a grant's remaining time.
export function relative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const ms = Date.parse(iso) - now;
  const abs = Math.abs(ms);
  const h = Math.floor(abs / 3_600_000);
  const m = Math.floor((abs % 3_600_000) / 60_000);
  const text = h > 0 ? `${h} h ${m} min` : `${m} min`;
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}

// Who did something, from an actor label: "user:anna" is anna; "os:root" worked at the console.
export function actorName(label: string): string {
  return label.startsWith('user:') ? label.slice(5) : `${label} (at the console)`;
}
