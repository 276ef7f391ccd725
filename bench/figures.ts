// What a benchmark reports: figures, each with the anchor's figure from the same run, the
// ratio between them, and the DESIGN.md target it answers to. Benchmarks assert nothing.

export interface Target {
  op: '>=' | '<=';
  bound: number;
  of: 'value' | 'ratio';   // the target bounds the figure itself, or its ratio to the anchor
}

export interface Figure {
  name: string;
  value: number;
  unit: string;
  anchor?: { name: string; value: number };
  ratio?: number;          // value ÷ anchor.value (or a paired median of it: see the benchmark)
  target?: Target;
  note?: string;
}

export function targetText(t: Target): string {
  const bound = t.of === 'ratio' ? `${round(t.bound)}×` : String(round(t.bound));
  return `${t.op === '>=' ? '≥' : '≤'} ${bound}`;
}

export function targetMet(f: Figure): boolean | undefined {
  if (!f.target) return undefined;
  const v = f.target.of === 'ratio' ? f.ratio : f.value;
  if (v === undefined || !Number.isFinite(v)) return false;
  return f.target.op === '>=' ? v >= f.target.bound : v <= f.target.bound;
}

// Nearest-rank percentile.
export function pct(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function round(v: number): number {
  if (!Number.isFinite(v)) return v;
  if (Math.abs(v) >= 100) return Math.round(v);
  if (Math.abs(v) >= 1) return Math.round(v * 100) / 100;
  return Number(v.toPrecision(3));
}
