import { io as connect, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LIMITS, type LimitName } from "@/lib/contract/limits";
import { SOCKET_PATH } from "@/lib/contract/socket";
import { REFUSED_KEYS_LISTED } from "@/lib/ingest/admit-keys";
import { pngBase64 } from "../helpers/png";
import { type TestServer, api, startServer, waitFor } from "../helpers/server";

// The per-run key limits (keysPerRun, histogramKeysPerRun, imageKeysPerRun): a batch that would
// bring a run past one is not refused whole. Everything of the keys the run has is stored, new keys
// are taken in the batch's order while there is room, and only the items of new keys beyond the
// limit are refused, counted and named in the answer's `refused`. Nothing refused is stored, pushed
// live, or counted in `accepted`.

let server: TestServer;
const sockets: Socket[] = [];
const call = (method: string, p: string, body?: unknown) => api(server.url, method, p, body);

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.stop();
});

type Kind = "metric" | "histogram" | "image";
const PNG = pngBase64(1, 1);

/** A batch logging each key once at each step: metric points, histograms or image events. */
function items(kind: Kind, keys: string[], steps: number[]): Record<string, unknown[]> {
  if (kind === "metric") return { rows: steps.map((step) => ({ step, metrics: Object.fromEntries(keys.map((k, i) => [k, i + step])) })) };
  if (kind === "histogram") return { histograms: steps.flatMap((step) => keys.map((key) => ({ step, key, edges: [0, 1], counts: [step + 1] }))) };
  return { events: steps.flatMap((step) => keys.map((key) => ({ type: "image", step, data: { key, width: 1, height: 1, png_base64: PNG } }))) };
}

/** Per batch, at most this many keys of a kind (a batch's own limits). */
const PER_BATCH: Record<Kind, number> = {
  metric: LIMITS.keysPerRun.value,
  histogram: LIMITS.histogramsPerBatch.value,
  image: LIMITS.eventsPerBatch.value,
};
const LIMIT: Record<Kind, LimitName> = { metric: "keysPerRun", histogram: "histogramKeysPerRun", image: "imageKeysPerRun" };

async function newRun(name: string) {
  const r = await call("POST", "/api/v1/runs", { project: "run-keys", name });
  expect(r.status).toBe(201);
  return r.body.id as string;
}

async function log(id: string, body: Record<string, unknown>) {
  const r = await call("POST", `/api/v1/runs/${id}/log`, body);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body as {
    accepted: { points: number; histograms: number; events: number };
    duplicate: boolean;
    refused: null | { code: string; message: string; points: number; histograms: number; events: number; keys: string[] };
  };
}

/** The stored keys of a kind with their counts, as GET /api/v1/runs/{id} lists them. */
async function storedKeys(id: string, kind: Kind): Promise<Map<string, number>> {
  const r = await call("GET", `/api/v1/runs/${id}`);
  expect(r.status).toBe(200);
  const list = (kind === "metric" ? r.body.keys : kind === "histogram" ? r.body.histogramKeys : r.body.images) as { key: string; count: number }[];
  return new Map(list.map((k) => [k.key, k.count]));
}

/** Fills a run with `n` keys of a kind (each logged once at step 0), a few named like object members. */
async function fill(id: string, kind: Kind, n: number, names: string[], firstSeq = 0): Promise<number> {
  const keys = [...names, ...Array.from({ length: n - names.length }, (_, i) => `fill/${String(i).padStart(5, "0")}`)];
  let seq = firstSeq;
  for (let i = 0; i < n; i += PER_BATCH[kind]) {
    const b = await log(id, { seq: seq++, ...items(kind, keys.slice(i, i + PER_BATCH[kind]), [0]) });
    expect(b.refused).toBeNull();
  }
  return seq;
}

async function subscribe(id: string): Promise<Socket> {
  const s = connect(server.url, { path: SOCKET_PATH, transports: ["websocket"], forceNew: true });
  sockets.push(s);
  await new Promise<void>((resolve, reject) => {
    s.once("connect", () => resolve());
    s.once("connect_error", reject);
  });
  s.emit("subscribe", { run: id });
  // subscriptions are handled in order: once an unknown share is answered, the run's room is joined
  await new Promise<void>((resolve) => s.emit("subscribe", { share: "C".repeat(22) }) && s.once("share-revoked", () => resolve()));
  return s;
}

// keys the run already holds (named like object members too) and new ones, in the batch's order
const EXISTING = "isPrototypeOf";
const HELD = [EXISTING, "then", "toLocaleString", "length"];
const NEW = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"];

describe.each<[Kind]>([["metric"], ["histogram"], ["image"]])("%s keys", (kind) => {
  const limit = LIMITS[LIMIT[kind]].value;

  test(`a run 2 keys short of ${LIMIT[kind]} takes the first 2 new keys of a batch and refuses the rest, counted and named`, async () => {
    const id = await newRun(`${kind} at the limit`);
    let seq = await fill(id, kind, limit - 2, HELD);
    const s = await subscribe(id);
    const live: { event: string; keys: string[] }[] = [];
    s.on("points", (m: { series: Record<string, unknown> }) => live.push({ event: "points", keys: Object.keys(m.series) }));
    s.on("histogram", (m: { key: string }) => live.push({ event: "histogram", keys: [m.key] }));
    s.on("event", (m: { type: string; data: { key?: string } }) => live.push({ event: m.type, keys: m.data.key === undefined ? [] : [m.data.key] }));

    // two steps of the key the run has and of five new keys, with the training loss beside them
    const over = {
      seq: seq++,
      ...mergeBatches(items(kind, [EXISTING, ...NEW], [1, 2]), kind === "metric" ? {} : items("metric", ["train/loss"], [1, 2])),
    };
    const first = await log(id, over);
    const taken = 2 * (1 + 2); // the existing key and the first two new ones, at two steps
    const refusedItems = 2 * 3;
    expect(first.duplicate).toBe(false);
    expect(first.accepted).toEqual({
      points: kind === "metric" ? taken : 2,
      histograms: kind === "histogram" ? taken : 0,
      events: kind === "image" ? taken : 0,
    });
    expect(first.refused).toEqual({
      code: "too_many_keys",
      message: expect.stringContaining(LIMIT[kind]),
      points: kind === "metric" ? refusedItems : 0,
      histograms: kind === "histogram" ? refusedItems : 0,
      events: kind === "image" ? refusedItems : 0,
      keys: ["toString", "hasOwnProperty", "valueOf"],
    });
    expect(first.refused!.message).toContain(`at most ${limit} per run`);

    const stored = await storedKeys(id, kind);
    expect(stored.size).toBe(limit);
    expect([stored.get(EXISTING), stored.get("__proto__"), stored.get("constructor")]).toEqual([3, 2, 2]);
    for (const k of ["toString", "hasOwnProperty", "valueOf"]) expect(stored.has(k), k).toBe(false);
    if (kind !== "metric") expect((await storedKeys(id, "metric")).get("train/loss")).toBe(2);

    // at the limit: more of the keys it has are stored; new keys, even in a batch alone, are not
    const more = await log(id, { seq: seq++, ...items(kind, [EXISTING, "__proto__"], [3]) });
    expect(more.refused).toBeNull();
    expect(Object.values(more.accepted).reduce((a, b) => a + b)).toBe(2);
    const onlyNew = await log(id, { seq: seq++, ...items(kind, ["valueOf", "brand/new"], [4]) });
    expect(onlyNew.accepted).toEqual({ points: 0, histograms: 0, events: 0 });
    expect(onlyNew.refused).toMatchObject({ code: "too_many_keys", keys: ["valueOf", "brand/new"] });
    expect([...(await storedKeys(id, kind))].length).toBe(limit);

    // the same seq again stores nothing twice and answers as the first time
    const again = await log(id, over);
    expect(again.duplicate).toBe(true);
    expect(again.accepted).toEqual(first.accepted);
    expect({ ...again.refused, message: "" }).toEqual({ ...first.refused, message: "" });
    expect((await storedKeys(id, kind)).get(EXISTING)).toBe(4);

    // nothing refused went live: a last batch's points arrive after everything before them
    // (a metric key the run has, or a new one far from the metric limit)
    await log(id, { seq: seq++, rows: [{ step: 9, metrics: { toLocaleString: 1 } }] });
    await waitFor(() => live.some((l) => l.keys.length === 1 && l.keys[0] === "toLocaleString"), 10_000, "the last batch's points");
    const pushed = new Set(live.flatMap((l) => l.keys));
    for (const k of [EXISTING, "__proto__", "constructor"]) expect(pushed.has(k), k).toBe(true);
    for (const k of ["toString", "hasOwnProperty", "valueOf", "brand/new"]) expect(pushed.has(k), k).toBe(false);
  });
});

function mergeBatches(...parts: Record<string, unknown[]>[]) {
  const out: Record<string, unknown[]> = {};
  for (const p of parts) for (const [k, v] of Object.entries(p)) out[k] = [...(out[k] ?? []), ...v];
  return out;
}

describe("several limits in one batch", () => {
  test("each kind is counted on its own; the answer lists at most REFUSED_KEYS_LISTED names, in the batch's order", async () => {
    const id = await newRun("all kinds");
    const seq = await fill(id, "histogram", LIMITS.histogramKeysPerRun.value, HELD);
    await fill(id, "image", LIMITS.imageKeysPerRun.value, HELD, seq);
    const newHist = Array.from({ length: 15 }, (_, i) => `h/${i}`);
    const newImages = Array.from({ length: 15 }, (_, i) => `i/${i}`);
    const r = await log(id, {
      seq: 100,
      ...mergeBatches(
        items("metric", ["train/loss"], [1]),
        items("histogram", [EXISTING, ...newHist], [1]),
        items("image", [...newImages, EXISTING], [1]),
      ),
      events: [
        ...items("image", [...newImages, EXISTING], [1]).events,
        { type: "note", step: 1, data: { text: "events that are not images have no key limit" } },
      ],
    });
    expect(r.accepted).toEqual({ points: 1, histograms: 1, events: 2 });
    expect(r.refused).toEqual({
      code: "too_many_keys",
      message: expect.stringMatching(/histogramKeysPerRun.*imageKeysPerRun/),
      points: 0,
      histograms: 15,
      events: 15,
      keys: [...newHist, ...newImages].slice(0, REFUSED_KEYS_LISTED),
    });
  });

  test("a metric key named like a histogram key is a key of its own kind", async () => {
    const id = await newRun("same names");
    await fill(id, "histogram", LIMITS.histogramKeysPerRun.value, HELD);
    const r = await log(id, { seq: 100, ...mergeBatches(items("metric", ["h/new"], [1]), items("histogram", ["h/new"], [1])) });
    expect(r.accepted).toEqual({ points: 1, histograms: 0, events: 0 });
    expect(r.refused).toMatchObject({ points: 0, histograms: 1, keys: ["h/new"] });
  });
});

describe("the run page of a run with many keys", () => {
  test("renders the first block of charts and panels, not one per key family, and embeds no key's totals", async () => {
    const id = await newRun("families");
    // 300 families of 10 metric keys, 40 histogram keys, 40 image keys
    const metrics = Array.from({ length: 3000 }, (_, k) => `layer${String(Math.floor(k / 10)).padStart(3, "0")}/m${k % 10}`);
    await log(id, { seq: 0, ...items("metric", metrics, [0, 1]) });
    await log(id, { seq: 1, ...items("histogram", numbered("act/layer", 40), [0]) });
    await log(id, { seq: 2, ...items("image", numbered("samples/", 40), [0]) });
    for (const page of [`/runs/${id}`, `/share/${(await call("POST", `/api/v1/runs/${id}/shares`)).body.token}`]) {
      const res = await fetch(server.url + page);
      expect(res.status).toBe(200);
      const html = await res.text();
      const count = (attr: string) => html.split(attr).length - 1;
      // one lazy block (12) per grid at most is in the HTML; the rest mount near the viewport
      expect(count('data-chart="'), page).toBeLessThanOrEqual(12);
      expect(count('data-chart="'), page).toBeGreaterThan(0);
      expect(count('data-histogram="'), page).toBeLessThanOrEqual(12);
      expect(count('data-image="'), page).toBeLessThanOrEqual(12);
      for (const field of ["lastValue", "nonFinite"]) expect(html.includes(field), `${page} embeds ${field}`).toBe(false);
      expect(html).toContain("layer299/m9"); // every key is still known to the page
    }
    // the API keeps every field
    const api = await call("GET", `/api/v1/runs/${id}`);
    expect(api.body.keys[0]).toEqual({
      key: expect.any(String),
      count: 2,
      firstStep: 0,
      lastStep: 1,
      lastValue: expect.anything(),
      min: expect.anything(),
      max: expect.anything(),
      nonFinite: 0,
    });
  });
});

function numbered(prefix: string, n: number) {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`);
}
