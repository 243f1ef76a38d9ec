import { registerIngestHooks } from "../ingest/hooks";
import { onRunFinished } from "../runs/finish-run";
import { afterBatch, finalEvaluation, takeAlerts } from "./watch-runs";

// Wires the babysitter into ingest and finish. Imported by the routes that ingest; registering
// again (another route bundle) replaces, so hooks run once.
registerIngestHooks("alerts", { afterBatch, takeAlerts });
onRunFinished("alerts", finalEvaluation);
