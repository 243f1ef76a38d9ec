// Process-wide hooks shared by all runs of a process (one listener each, however many runs).
//
// - beforeExit: the script ran to its end without calling finish(); finish for it, as wandb and
//   trackio do. The pending requests keep the event loop alive until finish() resolves.
// - exit: the process is going down (process.exit(), an uncaught exception) and no network is
//   possible any more; write every unsent batch to the spool file synchronously.
// No signal handlers: a listener for SIGINT would make a synchronous training loop deaf to Ctrl-C.

export interface Tracked {
  autoFinish(): void;
  emergencySpool(): void;
}

const active = new Set<Tracked>();
let installed = false;

function onBeforeExit(): void {
  for (const run of [...active]) run.autoFinish();
}

function onExit(): void {
  for (const run of [...active]) run.emergencySpool();
}

export function track(run: Tracked): void {
  active.add(run);
  if (installed) return;
  process.on("beforeExit", onBeforeExit);
  process.on("exit", onExit);
  installed = true;
}

export function untrack(run: Tracked): void {
  active.delete(run);
  if (!installed || active.size > 0) return;
  process.off("beforeExit", onBeforeExit);
  process.off("exit", onExit);
  installed = false;
}
