import cliProgress from 'cli-progress';

const LINE_EVERY_MS = 5000;
const BAR_EVERY_MS = 200;

export interface ProgressCounts {
  messages: number;  // handled so far: imported, skipped or failed
  done: number;      // units of the total (messages, or bytes for mbox)
}

// Progress on stderr: a bar with rate and ETA on a terminal, otherwise a line every few seconds
// (a log file or a pipe gets no control characters).
export class ImportProgress {
  readonly #label: string;
  readonly #stream: NodeJS.WriteStream;
  readonly #started = performance.now();
  #total = 0;
  #bytes = false;
  #bar: cliProgress.SingleBar | null = null;
  #last = 0;
  #counts: ProgressCounts = { messages: 0, done: 0 };

  constructor(label: string, stream: NodeJS.WriteStream = process.stderr) {
    this.#label = label;
    this.#stream = stream;
  }

  // The size of the whole job, in messages or (for files read sequentially) bytes.
  start(total: number, unit: 'messages' | 'bytes'): void {
    this.#total = total;
    this.#bytes = unit === 'bytes';
    if (this.#stream.isTTY) {
      this.#bar = new cliProgress.SingleBar({
        format: `${this.#label} [{bar}] {percentage}% | {amount} | {rate} msg/s | ETA {eta_formatted}`,
        stream: this.#stream, hideCursor: true, etaBuffer: 100, fps: 5, clearOnComplete: false,
      }, cliProgress.Presets.shades_classic);
      this.#bar.start(Math.max(total, 1), 0, this.#payload());
    }
  }

  update(counts: ProgressCounts): void {
    this.#counts = counts;
    const now = performance.now();
    if (now - this.#last < (this.#bar ? BAR_EVERY_MS : LINE_EVERY_MS)) return;
    this.#last = now;
    if (this.#bar) this.#bar.update(Math.min(counts.done, this.#total), this.#payload());
    else this.#stream.write(`${this.#label}: ${this.#line()}\n`);
  }

  stop(): void {
    if (this.#bar) {
      this.#bar.update(Math.min(this.#counts.done, this.#total), this.#payload());
      this.#bar.stop();
      this.#bar = null;
    }
  }

  #rate(): number {
    const seconds = (performance.now() - this.#started) / 1000;
    return seconds > 0 ? this.#counts.messages / seconds : 0;
  }

  #amount(): string {
    const { done, messages } = this.#counts;
    if (this.#bytes) return `${(done / 1e6).toFixed(1)}/${(this.#total / 1e6).toFixed(1)} MB, ${messages} messages`;
    return `${done}/${this.#total} messages`;
  }

  #payload(): Record<string, string> {
    return { amount: this.#amount(), rate: this.#rate().toFixed(0) };
  }

  #line(): string {
    const { done } = this.#counts;
    const fraction = this.#total > 0 ? done / this.#total : 0;
    const elapsed = (performance.now() - this.#started) / 1000;
    const eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : NaN;
    return `${this.#amount()} (${(fraction * 100).toFixed(0)} %), ${this.#rate().toFixed(0)} msg/s, ETA ${Number.isFinite(eta) ? `${eta.toFixed(0)} s` : '?'}`;
  }
}
