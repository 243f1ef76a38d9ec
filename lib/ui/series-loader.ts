import { LIMITS } from "../contract/limits";
import { errorText } from "./api-error";
import type { WireSeries } from "./series";

// The run page's one way to read series. Charts ask for their keys as they come into view; the
// asks of one moment are merged into few `keys=` requests (bounded in keys, in URL bytes and in
// buckets per response, so no response takes long to parse), a few requests are out at once
// (the browser's per-host connections stay free for the socket and the page), and a request that
// fails for a passing reason (network, 5xx, 429) is retried with backoff before the charts it
// serves are told. With 2,000 charts asking at once this is 2,000 / 100 requests at most, not 2,000.

export type Range = { from: number; to: number };

export interface LoaderOptions {
  fetch?: (url: string) => Promise<Response>;
  /** Requests in flight at once. */
  concurrency?: number;
  /** Attempts per request before its charts get the error (the first one included). */
  attempts?: number;
  /** Wait before retry n (1-based), in ms. */
  backoffMs?: (retry: number) => number;
  /** Most buckets one response may carry (keys x points). */
  maxBuckets?: number;
  /** How long asks are gathered before the first request goes out, in ms. */
  gatherMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

interface Waiter {
  resolve: (s: WireSeries | null) => void;
  reject: (e: Error) => void;
}

interface Job {
  base: string;
  keys: string[];
  /** `&points=…[&from=…&to=…]` */
  tail: string;
  waiters: Map<string, Waiter[]>;
}

/** An error the loader gave up on: `retryable` says whether asking again later may help. */
export class SeriesLoadError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Splits keys into batches whose `keys=` request stays within the key, URL and bucket limits. */
export function batchKeys(
  keys: readonly string[],
  fixedBytes: number,
  opts: { maxKeys: number; maxUrlBytes: number; maxBatchKeys: number },
): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let bytes = fixedBytes;
  const cap = Math.max(1, Math.min(opts.maxKeys, opts.maxBatchKeys));
  for (const k of keys) {
    const len = encodeURIComponent(k).length + 1;
    if (cur.length && (cur.length >= cap || bytes + len > opts.maxUrlBytes)) {
      out.push(cur);
      cur = [];
      bytes = fixedBytes;
    }
    cur.push(k);
    bytes += len;
  }
  if (cur.length) out.push(cur);
  return out;
}

export class SeriesLoader {
  private readonly fetch: (url: string) => Promise<Response>;
  private readonly concurrency: number;
  private readonly attempts: number;
  private readonly backoffMs: (retry: number) => number;
  private readonly maxBuckets: number;
  private readonly gatherMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Asks not yet sent, by base + tail, keys in the order first asked. */
  private asks = new Map<string, Job>();
  private queue: Job[] = [];
  private running = 0;
  private gathering = false;

  constructor(opts: LoaderOptions = {}) {
    this.fetch = opts.fetch ?? ((u) => fetch(u));
    this.concurrency = opts.concurrency ?? 4;
    this.attempts = opts.attempts ?? 4;
    this.backoffMs = opts.backoffMs ?? ((n) => 400 * 2 ** (n - 1) * (0.75 + Math.random() / 2));
    this.maxBuckets = opts.maxBuckets ?? 20_000;
    this.gatherMs = opts.gatherMs ?? 16;
    this.sleep = opts.sleep ?? sleep;
  }

  /**
   * The series of `keys` of the run whose API is `base` (e.g. /api/v1/runs/<id>), each as at most
   * `points` buckets over `range`, in the order asked; null for a key the run does not have.
   */
  load(base: string, keys: readonly string[], points: number, range: Range | null): Promise<(WireSeries | null)[]> {
    const tail = `&points=${points}${range ? `&from=${range.from}&to=${range.to}` : ""}`;
    const id = `${base}\u0000${tail}`;
    let job = this.asks.get(id);
    if (!job) {
      job = { base, keys: [], tail, waiters: new Map() };
      this.asks.set(id, job);
    }
    const j = job;
    const got = keys.map(
      (k) =>
        new Promise<WireSeries | null>((resolve, reject) => {
          const ws = j.waiters.get(k);
          if (ws) ws.push({ resolve, reject });
          else {
            j.waiters.set(k, [{ resolve, reject }]);
            j.keys.push(k);
          }
        }),
    );
    this.gather();
    return Promise.all(got);
  }

  private gather(): void {
    if (this.gathering) return;
    this.gathering = true;
    void this.sleep(this.gatherMs).then(() => {
      this.gathering = false;
      for (const job of this.asks.values()) this.split(job);
      this.asks.clear();
      this.pump();
    });
  }

  /** One job per request: keys with a comma go alone (keys= splits on commas), the rest in batches. */
  private split(job: Job): void {
    const points = Number(/points=(\d+)/.exec(job.tail)![1]);
    const plain = job.keys.filter((k) => !k.includes(","));
    const fixed = `${job.base}/series?keys=`.length + job.tail.length;
    const batches = batchKeys(plain, fixed, {
      maxKeys: LIMITS.seriesKeysPerRequest.value,
      maxUrlBytes: LIMITS.urlBytesMax.value,
      maxBatchKeys: Math.floor(this.maxBuckets / Math.max(1, points)),
    });
    for (const k of job.keys.filter((k) => k.includes(","))) batches.push([k]);
    for (const keys of batches) this.queue.push({ ...job, keys, waiters: new Map(keys.map((k) => [k, job.waiters.get(k)!])) });
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length) {
      const job = this.queue.shift()!;
      this.running++;
      void this.run(job).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async run(job: Job): Promise<void> {
    const single = job.keys.length === 1 && job.keys[0].includes(",");
    const url = single
      ? `${job.base}/series?key=${encodeURIComponent(job.keys[0])}${job.tail}`
      : `${job.base}/series?keys=${job.keys.map(encodeURIComponent).join(",")}${job.tail}`;
    let last: SeriesLoadError = new SeriesLoadError("not loaded", true);
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      if (attempt > 1) await this.sleep(this.backoffMs(attempt - 1));
      try {
        const res = await this.fetch(url);
        if (res.ok) {
          const body = (await res.json()) as WireSeries | { series: WireSeries[] };
          const got = new Map<string, WireSeries>();
          for (const s of "series" in body ? body.series : [body]) got.set(s.key, s);
          for (const k of job.keys) for (const w of job.waiters.get(k)!) w.resolve(got.get(k) ?? null);
          return;
        }
        const text = await errorText(res);
        if (res.status === 404 && job.keys.length > 1) {
          // one key the run does not have (any more) fails the whole batch: ask key by key
          for (const k of job.keys) this.queue.push({ ...job, keys: [k], waiters: new Map([[k, job.waiters.get(k)!]]) });
          return;
        }
        if (res.status === 404) {
          for (const w of job.waiters.get(job.keys[0])!) w.resolve(null);
          return;
        }
        const passing = res.status >= 500 || res.status === 429 || res.status === 408;
        last = new SeriesLoadError(text, passing);
        if (!passing) break;
      } catch (e) {
        last = new SeriesLoadError((e as Error).message || "network error", true);
      }
    }
    for (const ws of job.waiters.values()) for (const w of ws) w.reject(last);
  }
}
