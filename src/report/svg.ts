/**
 * A small SVG chart kit for the HTML report: line charts (with an optional band around a line)
 * and grouped bar charts, with axes, ticks and a legend. Output is a self-contained <svg> string;
 * every text is escaped.
 */
import { escapeHtml } from "./escape.ts";

const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563"] as const;

interface Point {
  x: number;
  y: number;
}

interface BandPoint {
  x: number;
  low: number;
  high: number;
}

export interface LineSeries {
  name: string;
  points: Point[];
  /** A shaded band (e.g. min–max or ±std) drawn under the line. */
  band?: BandPoint[];
}

export interface BarSeries {
  name: string;
  values: number[];
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** Fixed y range (e.g. [0, 1] for scores); otherwise from the data. */
  yRange?: [number, number];
  /** Line charts: the x range to cover at least (e.g. 0 … the last step, so charts of one run share their x axis). */
  xDomain?: [number, number];
  /**
   * Line charts: a transparent full-height target over every x value (`rect.step-target`, with
   * `data-step`), for pages that open a step on click; `selectedStep` gets the class "selected".
   */
  stepTargets?: { selected: number | null; label: (x: number) => string };
}

const MARGIN = { top: 34, right: 16, bottom: 62, left: 56 };

/** Short numbers for ticks and labels: 0.8, 0.529, 12.5, 1200. */
function format(value: number): string {
  if (Number.isInteger(value)) return String(value);
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 1 ? 2 : Math.abs(value) >= 0.01 ? 3 : 6;
  return String(Number(value.toFixed(digits)));
}

function coordinate(value: number): string {
  return value.toFixed(1);
}

/** About `count` round tick values covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0];
  if (min === max) return [min];
  const raw = (max - min) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((factor) => factor * magnitude).find((candidate) => candidate >= raw) ?? raw;
  const ticks: number[] = [];
  for (let tick = Math.ceil(min / step) * step; tick <= max + step * 1e-9; tick += step) ticks.push(Number(tick.toPrecision(12)));
  return ticks;
}

interface Frame {
  width: number;
  height: number;
  plotWidth: number;
  plotHeight: number;
  yMin: number;
  yMax: number;
  y: (value: number) => number;
}

function frame(options: ChartOptions, values: number[]): Frame {
  const width = options.width ?? 560;
  const height = options.height ?? 300;
  let [yMin, yMax] = options.yRange ?? [Math.min(0, ...values), Math.max(...values, 0)];
  if (!Number.isFinite(yMin) || !Number.isFinite(yMax)) [yMin, yMax] = [0, 1];
  if (yMin === yMax) [yMin, yMax] = [yMin - 1, yMax + 1];
  if (!options.yRange) {
    const ticks = niceTicks(yMin, yMax);
    const step = ticks.length > 1 ? (ticks[1] ?? 0) - (ticks[0] ?? 0) : 0;
    if (step > 0) [yMin, yMax] = [Math.floor(yMin / step) * step, Math.ceil(yMax / step) * step];
  }
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = height - MARGIN.top - MARGIN.bottom;
  return { width, height, plotWidth, plotHeight, yMin, yMax, y: (value) => MARGIN.top + plotHeight * (1 - (value - yMin) / (yMax - yMin)) };
}

function open(options: ChartOptions, chart: Frame, kind: string): string[] {
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart ${kind}" viewBox="0 0 ${chart.width} ${chart.height}" width="${chart.width}" height="${chart.height}" role="img" aria-label="${escapeHtml(options.title)}">`,
    `<title>${escapeHtml(options.title)}</title>`,
    `<text x="${chart.width / 2}" y="18" text-anchor="middle" class="chart-title">${escapeHtml(options.title)}</text>`,
  ];
  for (const tick of niceTicks(chart.yMin, chart.yMax)) {
    const y = coordinate(chart.y(tick));
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + chart.plotWidth}" y1="${y}" y2="${y}" class="grid"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" class="tick">${format(tick)}</text>`);
  }
  const bottom = MARGIN.top + chart.plotHeight;
  parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + chart.plotWidth}" y1="${bottom}" y2="${bottom}" class="axis"/>`);
  parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${bottom}" class="axis"/>`);
  parts.push(`<text x="${MARGIN.left + chart.plotWidth / 2}" y="${bottom + 32}" text-anchor="middle" class="axis-label">${escapeHtml(options.xLabel)}</text>`);
  parts.push(
    `<text transform="translate(14 ${MARGIN.top + chart.plotHeight / 2}) rotate(-90)" text-anchor="middle" class="axis-label">${escapeHtml(options.yLabel)}</text>`,
  );
  return parts;
}

function legend(chart: Frame, names: readonly string[]): string[] {
  const parts: string[] = [];
  let x = MARGIN.left;
  const y = chart.height - 10;
  names.forEach((name, index) => {
    const color = PALETTE[index % PALETTE.length];
    parts.push(`<rect x="${x}" y="${y - 9}" width="10" height="10" fill="${color}" class="legend-swatch"/>`);
    parts.push(`<text x="${x + 14}" y="${y}" class="legend">${escapeHtml(name)}</text>`);
    x += 24 + name.length * 7;
  });
  return parts;
}

export function lineChart(series: readonly LineSeries[], options: ChartOptions): string {
  const values = series.flatMap((line) => [...line.points.map((point) => point.y), ...(line.band ?? []).flatMap((band) => [band.low, band.high])]);
  const chart = frame(options, values);
  const xs = series.flatMap((line) => line.points.map((point) => point.x));
  let xMin = Math.min(...xs, ...(options.xDomain ? [options.xDomain[0]] : []));
  let xMax = Math.max(...xs, ...(options.xDomain ? [options.xDomain[1]] : []));
  if (!Number.isFinite(xMin) || !Number.isFinite(xMax)) [xMin, xMax] = [0, 1];
  const padding = xMin === xMax ? 1 : 0;
  const x = (value: number) => MARGIN.left + (chart.plotWidth * (value - xMin + padding)) / (xMax - xMin + 2 * padding);
  const parts = open(options, chart, "line-chart");
  const bottom = MARGIN.top + chart.plotHeight;
  const integerX = xs.every(Number.isInteger);
  for (const tick of niceTicks(xMin, xMax, 6).filter((value) => !integerX || Number.isInteger(value))) {
    if (tick < xMin - padding || tick > xMax + padding) continue;
    parts.push(`<text x="${coordinate(x(tick))}" y="${bottom + 16}" text-anchor="middle" class="tick">${format(tick)}</text>`);
  }
  series.forEach((line, index) => {
    const color = PALETTE[index % PALETTE.length];
    const band = line.band ?? [];
    if (band.length > 1) {
      const upper = band.map((point) => `${coordinate(x(point.x))} ${coordinate(chart.y(point.high))}`);
      const lower = [...band].reverse().map((point) => `${coordinate(x(point.x))} ${coordinate(chart.y(point.low))}`);
      parts.push(`<path d="M ${upper.join(" L ")} L ${lower.join(" L ")} Z" fill="${color}" fill-opacity="0.18" stroke="none" class="series-band"/>`);
    } else if (band.length === 1 && band[0]) {
      const only = band[0];
      parts.push(
        `<path d="M ${coordinate(x(only.x))} ${coordinate(chart.y(only.low))} L ${coordinate(x(only.x))} ${coordinate(chart.y(only.high))}" stroke="${color}" stroke-opacity="0.4" stroke-width="6" class="series-band"/>`,
      );
    }
    if (line.points.length > 0) {
      const d = line.points.map((point, position) => `${position === 0 ? "M" : "L"} ${coordinate(x(point.x))} ${coordinate(chart.y(point.y))}`).join(" ");
      parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2" class="series-line"><title>${escapeHtml(line.name)}</title></path>`);
    }
    if (line.points.length <= 80) {
      for (const point of line.points) {
        parts.push(
          `<circle cx="${coordinate(x(point.x))}" cy="${coordinate(chart.y(point.y))}" r="3" fill="${color}"><title>${escapeHtml(`${line.name}: ${format(point.x)} → ${format(point.y)}`)}</title></circle>`,
        );
      }
    }
  });
  if (options.stepTargets)
    parts.push(
      ...stepTargets(
        options.stepTargets,
        [...new Set(xs)].sort((a, b) => a - b),
        x,
        chart,
      ),
    );
  parts.push(
    ...legend(
      chart,
      series.map((line) => line.name),
    ),
  );
  parts.push("</svg>");
  return parts.join("\n");
}

function stepTargets(targets: NonNullable<ChartOptions["stepTargets"]>, values: readonly number[], x: (value: number) => number, chart: Frame): string[] {
  return values.map((value, index) => {
    const previous = values[index - 1];
    const next = values[index + 1];
    const left = previous === undefined ? x(value) - 8 : (x(previous) + x(value)) / 2;
    const right = next === undefined ? x(value) + 8 : (x(value) + x(next)) / 2;
    const selected = targets.selected === value ? " selected" : "";
    return (
      `<rect x="${coordinate(left)}" y="${MARGIN.top}" width="${coordinate(Math.max(2, right - left))}" height="${coordinate(chart.plotHeight)}" ` +
      `fill="transparent" class="step-target${selected}" data-step="${value}"><title>${escapeHtml(targets.label(value))}</title></rect>`
    );
  });
}

export function barChart(categories: readonly string[], series: readonly BarSeries[], options: ChartOptions): string {
  const chart = frame(
    options,
    series.flatMap((bars) => bars.values),
  );
  const parts = open(options, chart, "bar-chart");
  const bottom = MARGIN.top + chart.plotHeight;
  const groupWidth = chart.plotWidth / Math.max(1, categories.length);
  const barWidth = (groupWidth * 0.8) / Math.max(1, series.length);
  const zero = chart.y(Math.max(chart.yMin, Math.min(0, chart.yMax)));
  categories.forEach((category, group) => {
    const left = MARGIN.left + group * groupWidth + groupWidth * 0.1;
    parts.push(`<text x="${coordinate(left + groupWidth * 0.4)}" y="${bottom + 16}" text-anchor="middle" class="tick">${escapeHtml(category)}</text>`);
    series.forEach((bars, index) => {
      const value = bars.values[group] ?? 0;
      const top = chart.y(value);
      const y = Math.min(top, zero);
      const height = Math.max(Math.abs(zero - top), 0.5);
      const color = PALETTE[index % PALETTE.length];
      const barLeft = left + index * barWidth;
      parts.push(
        `<rect x="${coordinate(barLeft)}" y="${coordinate(y)}" width="${coordinate(Math.max(1, barWidth - 2))}" height="${coordinate(height)}" fill="${color}" class="bar"><title>${escapeHtml(`${bars.name}, ${category}: ${format(value)}`)}</title></rect>`,
      );
      parts.push(`<text x="${coordinate(barLeft + barWidth / 2 - 1)}" y="${coordinate(y - 4)}" text-anchor="middle" class="bar-value">${format(value)}</text>`);
    });
  });
  parts.push(
    ...legend(
      chart,
      series.map((bars) => bars.name),
    ),
  );
  parts.push("</svg>");
  return parts.join("\n");
}
