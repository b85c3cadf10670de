/**
 * Example ids must be unique across every spec of one `--datasets` (the store keys results by run
 * and example id, so a repeated id would be scored twice but stored once). README "What happens
 * when…":
 *   - two records with one id and different content: refused (DataError, exit 3) naming both
 *     sources and lines;
 *   - the same record twice (`sample;sample`, overlapping slices): the repeat is dropped with a
 *     warning naming both places, and `musique data` reports how many were dropped.
 * Records are compared by a hash of the validated Example (before seeded preparation), so only
 * the hash and where the id was first seen are kept per id.
 */
import { DataError } from "../errors.ts";
import { log } from "../log.ts";
import type { Example } from "./types.ts";
import type { RowSource } from "./validate.ts";

/** Where one record was read: its spec (1-based, in --datasets order), source and row. */
export interface RecordPlace {
  spec: number;
  source: string;
  unit: RowSource["unit"];
  row: number;
}

/** A repeated record that was dropped: where it was kept and where it was seen again. */
export interface DuplicateRecord {
  id: string;
  kept: string;
  dropped: string;
}

/** How many repeats are described one by one before only counting. */
const WARN_LIMIT = 3;

export class DuplicateIds {
  /** The first record of each id (compared only when the id comes again: most ids never do). */
  private readonly seen = new Map<string, { example: Example; place: RecordPlace }>();
  private readonly sourceNames = new Map<string, Set<number>>();
  readonly dropped: Array<{ id: string; kept: RecordPlace; dropped: RecordPlace }> = [];

  /** Remember that spec `spec` reads from `source` (to tell two specs with one name apart). */
  addSource(spec: number, source: string): void {
    const specs = this.sourceNames.get(source) ?? new Set<number>();
    specs.add(spec);
    this.sourceNames.set(source, specs);
  }

  /** "file.jsonl line 3", or "sample (spec 2) line 3" when two specs share a name. */
  describe(place: RecordPlace): string {
    const shared = (this.sourceNames.get(place.source)?.size ?? 0) > 1;
    return `${place.source}${shared ? ` (spec ${place.spec})` : ""} ${place.unit} ${place.row}`;
  }

  /**
   * True when `example` is new; false when the same record was seen before (drop it). Throws a
   * DataError when another record with the same id differs.
   */
  accept(example: Example, place: RecordPlace): boolean {
    const earlier = this.seen.get(example.id);
    if (earlier === undefined) {
      this.seen.set(example.id, { example, place });
      return true;
    }
    if (JSON.stringify(earlier.example) !== JSON.stringify(example)) {
      throw new DataError(`two different records have the id "${example.id}": ${this.describe(earlier.place)} and ${this.describe(place)}`, {
        cause: "results are stored per example id, so one of them would overwrite the other",
        fix: "remove or rename one of them (ids must be unique across all --datasets specs)",
      });
    }
    this.dropped.push({ id: example.id, kept: earlier.place, dropped: place });
    return false;
  }

  /** Warn about the dropped repeats (each by name when few, else one line with the count); returns them. */
  finish(): DuplicateRecord[] {
    const records = this.dropped.map((entry) => ({ id: entry.id, kept: this.describe(entry.kept), dropped: this.describe(entry.dropped) }));
    const first = records[0];
    if (first === undefined) return records;
    if (records.length <= WARN_LIMIT) {
      for (const record of records) log.warn(`record "${record.id}" appears twice (${record.kept} and ${record.dropped}): kept once`);
    } else {
      log.warn(
        `${records.length} records appear twice with the same content (e.g. "${first.id}": ${first.kept} and ${first.dropped}): ` +
          "each was kept once; musique data lists them",
      );
    }
    return records;
  }
}
