"use client";

import { useState } from "react";
import { type ConfigFilterParam, configFilterText } from "@/lib/ui/runs-query";

// The runs list's config filters: removable chips for those in force (they live in the URL as the
// API's own config.<key>=<value>, so a link reproduces the view), and a small form to add one: a
// key the project's runs have (or any), and a value — a number, a range lo..hi (either side may be
// left out), true / false / null, or text. With kind="metric" the same form filters by a metric's
// last (default), max or min value: ?metric.<key>[:max|:min]=lo..hi, chips like the config ones.

const AGG_SUFFIX = /:(last|min|max)$/;
/** "val/acc:max" as a chip says it: "val/acc (max)"; a last value is the plain key. */
const metricLabel = (key: string) => {
  const m = AGG_SUFFIX.exec(key);
  return m ? `${key.slice(0, m.index)}${m[1] === "last" ? "" : ` (${m[1]})`}` : key;
};

export default function ConfigFilters({
  filters,
  onChange,
  keys,
  onOpen,
  kind = "config",
}: {
  kind?: "config" | "metric";
  filters: readonly ConfigFilterParam[];
  onChange: (next: ConfigFilterParam[]) => void;
  keys: readonly string[] | null;
  onOpen: () => void;
}) {
  const [key, setKey] = useState("");
  const [value, setValue] = useState("");
  const [agg, setAgg] = useState<"last" | "max" | "min">("last");
  const metric = kind === "metric";
  const add = () => {
    const typed = key.trim();
    const v = value.trim();
    if (!typed || !v) return;
    // the API reads one trailing :last/:min/:max as the summary: a key ending in one gets its own
    const k = metric && (agg !== "last" || AGG_SUFFIX.test(typed)) ? `${typed}:${agg}` : typed;
    onChange([...filters.filter((f) => f.key !== k), { key: k, value: v }]);
    setKey("");
    setValue("");
  };
  return (
    <div className={`config-filters ${kind}-filters`} data-testid={`${kind}-filters`}>
      {filters.map((f) => (
        <span key={f.key} className="badge chip" {...{ [`data-${kind}-filter`]: f.key }}>
          <bdi>{configFilterText(metric ? { key: metricLabel(f.key), value: f.value } : f)}</bdi>{" "}
          <button
            type="button"
            className="link-button"
            onClick={() => onChange(filters.filter((x) => x.key !== f.key))}
            aria-label={`remove ${metric ? "metric " : ""}filter ${f.key}`}
          >
            ×
          </button>
        </span>
      ))}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          add();
        }}
      >
        <input
          value={key}
          onChange={(e) => setKey(e.target.value)}
          onFocus={onOpen}
          placeholder={metric ? "metric, e.g. val/acc" : "config key, e.g. lr"}
          aria-label={`${kind} filter key`}
          list={`runs-${kind}-keys`}
          size={14}
        />
        {metric && (
          <select value={agg} onChange={(e) => setAgg(e.target.value as typeof agg)} aria-label="metric filter value kind">
            <option value="last">last</option>
            <option value="max">max</option>
            <option value="min">min</option>
          </select>
        )}
        <input
          value={value}
          onChange={(e) => setValue(e.target.value)}
          placeholder={metric ? "0.9..1" : "0.01 or 0.001..0.1"}
          aria-label={`${kind} filter value`}
          title={
            metric
              ? "a range lo..hi of numbers (0.9.. or ..0.1 leave a side open) the run's last, max or min value lies in"
              : "a value (number, true, false, null or text), or a range lo..hi of numbers (0.01.. or ..0.1 leave a side open)"
          }
          size={metric ? 10 : 14}
        />
        <button type="submit" className="button small">
          filter
        </button>
        <datalist id={`runs-${kind}-keys`}>
          {(keys ?? []).map((k) => (
            <option key={k} value={k} />
          ))}
        </datalist>
      </form>
    </div>
  );
}
