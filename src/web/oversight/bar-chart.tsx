// A horizontal bar chart in plain SVG: no chart library, no inline styles (the CSP forbids
// them). The figures are also in the SVG's text and its <title>, so a screen reader reads them.
export function BarChart({ title, bars }: { title: string; bars: { label: string; value: number }[] }) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const row = 26;
  const labelWidth = 190;
  const width = 560;
  return (
    <figure className="chart">
      <svg role="img" aria-labelledby={`${slug(title)}-t`} viewBox={`0 0 ${width} ${bars.length * row + 6}`} width="100%" height={bars.length * row + 6}>
        <title id={`${slug(title)}-t`}>{`${title}: ${bars.map((b) => `${b.label} ${b.value}`).join(', ')}`}</title>
        {bars.map((b, i) => {
          const w = Math.round(((width - labelWidth - 60) * b.value) / max);
          return (
            <g key={b.label} transform={`translate(0 ${i * row + 3})`}>
              <text x={labelWidth - 8} y={row / 2 + 4} textAnchor="end" className="chart-label">{b.label}</text>
              <rect x={labelWidth} y={3} width={Math.max(w, b.value > 0 ? 2 : 0)} height={row - 8} rx={3} className="chart-bar" />
              <text x={labelWidth + w + 6} y={row / 2 + 4} className="chart-value">{b.value}</text>
            </g>
          );
        })}
      </svg>
      <figcaption>{title}</figcaption>
    </figure>
  );
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}
