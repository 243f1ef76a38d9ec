import { describe, expect, test } from "vitest";
import { LIMITS } from "../../../lib/contract/limits";
import { SeriesLoadError, SeriesLoader, batchKeys } from "../../../lib/ui/series-loader";

// The run page's batched, bounded, retrying series reads, against a fake server.

const series = (key: string) => ({ key, from: 0, to: 0, exact: true, buckets: [] });

/** A fake API: answers keys= and key= from `known`, failing the first `failures` calls with `failStatus`. */
function fakeServer(known: Set<string>, opts: { failures?: number; failStatus?: number; throwing?: boolean } = {}) {
  const urls: string[] = [];
  let failures = opts.failures ?? 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const fetch = async (url: string): Promise<Response> => {
    urls.push(url);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, 1));
    inFlight--;
    if (failures > 0) {
      failures--;
      if (opts.throwing) throw new TypeError("Failed to fetch");
      return Response.json({ error: { code: "internal", message: "boom" } }, { status: opts.failStatus ?? 500 });
    }
    const q = new URL(url, "http://x").searchParams;
    const keys = q.has("key") ? [q.get("key")!] : q.get("keys")!.split(",");
    const missing = keys.find((k) => !known.has(k));
    if (missing !== undefined) return Response.json({ error: { code: "not_found", message: `no series "${missing}"` } }, { status: 404 });
    return Response.json(q.has("key") ? series(keys[0]) : { series: keys.map(series) });
  };
  /** The failures stop: later calls are answered. */
  const heal = () => void (failures = 0);
  return { fetch, urls, maxInFlight: () => maxInFlight, heal };
}

const noWait = { sleep: async () => {}, backoffMs: () => 0 };

describe("SeriesLoader", () => {
  test("2,000 charts asking at once: few requests, each within the key limit, every chart answered", async () => {
    const keys = Array.from({ length: 2000 }, (_, i) => `m/${i}`);
    const srv = fakeServer(new Set(keys));
    const loader = new SeriesLoader({ fetch: srv.fetch, gatherMs: 0 });
    const got = await Promise.all(keys.map((k) => loader.load("/api/v1/runs/r", [k], 50, null)));
    expect(got.map((g) => g[0]?.key)).toEqual(keys);
    expect(srv.urls.length).toBe(2000 / LIMITS.seriesKeysPerRequest.value);
    expect(srv.maxInFlight()).toBeLessThanOrEqual(4);
    for (const u of srv.urls) expect(u.length).toBeLessThanOrEqual(LIMITS.urlBytesMax.value);
  });

  test("a key with a comma goes alone with key=; a key the run lacks answers null, the rest of its batch loads", async () => {
    const srv = fakeServer(new Set(["a", "b,c", "d"]));
    const loader = new SeriesLoader({ fetch: srv.fetch, ...noWait });
    const got = await loader.load("/api/v1/runs/r", ["a", "b,c", "gone", "d"], 100, { from: 5, to: 9 });
    expect(got.map((g) => g?.key ?? null)).toEqual(["a", "b,c", null, "d"]);
    expect(srv.urls).toContain(`/api/v1/runs/r/series?key=${encodeURIComponent("b,c")}&points=100&from=5&to=9`);
  });

  test.each([
    ["HTTP 500", { failStatus: 500 }],
    ["HTTP 503", { failStatus: 503 }],
    ["HTTP 429", { failStatus: 429 }],
    ["a network error", { throwing: true }],
  ])("%s that passes is retried and the chart loads", async (_what, o) => {
    const srv = fakeServer(new Set(["a"]), { failures: 2, ...o });
    const loader = new SeriesLoader({ fetch: srv.fetch, ...noWait });
    expect((await loader.load("/r", ["a"], 10, null))[0]?.key).toBe("a");
    expect(srv.urls).toHaveLength(3);
  });

  test("a failure that keeps on is given to the chart after the last attempt, with backoff between", async () => {
    const srv = fakeServer(new Set(["a"]), { failures: 99 });
    const waits: number[] = [];
    const loader = new SeriesLoader({ fetch: srv.fetch, attempts: 4, backoffMs: (n) => 100 * 2 ** n, sleep: async (ms) => void waits.push(ms) });
    const err = await loader.load("/r", ["a"], 10, null).catch((e) => e);
    expect(err).toBeInstanceOf(SeriesLoadError);
    expect(err.message).toBe("boom");
    expect(srv.urls).toHaveLength(4);
    expect(waits.filter((w) => w >= 100)).toEqual([200, 400, 800]);
    // asking the same loader again (the chart's retry button) starts afresh: a new request, which loads
    srv.heal();
    expect((await loader.load("/r", ["a"], 10, null))[0]?.key).toBe("a");
    expect(srv.urls).toHaveLength(5);
    expect(srv.urls[4]).toBe(srv.urls[0]);
  });

  test("a 400 is not retried", async () => {
    const srv = fakeServer(new Set(["a"]), { failures: 1, failStatus: 400 });
    const loader = new SeriesLoader({ fetch: srv.fetch, ...noWait });
    const err = await loader.load("/r", ["a"], 10, null).catch((e) => e);
    expect(err.retryable).toBe(false);
    expect(srv.urls).toHaveLength(1);
  });

  test("two charts asking for the same key share one request", async () => {
    const srv = fakeServer(new Set(["a", "b"]));
    const loader = new SeriesLoader({ fetch: srv.fetch, gatherMs: 0 });
    const [x, y] = await Promise.all([loader.load("/r", ["a", "b"], 10, null), loader.load("/r", ["a"], 10, null)]);
    expect(x.map((s) => s?.key)).toEqual(["a", "b"]);
    expect(y[0]?.key).toBe("a");
    expect(srv.urls).toEqual(["/r/series?keys=a,b&points=10"]);
  });
});

describe("batchKeys", () => {
  const opts = { maxKeys: 100, maxUrlBytes: 8192, maxBatchKeys: 1000 };
  test.each([
    ["ASCII keys, key limit", Array.from({ length: 250 }, (_, i) => `k${i}`), [100, 100, 50]],
    ["long astral keys, URL limit", Array.from({ length: 10 }, () => "🚀".repeat(200)), [3, 3, 3, 1]],
    ["one key", ["x"], [1]],
    ["no keys", [], []],
  ])("%s", (_what, keys, sizes) => {
    const bs = batchKeys(keys, 40, opts);
    expect(bs.map((b) => b.length)).toEqual(sizes);
    expect(bs.flat()).toEqual(keys);
    for (const b of bs)
      if (b.length > 1) expect(40 + b.map((k) => encodeURIComponent(k).length + 1).reduce((a, c) => a + c, 0)).toBeLessThanOrEqual(8192);
  });
  test("the bucket bound shrinks batches of long series", () => {
    expect(
      batchKeys(
        Array.from({ length: 10 }, (_, i) => `k${i}`),
        0,
        { ...opts, maxBatchKeys: 4 },
      ).map((b) => b.length),
    ).toEqual([4, 4, 2]);
  });
});
