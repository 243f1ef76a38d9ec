import { io } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LIMITS } from "@/lib/contract/limits";
import { type TestServer, api, startServer, waitFor } from "../helpers/server";

// The wire contract through a real server: strings are checked in code points and must be
// well-formed Unicode, times are Unix seconds, configs are bounded; a refused request answers 400
// with the envelope naming the field and the reason, and writes nothing.

let server: TestServer;
const call = (method: string, p: string, body?: unknown) => api(server.url, method, p, body);

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

async function newRun(project = "contract") {
  const r = await call("POST", "/api/v1/runs", { project, name: "r" });
  expect(r.status).toBe(201);
  return r.body.id as string;
}

/** A batch as raw JSON text: a lone surrogate written as the escape \ud800, which JSON.parse turns back into one. */
const rawRow = (keyEscaped: string) => `{"seq":1,"rows":[{"step":0,"metrics":{"ok":1,"${keyEscaped}":2}}]}`;

async function stored(id: string) {
  const run = await call("GET", `/api/v1/runs/${id}`);
  expect(run.status).toBe(200);
  return run.body as { keys: { key: string; count: number }[]; histogramKeys: unknown[]; events: unknown[]; images: unknown[] };
}

describe("log batches", () => {
  test.each([
    ["a lone high surrogate key", rawRow("\\ud800"), "well-formed Unicode"],
    ["a lone low surrogate key", rawRow("\\udc00"), "well-formed Unicode"],
    ["a lone surrogate inside a key", rawRow("train/\\ud83dloss"), "well-formed Unicode"],
    ["a pair in the wrong order", rawRow("\\ude80\\ud83d"), "well-formed Unicode"],
    ["a key of 201 astral code points", rawRow("🚀".repeat(201)), "at most 200 code points"],
    ["a key of 201 CJK characters", rawRow("训".repeat(201)), "at most 200 code points"],
    ["a control character in a key", rawRow("a\\u0007b"), "control characters"],
    ["a time in milliseconds", '{"seq":1,"rows":[{"step":0,"time":1795698225420,"metrics":{"ok":1}}]}', "milliseconds are refused"],
    ["a time of 1e306", '{"seq":1,"rows":[{"step":0,"time":1e306,"metrics":{"ok":1}}]}', "milliseconds are refused"],
    ["a negative time", '{"seq":1,"rows":[{"step":0,"time":-1,"metrics":{"ok":1}}]}', "milliseconds are refused"],
    ["an epoch of 1e13", '{"seq":1,"rows":[{"step":0,"epoch":1e13,"metrics":{"ok":1}}]}', "rows[0].epoch must be a finite number"],
    [
      "a lone surrogate histogram key",
      '{"seq":1,"rows":[{"step":0,"metrics":{"ok":1}}],"histograms":[{"step":0,"key":"act/\\udbff","edges":[0,1],"counts":[1]}]}',
      "histograms[0].key histogram keys must be well-formed",
    ],
    [
      "a lone surrogate event type",
      '{"seq":1,"rows":[{"step":0,"metrics":{"ok":1}}],"events":[{"type":"note\\ud800","data":{}}]}',
      "events[0].type event types must be well-formed",
    ],
    [
      "a lone surrogate image key",
      `{"seq":1,"rows":[{"step":0,"metrics":{"ok":1}}],"events":[{"type":"image","data":{"key":"\\udfff","width":1,"height":1,"png_base64":"iVBORw0KGgo="}}]}`,
      "events[0].data.key image keys must be well-formed",
    ],
    [
      "an image that is not a PNG",
      '{"seq":1,"rows":[{"step":0,"metrics":{"ok":1}}],"events":[{"type":"image","data":{"key":"x","width":1,"height":1,"png_base64":"/9j/4AAQSkZJRgABAQ=="}}]}',
      "events[0].data.png_base64 must be a PNG image",
    ],
  ])("%s -> 400 invalid_batch naming the field, nothing stored", async (_name, body, reason) => {
    const id = await newRun();
    const r = await call("POST", `/api/v1/runs/${id}/log`, body);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("invalid_batch");
    expect(r.body.error.message).toContain(reason);
    const s = await stored(id);
    expect(s.keys).toEqual([]);
    expect(s.histogramKeys).toEqual([]);
    expect(s.events).toEqual([]);
    expect(s.images).toEqual([]);
    // the same seq with the bad part left out is accepted: the refusal stored nothing, not even the seq
    const good = await call("POST", `/api/v1/runs/${id}/log`, { seq: 1, rows: [{ step: 0, metrics: { ok: 1 } }] });
    expect(good.body).toMatchObject({ accepted: { points: 1 }, duplicate: false });
  });

  test("event data nested 10,000 deep -> 400 with the envelope, nothing stored, the server healthy", async () => {
    const id = await newRun();
    const data = `${'{"a":'.repeat(9_999)}{}${"}".repeat(9_999)}`;
    const r = await call(
      "POST",
      `/api/v1/runs/${id}/log`,
      `{"seq":1,"rows":[{"step":0,"metrics":{"ok":1}}],"events":[{"type":"note","data":${data}}]}`,
    );
    expect(r.status).toBe(400);
    expect(["invalid_batch", "invalid_json"]).toContain(r.body.error.code); // the body's own depth limit may answer first
    expect((await stored(id)).keys).toEqual([]);
    expect(server.output()).not.toMatch(/unhandled error/);
  });

  test("astral and CJK keys at the limit are stored and read back the same, also after a restart", async () => {
    const keys = ["🚀".repeat(200), "训".repeat(200), "损失/训练", "𝔩𝔬𝔰𝔰", `${"😀".repeat(100)}${"k".repeat(100)}`];
    const id = await newRun();
    const log = (seq: number, step: number) =>
      call("POST", `/api/v1/runs/${id}/log`, { seq, rows: [{ step, time: 1795698225, metrics: Object.fromEntries(keys.map((k, i) => [k, i])) }] });
    expect((await log(1, 0)).status).toBe(200);
    const sorted = (s: { keys: { key: string }[] }) => s.keys.map((k) => k.key).sort();
    expect(sorted(await stored(id))).toEqual([...keys].sort());

    await server.stop();
    server = await startServer({ dbPath: server.dbPath, port: server.port });
    expect(sorted(await stored(id))).toEqual([...keys].sort());
    expect((await log(2, 1)).status).toBe(200); // same keys again after the restart: no 500
    const s = await stored(id);
    expect(s.keys.every((k) => k.count === 2)).toBe(true);
    for (const key of keys) {
      const series = await call("GET", `/api/v1/runs/${id}/series?key=${encodeURIComponent(key)}`);
      expect(series.status).toBe(200);
      expect(series.body.buckets).toHaveLength(2);
    }
  });
});

describe("creating and resuming runs", () => {
  const nested = (depth: number) => `${'{"a":'.repeat(depth - 1)}{}${"}".repeat(depth - 1)}`;
  const mib = LIMITS.configBytes.value;

  async function nothingStored(project: string) {
    const list = await call("GET", "/api/v1/runs?limit=1000");
    expect(list.status).toBe(200);
    expect(list.body.projects.map((p: { name: string }) => p.name)).not.toContain(project);
    expect(list.body.runs.filter((r: { project: string }) => r.project === project)).toEqual([]);
  }

  test.each([
    ["a lone surrogate in the project", (p: string) => `{"project":"${p}\\ud800"}`, "invalid_body", "project must be well-formed Unicode"],
    [
      "a project of 101 astral code points",
      () => JSON.stringify({ project: "🚀".repeat(101) }),
      "invalid_body",
      "project must be at most 100 code points",
    ],
    [
      "a control character in the project",
      (p: string) => JSON.stringify({ project: `${p}\u0000` }),
      "invalid_body",
      "project must not contain control characters",
    ],
    ["a lone surrogate in the name", (p: string) => `{"project":"${p}","name":"run\\udc00"}`, "invalid_body", "name must be well-formed Unicode"],
    [
      "a lone surrogate in a config string",
      (p: string) => `{"project":"${p}","config":{"model":{"act":"\\ud800"}}}`,
      "invalid_body",
      "config.model.act must be well-formed Unicode",
    ],
    [
      "a lone surrogate in a config key",
      (p: string) => `{"project":"${p}","config":{"\\ud800":1}}`,
      "invalid_body",
      "keys must be well-formed Unicode",
    ],
    [
      "a config nested 33 deep",
      (p: string) => `{"project":"${p}","config":${nested(33)}}`,
      "invalid_body",
      "config must be nested at most 32 levels deep",
    ],
    [
      "a config over 1 MiB",
      (p: string) => JSON.stringify({ project: p, config: { s: "x".repeat(mib) } }),
      "invalid_body",
      `at most ${mib} are allowed`,
    ],
    [
      "a config over 1 MiB in UTF-8 only",
      (p: string) => JSON.stringify({ project: p, config: { s: "训".repeat(mib / 3 + 1) } }),
      "invalid_body",
      `at most ${mib} are allowed`,
    ],
  ])("%s -> 400 with the field and reason; no project or run is written", async (name, body, code, reason) => {
    const project = `refused-${name.replace(/\W+/g, "-")}`;
    const r = await call("POST", "/api/v1/runs", body(project));
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe(code);
    expect(r.body.error.message).toContain(reason);
    await nothingStored(project);
  });

  test("a config nested 10,000 deep -> 400 with the envelope, no project or run written, the server healthy", async () => {
    for (const depth of [10_000, 100_000]) {
      const r = await call("POST", "/api/v1/runs", `{"project":"deep-${depth}","id":"deep-${depth}","config":${nested(depth)}}`);
      expect(r.status).toBe(400);
      expect(["invalid_body", "invalid_json"]).toContain(r.body.error.code); // the body's own depth limit may answer first
      await nothingStored(`deep-${depth}`);
      expect((await call("GET", `/api/v1/runs/deep-${depth}`)).status).toBe(404);
    }
    expect(server.output()).not.toMatch(/unhandled error/);
  });

  test("a resume with a bad config is refused and changes nothing; a merged config over the limit too", async () => {
    const created = await call("POST", "/api/v1/runs", {
      project: "resume-refused",
      id: "resume-refused",
      config: { lr: 0.1, big: "x".repeat(mib * 0.6) },
    });
    expect(created.status).toBe(201);
    await call("POST", "/api/v1/runs/resume-refused/finish", { status: "crashed" });
    for (const [body, reason] of [
      [`{"project":"resume-refused","id":"resume-refused","config":${nested(40)}}`, "config must be nested at most 32 levels deep"],
      ['{"project":"resume-refused","id":"resume-refused","config":{"s":"\\ud800"}}', "config.s must be well-formed Unicode"],
      [JSON.stringify({ project: "resume-refused", id: "resume-refused", config: { more: "y".repeat(mib * 0.6) } }), `at most ${mib} are allowed`],
    ] as const) {
      const r = await call("POST", "/api/v1/runs", body);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe("invalid_body");
      expect(r.body.error.message).toContain(reason);
    }
    const run = (await call("GET", "/api/v1/runs/resume-refused")).body.run;
    expect(run.status).toBe("crashed");
    expect(Object.keys(run.config)).toEqual(["lr", "big"]);
    // a resume within the limits still merges
    const ok = await call("POST", "/api/v1/runs", { project: "resume-refused", id: "resume-refused", config: { lr: 0.05 } });
    expect(ok).toMatchObject({ status: 200, body: { resumed: true } });
    expect((await call("GET", "/api/v1/runs/resume-refused")).body.run).toMatchObject({ status: "running", config: { lr: 0.05 } });
  });

  test("resuming answers lastStep: the largest step of any series, kept through finish and a restart", async () => {
    const create = () => call("POST", "/api/v1/runs", { project: "resume", id: "resume-last-step" });
    const created = (await create()).body;
    expect(created).toEqual({
      id: "resume-last-step",
      url: "/runs/resume-last-step",
      project: "resume",
      name: created.name,
      resumed: false,
      lastStep: null,
    });
    expect((await create()).body).toEqual({
      id: "resume-last-step",
      url: "/runs/resume-last-step",
      project: "resume",
      name: created.name,
      resumed: true,
      lastStep: null,
    });
    const rows = [
      ...Array.from({ length: 100 }, (_, i) => ({ step: i, metrics: { "train/loss": 1 / (i + 1) } })),
      { step: 150, metrics: { "val/loss": 0.5 } },
      { step: 120, metrics: { "train/loss": "NaN" } },
    ];
    expect((await call("POST", "/api/v1/runs/resume-last-step/log", { seq: 1, rows })).status).toBe(200);
    expect((await create()).body).toMatchObject({ resumed: true, lastStep: 150 });
    // a re-logged earlier step does not move it back
    await call("POST", "/api/v1/runs/resume-last-step/log", { seq: 2, rows: [{ step: 3, metrics: { "train/loss": 9 } }] });
    expect((await create()).body).toMatchObject({ lastStep: 150 });
    await call("POST", "/api/v1/runs/resume-last-step/finish", {}); // everything compacted into chunks
    expect((await create()).body).toMatchObject({ resumed: true, lastStep: 150 });
    await server.stop();
    server = await startServer({ dbPath: server.dbPath, port: server.port });
    expect((await create()).body).toMatchObject({ resumed: true, lastStep: 150 });
  });
});

describe("lists carry a config summary, never whole configs", () => {
  test("ten runs with 1 MiB configs: the runs list, the home page and the compare page stay small", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const config = {
        lr: 0.001 * (i + 1),
        model: "mlp",
        amp: true,
        seed: null,
        note: "😀".repeat(100), // cut to 64 code points
        layers: [512, 256], // not a scalar: left out
        ["k".repeat(65)]: 1, // key too long: left out
        big: "x".repeat(LIMITS.configBytes.value - 2000),
        after1: 1,
        after2: 2,
        after3: 3,
        after4: 4,
        after5: 5,
        after6: 6,
        after7: 7,
      };
      const r = await call("POST", "/api/v1/runs", { project: "big-configs", name: `r${i}`, config });
      expect(r.status).toBe(201);
      ids.push(r.body.id);
    }
    const res = await fetch(`${server.url}/api/v1/runs?project=big-configs`);
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text.length).toBeLessThan(20_000); // ten whole configs would be over 10 MB
    const list = JSON.parse(text);
    expect(list.runs).toHaveLength(10);
    const run = list.runs.find((r: { name: string }) => r.name === "r0");
    expect(run.config).toBeUndefined();
    expect(run.configSummary).toEqual({
      lr: 0.001,
      model: "mlp",
      amp: true,
      seed: null,
      note: `${"😀".repeat(64)}…`,
      big: `${"x".repeat(64)}…`,
      after1: 1,
      after2: 2,
      after3: 3,
      after4: 4,
    });
    // the whole config is one GET away
    const one = await call("GET", `/api/v1/runs/${run.id}`);
    expect(one.body.run.config.big).toHaveLength(LIMITS.configBytes.value - 2000);

    const homeRes = await fetch(`${server.url}/?project=big-configs`);
    const home = await homeRes.text();
    expect(homeRes.status).toBe(200);
    for (const id of ids) expect(home).toContain(`data-run="${id}"`); // every run is drawn
    expect(home.length).toBeLessThan(1_000_000);
    expect(home).not.toContain("x".repeat(1000));
    const compareRes = await fetch(`${server.url}/compare?runs=${ids.join(",")}`);
    const compare = await compareRes.text();
    expect(compareRes.status).toBe(200);
    expect(compare).toContain("r9");
    expect(compare.length).toBeLessThan(1_000_000);
    expect(compare).not.toContain("x".repeat(1000));
  });

  test("a config key named __proto__ is a plain entry of the summary, in the list and the page", async () => {
    const r = await call(
      "POST",
      "/api/v1/runs",
      `{"project":"proto-config","name":"proto","config":{"__proto__":"yes","constructor":1,"toString":false}}`,
    );
    expect(r.status).toBe(201);
    const list = await call("GET", "/api/v1/runs?project=proto-config");
    expect(list.body.runs[0].configSummary).toEqual(JSON.parse('{"__proto__":"yes","constructor":1,"toString":false}'));
    const home = await fetch(`${server.url}/?project=proto-config`);
    expect(home.status).toBe(200);
    expect(await home.text()).toContain(`data-run="${r.body.id}"`);
  });

  test("the runs room gets list views (a config summary); the run's own room gets the whole config", async () => {
    const socket = io(server.url, { transports: ["websocket"] });
    const got: Record<string, unknown>[] = [];
    socket.on("run", (m: Record<string, unknown>) => got.push(m));
    try {
      const big = "x".repeat(LIMITS.configBytes.value - 1000);
      // subscribing has no acknowledgement: small runs are created until the room reports one
      socket.emit("subscribe", { runs: true });
      const probes = new Set<unknown>();
      await waitFor(
        async () => {
          if (got.some((m) => probes.has(m.id))) return true;
          probes.add((await call("POST", "/api/v1/runs", { project: "live-configs-probe" })).body.id);
          return false;
        },
        20_000,
        "a probe run's event in the runs room",
      );
      const id: string = (await call("POST", "/api/v1/runs", { project: "live-configs", config: { lr: 0.1, big } })).body.id;
      await waitFor(() => got.some((m) => m.id === id), 20_000, "the run's event in the runs room");
      const created = got.find((m) => m.id === id)!;
      expect(created.config).toBeUndefined();
      expect(created.configSummary).toEqual({ lr: 0.1, big: `${"x".repeat(64)}…` });
      expect(JSON.stringify(created).length).toBeLessThan(2000);

      // the run's room is joined once a point logged to the run comes back on the socket
      socket.emit("subscribe", { run: id });
      let pointsSeen = false;
      socket.on("points", (m: { runId: string }) => {
        if (m.runId === id) pointsSeen = true;
      });
      let seq = 0;
      await waitFor(
        async () => {
          if (pointsSeen) return true;
          await call("POST", `/api/v1/runs/${id}/log`, { seq: seq++, rows: [{ step: seq, metrics: { probe: 1 } }] });
          return false;
        },
        20_000,
        "a logged point in the run's room",
      );
      got.length = 0;
      await call("POST", "/api/v1/runs", { project: "live-configs", id, config: { lr: 0.2 } });
      await waitFor(() => got.filter((m) => m.id === id).length >= 2, 20_000, "the resumed run's events in both rooms");
      const views = got.filter((m) => m.id === id);
      const full = views.find((m) => m.config !== undefined) as { config: { lr: number; big: string } };
      expect(full.config.lr).toBe(0.2);
      expect(full.config.big).toHaveLength(big.length);
      expect(views.find((m) => m.config === undefined)).toMatchObject({ configSummary: { lr: 0.2 } });
    } finally {
      socket.close();
    }
  });
});
