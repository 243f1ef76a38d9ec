import type { AlertView } from "./alert-view";

// Critical alerts can also go to a webhook (BABYSIT_WEBHOOK_URL), e.g. a chat channel's incoming
// hook. Fire and forget: a slow or broken hook never holds up ingest.

export function notifyWebhook(runId: string, runName: string, alert: AlertView): void {
  const url = process.env.BABYSIT_WEBHOOK_URL;
  if (!url || alert.severity !== "critical") return;
  const base = process.env.BABYSIT_PUBLIC_URL ?? "";
  const body = {
    text: `babysit [${alert.severity}] ${runName}: ${alert.title} (step ${alert.firstStep})`,
    run: { id: runId, name: runName, url: `${base}/runs/${runId}` },
    alert,
  };
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  }).catch((e: unknown) => console.warn(`babysit: webhook ${url} failed: ${(e as Error).message}`));
}
