import type { Points } from "../series/codec";

// What other domains (diagnostics) learn from each accepted batch, without ingest knowing them.

export interface AcceptedBatch {
  runId: string;
  series: Map<string, Points>;
  histograms: { key: string; step: number; edges: number[]; counts: number[] }[];
  events: { type: string; step: number | null; data: Record<string, unknown> }[];
}

export interface IngestHooks {
  /** Called after a batch is committed; must be cheap (defer heavy work). */
  afterBatch: (batch: AcceptedBatch) => void;
  /** Alerts to hand back to the SDK in the log response, each delivered once. */
  takeAlerts: (runId: string) => unknown[];
}

const g = globalThis as unknown as { __babysitIngestHooks?: Map<string, Partial<IngestHooks>> };

/** Registers hooks under a name; registering the same name again (another bundle) replaces them. */
export function registerIngestHooks(name: string, h: Partial<IngestHooks>): void {
  g.__babysitIngestHooks ??= new Map();
  g.__babysitIngestHooks.set(name, h);
}

export function ingestHooks(): Partial<IngestHooks>[] {
  return [...(g.__babysitIngestHooks?.values() ?? [])];
}
