// What other domains (the babysitter in lib/alerts) learn about a run's life, without lib/runs
// knowing them: they register here (lib/alerts/register.ts), lib/runs calls. Registering the same
// name again (another route bundle loading the module) replaces, so each hook runs once.

export interface RunLifecycleHooks {
  /** A run was resumed: its config (thresholds, key names) may have changed. */
  resumed?: (runId: string) => void;
  /** A run finished, before finish answers; what it returns (alerts not yet delivered) rides back to the SDK. */
  finished?: (runId: string) => unknown[] | undefined | Promise<unknown[] | undefined>;
  /** A run was deleted: whatever is kept in memory for it must go (and nothing written for it again). */
  deleted?: (runId: string) => void;
  /** The run's alerts changed (raised, escalated, resolved): its sweep's page hears it (lib/sweeps/live.ts). */
  alertsChanged?: (runId: string) => void;
}

const g = globalThis as unknown as { __babysitRunLifecycle?: Map<string, RunLifecycleHooks> };

function hooks(): Map<string, RunLifecycleHooks> {
  g.__babysitRunLifecycle ??= new Map();
  return g.__babysitRunLifecycle;
}

export function onRunLifecycle(name: string, h: RunLifecycleHooks): void {
  hooks().set(name, h);
}

export function runResumed(runId: string): void {
  for (const h of hooks().values()) h.resumed?.(runId);
}

export async function runFinished(runId: string): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const h of hooks().values()) out.push(...((await h.finished?.(runId)) ?? []));
  return out;
}

export function runDeleted(runId: string): void {
  for (const h of hooks().values()) h.deleted?.(runId);
}

export function runAlertsChanged(runId: string): void {
  for (const h of hooks().values()) h.alertsChanged?.(runId);
}
