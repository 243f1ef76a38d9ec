"use client";

import { useCallback, useEffect, useState } from "react";
import { errorText } from "@/lib/ui/api-error";
import { LocalTime } from "./bits";

// The run page's "Share" menu: read-only links to this run (anyone with one sees the run, live,
// and nothing else of the dashboard), made and revoked here.

// every write says it is JSON: the server refuses one that does not (415), as it is what another site's page could send
const JSON_TYPE = { "content-type": "application/json" };

interface Share {
  token: string;
  url: string;
  createdAt: number;
}

export default function SharePanel({ runId }: { runId: string }) {
  const [open, setOpen] = useState(false);
  const [shares, setShares] = useState<Share[] | null>(null);
  const [error, setError] = useState("");
  const [copied, setCopied] = useState("");
  const api = `/api/v1/runs/${encodeURIComponent(runId)}/shares`;

  const load = useCallback(async () => {
    const res = await fetch(api);
    if (!res.ok) return setError(await errorText(res));
    setShares(((await res.json()) as { shares: Share[] }).shares);
  }, [api]);

  useEffect(() => {
    if (open && shares === null) void load();
  }, [open, shares, load]);

  const create = async () => {
    setError("");
    const res = await fetch(api, { method: "POST", headers: JSON_TYPE });
    if (!res.ok) return setError(await errorText(res));
    const made = (await res.json()) as Share;
    setShares((s) => [...(s ?? []), made]);
  };

  const revoke = async (token: string) => {
    setError("");
    const res = await fetch(`/api/v1/shares/${encodeURIComponent(token)}`, { method: "DELETE", headers: JSON_TYPE });
    if (!res.ok && res.status !== 404) return setError(await errorText(res));
    setShares((s) => (s ?? []).filter((x) => x.token !== token));
  };

  const link = (s: Share) => (typeof window === "undefined" ? s.url : new URL(s.url, window.location.origin).href);

  const copy = async (s: Share) => {
    try {
      await navigator.clipboard.writeText(link(s));
      setCopied(s.token);
    } catch {
      setCopied(""); // no clipboard (plain http): the field is selected for a manual copy
    }
  };

  return (
    <details className="share-menu" onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary>Share</summary>
      <div className="share-body">
        <p className="muted small">A link opens a read-only view of this run, live, and nothing else of the dashboard. Revoke it to close it.</p>
        {shares && shares.length > 0 && (
          <ul className="share-list">
            {shares.map((s) => (
              <li key={s.token} data-share={s.token}>
                <input readOnly value={link(s)} aria-label="shared link" onFocus={(e) => e.target.select()} />
                <button type="button" onClick={() => void copy(s)}>
                  {copied === s.token ? "copied" : "copy"}
                </button>
                <button type="button" className="danger" onClick={() => void revoke(s.token)}>
                  revoke
                </button>
                <span className="muted small">
                  made <LocalTime t={s.createdAt} />
                </span>
              </li>
            ))}
          </ul>
        )}
        <button type="button" onClick={() => void create()}>
          {shares?.length ? "Create another link" : "Create a link"}
        </button>
        {error && <p className="error small">{error}</p>}
      </div>
    </details>
  );
}
