"use client";

import type { ShareView as Share } from "@/lib/shares/shares";
import { useCallback, useEffect, useState } from "react";
import { DEFAULT_SHARE_EXPIRY, SHARE_EXPIRY_LABELS } from "@/lib/contract/shares";
import { UNREACHABLE, errorText, tryFetch, tryJson } from "@/lib/ui/api-error";
import { LocalTime } from "./bits";

// The run page's "Share" menu: read-only links to this run (anyone with one sees the run, live,
// and nothing else of the dashboard), made with an expiry and revoked here. The server keeps only
// a hash of each token, so a link's full address is shown once, right after it is made; the list
// tells links apart by their first characters.

// every write says it is JSON: the server refuses one that does not (415), as it is what another site's page could send
const JSON_TYPE = { "content-type": "application/json" };

export default function SharePanel({ runId }: { runId: string }) {
  const [open, setOpen] = useState(false);
  const [shares, setShares] = useState<Share[] | null>(null);
  const [error, setError] = useState("");
  const [expiresIn, setExpiresIn] = useState(DEFAULT_SHARE_EXPIRY);
  // the link just made: its address is never shown again
  const [fresh, setFresh] = useState<{ id: number; url: string; note: string | null } | null>(null);
  const [copied, setCopied] = useState(false);
  const api = `/api/v1/runs/${encodeURIComponent(runId)}/shares`;

  const load = useCallback(async () => {
    const res = await tryFetch(api);
    if (!res) return setError(UNREACHABLE);
    if (!res.ok) return setError(await errorText(res));
    const body = await tryJson<{ shares: Share[] }>(res);
    if (!body) return setError(UNREACHABLE);
    setError("");
    setShares(body.shares);
  }, [api]);

  useEffect(() => {
    if (open && shares === null) void load();
  }, [open, shares, load]);

  const create = async () => {
    setError("");
    const res = await tryFetch(api, { method: "POST", headers: JSON_TYPE, body: JSON.stringify({ expiresIn }) });
    if (!res) return setError(UNREACHABLE);
    if (!res.ok) return setError(await errorText(res));
    const made = await tryJson<Share & { url: string; note?: string | null }>(res);
    if (!made) return setError(UNREACHABLE);
    setShares((s) => [...(s ?? []), made]);
    setFresh({ id: made.id, url: new URL(made.url, window.location.origin).href, note: made.note ?? null });
    setCopied(false);
  };

  const revoke = async (id: number) => {
    setError("");
    // typed as JSON like every write, though it has no body: no other site can send such a request
    const res = await tryFetch(`${api}/${id}`, { method: "DELETE", headers: JSON_TYPE });
    if (!res) return setError(UNREACHABLE);
    if (!res.ok && res.status !== 404) return setError(await errorText(res));
    setShares((s) => (s ?? []).filter((x) => x.id !== id));
    setFresh((f) => (f?.id === id ? null : f));
  };

  const copy = async (url: string) => {
    try {
      await navigator.clipboard.writeText(url);
      setCopied(true);
    } catch {
      setCopied(false); // no clipboard (plain http): the field is selected for a manual copy
    }
  };

  return (
    <details className="share-menu" onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary>Share</summary>
      <div className="share-body">
        <p className="muted small">A link opens a read-only view of this run, live, and nothing else of the dashboard. Revoke it to close it.</p>
        {fresh && (
          <div className="share-fresh" data-share-fresh={fresh.id}>
            <input readOnly value={fresh.url} aria-label="new shared link" onFocus={(e) => e.target.select()} />
            <button type="button" onClick={() => void copy(fresh.url)}>
              {copied ? "copied" : "copy"}
            </button>
            <p className="muted small">Copy it now: the full link is shown only once.</p>
            {/* no published address configured: where the link opens (a loopback one: nowhere else) */}
            {fresh.note && (
              <p className="warn small" data-share-note>
                {fresh.note}
              </p>
            )}
          </div>
        )}
        {shares && shares.length > 0 && (
          <ul className="share-list">
            {shares.map((s) => (
              <li key={s.id} data-share={s.id} data-expired={s.expired ? "" : undefined}>
                <code title="the link's first characters">{s.prefix}…</code>{" "}
                <span className="muted small">
                  by {s.createdBy ?? "you"}, made <LocalTime t={s.createdAt} />,{" "}
                  {s.expiresAt === null ? (
                    "never expires"
                  ) : (
                    <>
                      {s.expired ? "expired" : "expires"} <LocalTime t={s.expiresAt} />
                    </>
                  )}
                  ,{" "}
                  {s.lastOpenedAt === null ? (
                    "never opened"
                  ) : (
                    <>
                      last opened <LocalTime t={s.lastOpenedAt} />
                    </>
                  )}
                </span>{" "}
                <button type="button" className="danger" onClick={() => void revoke(s.id)}>
                  revoke
                </button>
              </li>
            ))}
          </ul>
        )}
        <label className="small">
          expires after{" "}
          <select value={expiresIn} onChange={(e) => setExpiresIn(e.target.value)} aria-label="link expiry">
            {SHARE_EXPIRY_LABELS.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>{" "}
        <button type="button" onClick={() => void create()}>
          {shares?.length ? "Create another link" : "Create a link"}
        </button>
        {error && <p className="error small">{error}</p>}
      </div>
    </details>
  );
}
