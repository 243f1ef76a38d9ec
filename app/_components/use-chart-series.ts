"use client";

import { type RefObject, useCallback, useEffect, useRef, useState } from "react";
import type { LineSpec } from "@/lib/ui/chart-view";
import { type Bucket, type LivePoint, appendLive, decodeBucket } from "@/lib/ui/series";
import { seriesLoader } from "./lazy";
import { type LiveBus, liveReady, trackCatchUp } from "./live";
import { useRunAccess } from "./run-access";

// A metric chart's data: its lines' downsampled buckets (about one per pixel of `wrapRef`'s width),
// fetched once the chart comes `near` the viewport and again when its lines change, after a
// reconnect (`reloadToken`) or on a zoom (the range at full resolution, with the run's points before
// it for the smoothing's start); live points appended as they come, re-bucketed when too many piled up.

export type Range = { from: number; to: number };

const REFETCH_DEBOUNCE_MS = 800;

export interface ChartSeries {
  /** by line id: metric keys are data, never object members (a key may be named `constructor`) */
  series: ReadonlyMap<string, Bucket[]>;
  /** by line id: when zoomed, the run's buckets before the range */
  seeds: ReadonlyMap<string, Bucket[]>;
  state: "loading" | "ready" | "error";
  error: string;
  zoom: Range | null;
  zoomTo: (range: Range | null) => void;
  retry: () => void;
}

export function useChartSeries(
  lines: LineSpec[],
  bus: LiveBus,
  reloadToken: number,
  near: boolean,
  wrapRef: RefObject<HTMLElement | null>,
): ChartSeries {
  const [series, setSeries] = useState<ReadonlyMap<string, Bucket[]>>(new Map());
  const [seeds, setSeeds] = useState<ReadonlyMap<string, Bucket[]>>(new Map());
  const [state, setState] = useState<"loading" | "ready" | "error">("loading");
  const [error, setError] = useState("");
  const [zoom, setZoom] = useState<Range | null>(null);

  const zoomRef = useRef<Range | null>(null);
  const genRef = useRef(0);
  const inFlightRef = useRef(false);
  const pendingRef = useRef(new Map<string, LivePoint[]>());
  const appendedRef = useRef(0);
  const budgetRef = useRef(600);
  const timerRef = useRef<ReturnType<typeof setTimeout> | null>(null);
  /** A fetch was asked for: until then live points are left to it. */
  const startedRef = useRef(false);

  const access = useRunAccess();
  const accessRef = useRef(access);
  accessRef.current = access;
  const linesKey = lines.map((l) => `${l.id}\u0000${l.runId}\u0000${l.key}`).join("\u0001");
  const linesRef = useRef(lines);
  linesRef.current = lines;

  // reads lines and access through refs: a load is asked for by the effects below, not by every render's new arrays
  const load = useCallback(
    async (range: Range | null) => {
      const gen = ++genRef.current;
      inFlightRef.current = true;
      startedRef.current = true;
      pendingRef.current = new Map();
      await liveReady();
      if (gen !== genRef.current) return;
      const width = wrapRef.current?.clientWidth || 600;
      const points = Math.round(Math.min(1000, Math.max(200, width)));
      budgetRef.current = points;
      const ls = linesRef.current;
      const runAccess = accessRef.current;
      try {
        const out = new Map<string, Bucket[]>();
        const before = new Map<string, Bucket[]>();
        const byRun = new Map<string, LineSpec[]>();
        for (const l of ls) byRun.set(l.runId, [...(byRun.get(l.runId) ?? []), l]);
        await Promise.all(
          [...byRun].map(async ([runId, rl]) => {
            const keys = rl.map((l) => l.key);
            const [got, prefix] = await Promise.all([
              seriesLoader.load(runAccess.api(runId), keys, points, range),
              // zoomed: what came before, coarsely, so the smoothed line reads as it does unzoomed
              range && range.from > 0 ? seriesLoader.load(runAccess.api(runId), keys, 200, { from: 0, to: range.from - 1 }) : null,
            ]);
            rl.forEach((l, i) => {
              out.set(l.id, got[i] ? got[i].buckets.map(decodeBucket) : []);
              if (prefix?.[i]) before.set(l.id, prefix[i]!.buckets.map(decodeBucket));
            });
          }),
        );
        if (gen !== genRef.current) return;
        // live points that came in while the request was out: keep those past what it returned
        for (const l of ls) {
          const fetched = out.get(l.id) ?? [];
          const last = fetched.length ? fetched[fetched.length - 1].lastStep : -1;
          const newer = (pendingRef.current.get(l.id) ?? []).filter((p) => p[0] > last);
          if (newer.length && !range) out.set(l.id, appendLive(fetched, newer).buckets);
        }
        appendedRef.current = 0;
        setSeries(out);
        setSeeds(before);
        setState("ready");
      } catch (e) {
        if (gen !== genRef.current) return;
        setError((e as Error).message);
        setState("error");
      } finally {
        if (gen === genRef.current) inFlightRef.current = false;
      }
    },
    [wrapRef],
  );

  // (re)fetch when the lines change, after a reconnect, or when zooming; not before the chart comes near
  // biome-ignore lint/correctness/useExhaustiveDependencies: linesKey is the identity of lines (a new array each render); load reads them through a ref
  useEffect(() => {
    if (!near) return;
    const p = load(zoomRef.current);
    if (reloadToken > 0) trackCatchUp(p); // after a reconnect the page is caught up once this is in
  }, [linesKey, reloadToken, load, near]);

  useEffect(
    () => () => {
      if (timerRef.current) clearTimeout(timerRef.current);
    },
    [],
  );

  // live points
  // biome-ignore lint/correctness/useExhaustiveDependencies: linesKey is the identity of lines: subscribe again only when the keys change, not on every render's new array
  useEffect(() => {
    const offs = linesRef.current.map((l) =>
      bus.subscribe(l.runId, l.key, (pts) => {
        if (zoomRef.current || !startedRef.current) return;
        if (inFlightRef.current) {
          pendingRef.current.set(l.id, [...(pendingRef.current.get(l.id) ?? []), ...pts]);
          return;
        }
        setSeries((prev) => new Map(prev).set(l.id, appendLive(prev.get(l.id) ?? [], pts).buckets));
        appendedRef.current += pts.length;
        // too many raw points on top of the buckets: re-bucket (debounced)
        if (appendedRef.current > 2 * budgetRef.current && !timerRef.current) {
          timerRef.current = setTimeout(() => {
            timerRef.current = null;
            if (!zoomRef.current) void load(null);
          }, REFETCH_DEBOUNCE_MS);
        }
      }),
    );
    return () => offs.forEach((off) => off());
  }, [linesKey, bus, load]);

  const zoomTo = useCallback(
    (range: Range | null) => {
      zoomRef.current = range;
      setZoom(range);
      void load(range);
    },
    [load],
  );

  const retry = useCallback(() => {
    setState("loading");
    void load(zoomRef.current);
  }, [load]);

  return { series, seeds, state, error, zoom, zoomTo, retry };
}
