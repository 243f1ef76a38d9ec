import type { WireNumber } from "../values";

// The API's JSON as the dashboard reads it (docs/api.md). Pages get the same shapes from lib
// functions on the server and from fetch() in the browser.

export type RunStatus = "running" | "finished" | "crashed" | "stale";

export interface RunView {
  id: string;
  project: string;
  name: string;
  status: RunStatus | string;
  config: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
  lastSeenAt: number;
  finishedAt: number | null;
  url?: string;
}

export interface AlertCounts {
  critical: number;
  warning: number;
  info: number;
}

export interface RunListItem extends RunView {
  summary: Record<string, WireNumber>;
  alerts: AlertCounts;
}

export interface RunList {
  runs: RunListItem[];
  projects: { name: string; runs: number }[];
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
}

export interface RunDetail {
  run: RunView;
  keys: KeyInfo[];
  histogramKeys: { key: string; count: number; lastStep: number }[];
  events: RunEvent[];
  images: { key: string; count: number; lastStep: number }[];
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
}

export interface LoggedImage {
  step: number | null;
  time: number;
  width: number;
  height: number;
  png_base64: string;
}
