"use client";

import { useEffect, useRef, useState } from "react";
import { pickerConfigKeys, pickerMetricGroups } from "@/lib/ui/column-picker";
import type { ListColumn } from "@/lib/ui/runs-query";
import type { ListKeys } from "./use-list-keys";

// The runs list's column picker: the config keys and metric keys the project's runs have (from
// the API), each a checkbox that adds or removes its column (metrics as last, max or min), and a
// field for any other key. A run with watch() logs hundreds of per-layer keys, so the picker is a
// bounded panel over the page (never pushing it down) with a search box, keys in natural order
// and metrics grouped by prefix, per-layer families collapsed until searched. The list keeps the
// chosen columns per project (RunsList).

const AGGS: ListColumn["agg"][] = ["last", "max", "min"];
const same = (a: ListColumn, b: ListColumn) => a.kind === b.kind && a.key === b.key && (a.kind === "config" || a.agg === b.agg);

export default function ColumnPicker({
  columns,
  onToggle,
  keys,
  onOpen,
  open,
  onOpenChange,
}: {
  columns: readonly ListColumn[];
  onToggle: (c: ListColumn) => void;
  keys: ListKeys | null;
  onOpen: () => void;
  /** Open state, owned by the list (its sort menu's "more…" opens the picker). */
  open: boolean;
  onOpenChange: (open: boolean) => void;
}) {
  const [kind, setKind] = useState("config");
  const [key, setKey] = useState("");
  const [search, setSearch] = useState("");
  const searchRef = useRef<HTMLInputElement>(null);
  const panelRef = useRef<HTMLDetailsElement>(null);
  const has = (c: ListColumn) => columns.some((x) => same(x, c));
  useEffect(() => {
    if (!open) return;
    onOpen();
    searchRef.current?.focus();
    // a click elsewhere or Escape closes the panel, as a menu would
    const outside = (e: MouseEvent) => {
      if (panelRef.current && !panelRef.current.contains(e.target as Node)) onOpenChange(false);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") onOpenChange(false);
    };
    document.addEventListener("mousedown", outside);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("mousedown", outside);
      document.removeEventListener("keydown", onKey);
    };
  }, [open, onOpen, onOpenChange]);
  const box = (c: ListColumn, label: string) => (
    <label key={`${c.kind}:${c.agg}`} className="small">
      <input
        type="checkbox"
        checked={has(c)}
        onChange={() => onToggle(c)}
        aria-label={`column ${c.kind} ${c.key}${c.kind === "metric" ? ` ${c.agg}` : ""}`}
      />{" "}
      {label}
    </label>
  );
  const addTyped = () => {
    const k = key.trim();
    if (!k) return;
    const [kd, agg] = kind.split(":") as ["config" | "metric", ListColumn["agg"] | undefined];
    const c: ListColumn = { kind: kd, key: k, agg: agg ?? "last" };
    if (!has(c)) onToggle(c);
    setKey("");
  };
  const searching = search.trim() !== "";
  const configKeys = keys ? pickerConfigKeys(keys.config, search) : [];
  const groups = keys ? pickerMetricGroups(keys.metrics, search) : [];
  const chosenIn = (ks: readonly string[]) => columns.filter((c) => c.kind === "metric" && ks.includes(c.key)).length;
  return (
    <details
      ref={panelRef}
      className="column-picker"
      data-testid="column-picker"
      open={open}
      onToggle={(e) => {
        // currentTarget: a key group's own toggle reaches here too (React passes it up)
        const now = e.currentTarget.open;
        if (now !== open) onOpenChange(now);
      }}
    >
      <summary>columns{columns.length ? ` (${columns.length})` : ""}</summary>
      <div className="column-picker-body" data-testid="column-picker-panel">
        <input
          ref={searchRef}
          type="search"
          className="picker-search"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          placeholder="search keys, e.g. acc or fc1"
          aria-label="search keys"
        />
        <div className="picker-keys">
          {keys === null ? (
            <p className="muted small">reading the keys of these runs…</p>
          ) : (
            <>
              <fieldset>
                <legend>config values</legend>
                {keys.config.length === 0 && <span className="muted small">these runs have no config</span>}
                {keys.config.length > 0 && configKeys.length === 0 && <span className="muted small">no config key matches</span>}
                {configKeys.map((k) => (
                  <div key={k} data-key-option={k}>
                    {box({ kind: "config", key: k, agg: "last" }, k)}
                  </div>
                ))}
              </fieldset>
              <fieldset>
                <legend>metrics</legend>
                {keys.metrics.length === 0 && <span className="muted small">these runs logged no metrics yet</span>}
                {keys.metrics.length > 0 && groups.length === 0 && <span className="muted small">no metric key matches</span>}
                {groups.map((g) => (
                  // a search opens every group it found keys in; otherwise layer families start closed
                  <details key={`${g.prefix}\u0000${searching}`} className="picker-group" data-key-group={g.prefix} open={searching || !g.layer}>
                    <summary>
                      <bdi>{g.prefix || "other"}</bdi>{" "}
                      <span className="muted small">
                        {g.keys.length}
                        {chosenIn(g.keys) ? `, ${chosenIn(g.keys)} shown` : ""}
                      </span>
                    </summary>
                    {g.keys.map((k) => (
                      <div key={k} data-key-option={k} className="picker-metric">
                        <bdi>{k}</bdi> <span className="aggs">{AGGS.map((agg) => box({ kind: "metric", key: k, agg }, agg))}</span>
                      </div>
                    ))}
                  </details>
                ))}
              </fieldset>
            </>
          )}
        </div>
        <form
          className="add-column"
          onSubmit={(e) => {
            e.preventDefault();
            addTyped();
          }}
        >
          <span className="small muted">other key</span>
          <select value={kind} onChange={(e) => setKind(e.target.value)} aria-label="column kind">
            <option value="config">config value</option>
            <option value="metric:last">metric, last</option>
            <option value="metric:max">metric, max</option>
            <option value="metric:min">metric, min</option>
          </select>
          <input value={key} onChange={(e) => setKey(e.target.value)} placeholder="e.g. lr or val/acc" aria-label="column key" size={16} />
          <button type="submit" className="button small">
            add
          </button>
        </form>
      </div>
    </details>
  );
}
