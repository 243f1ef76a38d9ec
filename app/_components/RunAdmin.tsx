"use client";

import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import type { RunView as Run } from "@/lib/ui/api-types";
import { ownerOnlyHint } from "@/lib/ui/owner-text";
import { UNREACHABLE, errorText, tryFetch, tryJson } from "@/lib/ui/api-error";

// The run page header's run management: rename inline, tags, notes (plain text, shown as text),
// archive and delete (asks first). Every change goes through PATCH/DELETE /api/v1/runs/{id}; the
// server's `run` / `run-deleted` events bring it to every other page open on the run or the list.

const JSON_TYPE = { "content-type": "application/json" };

async function patchRun(id: string, body: object): Promise<{ run?: Run; error?: string }> {
  const res = await tryFetch(`/api/v1/runs/${encodeURIComponent(id)}`, { method: "PATCH", headers: JSON_TYPE, body: JSON.stringify(body) });
  if (!res) return { error: UNREACHABLE };
  if (!res.ok) return { error: await errorText(res) };
  const got = await tryJson<{ run: Run }>(res);
  return got ? { run: got.run } : { error: UNREACHABLE };
}

/** The run's name as a heading, and an inline editor for it. */
export function RunName({ run, onChange }: { run: Run; onChange: (r: Run) => void }) {
  const [editing, setEditing] = useState<string | null>(null);
  const [error, setError] = useState("");
  const save = async () => {
    if (editing === null) return;
    if (editing.trim() === run.name) return setEditing(null);
    const r = await patchRun(run.id, { name: editing });
    if (r.error) return setError(r.error);
    setError("");
    setEditing(null);
    if (r.run) onChange(r.run);
  };
  if (editing === null)
    return (
      <>
        <h1>
          <bdi>{run.name}</bdi>
        </h1>
        <button type="button" className="link-button small" onClick={() => setEditing(run.name)} aria-label="rename run">
          rename
        </button>
      </>
    );
  return (
    <form
      className="rename"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <input
        value={editing}
        // biome-ignore lint/a11y/noAutofocus: the user just asked to edit this name
        autoFocus
        aria-label="run name"
        onChange={(e) => setEditing(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Escape") {
            setEditing(null);
            setError("");
          }
        }}
      />
      <button type="submit" className="button small">
        save
      </button>
      <button
        type="button"
        className="link-button small"
        onClick={() => {
          setEditing(null);
          setError("");
        }}
      >
        cancel
      </button>
      {error && (
        <span className="warn" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}

/** The accounts a run can be given to (GET /api/v1/users/names); null until known or when refused. */
function useAccountNames(on: boolean): { names: string[] | null; error: string } {
  const [names, setNames] = useState<string[] | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    if (!on) return;
    let live = true;
    void (async () => {
      const res = await tryFetch("/api/v1/users/names");
      if (!live) return;
      if (!res) return setError(UNREACHABLE);
      if (!res.ok) return setError(await errorText(res));
      const body = await tryJson<{ names: string[] }>(res);
      if (live && body) setNames(body.names);
    })();
    return () => {
      live = false;
    };
  }, [on]);
  return { names, error };
}

/**
 * "Give to": a picker of account names, a Give button, and a confirmation that says what the giver
 * loses (share, give and delete, unless an admin). The server decides anyway (PATCH owner).
 */
function GiveRun({ run, viewerIsAdmin, apply }: { run: Run; viewerIsAdmin: boolean; apply: (body: object) => Promise<boolean> }) {
  const router = useRouter();
  const { names, error } = useAccountNames(true);
  const [to, setTo] = useState("");
  const [confirming, setConfirming] = useState(false);
  const choices = (names ?? []).filter((n) => n !== run.owner);
  if (error) return <span className="muted small">give to: {error}</span>;
  if (confirming && to) {
    return (
      <span className="confirm" role="alertdialog" aria-label="confirm give">
        Give this run to <bdi>{to}</bdi>?{" "}
        {viewerIsAdmin
          ? `${to} becomes its owner; as an admin you keep every right on it.`
          : `You will no longer be able to share, give or delete it: only ${to} and admins will (you can still log to it and edit it). Only they can give it back.`}{" "}
        <button
          type="button"
          className="button small danger"
          data-testid="confirm-give"
          onClick={() =>
            // what the viewer may do changes with the owner: the page asks the server again
            void apply({ owner: to }).then((ok) => {
              setConfirming(false);
              if (!ok) return;
              setTo("");
              router.refresh();
            })
          }
        >
          give to <bdi>{to}</bdi>
        </button>{" "}
        <button type="button" className="link-button small" onClick={() => setConfirming(false)}>
          cancel
        </button>
      </span>
    );
  }
  return (
    <span className="give-run">
      <select value={to} onChange={(e) => setTo(e.target.value)} aria-label="give to" disabled={names === null}>
        <option value="">give to…</option>
        {choices.map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
      </select>{" "}
      <button type="button" className="button small" disabled={!to} onClick={() => setConfirming(true)} data-testid="give">
        Give
      </button>
    </span>
  );
}

/**
 * Tags, notes, archive and delete; on a team server also "give to" another owner. Delete and give
 * only for whoever may (`canAdminister`: the run's owner or an admin; the server decides anyway):
 * others see Delete greyed out, saying who may.
 */
export default function RunAdmin({
  run,
  canAdminister = true,
  team = false,
  viewerIsAdmin = false,
  onChange,
  onDeleted,
}: {
  run: Run;
  canAdminister?: boolean;
  team?: boolean;
  viewerIsAdmin?: boolean;
  onChange: (r: Run) => void;
  onDeleted: () => void;
}) {
  const [tag, setTag] = useState("");
  const [notes, setNotes] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState("");
  const tags = run.tags ?? [];

  const apply = async (body: object) => {
    const r = await patchRun(run.id, body);
    if (r.error) {
      setError(r.error);
      return false;
    }
    setError("");
    if (r.run) onChange(r.run);
    return true;
  };
  const remove = async () => {
    const res = await tryFetch(`/api/v1/runs/${encodeURIComponent(run.id)}`, { method: "DELETE", headers: JSON_TYPE });
    if (!res) return setError(UNREACHABLE);
    if (!res.ok && res.status !== 404) return setError(await errorText(res));
    setConfirming(false);
    onDeleted();
  };

  return (
    <div className="run-admin">
      <div className="tags">
        {tags.map((t) => (
          <span key={t} className="badge tag" data-tag={t}>
            <bdi>{t}</bdi>
            <button
              type="button"
              className="link-button"
              aria-label={`remove tag ${t}`}
              onClick={() => void apply({ tags: tags.filter((x) => x !== t) })}
            >
              ×
            </button>
          </span>
        ))}
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (!tag.trim()) return;
            void apply({ tags: [...tags, tag] }).then((ok) => ok && setTag(""));
          }}
        >
          <input className="tag-input" value={tag} onChange={(e) => setTag(e.target.value)} placeholder="add tag" aria-label="add tag" />
        </form>
        <span className="grow" />
        <button type="button" className="button small" onClick={() => void apply({ archived: !run.archived })} data-testid="archive">
          {run.archived ? "unarchive" : "archive"}
        </button>
        {team && canAdminister && <GiveRun run={run} viewerIsAdmin={viewerIsAdmin} apply={apply} />}
        {!canAdminister ? (
          team && (
            <>
              <button type="button" className="button small danger" disabled title={ownerOnlyHint(run.owner, "delete")} data-testid="delete">
                delete
              </button>
              <span className="muted small" data-owner-only>
                {run.owner
                  ? `only the run's owner (${run.owner}) or an admin can share or delete this run`
                  : "only an admin can share or delete this run (it has no owner)"}
              </span>
            </>
          )
        ) : confirming ? (
          <span className="confirm" role="alertdialog" aria-label="confirm delete">
            Delete this run and all its data?{" "}
            <button type="button" className="button small danger" onClick={() => void remove()} data-testid="confirm-delete">
              delete
            </button>{" "}
            <button type="button" className="link-button small" onClick={() => setConfirming(false)}>
              cancel
            </button>
          </span>
        ) : (
          <button type="button" className="button small danger" onClick={() => setConfirming(true)} data-testid="delete">
            delete
          </button>
        )}
      </div>
      {run.archived && (
        <p className="muted" data-archived>
          Archived: hidden from the runs list unless archived runs are shown.
        </p>
      )}
      <details className="notes">
        <summary>notes{run.notes ? "" : " (none)"}</summary>
        {notes === null ? (
          <>
            {/* plain text, rendered as text (never as HTML) */}
            {run.notes ? <p className="notes-text">{run.notes}</p> : null}
            <button type="button" className="link-button small" onClick={() => setNotes(run.notes ?? "")}>
              edit notes
            </button>
          </>
        ) : (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void apply({ notes }).then((ok) => ok && setNotes(null));
            }}
          >
            <textarea value={notes} onChange={(e) => setNotes(e.target.value)} rows={4} aria-label="notes" />
            <div>
              <button type="submit" className="button small">
                save notes
              </button>{" "}
              <button type="button" className="link-button small" onClick={() => setNotes(null)}>
                cancel
              </button>
            </div>
          </form>
        )}
      </details>
      {error && (
        <p className="warn" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
