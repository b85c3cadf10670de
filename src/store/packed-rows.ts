/**
 * A finished example's rows (results.ts ExampleRows) as one string for the writer thread: a JSON
 * header line — the record id, the run, one kind letter per cell (s string, n number, z null),
 * the cells per row, the numbers and string lengths — then every string cell, concatenated.
 * Posting a string to a worker costs well under 1 µs; posting the same rows as arrays of cells
 * costs ~30 µs per example, and as an object holding a string and typed arrays ~15 µs (structured
 * clone walks each value; `bun run bench`, suite "pipeline", counts this CPU per example).
 */
import { StoreError } from "../errors.ts";
import type { Cell, ExampleRows } from "./results.ts";

export interface RecordMessage {
  id: number;
  runId: number;
  rows: ExampleRows;
}

type Header = [id: number, runId: number, kinds: string, rowLengths: number[], numbers: number[]];

export function packRecord(id: number, runId: number, rows: ExampleRows): string {
  const all = [rows.prediction, ...rows.calls];
  let kinds = "";
  const numbers: number[] = [];
  const strings: string[] = [];
  for (const row of all) {
    for (const cell of row) {
      if (cell === null) kinds += "z";
      else if (typeof cell === "number") {
        kinds += "n";
        numbers.push(cell);
      } else {
        kinds += "s";
        numbers.push(cell.length);
        strings.push(cell);
      }
    }
  }
  const header: Header = [id, runId, kinds, all.map((row) => row.length), numbers];
  // JSON text never holds a raw newline: the first one ends the header.
  return `${JSON.stringify(header)}\n${strings.join("")}`;
}

function isHeader(value: unknown): value is Header {
  return (
    Array.isArray(value) &&
    value.length === 5 &&
    typeof value[0] === "number" &&
    typeof value[1] === "number" &&
    typeof value[2] === "string" &&
    Array.isArray(value[3]) &&
    Array.isArray(value[4])
  );
}

export function unpackRecord(message: string): RecordMessage {
  const end = message.indexOf("\n");
  const header: unknown = JSON.parse(message.slice(0, end));
  if (!isHeader(header)) throw new StoreError("the results writer received a malformed record", { fix: "report this as a musique bug" });
  const [id, runId, kinds, rowLengths, numbers] = header;
  let offset = end + 1;
  let cell = 0;
  let number = 0;
  const rows: Cell[][] = [];
  for (const length of rowLengths) {
    const row = new Array<Cell>(length);
    for (let i = 0; i < length; i++, cell++) {
      const kind = kinds[cell];
      if (kind === "z") row[i] = null;
      else {
        const value = numbers[number++] as number;
        if (kind === "n") row[i] = value;
        else {
          row[i] = message.slice(offset, offset + value);
          offset += value;
        }
      }
    }
    rows.push(row);
  }
  const [prediction = [], ...calls] = rows;
  return { id, runId, rows: { step: prediction[0] as number, exampleId: prediction[1] as string, prediction, calls } };
}
