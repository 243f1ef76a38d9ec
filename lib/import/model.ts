import { LIMITS } from "../contract/limits";

/** A file that holds more than an import reads at once (LIMITS.importPointsMax): nothing of it is stored. */
export class ImportTooLargeError extends Error {}

/** Counts what a reader keeps; past importPointsMax the file is refused before memory runs out. */
export function tooMany(n: number): void {
  if (n > LIMITS.importPointsMax.value) {
    throw new ImportTooLargeError(
      `the file holds more than ${LIMITS.importPointsMax.value} points, rows, histograms, images, texts and events: split it (a TensorBoard or text file can be sent in parts with offset)`,
    );
  }
}

// What an importer makes of one source file, before anything is stored: the same shapes the log
// route stores (lib/ingest/append-batch.ts), kept in Maps because every key is user data.

export interface ImportPoints {
  steps: number[];
  values: number[];
  /** Unix seconds; NaN when the source has no time for the point (the import's time is used). */
  times: number[];
}

export interface ImportHistogram {
  key: string;
  step: number;
  time: number;
  edges: number[];
  counts: number[];
}

export interface ImportImage {
  key: string;
  step: number;
  time: number;
  width: number;
  height: number;
  png: Uint8Array;
}

export interface ImportText {
  key: string;
  step: number;
  time: number;
  text: string;
}

export interface Skipped {
  path: string;
  reason: string;
}

export class ImportData {
  readonly points = new Map<string, ImportPoints>();
  /** step -> epoch, for sources that say which epoch a step belongs to. */
  readonly epochs = new Map<number, number>();
  readonly histograms: ImportHistogram[] = [];
  readonly images: ImportImage[] = [];
  readonly texts: ImportText[] = [];
  /** Other events the source records (babysit's own JSONL: input_stats, ...), stored as events. */
  readonly events: { type: string; step: number | null; time: number; data: Record<string, unknown> }[] = [];
  /** Hyperparameters the source records (TensorBoard hparams): merged into the run's config. */
  readonly config = new Map<string, unknown>();
  /** Parts of the file left out, each with why (the answer lists them with the file's path). */
  readonly skipped: string[] = [];
  /** The file ends in a partial record or line: a file still being written (nothing is lost). */
  truncated = false;
  /**
   * How many bytes of the input were read whole (records, lines): where a later read of the grown
   * file can start (`offset` of POST /api/v1/import). Set by the reader.
   */
  end = 0;

  /** Points, histograms, images, texts and events kept so far (bounded by importPointsMax). */
  kept = 0;

  /** One more of anything kept: throws ImportTooLargeError past the limit. */
  count(): void {
    tooMany(++this.kept);
  }

  point(key: string, step: number, value: number, time = Number.NaN): void {
    this.count();
    let p = this.points.get(key);
    if (!p) this.points.set(key, (p = { steps: [], values: [], times: [] }));
    p.steps.push(step);
    p.values.push(value);
    p.times.push(time);
  }

  /** Notes a skipped part; at most SKIPPED_NOTED per file, then one line counting the rest. */
  skip(reason: string): void {
    if (this.skipped.length < SKIPPED_NOTED) this.skipped.push(reason);
    else this.moreSkipped++;
  }

  moreSkipped = 0;

  get pointCount(): number {
    let n = 0;
    for (const p of this.points.values()) n += p.steps.length;
    return n;
  }
}

export const SKIPPED_NOTED = 20;

/** A step as the wire takes it: an integer from 0 to 2^53-1. */
export function isStep(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}
