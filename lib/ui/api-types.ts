import type { StatsReading } from "./data-stats";
import type { WireNumber } from "../values";

// The API's JSON as the dashboard reads it (docs/api.md). Pages get the same shapes from lib
// functions on the server and from fetch() in the browser.

export type RunStatus = "running" | "finished" | "crashed" | "stale";

/** A run without its config: what lists and the runs room carry (plus `configSummary`). */
export interface RunHeader {
  id: string;
  project: string;
  name: string;
  status: RunStatus | string;
  createdAt: number;
  updatedAt: number;
  lastSeenAt: number;
  finishedAt: number | null;
  url?: string;
  /** Run management (PATCH /api/v1/runs/{id}); absent from a few live events, which then leave them as they were. */
  archived?: boolean;
  tags?: string[];
  /** The owning user's name, null for a run without one; absent on shared pages and from the run room's events. */
  owner?: string | null;
  /** The sweep the run is a trial of (docs/api.md "Sweeps"), null for none; absent on shared pages and from the run room's events. */
  sweep?: { id: string; name: string } | null;
}

/** A run with its whole config (GET /api/v1/runs/{id}); `config` is left out where a page has no use for it. */
export interface RunView extends RunHeader {
  config?: Record<string, unknown>;
  /** Plain text: render as text, never as HTML. */
  notes?: string;
}

export interface AlertCounts {
  critical: number;
  warning: number;
  info: number;
}

export interface RunListItem extends RunHeader {
  /** A few top-level scalar config values (docs/api.md), never the whole config. */
  configSummary: Record<string, string | number | boolean | null>;
  summary: Record<string, WireNumber>;
  alerts: AlertCounts;
  /** Runs with active alerts: the first root cause and how many active alerts follow from it. */
  rootCause?: { code: string; severity: string; title: string; symptoms: number };
  /** With ?configColumns= / ?metricColumns=: the chosen config values and metric summaries (keys are data: read with Object.keys / Object.hasOwn). */
  columns?: {
    config: Record<string, string | number | boolean | null>;
    metrics: Record<string, { last: WireNumber; min: WireNumber | null; max: WireNumber | null }>;
  };
}

export interface RunList {
  runs: RunListItem[];
  /** Every run matching the filters (the list is one page of them). */
  total?: number;
  projects: { name: string; runs: number }[];
  tags?: { name: string; runs: number }[];
}

export interface KeyInfo {
  key: string;
  count: number;
  firstStep: number;
  lastStep: number;
  lastValue: WireNumber;
  min: WireNumber | null;
  max: WireNumber | null;
  nonFinite: number;
}

export interface RunEvent {
  type: string;
  step: number | null;
  time: number;
  data: unknown;
  /** statistics events: what the Data section reads of it (lib/ui/data-stats.ts lightenStats) */
  reading?: StatsReading;
  /** statistics events but the latest of a split: the lists left out (?events=full has them) */
  omitted?: { fields: string[]; length: number };
}

export interface RunDetail {
  run: RunView;
  keys: KeyInfo[];
  histogramKeys: { key: string; count: number; lastStep: number }[];
  events: RunEvent[];
  images: { key: string; count: number; lastStep: number }[];
}

/** What a page embeds of each metric key: its name and what the x axis needs. */
export type PageKeyInfo = Pick<KeyInfo, "key" | "count" | "firstStep" | "lastStep">;

/** A run as the pages embed it in their HTML: GET /api/v1/runs/{id}'s answer with keys cut to
 * PageKeyInfo (a run of 10,000 keys would embed every key's totals, which no page shows). */
export interface PageRunDetail extends Omit<RunDetail, "keys"> {
  keys: PageKeyInfo[];
}

export interface Alert {
  code: string;
  severity: "critical" | "warning" | "info" | string;
  status: "active" | "resolved" | string;
  step: number;
  title: string;
  message: string;
  evidence?: Record<string, unknown> | null;
  firstStep?: number;
  updatedAt?: number;
  /** active alerts: the root cause this one follows from */
  causedBy?: string;
  /** active root causes: the codes of the alerts that follow from them */
  symptoms?: string[];
}

export interface LoggedImage {
  step: number | null;
  time: number;
  width: number;
  height: number;
  png_base64: string;
}
