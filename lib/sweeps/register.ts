import { registerIngestHooks } from "../ingest/hooks";
import { onRunLifecycle } from "../runs/lifecycle";
import { forgetRunSweep, runChanged } from "./live";

// Wires a sweep's live event (lib/sweeps/live.ts) into ingest and the runs' lifecycle: a trial's
// batch, end, alerts or deletion tell its sweep's room. Imported by server.ts (hooks live on
// globalThis, so route handlers' calls reach them); registering again replaces.
registerIngestHooks("sweeps", { afterBatch: (b) => runChanged(b.runId) });
onRunLifecycle("sweeps", {
  finished: (runId) => {
    runChanged(runId);
    return undefined;
  },
  alertsChanged: runChanged,
  deleted: (runId) => {
    runChanged(runId);
    forgetRunSweep(runId);
  },
});
