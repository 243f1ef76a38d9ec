"use client";

import Link from "next/link";
import { useCallback, useDeferredValue, useEffect, useMemo, useRef, useState } from "react";
import { tryFetch, tryJson } from "@/lib/ui/api-error";
import type { PageRunDetail, RunDetail, RunView } from "@/lib/ui/api-types";
import { X_AXIS_KEYS, defaultCompareKey } from "@/lib/ui/group-metrics";
import { runStepUnit } from "@/lib/ui/ema";
import { firstPointKeys } from "@/lib/ui/x-axis";
import { StatusBadge } from "./bits";
import ChartControls from "./ChartControls";
import { PALETTE } from "./chart-setup";
import { LiveBus, type Room, useLinkState, useLive } from "./live";
import LiveNote from "./LiveNote";
import MetricChart, { type ChartSettings, type LineSpec } from "./MetricChart";
import { naturalCompare } from "@/lib/ui/natural-sort";
import { useXContexts } from "./use-x-contexts";

// Several runs, one key: one line per run in the run's colour, with the run page's controls.

export default function CompareView({ initial, missing, initialKey }: { initial: PageRunDetail[]; missing: string[]; initialKey?: string }) {
  const [details, setDetails] = useState<PageRunDetail[]>(initial);
  // by run id (ids may be chosen by users: Maps, never object members)
  const [runs, setRuns] = useState<ReadonlyMap<string, RunView>>(() => new Map(initial.map((d) => [d.run.id, d.run])));
  const link = useLinkState();
  const [settings, setSettings] = useState<ChartSettings>({ ema: 0.6, log: false, xMode: "step" });
  const [reloadToken, setReloadToken] = useState(0);
  const deferred = useDeferredValue(settings);
  const bus = useMemo(() => new LiveBus(), []);
  const ids = details.map((d) => d.run.id);

  const keysOf = useMemo(() => new Map(details.map((d) => [d.run.id, new Set(d.keys.map((k) => k.key))])), [details]);
  const allKeys = useMemo(
    () => [...new Set(details.flatMap((d) => d.keys.map((k) => k.key)))].filter((k) => !X_AXIS_KEYS.has(k)).sort(naturalCompare),
    [details],
  );
  const [picked, setPicked] = useState<string | undefined>(initialKey);
  const key = picked && allKeys.includes(picked) ? picked : defaultCompareKey(allKeys);

  useEffect(() => {
    if (!key) return;
    const u = new URL(window.location.href);
    u.searchParams.set("key", key);
    if (u.href !== window.location.href) window.history.replaceState(null, "", u);
  }, [key]);

  const refreshTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: ids are fixed by the URL; their joined string is their identity across renders
  const refresh = useCallback(async () => {
    const got = await Promise.all(
      ids.map(async (id) => {
        // no answer: the details shown stay (the next event or reconnection asks again)
        const res = await tryFetch(`/api/v1/runs/${encodeURIComponent(id)}`);
        return res?.ok ? await tryJson<RunDetail>(res) : null;
      }),
    );
    setDetails((prev) => prev.map((d, i) => got[i] ?? d));
  }, [ids.join(",")]);
  useEffect(
    () => () => {
      if (refreshTimer.current) clearTimeout(refreshTimer.current);
    },
    [],
  );

  const rooms: Room[] = [{ runs: true }, ...ids.map((id) => ({ run: id }))];
  useLive(rooms, {
    points: (msg) => {
      if (!keysOf.has(msg.runId)) return;
      bus.publish(msg.runId, msg.series);
      const have = keysOf.get(msg.runId)!;
      if (Object.keys(msg.series).some((k) => !have.has(k)) && !refreshTimer.current) {
        refreshTimer.current = setTimeout(() => {
          refreshTimer.current = null;
          void refresh();
        }, 400);
      }
    },
    run: (msg) => {
      if (keysOf.has(msg.id)) setRuns((r) => new Map(r).set(msg.id, { ...r.get(msg.id)!, ...(msg as unknown as RunView) }));
    },
    connected: (first) => {
      if (!first) setReloadToken((t) => t + 1);
      return refresh();
    },
  });

  // biome-ignore lint/correctness/useExhaustiveDependencies: ids are fixed by the URL; their joined string is their identity across renders
  const colors = useMemo(() => new Map(ids.map((id, i) => [id, PALETTE[i % PALETTE.length]])), [ids.join(",")]);
  const lines: LineSpec[] = useMemo(
    () =>
      key
        ? details
            .filter((d) => keysOf.get(d.run.id)?.has(key))
            .map((d) => ({ id: d.run.id, runId: d.run.id, key, label: d.run.name, color: colors.get(d.run.id)! }))
        : [],
    [details, keysOf, key, colors],
  );
  const xContexts = useXContexts(
    details.map((d) => ({
      id: d.run.id,
      hasEpoch: keysOf.get(d.run.id)?.has("epoch") ?? false,
      first: firstPointKeys(d.keys),
      stepUnit: runStepUnit(d.keys),
    })),
    deferred.xMode,
    bus,
    reloadToken,
  );
  const hasEpoch = details.some((d) => keysOf.get(d.run.id)?.has("epoch"));
  const lacking = key ? details.filter((d) => !keysOf.get(d.run.id)?.has(key)) : [];

  return (
    <div className="compare-page">
      <header className="run-head">
        <h1>Compare runs</h1>
        <LiveNote state={link} />
        <ul className="compare-runs">
          {details.map((d) => (
            <li key={d.run.id} data-run={d.run.id}>
              <i className="swatch" style={{ background: colors.get(d.run.id) }} />
              <Link href={`/runs/${encodeURIComponent(d.run.id)}`}>
                <bdi>{runs.get(d.run.id)?.name ?? d.run.name}</bdi>
              </Link>
              <span className="muted">{d.run.project}</span>
              <StatusBadge status={runs.get(d.run.id)?.status ?? d.run.status} link={link} />
            </li>
          ))}
        </ul>
        {missing.length > 0 && <p className="warn">Not found: {missing.join(", ")}</p>}
      </header>

      {details.length === 0 ? (
        <p className="empty">
          Pick runs to compare on the <Link href="/">runs list</Link>.
        </p>
      ) : (
        <>
          <div className="sticky-controls">
            <div className="controls key-picker">
              <label>
                <span>metric</span>
                <select value={key ?? ""} onChange={(e) => setPicked(e.target.value)} aria-label="metric">
                  {allKeys.map((k) => (
                    <option key={k} value={k}>
                      {k}
                    </option>
                  ))}
                </select>
              </label>
              {lacking.length > 0 && <span className="muted small">not logged by {lacking.map((d) => d.run.name).join(", ")}</span>}
            </div>
            <ChartControls settings={settings} onChange={setSettings} hasEpoch={hasEpoch} />
          </div>
          {key ? (
            <MetricChart
              key={key}
              chartId="compare"
              title={key}
              lines={lines}
              settings={deferred}
              xContexts={xContexts}
              bus={bus}
              reloadToken={reloadToken}
              logDefault={/^update_ratios?\//i.test(key)}
              refLine={/^update_ratios?\//i.test(key) ? 1e-3 : undefined}
              height={420}
            />
          ) : (
            <p className="empty">These runs have not logged any metrics yet.</p>
          )}
        </>
      )}
    </div>
  );
}
