import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LIMITS } from "../../lib/contract/limits";
import { type TestServer, api, startServer } from "../helpers/server";

// A new user's runs-list queries (issue #9 §4, second review): `?metric.val/acc=0.9..1` and
// `?minValue=1` answered every run, as the list ignored parameters it did not know. Unknown
// parameters are now refused by name, and metric.<key>[:last|:min|:max]=lo..hi filters exist.

describe("runs list query", () => {
  let server: TestServer;
  const call = (method: string, p: string, body?: unknown) => api(server.url, method, p, body);
  const ids = new Map<string, string>();
  const names = async (q: string) => {
    const r = await call("GET", `/api/v1/runs?project=mf&${q}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return (r.body.runs as { name: string }[]).map((x) => x.name).sort();
  };

  beforeAll(async () => {
    server = await startServer();
    // val/acc series: a (0.5 -> 0.95, max 0.95), b (0.97 -> 0.8, max 0.97), c ("NaN" last, max 0.92),
    // d (no val/acc); a and b finished (their points compacted), c and d still live
    const runs: [string, (number | string)[], boolean][] = [
      ["a", [0.5, 0.95], true],
      ["b", [0.97, 0.8], true],
      ["c", [0.92, "NaN"], false],
      ["d", [], false],
    ];
    for (const [name, accs, finish] of runs) {
      const r = await call("POST", "/api/v1/runs", { project: "mf", name, config: { lr: 0.1 } });
      ids.set(name, r.body.id);
      const rows = accs.map((v, step) => ({ step, metrics: { "val/acc": v, "train/loss": 1 / (step + 1), "odd:max": step } }));
      if (!rows.length) rows.push({ step: 0, metrics: { "train/loss": 1 } as never });
      expect((await call("POST", `/api/v1/runs/${r.body.id}/log`, { seq: 0, rows })).status).toBe(200);
      if (finish) expect((await call("POST", `/api/v1/runs/${r.body.id}/finish`)).status).toBe(200);
    }
  });
  afterAll(async () => {
    await server?.stop();
  });

  test.each([
    ["metric.val/acc=0.9..1", ["a"]],
    ["metric.val/acc:last=0.9..1", ["a"]],
    ["metric.val/acc=0.9..", ["a"]],
    ["metric.val/acc=..0.9", ["b"]],
    ["metric.val/acc=0.95", ["a"]],
    ["metric.val/acc:max=0.9..1", ["a", "b", "c"]],
    ["metric.val/acc:max=0.96..", ["b"]],
    ["metric.val/acc:min=..0.6", ["a"]],
    ["metric.val/acc:max=0.9..&metric.val/acc=0.9..", ["a"]],
    ["metric.val/acc:max=0.9..&config.lr=0.1&sort=-metric&sortKey=val/acc&sortAgg=max", ["a", "b", "c"]],
    ["metric.train/loss=..2", ["a", "b", "c", "d"]],
    ["metric.nope=0..1", []],
    // one trailing :last/:min/:max is the summary; a key ending in one is written with another
    ["metric.odd:max:last=1", ["a", "b", "c"]],
    ["metric.odd:max=1", []],
  ])("?%s lists %j", async (q, expected) => {
    expect(await names(q)).toEqual(expected);
  });

  test("a live run's metric filter reads its newest points, not only compacted ones", async () => {
    const d = ids.get("d")!;
    expect(await names("metric.val/acc=0.9..1")).not.toContain("d");
    expect((await call("POST", `/api/v1/runs/${d}/log`, { seq: 1, rows: [{ step: 1, metrics: { "val/acc": 0.99 } }] })).status).toBe(200);
    expect(await names("metric.val/acc=0.9..1")).toEqual(["a", "d"]);
  });

  test.each([
    ["minValue=1", '"minValue" is not a runs-list parameter'],
    ["metrics.val/acc=0.9..1", '"metrics.val/acc" is not a runs-list parameter'],
    ["Project=mf", '"Project" is not a runs-list parameter'],
    ["sortkey=lr", '"sortkey" is not a runs-list parameter'],
    ["constructor=1", '"constructor" is not a runs-list parameter'],
    ["cols=[]", '"cols" is not a runs-list parameter'],
    ["metric.val/acc=high", '"metric.val/acc" must be a range of numbers'],
    ["metric.val/acc=1..0.9", '"metric.val/acc" must be a range from low to high'],
    ["metric.val/acc=..", '"metric.val/acc" must be a range of numbers'],
    ["metric.val/acc=true", '"metric.val/acc" must be a range of numbers'],
    ["metric.val/acc=", '"metric.val/acc" must have a value'],
    ["metric.=0..1", '"metric." names no usable metric key'],
    ["metric.:max=0..1", '"metric.:max" names no usable metric key'],
    ["metric.val/acc=1e999..", '"metric.val/acc" must be a range of numbers'],
  ])("?%s -> 400 invalid_query naming it", async (q, message) => {
    const r = await call("GET", `/api/v1/runs?${q}`);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("invalid_query");
    expect(r.body.error.message).toContain(message);
  });

  test(`at most runMetricFiltersMax (${LIMITS.runMetricFiltersMax.value}) metric filters`, async () => {
    const n = LIMITS.runMetricFiltersMax.value;
    const q = (k: number) => Array.from({ length: k }, (_, i) => `metric.k${i}=0..1`).join("&");
    expect((await call("GET", `/api/v1/runs?${q(n)}`)).status).toBe(200);
    const r = await call("GET", `/api/v1/runs?${q(n + 1)}`);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("invalid_query");
    expect(r.body.error.message).toContain("one metric filter too many");
  });

  test("a metric key is data: quotes and SQL in it match only a key so named", async () => {
    const key = "x' OR 1=1 --";
    expect(await names(`metric.${encodeURIComponent(key)}=0..`)).toEqual([]);
  });
});
