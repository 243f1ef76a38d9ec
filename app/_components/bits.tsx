"use client";

import { useEffect, useState, useSyncExternalStore } from "react";
import { formatDuration } from "@/lib/ui/x-axis";
import type { LinkState } from "./live";

// Small pieces shared by the pages.

const STATUS_LABEL = new Map([
  ["running", "live"],
  ["finished", "finished"],
  ["crashed", "crashed"],
  ["stale", "stale"],
]);

/**
 * A run's status. With `link` (the page's connection, or "revoked" / "expired" for a closed shared link) a
 * running run is "live" only while the page really follows it: cut off, it says so instead.
 */
export function StatusBadge({ status, link }: { status: string; link?: LinkState | "revoked" | "expired" }) {
  const cutOff = status === "running" && (link === "offline" || link === "revoked" || link === "expired" || link === "session-ended");
  if (cutOff) {
    const label = link === "offline" ? "offline" : link === "session-ended" ? "logged out" : `link ${link}`;
    const title =
      link === "offline"
        ? "the connection to the server is lost: reconnecting; the run may still be running"
        : link === "session-ended"
          ? "your login session ended: log in again to follow the run"
          : `this shared link ${link === "expired" ? "expired" : "was revoked"}: the page no longer follows the run`;
    return (
      <span className="badge status status-cut-off" data-status={status} data-link={link} title={title}>
        {label}
      </span>
    );
  }
  return (
    <span
      className={`badge status status-${status}`}
      data-status={status}
      data-link={link}
      title={status === "stale" ? "running, but nothing received for a while" : status}
    >
      {status === "running" && <i className="pulse" aria-hidden />}
      {STATUS_LABEL.get(status) ?? status}
    </span>
  );
}

const noop = () => () => {};

/** False while rendering on the server and hydrating, true afterwards (no hydration mismatch). */
export function useHydrated(): boolean {
  return useSyncExternalStore(
    noop,
    () => true,
    () => false,
  );
}

/** A Unix-seconds time: in UTC on the server, in the viewer's time zone once hydrated. */
export function LocalTime({ t, withDate = true }: { t: number; withDate?: boolean }) {
  const hydrated = useHydrated();
  const d = new Date(t * 1000);
  const iso = d.toISOString();
  const pad = (n: number) => String(n).padStart(2, "0");
  const text = hydrated
    ? `${withDate ? `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` : ""}${pad(d.getHours())}:${pad(d.getMinutes())}`
    : `${withDate ? `${iso.slice(0, 10)} ` : ""}${iso.slice(11, 16)} UTC`;
  return (
    <time dateTime={iso} title={hydrated ? d.toString() : iso}>
      {text}
    </time>
  );
}

/** Seconds since the epoch, starting at the server's clock and ticking every second once hydrated. */
export function useNow(serverNow: number): number {
  const [now, setNow] = useState(serverNow);
  useEffect(() => {
    setNow(Date.now() / 1000);
    const t = setInterval(() => setNow(Date.now() / 1000), 1000);
    return () => clearInterval(t);
  }, []);
  return now;
}

/** How long a run ran (or has been running). */
export function runDuration(r: { createdAt: number; finishedAt: number | null; lastSeenAt: number; status: string }, now: number): string {
  const end = r.finishedAt ?? (r.status === "running" ? now : r.lastSeenAt);
  return formatDuration(Math.max(0, end - r.createdAt));
}

export function AlertBadges({ counts }: { counts: { critical: number; warning: number; info: number } }) {
  const items = (["critical", "warning", "info"] as const).filter((s) => counts[s] > 0);
  if (!items.length) return null;
  return (
    <span className="alert-badges">
      {items.map((s) => (
        <span key={s} className={`badge sev-${s}`} data-severity={s} title={`${counts[s]} active ${s} alert${counts[s] > 1 ? "s" : ""}`}>
          {counts[s]} {s}
        </span>
      ))}
    </span>
  );
}
