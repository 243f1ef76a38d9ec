"use client";

import { useEffect, useMemo, useState } from "react";
import { decodeValue } from "@/lib/values";
import type { WireSeries } from "@/lib/ui/series";
import type { EpochSeries, XContext, XMode } from "@/lib/ui/x-axis";
import { type LiveBus, liveReady } from "./live";
import { type RunAccess, directAccess } from "./run-access";

// What the charts need to place points on the chosen x axis: each run's start time, and its
// `epoch` series (fetched once the epoch axis is chosen, then extended by live points).

export function useXContexts(
  runs: { id: string; createdAt: number; hasEpoch: boolean }[],
  xMode: XMode,
  bus: LiveBus,
  reloadToken = 0,
  access: RunAccess = directAccess,
) {
  const [epochs, setEpochs] = useState<Record<string, EpochSeries>>({});
  const want = xMode === "epoch" ? runs.filter((r) => r.hasEpoch).map((r) => r.id) : [];
  const wantKey = want.join(",");

  useEffect(() => {
    if (!wantKey) return;
    let live = true;
    const offs: (() => void)[] = [];
    for (const id of wantKey.split(",")) {
      offs.push(
        bus.subscribe(id, "epoch", (pts) =>
          setEpochs((prev) => {
            const e = prev[id];
            if (!e) return prev;
            const next = { steps: [...e.steps], values: [...e.values] };
            for (const [s, v] of pts) {
              const n = decodeValue(v);
              if (Number.isFinite(n) && s > (next.steps.at(-1) ?? -1)) {
                next.steps.push(s);
                next.values.push(n);
              }
            }
            return { ...prev, [id]: next };
          }),
        ),
      );
      void (async () => {
        await liveReady();
        const res = await fetch(`${access.api(id)}/series?key=epoch&points=2000`);
        if (!res.ok || !live) return;
        const s = (await res.json()) as WireSeries;
        const e: EpochSeries = { steps: [], values: [] };
        for (const b of s.buckets) {
          const v = decodeValue(b.last);
          if (Number.isFinite(v)) {
            e.steps.push(b.lastStep);
            e.values.push(v);
          }
        }
        if (live) setEpochs((prev) => ({ ...prev, [id]: e }));
      })();
    }
    return () => {
      live = false;
      offs.forEach((off) => off());
    };
  }, [wantKey, bus, reloadToken, access]);

  const t0Key = runs.map((r) => `${r.id}:${r.createdAt}`).join(",");
  return useMemo(() => {
    const out: Record<string, XContext> = {};
    for (const r of runs) out[r.id] = { t0: r.createdAt, epoch: epochs[r.id] ?? null };
    return out;
    // t0Key is the identity of runs
  }, [t0Key, epochs]);
}
