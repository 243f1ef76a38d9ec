// run.shouldStop(): asks GET /api/v1/runs/{id}/should-stop at most once a second (backing off while
// the server is away) and waits for the answer only briefly, so a training loop is never held up.
import { authHeaders } from "./transport.js";

/** What the server said last: whether to stop, why, and its evidence. */
export interface StopAnswer {
  stop: boolean;
  reason: string | null;
  evidence: Record<string, unknown>;
}

const MIN_INTERVAL_MS = 1000;
const MAX_BACKOFF_MS = 30_000;
const REQUEST_TIMEOUT_MS = 5000;

export class StopAsker {
  answer: StopAnswer = { stop: false, reason: null, evidence: {} };
  private askedAt = -Infinity;
  private failures = 0;
  private inflight: Promise<void> | null = null;

  constructor(private readonly baseUrl: string) {}

  async ask(runId: string, waitMs: number): Promise<boolean> {
    const gap = this.failures === 0 ? MIN_INTERVAL_MS : Math.min(MAX_BACKOFF_MS, 1000 * 2 ** this.failures);
    if (!this.inflight && Date.now() - this.askedAt >= gap) {
      this.askedAt = Date.now();
      this.inflight = this.fetch(runId).finally(() => {
        this.inflight = null;
      });
    }
    if (this.inflight && waitMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.inflight, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
      clearTimeout(timer);
    }
    return this.answer.stop;
  }

  private async fetch(runId: string): Promise<void> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    timer.unref();
    try {
      const res = await fetch(`${this.baseUrl}/api/v1/runs/${encodeURIComponent(runId)}/should-stop`, {
        headers: authHeaders(),
        signal: controller.signal,
      });
      const body = (await res.json().catch(() => null)) as Record<string, unknown> | null;
      if (res.status === 200 && body && typeof body.stop === "boolean") {
        const evidence = body.evidence;
        this.answer = {
          stop: body.stop,
          reason: typeof body.reason === "string" ? body.reason : null,
          evidence: evidence && typeof evidence === "object" && !Array.isArray(evidence) ? (evidence as Record<string, unknown>) : {},
        };
        this.failures = 0;
      } else if (res.status === 404) {
        this.failures = 0; // the run has not reached the server yet (spooled): nothing to stop
      } else {
        this.failures++;
      }
    } catch {
      this.failures++; // away, or no answer in time: false, asked again later
    } finally {
      clearTimeout(timer);
    }
  }
}
