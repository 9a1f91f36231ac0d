// A small line-chart writer for the benchmark reports: plain SVG text, no browser, no library.
// A chart is one or more panels side by side; each panel has a log2 x axis (concurrency N),
// a linear or log10 y axis, and series of (x, y) points drawn as lines with markers, solid or
// dashed, with a legend. Values are escaped; nothing else is read.

export interface Series {
  label: string;
  points: Array<[number, number]>;
  color: string;
  dashed?: boolean;
}

export interface Panel {
  title: string;
  yLabel: string;
  yLog?: boolean;
  series: Series[];
}

const W = 460;
const H = 320;
const M = { l: 62, r: 16, t: 34, b: 64 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (v: number) => (v === 0 ? '0' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toPrecision(2));

function niceTicks(lo: number, hi: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) for (const m of [1, 2, 5]) out.push(m * 10 ** e);
    return out.filter((v) => v >= lo / 1.0001 && v <= hi * 1.0001);
  }
  const span = hi - lo || 1;
  const step0 = 10 ** Math.floor(Math.log10(span / 5));
  const step = [1, 2, 5, 10].map((m) => m * step0).find((s) => span / s <= 6)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(Math.round(v / step) * step);
  return out;
}

function panel(p: Panel, xs: number[], ox: number): string {
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  const all = p.series.flatMap((s) => s.points.map(([, y]) => y)).filter((y) => Number.isFinite(y) && (!p.yLog || y > 0));
  let lo = p.yLog ? Math.min(...all) : 0;
  let hi = Math.max(...all, p.yLog ? lo * 10 : 1);
  if (p.yLog) {
    lo = 10 ** Math.floor(Math.log10(lo));
    hi = 10 ** Math.ceil(Math.log10(hi));
  } else hi *= 1.08;
  const xmin = Math.log2(Math.min(...xs));
  const xmax = Math.log2(Math.max(...xs));
  const X = (x: number) => ox + M.l + ((Math.log2(x) - xmin) / (xmax - xmin || 1)) * pw;
  const Y = (y: number) => M.t + ph - ((p.yLog ? Math.log10(y) - Math.log10(lo) : y - lo) / ((p.yLog ? Math.log10(hi) - Math.log10(lo) : hi - lo) || 1)) * ph;
  const parts: string[] = [];
  parts.push(`<text x="${ox + W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(p.title)}</text>`);
  for (const t of niceTicks(lo, hi, !!p.yLog)) {
    parts.push(`<line x1="${ox + M.l}" x2="${ox + M.l + pw}" y1="${Y(t).toFixed(1)}" y2="${Y(t).toFixed(1)}" stroke="#ddd"/>`);
    parts.push(`<text x="${ox + M.l - 6}" y="${(Y(t) + 4).toFixed(1)}" text-anchor="end" font-size="11">${fmt(t)}</text>`);
  }
  for (const x of xs) {
    parts.push(`<line x1="${X(x).toFixed(1)}" x2="${X(x).toFixed(1)}" y1="${M.t}" y2="${M.t + ph}" stroke="#eee"/>`);
    parts.push(`<text x="${X(x).toFixed(1)}" y="${M.t + ph + 16}" text-anchor="middle" font-size="11">${x}</text>`);
  }
  parts.push(`<rect x="${ox + M.l}" y="${M.t}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  parts.push(`<text x="${ox + M.l + pw / 2}" y="${M.t + ph + 34}" text-anchor="middle" font-size="12">concurrent calls N (log scale)</text>`);
  parts.push(`<text transform="translate(${ox + 14},${M.t + ph / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(p.yLabel)}</text>`);
  p.series.forEach((s, i) => {
    const pts = s.points.filter(([, y]) => Number.isFinite(y) && (!p.yLog || y > 0));
    const d = pts.map(([x, y], j) => `${j ? 'L' : 'M'}${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${esc(s.color)}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6,4"' : ''}/>`);
    for (const [x, y] of pts) parts.push(`<circle cx="${X(x).toFixed(1)}" cy="${Y(y).toFixed(1)}" r="3" fill="${esc(s.color)}"/>`);
    const ly = M.t + ph + 50;
    const lx = ox + M.l + (i % 2) * (pw / 2);
    const row = Math.floor(i / 2) * 14;
    parts.push(`<line x1="${lx}" x2="${lx + 22}" y1="${ly + row - 4}" y2="${ly + row - 4}" stroke="${esc(s.color)}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6,4"' : ''}/>`);
    parts.push(`<text x="${lx + 26}" y="${ly + row}" font-size="11">${esc(s.label)}</text>`);
  });
  return parts.join('\n');
}

/** An SVG document with the panels side by side. */
export function lineChartSvg(panels: Panel[], xs: number[], caption: string): string {
  const rows = Math.max(...panels.map((p) => Math.ceil(p.series.length / 2)));
  const h = H + Math.max(0, rows - 2) * 14 + 22;
  const w = W * panels.length;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif">`,
    `<rect width="${w}" height="${h}" fill="white"/>`,
    ...panels.map((p, i) => panel(p, xs, i * W)),
    `<text x="${w / 2}" y="${h - 6}" text-anchor="middle" font-size="11" fill="#555">${esc(caption)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
