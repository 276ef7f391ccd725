// A deterministic generator of realistic mail for the scale benchmark: the same seed and the
// same count give the same bytes, message after message.
//
// - sizes drawn from the real corpus's size distribution; large ones carry attachments
// - words drawn with the real corpus's word frequencies (so common and rare words are as common
//   and as rare as in real mail), plus a few mail-specific tokens per message
// - threads: a third of the messages reply to a recent message, quoting its text, with
//   In-Reply-To/References and "Re:"; some forward one as message/rfc822
// - attachments of several types: PDF, JPEG, PNG, DOCX, ZIP (incompressible, like the real
//   ones), CSV, iCalendar, forwarded messages; names sometimes non-ASCII (RFC 2231)
// - charsets: us-ascii, utf-8 (quoted-printable and base64), iso-8859-1, windows-1252, koi8-r,
//   iso-2022-jp, with RFC 2047 encoded subjects and display names
// - people: a population over internal and external domains, some with an alias, who write with
//   Zipf-like frequency; To, Cc, and Bcc recipients that are only in the SMTP envelope
// - dates spread evenly over three years, with time zones, in order of arrival
export interface GeneratedMail {
  raw: Buffer;                                   // CRLF line ends, as on the wire
  envelope: { from: string; to: string[] };      // rcptTo includes Bcc recipients
  date: number;                                  // ms epoch of the Date header
}

export interface Person {
  name: string;
  address: string;
  aliases: string[];      // other addresses of the same mailbox
  internal: boolean;
}

export const INTERNAL_DOMAINS = ['acme.example', 'labs.acme.example', 'acme-eu.example'];
const EXTERNAL_DOMAINS = ['globex.example', 'initech.example', 'umbrella.example', 'hooli.example', 'mail.example.net',
  'example.org', 'webmail.example.com', 'stark.example', 'wayne.example', 'cyberdyne.example', 'soylent.example', 'tyrell.example'];
const START = Date.UTC(2022, 0, 3, 8, 0, 0);
const SPAN_MS = 3 * 365 * 86_400_000;
const PEOPLE = 20_000;
const PARAGRAPHS = 4096;

const FIRST = ['James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer', 'Michael', 'Linda', 'David', 'Elizabeth', 'William', 'Barbara',
  'Richard', 'Susan', 'Joseph', 'Jessica', 'Thomas', 'Sarah', 'Charles', 'Karen', 'Christopher', 'Lisa', 'Daniel', 'Nancy', 'Matthew',
  'Betty', 'Anthony', 'Sandra', 'Mark', 'Ashley', 'Ahmed', 'Fatima', 'Wei', 'Mei', 'Hiroshi', 'Yuki', 'Olga', 'Ivan', 'Pierre', 'Amélie',
  'José', 'María', 'Søren', 'Zoë', 'Łukasz', 'Björn', 'Ngozi', 'Priya', 'Rahul', 'Ana', 'Ольга', 'Дмитрий', 'François', 'Jürgen'];
const LAST = ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Hernandez',
  'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin', 'Lee', 'Perez', 'Thompson', 'White',
  'Harris', 'Sanchez', 'Clark', 'Ramirez', 'Lewis', 'Robinson', 'Walker', 'Young', 'Allen', 'King', 'Wright', 'Scott', 'Nguyen', 'Kim',
  'Müller', 'Schmidt', 'Dubois', 'Øster', 'Kowalski', 'Tanaka', 'Suzuki', 'Иванов', 'Петрова', 'Okafor', 'Patel', 'Sørensen', 'Núñez'];
const LANGUAGES = {
  de: ['Grüße', 'über', 'Besprechung', 'nächste', 'Woche', 'Rückmeldung', 'Änderungen', 'bitte', 'prüfen', 'Vertrag', 'Größe', 'möglich', 'Übersicht', 'danke', 'Termin', 'Straße'],
  fr: ['réunion', 'déjà', 'prochaine', 'élément', 'à', 'très', 'où', 'reçu', 'façon', 'été', 'numéro', 'merci', 'contrat', 'bientôt', 'problème', 'ça'],
  ru: ['привет', 'встреча', 'договор', 'отчёт', 'спасибо', 'завтра', 'пожалуйста', 'проект', 'сервер', 'письмо', 'вопрос', 'неделя', 'срочно', 'счёт'],
  ja: ['こんにちは', 'ありがとう', 'よろしく', 'おねがいします', 'メール', 'テスト', 'コンピュータ', 'サーバー', 'かいぎ', 'しりょう', 'あした', 'プロジェクト'],
  emoji: ['👍', '✅', '🎉', '📎', '→', '€', '✓', '…'],
};
const TZ = ['+0000', '+0100', '+0200', '-0500', '-0800', '+0530', '+0900', '-0300'];

type Charset = 'us-ascii' | 'utf-8' | 'iso-8859-1' | 'windows-1252' | 'koi8-r' | 'iso-2022-jp';
type Attachment = { type: string; filename: string; body: Buffer; encoding: 'base64' | 'quoted-printable' | '7bit' };
interface Sent { from: Person; to: Person[]; cc: Person[]; subject: string; messageId: string; references: string[]; text: string; date: number; raw: Buffer | null }

export class MailGenerator {
  readonly people: Person[];
  readonly vocabulary: string[];              // by descending corpus frequency
  readonly #rand: () => number;
  readonly #cumulative: Float64Array;          // word sampling
  readonly #peopleCumulative: Float64Array;    // sender activity
  readonly #sizes: number[];                   // corpus message sizes, sorted
  readonly #paragraphs: string[];
  readonly #recent: Sent[] = [];               // ring of recent messages to reply to
  readonly #total: number;
  #i = 0;

  // total: how many messages will be made (dates spread over three years whatever the count).
  constructor(options: { seed: number; total: number; corpus: Buffer[] }) {
    this.#rand = sfc32(options.seed);
    this.#total = options.total;
    this.#sizes = options.corpus.map((m) => m.length).sort((a, b) => a - b);
    const vocab = wordFrequencies(options.corpus);
    this.vocabulary = vocab.map(([w]) => w);
    this.#cumulative = cumulative(vocab.map(([, n]) => n));
    this.people = this.#makePeople();
    this.#peopleCumulative = cumulative(this.people.map((_, k) => 1 / (k + 1) ** 0.9));
    this.#paragraphs = Array.from({ length: PARAGRAPHS }, () => this.#paragraph());
  }

  get count(): number {
    return this.#i;
  }

  next(): GeneratedMail {
    const i = this.#i++;
    const r = this.#rand;
    const date = START + Math.floor((i + 0.5) * SPAN_MS / this.#total + (r() - 0.5) * Math.min(SPAN_MS / this.#total, 3_600_000));
    const target = this.#sizes[Math.floor(r() * this.#sizes.length)]!;
    const parent = this.#recent.length > 0 && r() < 0.33 ? this.#recent[Math.floor(this.#recent.length * (1 - r() ** 3)) % this.#recent.length]! : null;
    const forward = parent !== null && r() < 0.08;

    let from: Person, to: Person[], cc: Person[], subject: string;
    if (parent && !forward) {
      // A reply: someone who received the parent answers its sender, the rest in Cc.
      const others = [...parent.to, ...parent.cc];
      from = others.length ? others[Math.floor(r() * others.length)]! : this.#person();
      to = [parent.from];
      cc = others.filter((p) => p !== from).slice(0, 6);
      subject = /^re:/i.test(parent.subject) ? parent.subject : `Re: ${parent.subject}`;
    } else {
      from = this.#person();
      to = this.#recipients(from, 1 + Math.floor(r() ** 3 * 6));
      cc = r() < 0.3 ? this.#recipients(from, 1 + Math.floor(r() * 3)) : [];
      subject = forward ? `Fwd: ${parent!.subject}` : this.#subject();
    }
    const bcc = r() < 0.1 ? this.#recipients(from, 1 + Math.floor(r() * 2)) : [];
    const lang = this.#language();
    const charset = charsetFor(lang, r);
    const messageId = `${i.toString(36)}.${Math.floor(r() * 2 ** 32).toString(36)}@${domainOf(from.address)}`;
    const references = parent ? [...parent.references.slice(-8), parent.messageId] : [];

    // The text: new words, then (in a reply) the parent quoted; sized so that the whole
    // message comes out at the drawn size (headers take about 1 kB, an HTML twin doubles it).
    const quoted = parent && !forward
      ? `\n\nOn ${new Date(parent.date).toUTCString()}, ${parent.from.name} wrote:\n${parent.text.split('\n').slice(0, 40).map((l) => (l ? `> ${l}` : '>')).join('\n')}\n`
      : '';
    const attachments: Attachment[] = [];
    if (forward && parent!.raw) attachments.push({ type: 'message/rfc822', filename: '', body: parent!.raw, encoding: '7bit' });
    const withFiles = target > 12_000 ? r() < 0.75 : r() < 0.05;
    const html = !withFiles && attachments.length === 0 && r() < 0.4;
    const textBudget = withFiles ? 300 + r() * 1500 : (Math.min(target, 16_000) - 1400) / (html ? 2.3 : 1);
    let text = this.#text(lang, Math.max(80, textBudget - quoted.length)) + quoted;
    if (r() < 0.5) text += `\n-- \n${from.name}\n${from.address}\n`;
    if (withFiles) {
      const room = Math.max(400, target - text.length - 1600);
      const n = room < 3000 ? 1 : 1 + Math.floor(r() ** 2 * 3);
      for (let k = 0; k < n; k++) attachments.push(this.#attachment(Math.floor((room * 0.74) / n)));
    }

    const head: string[] = [];
    const hops = 1 + Math.floor(r() * 3);
    for (let h = 0; h < hops; h++) {
      head.push(`Received: from mx${h + 1}.${domainOf(from.address)} (mx${h + 1}.${domainOf(from.address)} [${docIp(r)}])\r\n\tby mail.${INTERNAL_DOMAINS[0]} with ESMTPS id ${Math.floor(r() * 2 ** 40).toString(16)};\r\n\t${rfc2822Date(date - h * 1000, '+0000')}`);
    }
    head.push(`Date: ${rfc2822Date(date, TZ[Math.floor(r() * TZ.length)]!)}`);
    head.push(`From: ${addressHeader(from)}`);
    head.push(`To: ${to.map(addressHeader).join(',\r\n ')}`);
    if (cc.length) head.push(`Cc: ${cc.map(addressHeader).join(',\r\n ')}`);
    head.push(`Subject: ${encodeWord(subject, charset)}`);
    head.push(`Message-ID: <${messageId}>`);
    if (references.length) {
      head.push(`In-Reply-To: <${references.at(-1)}>`);
      head.push(`References: ${references.map((m) => `<${m}>`).join('\r\n ')}`);
    }
    head.push('MIME-Version: 1.0');
    if (r() < 0.3) head.push(`X-Mailer: ${['Microsoft Outlook 16.0', 'Apple Mail (2.3731)', 'Thunderbird 115.4', 'Roundcube Webmail/1.6'][Math.floor(r() * 4)]}`);

    const textPart = mimeText('plain', text, charset, r);
    let body: string[];
    if (attachments.length) {
      const boundary = `mixed-${i.toString(36)}-${Math.floor(r() * 2 ** 32).toString(36)}`;
      head.push(`Content-Type: multipart/mixed; boundary="${boundary}"`);
      body = ['', 'This is a multi-part message in MIME format.', `--${boundary}`, ...textPart];
      for (const a of attachments) body.push(`--${boundary}`, ...mimeAttachment(a));
      body.push(`--${boundary}--`);
    } else if (html) {
      const boundary = `alt-${i.toString(36)}-${Math.floor(r() * 2 ** 32).toString(36)}`;
      head.push(`Content-Type: multipart/alternative; boundary="${boundary}"`);
      body = ['', `--${boundary}`, ...textPart, `--${boundary}`, ...mimeText('html', toHtml(text), charset, r), `--${boundary}--`];
    } else {
      body = textPart;
    }
    const raw = Buffer.from(head.join('\r\n') + '\r\n' + body.join('\r\n') + '\r\n', 'latin1');
    // Text bodies were made as latin1-safe strings (encoded bytes); nothing is lost above.

    const sent: Sent = { from, to, cc, subject, messageId, references, text: text.slice(0, 3000), date, raw: raw.length < 20_000 ? raw : null };
    this.#recent.push(sent);
    if (this.#recent.length > 2000) this.#recent.shift();
    const rcpt = [...to, ...cc, ...bcc].map((p) => p.address);
    return { raw, envelope: { from: from.address, to: [...new Set(rcpt)] }, date };
  }

  // A word at a given frequency rank (0 = most common), for queries.
  word(rank: number): string {
    return this.vocabulary[Math.min(rank, this.vocabulary.length - 1)]!;
  }

  // Two consecutive words of a paragraph (a phrase that occurs).
  phrase(k: number): string {
    const words = this.#paragraphs[k % PARAGRAPHS]!.split(/\s+/).map((w) => w.replace(/[^\p{L}]/gu, '')).filter((w) => w.length > 2);
    return `${words[1]} ${words[2]}`;
  }

  #makePeople(): Person[] {
    const r = this.#rand;
    const people: Person[] = [];
    const seen = new Set<string>();
    for (let k = 0; people.length < PEOPLE; k++) {
      const first = FIRST[Math.floor(r() * FIRST.length)]!;
      const last = LAST[Math.floor(r() * LAST.length)]!;
      const internal = r() < 0.45;
      const domain = internal ? INTERNAL_DOMAINS[Math.floor(r() ** 2 * INTERNAL_DOMAINS.length)]! : EXTERNAL_DOMAINS[Math.floor(r() * EXTERNAL_DOMAINS.length)]!;
      const f = ascii(first), l = ascii(last);
      const style = r();
      let local = style < 0.5 ? `${f}.${l}` : style < 0.8 ? `${f[0]}${l}` : `${f}${l[0]}`;
      if (seen.has(`${local}@${domain}`)) local += String(k % 1000);
      if (seen.has(`${local}@${domain}`)) continue;
      seen.add(`${local}@${domain}`);
      const aliases = internal && r() < 0.3 ? [`${f[0]}.${l}${k % 100}@${domain}`] : [];
      people.push({ name: `${first} ${last}`, address: `${local}@${domain}`, aliases, internal });
    }
    return people;
  }

  #person(): Person {
    return this.people[pick(this.#peopleCumulative, this.#rand())]!;
  }

  #recipients(from: Person, n: number): Person[] {
    const out = new Set<Person>();
    for (let k = 0; k < n * 3 && out.size < n; k++) {
      const p = this.#person();
      if (p !== from) out.add(p);
    }
    return [...out];
  }

  #word(): string {
    return this.vocabulary[pick(this.#cumulative, this.#rand())]!;
  }

  #sentence(min: number, max: number): string {
    const n = min + Math.floor(this.#rand() * (max - min + 1));
    const words: string[] = [];
    for (let k = 0; k < n; k++) words.push(this.#word());
    const s = words.join(' ');
    return s.charAt(0).toUpperCase() + s.slice(1) + (this.#rand() < 0.1 ? '?' : '.');
  }

  #paragraph(): string {
    const n = 2 + Math.floor(this.#rand() * 5);
    return Array.from({ length: n }, () => this.#sentence(5, 18)).join(' ');
  }

  #subject(): string {
    const r = this.#rand;
    const s = this.#sentence(2, 7).replace(/[.?]$/, '');
    return r() < 0.15 ? `[${['ops', 'legal', 'hr', 'sales', 'dev'][Math.floor(r() * 5)]}] ${s}` : s;
  }

  #language(): keyof typeof LANGUAGES | 'en' {
    const x = this.#rand();
    return x < 0.72 ? 'en' : x < 0.8 ? 'de' : x < 0.86 ? 'fr' : x < 0.91 ? 'ru' : x < 0.95 ? 'ja' : 'emoji';
  }

  // Paragraphs from the pool (real word frequencies), a fresh sentence with a few rarer tokens,
  // and, for other languages, their words woven in. Wrapped at 72 columns.
  #text(lang: keyof typeof LANGUAGES | 'en', size: number): string {
    const r = this.#rand;
    const parts: string[] = [];
    let len = 0;
    while (len < size) {
      const p = r() < 0.8 ? this.#paragraphs[Math.floor(r() * PARAGRAPHS)]! : this.#paragraph();
      parts.push(p);
      len += p.length + 2;
    }
    parts.splice(Math.floor(r() * parts.length), 0, `${this.#sentence(6, 12)} Ref ${Math.floor(r() * 1e6)}-${this.#word()}.`);
    if (lang !== 'en') {
      const words = LANGUAGES[lang];
      const n = Math.max(3, Math.floor(len / 60));
      parts.splice(1, 0, Array.from({ length: n }, () => words[Math.floor(r() * words.length)]).join(' ') + '.');
    }
    return parts.map(wrap72).join('\n\n');
  }

  #attachment(size: number): Attachment {
    const r = this.#rand;
    const x = r();
    const stem = `${this.#word()}-${this.#word()}`;
    const binary = (magic: number[], type: string, ext: string): Attachment => {
      const body = randomBytes(r, Math.max(64, size));
      body.set(magic, 0);
      return { type, filename: `${stem}.${ext}`, body, encoding: 'base64' };
    };
    if (x < 0.25) {
      // A PDF with text streams: partly compressible, as real PDFs are.
      const chunks = ['%PDF-1.4\n%âãÏÓ\n'];
      let n = chunks[0]!.length;
      for (let k = 1; n < size; k++) {
        const obj = `${k} 0 obj\n<< /Length ${200} >>\nstream\nBT /F1 12 Tf 72 720 Td (${this.#sentence(8, 14)}) Tj ET\nendstream\nendobj\n`;
        chunks.push(obj, randomBytes(r, 300).toString('latin1'));
        n += obj.length + 300;
      }
      chunks.push('%%EOF\n');
      return { type: 'application/pdf', filename: `${stem}.pdf`, body: Buffer.from(chunks.join(''), 'latin1'), encoding: 'base64' };
    }
    if (x < 0.45) return binary([0xff, 0xd8, 0xff, 0xe0], 'image/jpeg', r() < 0.2 ? 'JPG' : 'jpg');
    if (x < 0.55) return binary([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'image/png', 'png');
    if (x < 0.7) return binary([0x50, 0x4b, 0x03, 0x04], 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'docx');
    if (x < 0.78) return binary([0x50, 0x4b, 0x03, 0x04], 'application/zip', 'zip');
    if (x < 0.93) {
      const rows = ['date,account,amount,description'];
      let n = rows[0]!.length;
      for (let k = 0; n < size; k++) {
        const row = `2023-${String(1 + (k % 12)).padStart(2, '0')}-${String(1 + (k % 28)).padStart(2, '0')},${1000 + Math.floor(r() * 9000)},${(r() * 10000).toFixed(2)},${this.#word()} ${this.#word()}`;
        rows.push(row);
        n += row.length + 2;
      }
      const name = r() < 0.3 ? `Übersicht-${stem}.csv` : `${stem}.csv`;
      return { type: 'text/csv; charset=utf-8', filename: name, body: Buffer.from(rows.join('\r\n') + '\r\n'), encoding: 'quoted-printable' };
    }
    const ics = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Acme//Calendar//EN', 'BEGIN:VEVENT', `UID:${Math.floor(r() * 2 ** 40).toString(16)}@acme.example`,
      'DTSTART:20230915T090000Z', 'DTEND:20230915T100000Z', `SUMMARY:${this.#sentence(2, 5)}`, `DESCRIPTION:${this.#sentence(6, 16)}`, 'END:VEVENT', 'END:VCALENDAR', ''];
    return { type: 'text/calendar; method=REQUEST; charset=utf-8', filename: 'invite.ics', body: Buffer.from(ics.join('\r\n')), encoding: '7bit' };
  }
}

// ---------------------------------------------------------------------------------------
// Words and sampling

// Word frequencies of the real corpus's bodies (letters only, lowercased, tags and base64
// skipped), most frequent first; ties in alphabetical order so the list is deterministic.
function wordFrequencies(corpus: Buffer[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const m of corpus) {
    const text = m.toString('latin1');
    const start = text.search(/\r?\n\r?\n/);
    for (const line of text.slice(start < 0 ? 0 : start).split('\n')) {
      if (line.length > 60 && !line.includes(' ')) continue; // base64 and the like
      for (const w of line.replace(/<[^>]*>/g, ' ').match(/[A-Za-z]{2,14}/g) ?? []) {
        const lw = w.toLowerCase();
        counts.set(lw, (counts.get(lw) ?? 0) + 1);
      }
    }
  }
  return [...counts].filter(([w, n]) => n >= 3 && !MARKUP.has(w)).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

// Tokens of HTML and CSS that the corpus's spam leaks into its text lines.
const MARKUP = new Set(['nbsp', 'ffffff', 'fff', 'ffff', 'bgcolor', 'cellspacing', 'cellpadding', 'colspan', 'rowspan', 'valign', 'href',
  'src', 'arial', 'helvetica', 'verdana', 'br', 'td', 'tr', 'tbody', 'div', 'span', 'img', 'nowrap', 'px', 'pt', 'html', 'http', 'https', 'www',
  'font', 'face', 'bgcolor', 'serif', 'sans', 'geneva', 'tahoma', 'rgb', 'hr', 'li', 'ul', 'ol', 'alt', 'gif', 'jpg']);

function cumulative(weights: number[]): Float64Array {
  const c = new Float64Array(weights.length);
  let sum = 0;
  weights.forEach((w, k) => { sum += w; c[k] = sum; });
  for (let k = 0; k < c.length; k++) c[k]! /= sum;
  return c;
}

function pick(cum: Float64Array, x: number): number {
  let lo = 0, hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cum[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// sfc32: small, fast, good enough for test data, and the same in every run.
function sfc32(seed: number): () => number {
  let a = 0x9e3779b9, b = 0x243f6a88, c = 0xb7e15162, d = seed >>> 0;
  const next = () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let k = 0; k < 15; k++) next();
  return next;
}

function randomBytes(r: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe((n + 3) & ~3);
  const words = new Uint32Array(b.buffer, b.byteOffset, b.length >> 2);
  let x = (r() * 4294967296) >>> 0 || 1;
  for (let k = 0; k < words.length; k++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    words[k] = x >>> 0;
  }
  return b.subarray(0, n);
}

// ---------------------------------------------------------------------------------------
// Headers and MIME

function ascii(name: string): string {
  const map: Record<string, string> = { 'ø': 'o', 'Ø': 'O', 'ł': 'l', 'Ł': 'L', 'ß': 'ss' };
  const latin = name.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[øØłŁß]/g, (c) => map[c]!);
  if (/^[A-Za-z]+$/.test(latin)) return latin.toLowerCase();
  // Cyrillic names: a simple transliteration, so the address stays ASCII.
  const tr: Record<string, string> = { а: 'a', б: 'b', в: 'v', г: 'g', д: 'd', е: 'e', ё: 'e', ж: 'zh', з: 'z', и: 'i', й: 'y', к: 'k', л: 'l', м: 'm', н: 'n', о: 'o', п: 'p', р: 'r', с: 's', т: 't', у: 'u', ф: 'f', х: 'kh', ц: 'ts', ч: 'ch', ш: 'sh', щ: 'sch', ы: 'y', ь: '', ъ: '', э: 'e', ю: 'yu', я: 'ya' };
  return [...latin.toLowerCase()].map((c) => tr[c] ?? (/[a-z]/.test(c) ? c : '')).join('') || 'user';
}

function domainOf(address: string): string {
  return address.slice(address.indexOf('@') + 1);
}

function docIp(r: () => number): string {
  const nets = ['192.0.2', '198.51.100', '203.0.113'];
  return `${nets[Math.floor(r() * 3)]}.${1 + Math.floor(r() * 254)}`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
function rfc2822Date(ms: number, tz: string): string {
  const offset = (tz[0] === '-' ? -1 : 1) * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(3))) * 60_000;
  const d = new Date(ms + offset);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${tz}`;
}

function addressHeader(p: Person): string {
  if (/^[\x20-\x7e]*$/.test(p.name)) return `"${p.name}" <${p.address}>`;
  const cyrillic = /[\u0400-\u04ff]/.test(p.name);
  return `${encodeWord(p.name, cyrillic ? 'koi8-r' : 'iso-8859-1')} <${p.address}>`;
}

// RFC 2047: ASCII stays as it is; otherwise B-encoding in the charset (utf-8 when it cannot hold the text).
function encodeWord(text: string, charset: Charset): string {
  if (/^[\x20-\x7e]*$/.test(text)) return text;
  let cs: Charset = charset === 'us-ascii' ? 'utf-8' : charset;
  let bytes = encode(text, cs);
  if (bytes === null) {
    cs = 'utf-8';
    bytes = Buffer.from(text, 'utf8');
  }
  // iso-2022-jp words must end in ASCII mode; encode() guarantees it. Keep each word short.
  const words: string[] = [];
  for (let k = 0; k < bytes.length; k += 45) words.push(`=?${cs}?B?${bytes.subarray(k, k + 45).toString('base64')}?=`);
  return cs === 'iso-2022-jp' ? `=?${cs}?B?${bytes.toString('base64')}?=` : words.join('\r\n ');
}

function charsetFor(lang: string, r: () => number): Charset {
  switch (lang) {
    case 'en': return r() < 0.5 ? 'us-ascii' : 'utf-8';
    case 'de': case 'fr': return r() < 0.5 ? 'iso-8859-1' : r() < 0.5 ? 'windows-1252' : 'utf-8';
    case 'ru': return r() < 0.6 ? 'koi8-r' : 'utf-8';
    case 'ja': return r() < 0.7 ? 'iso-2022-jp' : 'utf-8';
    default: return 'utf-8';
  }
}

// The text in the charset, or null if the charset cannot hold it.
function encode(text: string, cs: Charset): Buffer | null {
  switch (cs) {
    case 'us-ascii': return /^[\x00-\x7f]*$/.test(text) ? Buffer.from(text, 'latin1') : null;
    case 'utf-8': return Buffer.from(text, 'utf8');
    case 'iso-8859-1': return /^[\x00-\xff]*$/.test(text) ? Buffer.from(text, 'latin1') : null;
    case 'windows-1252': {
      const mapped = text.replace(/[\u201c\u201d\u2019\u2013\u20ac]/g, (c) => String.fromCharCode(CP1252[c]!));
      return /^[\x00-\xff]*$/.test(mapped) ? Buffer.from(mapped, 'latin1') : null;
    }
    case 'koi8-r': {
      const out: number[] = [];
      for (const c of text) {
        const code = c.charCodeAt(0);
        if (code < 0x80) out.push(code);
        else if (KOI8[c] !== undefined) out.push(KOI8[c]!);
        else return null;
      }
      return Buffer.from(out);
    }
    case 'iso-2022-jp': {
      const out: number[] = [];
      let jis = false;
      for (const c of text) {
        const code = c.codePointAt(0)!;
        let pair: [number, number] | null = null;
        if (code >= 0x3041 && code <= 0x3093) pair = [0x24, 0x21 + code - 0x3041];
        else if (code >= 0x30a1 && code <= 0x30f6) pair = [0x25, 0x21 + code - 0x30a1];
        else if (code === 0x30fc) pair = [0x21, 0x3c];
        else if (code === 0x3002) pair = [0x21, 0x23];
        else if (code === 0x3001) pair = [0x21, 0x22];
        else if (code >= 0x80) return null;
        if (pair && !jis) { out.push(0x1b, 0x24, 0x42); jis = true; }
        if (!pair && jis) { out.push(0x1b, 0x28, 0x42); jis = false; }
        if (pair) out.push(...pair);
        else out.push(code);
      }
      if (jis) out.push(0x1b, 0x28, 0x42);
      return Buffer.from(out);
    }
  }
}

const CP1252: Record<string, number> = { '\u201c': 0x93, '\u201d': 0x94, '\u2019': 0x92, '\u2013': 0x96, '\u20ac': 0x80 };
const KOI8: Record<string, number> = {};
[...'юабцдефгхийклмнопярстужвьызшэщчъ'].forEach((c, k) => { KOI8[c] = 0xc0 + k; KOI8[c.toUpperCase()] = 0xe0 + k; });
KOI8['ё'] = 0xa3;
KOI8['Ё'] = 0xb3;

// A text part as header and body lines (bytes held in a latin1 string).
function mimeText(sub: 'plain' | 'html', text: string, charset: Charset, r: () => number): string[] {
  let cs = charset;
  let bytes = encode(cs === 'windows-1252' ? text.replace(/"([^"\n]{1,40})"/g, '\u201c$1\u201d') : text, cs);
  if (bytes === null) {
    cs = 'utf-8';
    bytes = Buffer.from(text, 'utf8');
  }
  const lines = (s: string) => s.split('\n').map((l) => l.replace(/\r$/, ''));
  let cte: string;
  let body: string[];
  if (cs === 'us-ascii' || cs === 'iso-2022-jp') {
    cte = '7bit';
    body = lines(bytes.toString('latin1'));
  } else if (cs === 'koi8-r' && r() < 0.5) {
    cte = '8bit';
    body = lines(bytes.toString('latin1'));
  } else if (r() < 0.3) {
    cte = 'base64';
    body = base64Lines(bytes);
  } else {
    cte = 'quoted-printable';
    body = quotedPrintable(bytes);
  }
  return [`Content-Type: text/${sub}; charset="${cs}"`, `Content-Transfer-Encoding: ${cte}`, '', ...body];
}

function mimeAttachment(a: Attachment): string[] {
  if (a.type === 'message/rfc822') {
    return ['Content-Type: message/rfc822', 'Content-Disposition: inline', '', ...a.body.toString('latin1').replace(/\r\n$/, '').split('\r\n')];
  }
  const name = /^[\x20-\x7e]*$/.test(a.filename)
    ? `filename="${a.filename}"`
    : `filename*=utf-8''${encodeURIComponent(a.filename)}`;
  const typeName = /^[\x20-\x7e]*$/.test(a.filename) ? `; name="${a.filename}"` : '';
  const body = a.encoding === 'base64' ? base64Lines(a.body) : a.encoding === 'quoted-printable' ? quotedPrintable(a.body) : a.body.toString('latin1').replace(/\r\n$/, '').split('\r\n');
  return [`Content-Type: ${a.type}${typeName}`, `Content-Disposition: attachment; ${name}`, `Content-Transfer-Encoding: ${a.encoding}`, '', ...body];
}

function base64Lines(b: Buffer): string[] {
  const s = b.toString('base64');
  const out: string[] = [];
  for (let k = 0; k < s.length; k += 76) out.push(s.slice(k, k + 76));
  return out;
}

// RFC 2045 §6.7, with soft line breaks at 76 columns.
function quotedPrintable(b: Buffer): string[] {
  const out: string[] = [];
  let line = '';
  const hex = (c: number) => '=' + c.toString(16).toUpperCase().padStart(2, '0');
  for (let k = 0; k < b.length; k++) {
    const c = b[k]!;
    if (c === 0x0a || (c === 0x0d && b[k + 1] === 0x0a)) {
      if (c === 0x0d) k++;
      if (line.endsWith(' ') || line.endsWith('\t')) line = line.slice(0, -1) + hex(line.charCodeAt(line.length - 1));
      out.push(line);
      line = '';
      continue;
    }
    const piece = (c >= 33 && c <= 126 && c !== 61) || c === 32 || c === 9 ? String.fromCharCode(c) : hex(c);
    if (line.length + piece.length > 75) {
      out.push(line + '=');
      line = '';
    }
    line += piece;
  }
  out.push(line);
  return out;
}

function wrap72(p: string): string {
  const out: string[] = [];
  let line = '';
  for (const w of p.split(' ')) {
    if (line && line.length + w.length + 1 > 72) {
      out.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) out.push(line);
  return out.join('\n');
}

function toHtml(text: string): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<html><body>\n${text.split('\n\n').map((p) => `<p>${esc(p).replace(/\n/g, '<br>\n')}</p>`).join('\n')}\n</body></html>`;
}
