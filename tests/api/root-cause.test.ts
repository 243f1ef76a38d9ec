import { io as connect, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SOCKET_PATH } from "@/lib/contract/socket";
import { type TestServer, api, startServer, waitFor } from "../helpers/server";

// Root cause first (issue #10): a run whose learning rate is far too high raises lr_too_high
// (warning) and the divergence it causes (critical). Every answer that lists its alerts puts the
// cause first and folds the symptom under it: the alerts API, the socket's alert events, the SDK's
// finish answer and the runs list.

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { BABYSIT_EVAL_INTERVAL_MS: "200" } });
});
afterAll(async () => {
  await server?.stop();
});

const wave = (s: number) => Math.sin(s * 1.7) * 0.5 + Math.sin(s * 0.37) * 0.5;

/** 10 classes, a sane start, update ratios ~0.25 from step 35, NaN loss from step 70 (tests/e2e/alerts.test.ts). */
const diverging = (s: number) => {
  const loss = s < 45 ? 2.35 - 0.016 * s : s < 70 ? 1.63 + 0.09 * (s - 45) : "NaN";
  const ur = (s < 35 ? 1e-3 : 0.25) * (1 + 0.1 * wave(s));
  return {
    "train/loss": typeof loss === "number" ? loss + 0.03 * wave(s) : loss,
    lr: 0.5,
    grad_norm: s < 45 ? 1 + 0.02 * s : 2 + 0.3 * (s - 45),
    "update_ratio/fc1": ur,
    "update_ratio/fc2": 0.8 * ur,
  };
};

type A = { code: string; severity: string; status: string; title: string; causedBy?: string; symptoms?: string[] };
const shape = (xs: A[]) => xs.map((a) => ({ code: a.code, severity: a.severity, causedBy: a.causedBy ?? null, symptoms: a.symptoms ?? null }));
const WANT = [
  { code: "lr_too_high", severity: "warning", causedBy: null, symptoms: ["divergence"] },
  { code: "divergence", severity: "critical", causedBy: "lr_too_high", symptoms: null },
];

describe("root cause first", () => {
  test("the alerts API, socket events, the finish answer and the runs list put lr_too_high above the divergence it caused", async () => {
    const r = await api(server.url, "POST", "/api/v1/runs", { project: "root-cause", name: "lr-too-high", config: { num_classes: 10 } });
    expect(r.status).toBe(201);
    const id = r.body.id as string;

    const socket: Socket = connect(server.url, { path: SOCKET_PATH, transports: ["websocket"], forceNew: true, reconnection: false });
    const events: A[] = [];
    socket.on("alert", (m: { runId: string; alert: A }) => {
      if (m.runId === id) events.push(m.alert);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", () => resolve());
        socket.once("connect_error", reject);
      });
      await new Promise<void>((resolve) => socket.emit("subscribe", { run: id }, () => resolve()));

      // one batch: both conditions are first seen by the same evaluation
      const rows = Array.from({ length: 80 }, (_, s) => ({ step: s, metrics: diverging(s) }));
      expect((await api(server.url, "POST", `/api/v1/runs/${id}/log`, { seq: 0, rows })).status).toBe(200);

      const listed = (await waitFor(
        async (): Promise<A[] | undefined> => {
          const alerts = (await api(server.url, "GET", `/api/v1/runs/${id}/alerts`)).body.alerts as A[];
          return alerts.length >= 2 ? alerts : undefined;
        },
        15_000,
        "both alerts",
      )) as A[];
      expect(shape(listed)).toEqual(WANT);

      // each live event carries the relation of the diagnosis that raised it
      await waitFor(() => events.length >= 2, 10_000, "two alert events");
      expect(shape(events.filter((e) => e.status === "active").slice(0, 2)).sort((a, b) => a.code.localeCompare(b.code))).toEqual(
        [...WANT].sort((a, b) => a.code.localeCompare(b.code)),
      );

      // a shared link's alerts answer is the run's
      const share = await api(server.url, "POST", `/api/v1/runs/${id}/shares`, {});
      expect(share.status).toBe(201);
      const viaLink = await api(server.url, "GET", `/api/v1/shares/${share.body.token}/alerts`);
      expect(shape(viaLink.body.alerts)).toEqual(WANT);

      // the runs list names the root cause, with how many alerts follow from it
      const list = await api(server.url, "GET", "/api/v1/runs?project=root-cause");
      const row = list.body.runs.find((x: { id: string }) => x.id === id);
      expect(row.alerts).toEqual({ critical: 1, warning: 1, info: 0 });
      expect(row.rootCause).toEqual({ code: "lr_too_high", severity: "warning", title: listed[0].title, symptoms: 1 });

      // the SDK hears of them root cause first (no log answer came after the evaluation: the finish one does)
      const fin = await api(server.url, "POST", `/api/v1/runs/${id}/finish`, {});
      expect(fin.status).toBe(200);
      expect(shape(fin.body.alerts)).toEqual(WANT);
    } finally {
      socket.close();
    }
  });

  test("a symptom raised before its cause is sent again, with causedBy, when the cause is raised", async () => {
    const r = await api(server.url, "POST", "/api/v1/runs", { project: "root-cause", name: "dead-then-lr", config: { num_classes: 10 } });
    const id = r.body.id as string;
    const socket: Socket = connect(server.url, { path: SOCKET_PATH, transports: ["websocket"], forceNew: true, reconnection: false });
    const events: A[] = [];
    socket.on("alert", (m: { runId: string; alert: A }) => {
      if (m.runId === id) events.push(m.alert);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", () => resolve());
        socket.once("connect_error", reject);
      });
      await new Promise<void>((resolve) => socket.emit("subscribe", { run: id }, () => resolve()));
      // fc1 92% dead from step 20 on (a layer 90% dead counts whatever the fit); the update ratios turn ~0.25 at step 60
      const gen = (s: number) => ({
        "train/loss": (0.3 + 2.0 * Math.exp(-s / 80)) * (1 + 0.02 * wave(s)),
        "act/fc1/dead_frac": s >= 20 ? 0.92 + 0.02 * wave(s) : 0.05 + 0.01 * wave(s),
        "act/fc2/dead_frac": 0.02 + 0.01 * wave(s),
        "update_ratio/fc1": (s < 60 ? 1e-3 : 0.25) * (1 + 0.1 * wave(s)),
      });
      const rows = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => ({ step: from + i, metrics: gen(from + i) }));
      expect((await api(server.url, "POST", `/api/v1/runs/${id}/log`, { seq: 0, rows: rows(0, 60) })).status).toBe(200);
      await waitFor(() => events.some((e) => e.code === "dead_relu" && e.status === "active"), 15_000, "dead_relu alone");
      expect(events.find((e) => e.code === "dead_relu")!.causedBy).toBeUndefined();

      expect((await api(server.url, "POST", `/api/v1/runs/${id}/log`, { seq: 1, rows: rows(60, 120) })).status).toBe(200);
      const again = await waitFor(
        () => events.find((e) => e.code === "dead_relu" && e.causedBy === "lr_too_high"),
        15_000,
        "dead_relu under lr_too_high",
      );
      expect(again?.status).toBe("active");
      const alerts = (await api(server.url, "GET", `/api/v1/runs/${id}/alerts`)).body.alerts as A[];
      expect(shape(alerts.filter((a) => a.code === "lr_too_high" || a.code === "dead_relu"))).toEqual([
        { code: "lr_too_high", severity: "warning", causedBy: null, symptoms: expect.arrayContaining(["dead_relu"]) },
        { code: "dead_relu", severity: expect.any(String), causedBy: "lr_too_high", symptoms: null },
      ]);
    } finally {
      socket.close();
    }
  });

  test("a run without alerts has no rootCause in the list", async () => {
    const r = await api(server.url, "POST", "/api/v1/runs", { project: "root-cause-none", name: "quiet" });
    const list = await api(server.url, "GET", "/api/v1/runs?project=root-cause-none");
    const row = list.body.runs.find((x: { id: string }) => x.id === r.body.id);
    expect(row.alerts).toEqual({ critical: 0, warning: 0, info: 0 });
    expect("rootCause" in row).toBe(false);
  });
});
