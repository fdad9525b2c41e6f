/**
 * A line chart as an SVG string, drawn by hand: the report's charts are simple line charts (a few
 * series over a category axis, a value axis from zero), and a charting library for them weighed
 * 62 MB in every install (ECharts). No DOM, no scripts, no external resources: the SVG goes inline
 * into the self-contained HTML report as is.
 */

/** One line: its name in the legend, and its values by category (missing categories are skipped, the line joins its neighbours). */
export interface LineSeries {
  name: string;
  points: readonly (readonly [category: string, value: number])[];
}

/** What {@link renderLineChart} draws. */
export interface LineChartSpec {
  title: string;
  xName: string;
  yName: string;
  /** The x axis, left to right. */
  categories: readonly string[];
  series: readonly LineSeries[];
  width: number;
  height: number;
}

/** ECharts' default palette, so charts look as they did. */
const COLORS = ['#5470c6', '#91cc75', '#fac858', '#ee6666', '#73c0de', '#3ba272', '#fc8452', '#9a60b4', '#ea7ccc'];
const FONT = 'font-family="sans-serif"';
const LEGEND_ROW_HEIGHT = 18;
/** Legend entries: a 20 px line, a gap, the name (about 6.2 px a character at 11 px), a gap. */
const legendEntryWidth = (name: string) => 26 + name.length * 6.2 + 18;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Coordinates with two decimals: enough for a screen, and the same text on every run. */
const at = (value: number) => String(Math.round(value * 100) / 100);

/** A round step (1, 2 or 5 times a power of ten) that splits 0..max into about `count` intervals. */
export function niceStep(max: number, count = 5): number {
  if (!(max > 0) || !Number.isFinite(max)) return 1;
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

/** A tick label without floating-point noise (0.30000000000000004 -> "0.3"). */
function tickLabel(value: number, step: number): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  return value.toFixed(decimals);
}

/** The legend laid out in rows that fit the width, each row centred: where each entry starts. */
function legendLayout(names: readonly string[], width: number): { rows: number; positions: { x: number; row: number }[] } {
  const rows: number[][] = [[]];
  let used = 0;
  names.forEach((name, index) => {
    const entry = legendEntryWidth(name);
    if (used + entry > width - 20 && rows.at(-1)!.length > 0) {
      rows.push([]);
      used = 0;
    }
    rows.at(-1)!.push(index);
    used += entry;
  });
  const positions: { x: number; row: number }[] = [];
  rows.forEach((row, rowIndex) => {
    let x = (width - row.reduce((total, index) => total + legendEntryWidth(names[index]!), 0)) / 2;
    for (const index of row) {
      positions[index] = { x, row: rowIndex };
      x += legendEntryWidth(names[index]!);
    }
  });
  return { rows: names.length === 0 ? 0 : rows.length, positions };
}

export function renderLineChart(spec: LineChartSpec): string {
  const { width, height, categories } = spec;
  const legend = legendLayout(
    spec.series.map((series) => series.name),
    width,
  );
  const legendRows = legend.rows;
  const plot = { left: 70, right: width - 30, top: 50, bottom: height - (40 + LEGEND_ROW_HEIGHT * legendRows) };
  const values = spec.series.flatMap((series) => series.points.map(([, value]) => value)).filter(Number.isFinite);
  const step = niceStep(Math.max(0, ...values));
  const yMax = Math.max(step, Math.ceil(Math.max(0, ...values) / step) * step);
  const y = (value: number) => plot.bottom - (value / yMax) * (plot.bottom - plot.top);
  // Categories sit in the middle of equal bands, as on a category axis.
  const band = (plot.right - plot.left) / Math.max(1, categories.length);
  const x = (index: number) => plot.left + band * (index + 0.5);

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(spec.title)}">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${at(width / 2)}" y="24" text-anchor="middle" ${FONT} font-size="14" font-weight="bold" fill="#464646">${escapeXml(spec.title)}</text>`,
  ];
  for (let tick = 0; tick <= yMax + step / 2; tick += step) {
    const ty = at(y(tick));
    parts.push(`<path d="M${at(plot.left)} ${ty}H${at(plot.right)}" stroke="#e0e6f1" fill="none"/>`);
    parts.push(
      `<text x="${at(plot.left - 8)}" y="${ty}" text-anchor="end" dominant-baseline="central" ${FONT} font-size="12" fill="#6e7079">${tickLabel(tick, step)}</text>`,
    );
  }
  parts.push(`<path d="M${at(plot.left)} ${at(plot.bottom)}H${at(plot.right)}" stroke="#6e7079" fill="none"/>`);
  categories.forEach((category, index) => {
    parts.push(`<path d="M${at(x(index))} ${at(plot.bottom)}v5" stroke="#6e7079" fill="none"/>`);
    parts.push(
      `<text x="${at(x(index))}" y="${at(plot.bottom + 16)}" text-anchor="middle" ${FONT} font-size="12" fill="#6e7079">${escapeXml(category)}</text>`,
    );
  });
  parts.push(
    `<text x="${at((plot.left + plot.right) / 2)}" y="${at(plot.bottom + 34)}" text-anchor="middle" ${FONT} font-size="12" fill="#6e7079">${escapeXml(spec.xName)}</text>`,
  );
  const yLabelX = plot.left - 52;
  const yLabelY = (plot.top + plot.bottom) / 2;
  parts.push(
    `<text x="${at(yLabelX)}" y="${at(yLabelY)}" text-anchor="middle" transform="rotate(-90 ${at(yLabelX)} ${at(yLabelY)})" ${FONT} font-size="12" fill="#6e7079">${escapeXml(spec.yName)}</text>`,
  );

  spec.series.forEach((series, seriesIndex) => {
    const color = COLORS[seriesIndex % COLORS.length]!;
    const points = categories.flatMap((category, index): [number, number][] => {
      const value = series.points.find(([name]) => name === category)?.[1];
      return value === undefined || !Number.isFinite(value) ? [] : [[x(index), y(value)]];
    });
    if (points.length > 1)
      parts.push(
        `<path d="${points.map(([px, py], index) => `${index === 0 ? 'M' : 'L'}${at(px)} ${at(py)}`).join('')}" stroke="${color}" stroke-width="2" fill="none"/>`,
      );
    for (const [px, py] of points)
      parts.push(`<circle cx="${at(px)}" cy="${at(py)}" r="3.5" fill="#ffffff" stroke="${color}" stroke-width="2"/>`);
    const { x: lx, row } = legend.positions[seriesIndex]!;
    const ly = height - LEGEND_ROW_HEIGHT * (legendRows - row) + 4;
    parts.push(`<path d="M${at(lx)} ${at(ly)}h20" stroke="${color}" stroke-width="2" fill="none"/>`);
    parts.push(
      `<text x="${at(lx + 26)}" y="${at(ly)}" dominant-baseline="central" ${FONT} font-size="11" fill="#333333">${escapeXml(series.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}
