"use client";

import { useState } from "react";
import { type ConfigFilterParam, configFilterText } from "@/lib/ui/runs-query";

// The runs list's config filters: removable chips for those in force (they live in the URL as the
// API's own config.<key>=<value>, so a link reproduces the view), and a small form to add one: a
// key the project's runs have (or any), and a value — a number, a range lo..hi (either side may be
// left out), true / false / null, or text.

export default function ConfigFilters({
  filters,
  onChange,
  keys,
  onOpen,
}: {
  filters: readonly ConfigFilterParam[];
  onChange: (next: ConfigFilterParam[]) => void;
  keys: readonly string[] | null;
  onOpen: () => void;
}) {
  const [key, setKey] = useState("");
  const [value, setValue] = useState("");
  const add = () => {
    const k = key.trim();
    const v = value.trim();
    if (!k || !v) return;
    onChange([...filters.filter((f) => f.key !== k), { key: k, value: v }]);
    setKey("");
    setValue("");
  };
  return (
    <div className="config-filters" data-testid="config-filters">
      {filters.map((f) => (
        <span key={f.key} className="badge chip" data-config-filter={f.key}>
          <bdi>{configFilterText(f)}</bdi>{" "}
          <button
            type="button"
            className="link-button"
            onClick={() => onChange(filters.filter((x) => x.key !== f.key))}
            aria-label={`remove filter ${f.key}`}
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
          placeholder="config key, e.g. lr"
          aria-label="config filter key"
          list="runs-config-keys"
          size={14}
        />{" "}
        <input
          value={value}
          onChange={(e) => setValue(e.target.value)}
          placeholder="0.01 or 0.001..0.1"
          aria-label="config filter value"
          title="a value (number, true, false, null or text), or a range lo..hi of numbers (0.01.. or ..0.1 leave a side open)"
          size={14}
        />{" "}
        <button type="submit" className="button small">
          filter
        </button>
        <datalist id="runs-config-keys">
          {(keys ?? []).map((k) => (
            <option key={k} value={k} />
          ))}
        </datalist>
      </form>
    </div>
  );
}
