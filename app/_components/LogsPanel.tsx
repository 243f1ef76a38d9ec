"use client";

import { useCallback, useDeferredValue, useEffect, useMemo, useRef, useState } from "react";
import type { LogLine } from "@/lib/contract/socket";
import { UNREACHABLE, tryFetch, tryJson } from "@/lib/ui/api-error";
import { plural } from "@/lib/ui/format";
import { useLive } from "./live";

// The run page's Logs tab: the run's console output (`babysit run`), live. Its last lines are loaded
// (pages of PAGE lines, at most KEEP_LINES / KEEP_CHARS of them) and kept in order by its number; live lines that leave a gap (missed while
// the socket was down) make it read again from the last line it holds. Only the rows in view are
// drawn (fixed row height), so 100k lines scroll like 100. The search is a case-insensitive
// substring test (toLowerCase + includes): what the user types is data, never a pattern, and every
// line is rendered as text, never as HTML.

const PAGE = 5_000;
// What the page keeps: the last lines of the run, at most this many and this many characters. A
// run may hold runLogLinesPerRun lines of runLogLineMaxLength (gigabytes): loading them all froze
// or killed the tab. The API serves every line, and its `q` searches them all.
const KEEP_LINES = 200_000;
const KEEP_CHARS = 32_000_000;
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
  const chars = useRef(0);
  /** Where reading starts while no line is held: -1, or before a long run's last KEEP_LINES lines. */
  const skipTo = useRef(-1);
  /** The number of the first line kept, once earlier ones were let go; null while every line is here. */
  const [cut, setCut] = useState<number | null>(null);

  const keep = useCallback((fresh: readonly LogLine[]) => {
    const a = lines.current;
    a.push(...fresh);
    for (const l of fresh) chars.current += l.text.length;
    let drop = 0;
    let c = chars.current;
    while (drop < a.length - 1 && (a.length - drop > KEEP_LINES || c > KEEP_CHARS)) c -= a[drop++].text.length;
    if (drop) {
      a.splice(0, drop);
      chars.current = c;
      setCut(a[0].n);
    }
  }, []);

  const lastN = useCallback(() => (lines.current.length ? lastOf(lines.current) : skipTo.current), []);

  const catchUp = useCallback((): Promise<void> => {
    if (fetching.current) {
      again.current = true;
      return fetching.current;
    }
    const run = async () => {
      if (!lines.current.length) {
        // a long run's output: start from its last KEEP_LINES lines, not from its first
        const res = await tryFetch(`/api/v1/runs/${encodeURIComponent(runId)}/logs?limit=1`, { cache: "no-store" });
        const body = res?.ok ? await tryJson<{ last: number | null }>(res) : null;
        if (!lines.current.length && body?.last != null && body.last >= KEEP_LINES) {
          skipTo.current = body.last - KEEP_LINES;
          setCut(skipTo.current + 1);
        }
      }
      do {
        again.current = false;
        for (;;) {
          const res = await tryFetch(`/api/v1/runs/${encodeURIComponent(runId)}/logs?after=${lastN()}&limit=${PAGE}`, {
            cache: "no-store",
          });
          if (!res) throw new Error(UNREACHABLE);
          const body = await tryJson<{ lines: LogLine[]; next: number | null; error?: { message?: string } }>(res);
          if (!res.ok || !body) throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
          const page = body;
          const from = lastN();
          const fresh = page.lines.filter((l) => l.n > from);
          if (fresh.length) {
            keep(fresh);
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
  }, [runId, keep, lastN]);

  useLive([{ run: runId }], {
    logs: (msg) => {
      if (msg.runId !== runId) return;
      const added: LogLine[] = [];
      for (const l of msg.lines) {
        const last = added.length ? added[added.length - 1].n : lastN();
        if (l.n <= last) continue;
        if (l.n !== last + 1 || fetching.current) {
          void catchUp(); // a gap, or a read in progress that will bring it
          break;
        }
        added.push(l);
      }
      if (added.length) {
        keep(added);
        setVersion((v) => v + 1);
      }
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
        {cut !== null && (
          <span className="muted" data-logs-cut>
            the last lines only: lines 1 to {cut} are not loaded here (<code>GET /api/v1/runs/{"{id}"}/logs</code> reads them all, and its{" "}
            <code>q</code> searches them all)
          </span>
        )}
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
