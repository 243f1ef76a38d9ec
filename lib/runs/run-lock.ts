// A run held by one writer while others wait: an import stores a big file in transactions of bounded
// size and lets other requests be answered between them (lib/import/import-file.ts), and meanwhile
// nothing else may write to or delete that run, or finish it: a log batch slipped between two of the
// import's transactions would share its seq numbers (and be taken for a duplicate) or its steps, and
// a finish would diagnose half a file. The other writers (the log route in server.ts, finish,
// delete, bulk delete) wait for `runFree` before they act; reading never waits.
//
// The map lives on globalThis: server.ts's own modules (the log route) and Next.js's bundle of the
// route handlers (the import) are separate module instances in one process.

const g = globalThis as unknown as { __babysitRunLocks?: Map<string, Promise<void>> };
const locks = (g.__babysitRunLocks ??= new Map());

/** Whether someone holds the run now: the writers' hot path pays one Map lookup. */
export function runBusy(runId: string): boolean {
  return locks.has(runId);
}

/** Resolves once no one holds the run; act on it in the same tick (synchronously) to keep it so. */
export async function runFree(runId: string): Promise<void> {
  for (let held = locks.get(runId); held; held = locks.get(runId)) await held;
}

/** Runs `fn` holding the run: every other writer's runFree waits until it has settled. */
export async function holdingRun<T>(runId: string, fn: () => Promise<T>): Promise<T> {
  await runFree(runId);
  let release = () => {};
  locks.set(
    runId,
    new Promise<void>((resolve) => {
      release = resolve;
    }),
  );
  try {
    return await fn();
  } finally {
    locks.delete(runId);
    release();
  }
}

/** Resolves once none of `ids` is held, all at the same time. */
export async function runsFree(ids: readonly string[]): Promise<void> {
  while (ids.some(runBusy)) await Promise.all(ids.map(runFree));
}
