"use client";

import { useCallback, useDeferredValue, useEffect, useMemo, useRef, useState } from "react";
import type { LogLine } from "@/lib/contract/socket";
import { UNREACHABLE, tryFetch, tryJson } from "@/lib/ui/api-error";
import { plural } from "@/lib/ui/format";
import { useLive } from "./live";

// The run page's Logs tab: the run's console output (`babysit run`), live. Every line is loaded
// (pages of PAGE lines) and kept in order by its number; live lines that leave a gap (missed while
// the socket was down) make it read again from the last line it holds. Only the rows in view are
// drawn (fixed row height), so 100k lines scroll like 100. The search is a case-insensitive
// substring test (toLowerCase + includes): what the user types is data, never a pattern, and every
// line is rendered as text, never as HTML.

const PAGE = 5_000;
const ROW_PX = 18;
const OVERSCAN = 30;

const lastOf = (a: readonly LogLine[]) => (a.length ? a[a.length - 1].n : -1);

export default function LogsPanel({ runId }: { runId: string }) {
  const lines = useRef<LogLine[]>([]);
  const [version, setVersion] = useState(0);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [query, setQuery] = useState("");
  const q = useDeferredValue(query.trim().toLowerCase());
  const fetching = useRef<Promise<void> | null>(null);
  const again = useRef(false);

  const lastN = () => lastOf(lines.current);

  const catchUp = useCallback((): Promise<void> => {
    if (fetching.current) {
      again.current = true;
      return fetching.current;
    }
    const run = async () => {
      do {
        again.current = false;
        for (;;) {
          const res = await tryFetch(`/api/v1/runs/${encodeURIComponent(runId)}/logs?after=${lastOf(lines.current)}&limit=${PAGE}`, {
            cache: "no-store",
          });
          if (!res) throw new Error(UNREACHABLE);
          const body = await tryJson<{ lines: LogLine[]; next: number | null; error?: { message?: string } }>(res);
          if (!res.ok || !body) throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
          const page = body;
          const fresh = page.lines.filter((l) => l.n > lastOf(lines.current));
          if (fresh.length) {
            lines.current.push(...fresh);
            setVersion((v) => v + 1);
          }
          if (page.next === null || !page.lines.length) break;
        }
      } while (again.current);
    };
    const p = run()
      .then(() => setError(null))
      .catch((e) => setError(e instanceof Error ? e.message : String(e)))
      .finally(() => {
        fetching.current = null;
        setLoading(false);
      });
    fetching.current = p;
    return p;
  }, [runId]);

  useLive([{ run: runId }], {
    logs: (msg) => {
      if (msg.runId !== runId) return;
      let added = false;
      for (const l of msg.lines) {
        if (l.n <= lastN()) continue;
        if (l.n !== lastN() + 1 || fetching.current) {
          void catchUp(); // a gap, or a read in progress that will bring it
          break;
        }
        lines.current.push(l);
        added = true;
      }
      if (added) setVersion((v) => v + 1);
    },
    connected: () => catchUp(),
  });

  useEffect(() => {
    void catchUp();
  }, [catchUp]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: version says that lines.current grew
  const shown = useMemo(() => (q ? lines.current.filter((l) => l.text.toLowerCase().includes(q)) : lines.current.slice()), [q, version]);

  // virtual rows: the viewport's scroll position decides which rows exist
  const box = useRef<HTMLDivElement>(null);
  const [scroll, setScroll] = useState({ top: 0, height: 600 });
  const [follow, setFollow] = useState(true);
  const onScroll = () => {
    const el = box.current;
    if (!el) return;
    setScroll({ top: el.scrollTop, height: el.clientHeight });
    setFollow(el.scrollTop + el.clientHeight >= el.scrollHeight - ROW_PX * 2);
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll to the end when lines arrive while following
  useEffect(() => {
    const el = box.current;
    if (el && follow) el.scrollTop = el.scrollHeight;
  }, [shown.length]);
  useEffect(() => {
    const el = box.current;
    if (el) setScroll({ top: el.scrollTop, height: el.clientHeight });
  }, []);

  const first = Math.max(0, Math.floor(scroll.top / ROW_PX) - OVERSCAN);
  const last = Math.min(shown.length, Math.ceil((scroll.top + scroll.height) / ROW_PX) + OVERSCAN);
  const rows = shown.slice(first, last);

  return (
    <section className="logs-panel" aria-label="Logs">
      <div className="logs-bar">
        <input
          type="search"
          placeholder="search the output (plain text, any case)"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          aria-label="search the console output"
        />
        <span className="muted" data-logs-count>
          {q ? `${plural(shown.length, "line")} of ${lines.current.length} contain it` : plural(lines.current.length, "line")}
        </span>
        {!follow && (
          <button
            type="button"
            className="button small"
            onClick={() => {
              const el = box.current;
              if (el) el.scrollTop = el.scrollHeight;
              setFollow(true);
            }}
          >
            follow the end
          </button>
        )}
      </div>
      {error && (
        <p className="warn" role="alert">
          The console output could not be read: {error}
        </p>
      )}
      {!loading && !lines.current.length && (
        <p className="empty" data-logs-empty>
          No console output. Runs started with <code>babysit run -- python train.py</code> keep it here, live.
        </p>
      )}
      {lines.current.length > 0 && q && !shown.length && (
        <p className="empty" data-logs-none>
          No line contains &ldquo;{query.trim()}&rdquo;.
        </p>
      )}
      <div className="logs-view" ref={box} onScroll={onScroll} data-testid="logs-view" tabIndex={-1}>
        <div style={{ height: shown.length * ROW_PX, position: "relative" }}>
          {rows.map((l, i) => (
            <div
              key={l.n}
              className={l.stream === "stderr" ? "log-line stderr" : "log-line"}
              style={{ top: (first + i) * ROW_PX, height: ROW_PX }}
              data-n={l.n}
            >
              <span className="log-n">{l.n + 1}</span>
              {l.text}
            </div>
          ))}
        </div>
      </div>
    </section>
  );
}
