// The runs list's messages for bulk actions that were refused in part or in whole. The API names
// runs by id (an id is unique, a name need not be); the page knows the names, and people know runs
// by name, so the message names them (with the owner, who can act on them), and says that the
// selection is kept as it was.

export interface PickedRun {
  id: string;
  name: string;
  owner?: string | null;
}

const label = (r: PickedRun) => `"${r.name}"${r.owner === undefined ? "" : r.owner ? ` (owner ${r.owner})` : " (no owner)"}`;

/**
 * A 403 of POST /api/v1/runs/bulk: "<k> of the <n> runs are refused (<why>): id1, id2[ and N more];
 * nothing was changed" (lib/auth/run-access.ts), retold with the picked runs' names.
 */
export function bulkRefusal(message: string, picked: readonly PickedRun[]): string {
  const byId = new Map(picked.map((r) => [r.id, r]));
  const end = message.lastIndexOf("; nothing was changed");
  const start = message.lastIndexOf("): ", end < 0 ? undefined : end);
  if (end < 0 || start < 0) return message;
  const why = message.slice(0, start + 1);
  let list = message.slice(start + 3, end);
  const more = / and (\d+) more$/.exec(list);
  if (more) list = list.slice(0, more.index);
  const named = list.split(", ").map((id) => {
    const r = byId.get(id);
    return r ? label(r) : id;
  });
  return `Nothing was changed: ${why}: ${named.join(", ")}${more ? ` and ${more[1]} more` : ""}. They are still selected: unselect them to go on with the others.`;
}

/** Per-run failures in a bulk answer (e.g. a run deleted meanwhile): each by name, with its reason. */
export function bulkFailures(results: readonly { id: string; ok: boolean; error?: { message: string } }[], picked: readonly PickedRun[]): string {
  const byId = new Map(picked.map((r) => [r.id, r]));
  const failed = results.filter((r) => !r.ok);
  if (!failed.length) return "";
  const parts = failed.map((f) => {
    const r = byId.get(f.id);
    return `${r ? label(r) : f.id}: ${f.error?.message ?? "not done"}`;
  });
  return `${failed.length} of ${results.length} not done: ${parts.join("; ")}`;
}
