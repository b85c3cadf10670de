/** The printed report: machine info, one Markdown table of every figure, notes, and results.json. */
import { cpus, freemem, loadavg, release, totalmem, type as osType } from "node:os";
import { formatNumber, type Figure } from "./measure.ts";

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  freeMemoryGiB: number;
  /** 1-minute load average at start: other work on the machine skews every figure. */
  loadAverage: number;
  os: string;
  bun: string;
  bunRevision: string;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? "unknown",
    cores: list.length,
    memoryGiB: totalmem() / 2 ** 30,
    freeMemoryGiB: freemem() / 2 ** 30,
    loadAverage: loadavg()[0] ?? 0,
    os: `${osType()} ${release()} (${process.platform}-${process.arch})`,
    bun: Bun.version,
    bunRevision: Bun.revision.slice(0, 9),
  };
}

export function machineLines(machine: MachineInfo): string[] {
  return [
    `CPU:    ${machine.cpu}`,
    `Cores:  ${machine.cores}`,
    `Memory: ${machine.memoryGiB.toFixed(1)} GiB (${machine.freeMemoryGiB.toFixed(1)} GiB free at start)`,
    `Load:   ${machine.loadAverage.toFixed(2)} (1-minute average at start; other work skews the figures)`,
    `OS:     ${machine.os}`,
    `Bun:    ${machine.bun} (${machine.bunRevision})`,
  ];
}

function valueText(figure: Figure): string {
  const unit = figure.unit === "×" || figure.unit === "%" ? figure.unit : ` ${figure.unit}`;
  return `${formatNumber(figure.value.median, figure.decimals)}${unit}`;
}

function rangeText(figure: Figure): string {
  if (figure.value.runs.length < 2) return "";
  return `${formatNumber(figure.value.min, figure.decimals)} – ${formatNumber(figure.value.max, figure.decimals)}`;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|");
}

/** A Markdown table; columns padded so it also reads well in a terminal. */
function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(" | ")} |`;
  return [line(headers), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n");
}

export function figureTable(figures: readonly Figure[]): string {
  const rows = figures.map((figure) => [
    figure.suite,
    escapeCell(figure.name),
    valueText(figure),
    rangeText(figure),
    figure.goal ? escapeCell(figure.goal.text) : "—",
    figure.status === "info" ? "" : figure.status,
  ]);
  return table(["suite", "figure", "median", "min – max", "goal", "status"], rows);
}

export function notesOf(figures: readonly Figure[]): string[] {
  return figures.filter((figure) => figure.note).map((figure) => `- [${figure.suite}] ${figure.name}: ${figure.note}`);
}

export function missedOf(figures: readonly Figure[]): Figure[] {
  return figures.filter((figure) => figure.status === "MISSED");
}
