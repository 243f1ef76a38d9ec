import { registerIngestHooks } from "../ingest/hooks";
import { onRunLifecycle } from "../runs/lifecycle";
import { afterBatch, finalEvaluation, forgetRun, takeAlerts } from "./watch-runs";

// Wires the babysitter into ingest and the runs' lifecycle (lib/runs never imports lib/alerts).
// Imported by the routes that ingest, create or finish; registering again (another route bundle)
// replaces, so hooks run once.
registerIngestHooks("alerts", { afterBatch, takeAlerts });
onRunLifecycle("alerts", { resumed: forgetRun, finished: finalEvaluation, deleted: forgetRun });
