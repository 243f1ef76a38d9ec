import net from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestServer, api, startServer } from "../helpers/server";

let server: TestServer;
const call = (method: string, p: string, body?: unknown, headers?: Record<string, string>) => api(server.url, method, p, body, headers);

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

async function newRun(extra: Record<string, unknown> = {}) {
  const r = await call("POST", "/api/v1/runs", { project: "api-tests", name: "r", config: { num_classes: 10 }, ...extra });
  expect([200, 201]).toContain(r.status);
  return r.body.id as string;
}

describe("runs", () => {
  test("create -> 201 with id and url; same id resumes -> 200 with merged config", async () => {
    const created = await call("POST", "/api/v1/runs", { project: "digits", name: "mlp", config: { lr: 0.1, num_classes: 10 }, id: "client-id-1" });
    expect(created).toEqual({
      status: 201,
      body: { id: "client-id-1", url: "/runs/client-id-1", project: "digits", name: "mlp", resumed: false, lastStep: null },
    });
    await call("POST", "/api/v1/runs/client-id-1/finish", { status: "crashed" });
    const resumed = await call("POST", "/api/v1/runs", { project: "digits", id: "client-id-1", config: { lr: 0.05 } });
    expect(resumed).toEqual({
      status: 200,
      body: { id: "client-id-1", url: "/runs/client-id-1", project: "digits", name: "mlp", resumed: true, lastStep: null },
    });
    const got = await call("GET", "/api/v1/runs/client-id-1");
    expect(got.body.run).toMatchObject({
      status: "running",
      name: "mlp",
      project: "digits",
      config: { lr: 0.05, num_classes: 10 },
      finishedAt: null,
    });
  });

  // Ids that share their start (the Python SDK's begin with the date and second) must not share a name.
  test.each([
    ["same date prefix", ["20261129-120000-aaaaaaaa", "20261129-120000-bbbbbbbb", "20261129-120000-cccccccc"]],
    ["same first six characters", ["abcdefXXXX1", "abcdefXXXX2"]],
    ["server-made ids", [undefined, undefined, undefined]],
  ])("unnamed runs get distinct readable names: %s", async (label, ids) => {
    const project = `names-${label.replace(/\W/g, "")}`;
    const names: string[] = [];
    for (const id of ids) {
      const r = await call("POST", "/api/v1/runs", id ? { project, id } : { project });
      expect(r.status).toBe(201);
      expect(r.body.name).toMatch(/^[a-z]+-[a-z]+-\d+$/);
      expect((await call("GET", `/api/v1/runs/${r.body.id}`)).body.run.name).toBe(r.body.name);
      names.push(r.body.name);
    }
    expect(new Set(names).size).toBe(names.length);
  });

  test("an unnamed run resumed keeps its name; a name given on resume renames it", async () => {
    const first = await call("POST", "/api/v1/runs", { project: "names-resume", id: "names-resume-1" });
    expect((await call("POST", "/api/v1/runs", { project: "names-resume", id: "names-resume-1" })).body.name).toBe(first.body.name);
    expect((await call("POST", "/api/v1/runs", { project: "names-resume", id: "names-resume-1", name: "kept" })).body.name).toBe("kept");
  });

  // A run belongs to one project for good: resuming it under another project name does not move it
  // (and does not create that project); the answer says where the run really is.
  test.each([
    ["other-project", "proj-keep-1"],
    ["  other-project  ", "proj-keep-2"],
    ["resume-project-x", "proj-keep-3"],
  ])("resuming with project %j keeps the run in its own project and answers it", async (other, id) => {
    expect((await call("POST", "/api/v1/runs", { project: "home-project", id })).status).toBe(201);
    const before = (await call("GET", "/api/v1/runs")).body.projects.map((p: { name: string }) => p.name);
    const r = await call("POST", "/api/v1/runs", { project: other, id });
    expect(r).toMatchObject({ status: 200, body: { id, project: "home-project", resumed: true } });
    expect((await call("GET", `/api/v1/runs/${id}`)).body.run.project).toBe("home-project");
    const after = (await call("GET", "/api/v1/runs")).body.projects.map((p: { name: string }) => p.name);
    expect(after).toEqual(before);
  });

  test("list filters by project and shows last headline values", async () => {
    const id = await newRun({ project: "listing" });
    await call("POST", `/api/v1/runs/${id}/log`, { seq: 0, rows: [{ step: 0, metrics: { "train/loss": 2.3, "val/acc": "NaN", other: 1 } }] });
    const r = await call("GET", "/api/v1/runs?project=listing");
    expect(r.status).toBe(200);
    expect(r.body.runs).toHaveLength(1);
    expect(r.body.runs[0]).toMatchObject({ id, status: "running", summary: { "train/loss": 2.3, "val/acc": "NaN" }, alerts: { critical: 0 } });
    expect(r.body.projects).toContainEqual({ name: "listing", runs: 1 });
  });

  // runs imported from other tools' logs showed no last value: their keys are named as those tools name them
  test.each([
    ["timm", { Loss: 2.1, test_Loss: 1.9, "test_Acc@1": 55.2 }],
    ["detectron2", { total_loss: 1.1 }],
    ["Lightning", { train_loss_epoch: 0.8, val_loss: 0.9, val_acc: 0.6 }],
    ["Keras via TensorBoard", { epoch_loss: 0.3, epoch_accuracy: 0.9, epoch_val_loss: 0.35, epoch_val_accuracy: 0.88 }],
    ["a printed Train Loss / Val Acc", { Train_Loss: 0.5, Val_Acc: 0.81 }],
    ["Hugging Face's Trainer", { loss: 0.4, eval_loss: 0.45, eval_accuracy: 0.9 }],
  ])("the runs list shows the last values of a %s run", async (_tool, metrics) => {
    const project = `headline-${_tool.replace(/\W/g, "")}`;
    const id = await newRun({ project });
    await call("POST", `/api/v1/runs/${id}/log`, { seq: 0, rows: [{ step: 0, metrics }] });
    const r = await call("GET", `/api/v1/runs?project=${project}`);
    expect(r.body.runs[0].summary).toEqual(metrics);
  });

  test("finish sets the status; an empty body means finished", async () => {
    const id = await newRun();
    // nothing logged: no item of the checklist could be checked
    const checklist = { summary: "0 passed, 0 raised, 10 not checkable", passed: 0, raised: 0, unknown: 10, raisedCodes: [] };
    expect(await call("POST", `/api/v1/runs/${id}/finish`)).toEqual({ status: 200, body: { id, status: "finished", alerts: [], checklist } });
    expect((await call("GET", `/api/v1/runs/${id}`)).body.run.status).toBe("finished");
  });
});

describe("log and read back", () => {
  test("NaN and ±Infinity survive the round trip, exact when few points", async () => {
    const id = await newRun();
    const values = [2.3, "NaN", "Infinity", "-Infinity", 0.5];
    const r = await call("POST", `/api/v1/runs/${id}/log`, {
      seq: 1,
      rows: values.map((v, i) => ({ step: i * 10, time: 1795698225 + i, epoch: i / 2, metrics: { "train/loss": v } })),
    });
    expect(r).toEqual({ status: 200, body: { accepted: { points: 5, histograms: 0, events: 0 }, duplicate: false, refused: null, alerts: [] } });
    const s = await call("GET", `/api/v1/runs/${id}/series?key=train/loss`);
    expect(s.body.exact).toBe(true);
    expect(s.body.buckets.map((b: { step: number; last: unknown }) => [b.step, b.last])).toEqual(values.map((v, i) => [i * 10, v]));
    const run = await call("GET", `/api/v1/runs/${id}`);
    expect(run.body.keys).toContainEqual({
      key: "train/loss",
      count: 5,
      firstStep: 0,
      lastStep: 40,
      lastValue: 0.5,
      min: 0.5,
      max: 2.3,
      nonFinite: 3,
    });
    expect(run.body.keys.find((k: { key: string }) => k.key === "epoch")).toMatchObject({ count: 5, lastValue: 2 });
  });

  test("several keys at once, with a step range", async () => {
    const id = await newRun();
    await call("POST", `/api/v1/runs/${id}/log`, { seq: 1, rows: Array.from({ length: 100 }, (_, i) => ({ step: i, metrics: { a: i, b: -i } })) });
    const r = await call("GET", `/api/v1/runs/${id}/series?keys=a,b&from=10&to=19&points=5`);
    expect(r.status).toBe(200);
    expect(r.body.series.map((s: { key: string }) => s.key)).toEqual(["a", "b"]);
    const a = r.body.series[0];
    expect(a.exact).toBe(false);
    expect(a.buckets).toHaveLength(5);
    expect(a.buckets[0]).toMatchObject({ step: 10, lastStep: 11, min: 10, max: 11, mean: 10.5, count: 2 });
  });

  test("a retried seq is acknowledged and not stored twice; a re-logged step replaces", async () => {
    const id = await newRun();
    const batch = { seq: 5, rows: [{ step: 1, metrics: { x: 1 } }] };
    await call("POST", `/api/v1/runs/${id}/log`, batch);
    const again = await call("POST", `/api/v1/runs/${id}/log`, batch);
    expect(again.body).toMatchObject({ duplicate: true, accepted: { points: 1 } });
    await call("POST", `/api/v1/runs/${id}/log`, { seq: 6, rows: [{ step: 1, metrics: { x: 9 } }] });
    const s = await call("GET", `/api/v1/runs/${id}/series?key=x`);
    expect(s.body.buckets).toHaveLength(1);
    expect(s.body.buckets[0].last).toBe(9);
  });

  test("histograms and events are stored and read back", async () => {
    const id = await newRun();
    await call("POST", `/api/v1/runs/${id}/log`, {
      seq: 1,
      histograms: [0, 1, 2].map((step) => ({ step, key: "act/fc1", edges: [-1, 0, 1], counts: [step, 3] })),
      events: [{ type: "input_stats", step: 0, data: { mean: [0.1, 8], std: [1, 5] } }],
    });
    const h = await call("GET", `/api/v1/runs/${id}/histograms?key=act/fc1`);
    expect(h.body.histograms.map((x: { step: number; counts: number[] }) => [x.step, x.counts])).toEqual([
      [0, [0, 3]],
      [1, [1, 3]],
      [2, [2, 3]],
    ]);
    const run = await call("GET", `/api/v1/runs/${id}`);
    expect(run.body.histogramKeys).toEqual([{ key: "act/fc1", count: 3, lastStep: 2 }]);
    expect(run.body.events).toMatchObject([{ type: "input_stats", step: 0, data: { mean: [0.1, 8] } }]);
  });
});

describe("bad input gets a 4xx naming the field and writes nothing", () => {
  const row = (o: Record<string, unknown>) => ({ seq: 1, rows: [{ step: 1, metrics: { a: 1 }, ...o }] });
  test.each([
    ["negative step", row({ step: -1 }), 400, "invalid_batch", "rows[0].step"],
    ["fractional step", row({ step: 1.5 }), 400, "invalid_batch", "rows[0].step"],
    ["string step", row({ step: "3" }), 400, "invalid_batch", "rows[0].step"],
    ["unknown non-finite spelling", row({ metrics: { a: "nan" } }), 400, "invalid_batch", "rows[0].metrics.a"],
    ["null value", row({ metrics: { a: null } }), 400, "invalid_batch", "rows[0].metrics.a"],
    ["empty key", row({ metrics: { "": 1 } }), 400, "invalid_batch", "rows[0].metrics"],
    ["missing seq", { rows: [] }, 400, "invalid_batch", "seq"],
    ["non-finite time", row({ time: "NaN" }), 400, "invalid_batch", "rows[0].time"],
    [
      "histogram edges do not match counts",
      { seq: 1, histograms: [{ step: 1, key: "h", edges: [0, 1], counts: [1, 2] }] },
      400,
      "invalid_batch",
      "histograms[0].edges",
    ],
    [
      "histogram negative count",
      { seq: 1, histograms: [{ step: 1, key: "h", edges: [0, 1, 2], counts: [1, -2] }] },
      400,
      "invalid_batch",
      "histograms[0].counts[1]",
    ],
    [
      "histogram decreasing edges",
      { seq: 1, histograms: [{ step: 1, key: "h", edges: [0, 2, 1], counts: [1, 2] }] },
      400,
      "invalid_batch",
      "histograms[0].edges[2]",
    ],
    ["event without type", { seq: 1, events: [{ data: {} }] }, 400, "invalid_batch", "events[0].type"],
    ["rows not an array", { seq: 1, rows: {} }, 400, "invalid_batch", "rows"],
    ["body is an array", [], 400, "invalid_batch", ""],
  ])("%s", async (_name, body, status, code, field) => {
    const id = await newRun();
    const attempts: unknown[] = [body];
    // the same bad batch carrying a valid point too: still nothing may be written
    const b = body as { rows?: unknown };
    if (!Array.isArray(body) && (b.rows === undefined || Array.isArray(b.rows))) {
      attempts.push({ ...b, rows: [...((b.rows as unknown[]) ?? []), { step: 0, metrics: { ok: 1 } }] });
    }
    for (const attempt of attempts) {
      const res = await call("POST", `/api/v1/runs/${id}/log`, attempt);
      expect(res.status).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(res.body.error.message).toContain(field);
    }
    const run = await call("GET", `/api/v1/runs/${id}`);
    expect(run.body.keys).toEqual([]);
    expect(run.body.histogramKeys).toEqual([]);
    expect(run.body.events).toEqual([]);
  });

  test.each([
    ["malformed JSON", "POST", "/log", "{not json", 400, "invalid_json"],
    ["empty body", "POST", "/log", "", 400, "invalid_json"],
    ["project missing", "POST", "", { name: "x" }, 400, "invalid_body"],
    ["bad client id", "POST", "", { project: "p", id: "has space" }, 400, "invalid_body"],
    ["bad finish status", "POST", "/finish", { status: "done" }, 400, "invalid_body"],
  ])("%s", async (_name, method, suffix, body, status, code) => {
    const id = await newRun();
    const p = suffix === "" ? "/api/v1/runs" : `/api/v1/runs/${id}${suffix}`;
    const r = await call(method, p, body);
    expect(r.status).toBe(status);
    expect(r.body.error.code).toBe(code);
  });

  test("a non-JSON content type is refused with 415", async () => {
    const id = await newRun();
    const r = await call("POST", `/api/v1/runs/${id}/log`, '{"seq":1}', { "content-type": "text/plain" });
    expect(r).toMatchObject({ status: 415, body: { error: { code: "unsupported_media_type" } } });
  });

  test("an oversized body gets 413 and writes nothing", async () => {
    const id = await newRun();
    const big = { seq: 1, rows: [{ step: 0, metrics: { a: 1 } }], events: [{ type: "blob", data: { s: "x".repeat(9 * 1024 * 1024) } }] };
    const r = await call("POST", `/api/v1/runs/${id}/log`, big);
    expect(r).toMatchObject({ status: 413, body: { error: { code: "payload_too_large" } } });
    expect((await call("GET", `/api/v1/runs/${id}`)).body.keys).toEqual([]);
  });

  test("a body that goes on far past the limit is cut off, and the server answers the next request", async () => {
    const id = await newRun();
    const total = 200 * 1024 * 1024; // announced; the server stops reading 16 MiB past its 8 MiB limit
    const cut = await new Promise<{ sent: number }>((resolve) => {
      const s = net.connect(server.port, "127.0.0.1");
      let sent = 0;
      let done = false;
      const finish = () => {
        if (!done) {
          done = true;
          resolve({ sent });
        }
      };
      s.on("close", finish);
      s.on("error", finish);
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      s.on("connect", () => {
        s.write(`POST /api/v1/runs/${id}/log HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${total}\r\n\r\n`);
        const pump = () => {
          while (!done && sent < total) {
            sent += chunk.length;
            if (!s.write(chunk)) return void s.once("drain", pump);
          }
        };
        pump();
      });
    });
    expect(cut.sent).toBeLessThan(total);
    expect((await call("GET", `/api/v1/runs/${id}`)).body.keys).toEqual([]);
  });

  test.each([
    ["log to an unknown run", "POST", "/api/v1/runs/nope/log", { seq: 1 }],
    ["finish an unknown run", "POST", "/api/v1/runs/nope/finish", {}],
    ["get an unknown run", "GET", "/api/v1/runs/nope", undefined],
    ["series of an unknown key", "GET", "/api/v1/runs/RUN/series?key=missing", undefined],
    ["histograms of an unknown key", "GET", "/api/v1/runs/RUN/histograms?key=missing", undefined],
    ["an unknown API path", "GET", "/api/v1/nothing", undefined],
  ])("%s -> 404", async (_name, method, p, body) => {
    const id = await newRun();
    const r = await call(method, p.replace("RUN", id), body);
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe("not_found");
  });

  test.each([
    ["points=0", "points=0&key=a", "points"],
    ["points too large", "points=100000&key=a", "points"],
    ["from not a number", "from=abc&key=a", "from"],
    ["no key", "points=10", "key"],
  ])("series query %s -> 400", async (_name, qs, field) => {
    const id = await newRun();
    const r = await call("GET", `/api/v1/runs/${id}/series?${qs}`);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("invalid_query");
    expect(r.body.error.message).toContain(field);
  });

  test("the server is still healthy after all that", async () => {
    const r = await call("GET", "/api/v1/runs?limit=1");
    expect(r.status).toBe(200);
    expect(server.output()).not.toMatch(/unhandled error/);
  });
});
