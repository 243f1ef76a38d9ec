"use client";

import { useEffect, useMemo, useState } from "react";
import { decodeValue } from "@/lib/values";
import type { WireSeries } from "@/lib/ui/series";
import type { EpochSeries, XContext, XMode } from "@/lib/ui/x-axis";
import { seriesLoader } from "./lazy";
import { type LiveBus, liveReady } from "./live";
import { type RunAccess, directAccess } from "./run-access";

// What the charts need to place points on the chosen x axis: each run's first point's time (read
// once the relative axis is chosen), and its `epoch` series (fetched once the epoch axis is chosen,
// then extended by live points). Keyed by run id in Maps: ids are chosen by users too.

export interface XRun {
  id: string;
  hasEpoch: boolean;
  /** The run's first point: its step and (some of) the keys logged there (firstPointKeys()). */
  first: { step: number; keys: string[] } | null;
  /** The run's finest logging interval in steps (runStepUnit), for smoothing. */
  stepUnit?: number | null;
}

export function useXContexts(
  runs: XRun[],
  xMode: XMode,
  bus: LiveBus,
  reloadToken = 0,
  access: RunAccess = directAccess,
): ReadonlyMap<string, XContext> {
  const [epochs, setEpochs] = useState<ReadonlyMap<string, EpochSeries | "unavailable">>(new Map());
  const [starts, setStarts] = useState<ReadonlyMap<string, number>>(new Map());
  const want = xMode === "epoch" ? runs.filter((r) => r.hasEpoch).map((r) => r.id) : [];
  const wantKey = want.join(",");
  const startsWanted = xMode === "relative" ? runs.filter((r) => r.first && !starts.has(r.id)) : [];
  const startsKey = startsWanted.map((r) => `${r.id}\u0000${r.first!.step}\u0000${r.first!.keys.join("\u0001")}`).join("\u0002");

  // biome-ignore lint/correctness/useExhaustiveDependencies: reloadToken is a refresh token: after a reconnect the epoch series is read again
  useEffect(() => {
    if (!wantKey) return;
    let live = true;
    const offs: (() => void)[] = [];
    for (const id of wantKey.split(",")) {
      offs.push(
        bus.subscribe(id, "epoch", (pts) =>
          setEpochs((prev) => {
            const e = prev.get(id);
            if (!e || e === "unavailable") return prev;
            const next = { steps: [...e.steps], values: [...e.values] };
            for (const [s, v] of pts) {
              const n = decodeValue(v);
              if (Number.isFinite(n) && s > (next.steps.at(-1) ?? -1)) {
                next.steps.push(s);
                next.values.push(n);
              }
            }
            return new Map(prev).set(id, next);
          }),
        ),
      );
      void (async () => {
        await liveReady();
        const s = await seriesLoader.load(access.api(id), ["epoch"], 2000, null).then(
          ([got]) => got,
          () => null,
        );
        if (!live) return;
        if (!s) return void setEpochs((prev) => new Map(prev).set(id, "unavailable"));
        const e: EpochSeries = { steps: [], values: [] };
        for (const b of s.buckets) {
          const v = decodeValue(b.last);
          if (Number.isFinite(v)) {
            e.steps.push(b.lastStep);
            e.values.push(v);
          }
        }
        if (live) setEpochs((prev) => new Map(prev).set(id, e));
      })();
    }
    return () => {
      live = false;
      offs.forEach((off) => off());
    };
  }, [wantKey, bus, reloadToken, access]);

  // relative time starts at the run's first point, timed by the clock that logged it
  // biome-ignore lint/correctness/useExhaustiveDependencies: startsKey is the identity of startsWanted (a new array each render)
  useEffect(() => {
    if (!startsKey) return;
    let live = true;
    for (const r of startsWanted) {
      void (async () => {
        const first = r.first!;
        const got = await seriesLoader
          .load(access.api(r.id), first.keys, 1, { from: first.step, to: first.step })
          .catch(() => [] as (WireSeries | null)[]);
        let t0 = Infinity;
        for (const s of got) for (const b of s?.buckets ?? []) t0 = Math.min(t0, b.time);
        if (live && Number.isFinite(t0)) setStarts((prev) => new Map(prev).set(r.id, t0));
      })();
    }
    return () => {
      live = false;
    };
  }, [startsKey, access]);

  const idsKey = runs.map((r) => `${r.id}\u0000${r.stepUnit ?? ""}`).join("\u0001");
  // biome-ignore lint/correctness/useExhaustiveDependencies: idsKey is the identity of runs (ids and step units; a new array each render)
  return useMemo(() => {
    const out = new Map<string, XContext>();
    for (const r of runs) {
      const e = epochs.get(r.id);
      out.set(r.id, {
        t0: starts.get(r.id) ?? null,
        epoch: e && e !== "unavailable" ? e : null,
        epochUnavailable: e === "unavailable",
        stepUnit: r.stepUnit ?? null,
      });
    }
    return out;
  }, [idsKey, epochs, starts]);
}
