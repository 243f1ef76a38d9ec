"use client";

import { useState } from "react";
import type { ListColumn } from "@/lib/ui/runs-query";
import type { ListKeys } from "./use-list-keys";

// The runs list's column picker: the config keys and metric keys the project's runs have (from
// the API), each a checkbox that adds or removes its column (metrics as last, max or min), and a
// field for any other key. The list keeps the chosen columns per project (RunsList).

const AGGS: ListColumn["agg"][] = ["last", "max", "min"];
const same = (a: ListColumn, b: ListColumn) => a.kind === b.kind && a.key === b.key && (a.kind === "config" || a.agg === b.agg);

export default function ColumnPicker({
  columns,
  onToggle,
  keys,
  onOpen,
}: {
  columns: readonly ListColumn[];
  onToggle: (c: ListColumn) => void;
  keys: ListKeys | null;
  onOpen: () => void;
}) {
  const [kind, setKind] = useState("config");
  const [key, setKey] = useState("");
  const has = (c: ListColumn) => columns.some((x) => same(x, c));
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
  return (
    <>
      <details
        className="column-picker"
        data-testid="column-picker"
        onToggle={(e) => {
          if ((e.target as HTMLDetailsElement).open) onOpen();
        }}
      >
        <summary>columns{columns.length ? ` (${columns.length})` : ""}</summary>
        <div className="column-picker-body">
          {keys === null ? (
            <p className="muted small">reading the keys of these runs…</p>
          ) : (
            <>
              <fieldset>
                <legend>config values</legend>
                {keys.config.length === 0 && <span className="muted small">these runs have no config</span>}
                {keys.config.map((k) => (
                  <div key={k} data-key-option={k}>
                    {box({ kind: "config", key: k, agg: "last" }, k)}
                  </div>
                ))}
              </fieldset>
              <fieldset>
                <legend>metrics</legend>
                {keys.metrics.length === 0 && <span className="muted small">these runs logged no metrics yet</span>}
                {keys.metrics.map((k) => (
                  <div key={k} data-key-option={k}>
                    <bdi>{k}</bdi>: {AGGS.map((agg) => box({ kind: "metric", key: k, agg }, agg))}
                  </div>
                ))}
              </fieldset>
            </>
          )}
        </div>
      </details>
      <span className="add-column">
        <span>add column</span>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            addTyped();
          }}
        >
          <select value={kind} onChange={(e) => setKind(e.target.value)} aria-label="column kind">
            <option value="config">config value</option>
            <option value="metric:last">metric, last</option>
            <option value="metric:max">metric, max</option>
            <option value="metric:min">metric, min</option>
          </select>{" "}
          <input value={key} onChange={(e) => setKey(e.target.value)} placeholder="other key, e.g. lr or val/acc" aria-label="column key" />{" "}
          <button type="submit" className="button small">
            add
          </button>
        </form>
      </span>
    </>
  );
}
