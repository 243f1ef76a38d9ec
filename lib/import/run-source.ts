// The source that names an imported run to the server (the run's id is `imp-` + a hash of project
// and source), derived the same way by every importer: `babysit import` and `babysit watch`
// (plan.ts), the dashboard's drop (plan-paths.ts) and `python -m babysit import`
// (sdk/python/babysit/importer.py), so that the same logs make the same run whichever way they come
// (tests/lib/import/plan-paths.test.ts checks all three agree).
// - A TensorBoard run: `tfevents:` and the name of the first (by name) event file in the run's own
//   directory. TensorFlow and torch name each file `events.out.tfevents.<seconds>.<host>.<pid>.<n>`:
//   no other writer makes that name, it stays the first while the directory grows (a writer started
//   later writes a later time), and it is the same whether the run's directory was chosen itself,
//   with a folder above it, dropped on the dashboard or moved elsewhere.
// - Any other log file: `file:` and its path from the folder that was chosen, the folder's own name
//   first (`file:runs/healthy/log.txt`), or its own name when it was chosen alone: all that a
//   browser learns of a dropped file, and what a person calls it.

export const EVENTS_SOURCE_PREFIX = "tfevents:";
export const FILE_SOURCE_PREFIX = "file:";

/** A TensorBoard run's source, from the names of the event files in its own directory (not a sub-run's). */
export function eventRunSource(ownFileNames: readonly string[]): string {
  let first = ownFileNames[0];
  for (const n of ownFileNames) if (n < first) first = n;
  return EVENTS_SOURCE_PREFIX + first;
}

/** A log file's source, from its "/"-separated path from the chosen folder (the folder's name first), or its name. */
export function logFileSource(pathFromChosen: string): string {
  return FILE_SOURCE_PREFIX + pathFromChosen;
}
