import { sqlite, stmt } from "../db";
import { emitTo, hasListeners, sweepRoom } from "../realtime/hub";
import { singleton } from "../singleton";

// The `sweep` event (lib/contract/socket.ts): a sweep's page hears that something of its trials
// changed, at most once a second per sweep; a change inside the second is sent when it ends, so
// the last one always arrives. State on globalThis: the custom server and the route bundles share it.

export const SWEEP_EVENT_INTERVAL_MS = 1000;

interface LiveState {
  lastSent: Map<string, number>;
  pending: Map<string, NodeJS.Timeout>;
  /** run id -> its sweep id (null: none), so a log batch costs no query once its run is known */
  sweepOf: Map<string, string | null>;
}

const state = () => singleton<LiveState>("babysit.sweeps.live", () => ({ lastSent: new Map(), pending: new Map(), sweepOf: new Map() }));

// bounded: the map is dropped whole past this many runs (it refills from one indexed query per run)
const MAX_KNOWN_RUNS = 10_000;

/** Something of the sweep changed: tell its room (throttled). */
export function sweepChanged(sweepId: string): void {
  const s = state();
  if (!hasListeners(sweepRoom(sweepId)) || s.pending.has(sweepId)) return;
  const wait = (s.lastSent.get(sweepId) ?? 0) + SWEEP_EVENT_INTERVAL_MS - Date.now();
  const send = () => {
    s.pending.delete(sweepId);
    s.lastSent.set(sweepId, Date.now());
    emitTo(sweepRoom(sweepId), "sweep", { sweepId });
  };
  if (wait <= 0) send();
  else {
    const t = setTimeout(send, wait);
    t.unref();
    s.pending.set(sweepId, t);
  }
}

/** Something of the run changed (a batch, an alert, its end): its sweep's room hears it, if it has one. */
export function runChanged(runId: string): void {
  const s = state();
  let sweepId = s.sweepOf.get(runId);
  if (sweepId === undefined) {
    const row = stmt(sqlite(), "SELECT sweep_id AS s FROM runs WHERE id = ?").get(runId) as { s: string | null } | undefined;
    sweepId = row?.s ?? null;
    if (s.sweepOf.size >= MAX_KNOWN_RUNS) s.sweepOf.clear();
    s.sweepOf.set(runId, sweepId);
  }
  if (sweepId !== null) sweepChanged(sweepId);
}

/** The run's sweep changed (created, resumed with a config.sweep, deleted): read it again next time. */
export function forgetRunSweep(runId: string): void {
  state().sweepOf.delete(runId);
}
