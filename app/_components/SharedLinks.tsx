"use client";

import { useCallback, useEffect, useState } from "react";
import type { ShareListItem } from "@/lib/shares/list-all-shares";
import { UNREACHABLE, errorText, tryFetch, tryJson } from "@/lib/ui/api-error";
import { LocalTime } from "./bits";

// /account's "Shared links": every link on the server for an admin, one's own for a member
// (GET /api/v1/shares), with what each opens and a revoke button (the run's own revocation route).
// Tokens are never shown: the server has only their hashes.

export default function SharedLinks({ admin }: { admin: boolean }) {
  const [shares, setShares] = useState<ShareListItem[] | null>(null);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState("");
  const load = useCallback(async () => {
    const res = await tryFetch("/api/v1/shares");
    if (!res) return setError(UNREACHABLE);
    if (!res.ok) return setError(await errorText(res));
    const body = await tryJson<{ shares: ShareListItem[]; total: number }>(res);
    if (!body) return setError(UNREACHABLE);
    setError("");
    setShares(body.shares);
    setTotal(body.total);
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const revoke = async (s: ShareListItem) => {
    // typed as JSON like every write, though it has no body
    const res = await tryFetch(`/api/v1/runs/${encodeURIComponent(s.runId)}/shares/${s.id}`, {
      method: "DELETE",
      headers: { "content-type": "application/json" },
    });
    if (!res) return setError(UNREACHABLE);
    if (!res.ok && res.status !== 404) return setError(await errorText(res));
    void load();
  };

  return (
    <section aria-label="shared links">
      <h2>Shared links</h2>
      <p style={{ color: "#6b7280" }}>
        {admin ? "Every read-only link on this server" : "The read-only links you made"}: each opens one run to whoever holds it, until it expires or
        is revoked.
      </p>
      {error && <p role="alert">{error}</p>}
      {shares && shares.length === 0 && <p className="muted">No shared links.</p>}
      {shares && shares.length > 0 && (
        <table className="share-admin-list">
          <thead>
            <tr>
              <th>run</th>
              <th>link</th>
              <th>made by</th>
              <th>made</th>
              <th>expires</th>
              <th>last opened</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {shares.map((s) => (
              <tr key={s.id} data-share={s.id}>
                <td>
                  <a href={`/runs/${encodeURIComponent(s.runId)}`}>
                    <bdi>{s.runName}</bdi>
                  </a>{" "}
                  <span className="muted small">
                    (<bdi>{s.project}</bdi>)
                  </span>
                </td>
                <td>
                  <code>{s.prefix}…</code>
                </td>
                <td>{s.createdBy === null ? "local user" : <bdi>{s.createdBy}</bdi>}</td>
                <td>
                  <LocalTime t={s.createdAt} />
                </td>
                <td>
                  {s.expiresAt === null ? (
                    "never"
                  ) : (
                    <>
                      {s.expired ? "expired " : ""}
                      <LocalTime t={s.expiresAt} />
                    </>
                  )}
                </td>
                <td>{s.lastOpenedAt === null ? "never" : <LocalTime t={s.lastOpenedAt} />}</td>
                <td>
                  <button type="button" onClick={() => void revoke(s)} aria-label={`revoke link ${s.prefix}`}>
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {shares && total > shares.length && (
        <p className="muted small">
          Showing the newest {shares.length} of {total}.
        </p>
      )}
    </section>
  );
}
