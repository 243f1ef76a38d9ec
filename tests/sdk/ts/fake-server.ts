// A minimal stand-in for the babysit server (docs/api.md), used only for the SDK's transport tests:
// it can be switched off and on (connection refused, same port), answer with injected statuses,
// and attach alerts. Storage is per seq, with the contract's dedupe, so tests can count duplicates.
import * as http from "node:http";
import type { AddressInfo, Socket } from "node:net";

import { LIMITS, nameProblem } from "../../../lib/contract/limits";

export interface FakeRow {
  step: number;
  time?: number;
  epoch?: number;
  metrics: Record<string, number | string>;
}

export interface FakeBatch {
  seq: number;
  rows: FakeRow[];
  histograms: Array<{ step: number; key: string; edges: number[]; counts: number[] }>;
  events: Array<{ type: string; step?: number; data: Record<string, unknown> }>;
}

export interface FakeRun {
  id: string;
  project: string;
  name?: string;
  config?: Record<string, unknown>;
  status: string;
  batches: Map<number, FakeBatch>;
  /** Every log request's seq in arrival order, duplicates included. */
  received: number[];
  creates: number;
}

export interface RecordedRequest {
  path: string;
  body: unknown;
  at: number;
}

/** Returns a response to send instead of the normal one, or undefined to proceed normally. */
export type Interceptor = (req: RecordedRequest) => { status: number; body?: unknown } | undefined;

export class FakeServer {
  readonly runs = new Map<string, FakeRun>();
  readonly requests: RecordedRequest[] = [];
  interceptor: Interceptor | undefined;
  alertsFor: ((run: FakeRun, batch: FakeBatch) => unknown[]) | undefined;
  /** The finish answer's `checklist` (absent when undefined, as from a server before it). */
  finishChecklist: unknown = undefined;
  /** Bodies larger than this many bytes answer 413, as the real server's body limit does. */
  maxBodyBytes = LIMITS.bodyBytes.value;
  /** Whether a resume answer carries `lastStep` (a server from before it did not). */
  reportLastStep = true;
  /**
   * Distinct metric keys a run may have: a batch's new keys beyond it are left out and answered as
   * `refused` (docs/api.md), like the real server's keysPerRun. Infinity: no limit.
   */
  keysPerRun = Number.POSITIVE_INFINITY;
  private readonly runKeys = new Map<string, Set<string>>();
  port = 0;
  private server: http.Server | null = null;
  private readonly sockets = new Set<Socket>();

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(port = this.port): Promise<this> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** Stops listening and cuts open connections: clients get ECONNREFUSED / ECONNRESET. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get isUp(): boolean {
    return this.server !== null;
  }

  /** All stored metric values of a run as `key@step -> value`, and the count of stored rows per key+step. */
  points(runId: string): Map<string, number | string> {
    const out = new Map<string, number | string>();
    const run = this.runs.get(runId);
    if (!run) return out;
    for (const seq of [...run.batches.keys()].sort((a, b) => a - b)) {
      for (const row of run.batches.get(seq)!.rows) {
        for (const [k, v] of Object.entries(row.metrics)) out.set(`${k}@${row.step}`, v);
      }
    }
    return out;
  }

  /** Number of stored (key, step) values, counting a value stored twice twice. */
  storedValueCount(runId: string): number {
    let n = 0;
    for (const b of this.runs.get(runId)?.batches.values() ?? []) {
      for (const row of b.rows) n += Object.keys(row.metrics).length;
    }
    return n;
  }

  /** Largest stored step of a run's rows, histograms and events, or null (what a resume answers). */
  lastStep(runId: string): number | null {
    let last: number | null = null;
    for (const b of this.runs.get(runId)?.batches.values() ?? []) {
      for (const item of [...b.rows, ...b.histograms, ...b.events]) {
        if (typeof item.step === "number" && (last === null || item.step > last)) last = item.step;
      }
    }
    return last;
  }

  logRequests(runId?: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.endsWith("/log") && (!runId || r.path.includes(`/runs/${runId}/`)));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (Buffer.concat(chunks).length > this.maxBodyBytes) {
      this.requests.push({ path: req.url ?? "/", body: "(too large)", at: Date.now() });
      return send(res, 413, { error: { code: "payload_too_large", message: `body larger than ${this.maxBodyBytes} bytes` } });
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "null");
    } catch {
      return send(res, 400, { error: { code: "invalid_json", message: "body is not JSON" } });
    }
    const path = req.url ?? "/";
    const recorded = { path, body, at: Date.now() };
    this.requests.push(recorded);
    const injected = this.interceptor?.(recorded);
    if (injected) return send(res, injected.status, injected.body ?? { error: { code: "injected", message: "injected" } });

    if (req.method === "POST" && path === "/api/v1/runs") {
      const b = body as { id?: string; project?: string; name?: string; config?: Record<string, unknown> };
      if (typeof b?.project !== "string" || !b.project) {
        return send(res, 400, { error: { code: "invalid_body", message: "project: required" } });
      }
      const id = b.id ?? Math.random().toString(36).slice(2);
      const existing = this.runs.get(id);
      if (existing) {
        existing.status = "running";
        existing.creates++;
        existing.config = { ...existing.config, ...b.config };
        const lastStep = this.reportLastStep ? this.lastStep(id) : undefined;
        if (b.name) existing.name = b.name;
        // Like the real server: a resume keeps the run in the project it was created in.
        return send(res, 200, { id, url: `/runs/${id}`, project: existing.project, name: existing.name ?? `run-${id}`, resumed: true, lastStep });
      }
      this.runs.set(id, {
        id,
        project: b.project,
        name: b.name,
        config: b.config,
        status: "running",
        batches: new Map(),
        received: [],
        creates: 1,
      });
      return send(res, 201, { id, url: `/runs/${id}`, project: b.project, name: b.name ?? `run-${id}`, resumed: false });
    }
    const m = /^\/api\/v1\/runs\/([^/]+)\/(log|finish)$/.exec(path);
    if (req.method === "POST" && m) {
      const run = this.runs.get(decodeURIComponent(m[1]!));
      if (!run) return send(res, 404, { error: { code: "not_found", message: "run not found" } });
      if (m[2] === "finish") {
        run.status = (body as { status?: string })?.status ?? "finished";
        return send(res, 200, { id: run.id, status: run.status, ...(this.finishChecklist !== undefined ? { checklist: this.finishChecklist } : {}) });
      }
      const batch = body as FakeBatch;
      if (typeof batch?.seq !== "number" || !Number.isInteger(batch.seq) || batch.seq < 0) {
        return send(res, 400, { error: { code: "invalid_batch", message: "seq must be a non-negative integer" } });
      }
      // The contract's key rule, as the real server applies it: one bad key rejects the whole batch.
      for (const [i, row] of (batch.rows ?? []).entries()) {
        for (const k of Object.keys(row.metrics)) {
          const problem = nameProblem(k, LIMITS.keyMaxLength, "metric keys");
          if (problem) return send(res, 400, { error: { code: "invalid_batch", message: `rows[${i}].metrics: ${problem}` } });
        }
        for (const [k, v] of Object.entries(row.metrics)) {
          if (typeof v === "string" && !["NaN", "Infinity", "-Infinity"].includes(v)) {
            return send(res, 400, { error: { code: "invalid_batch", message: `rows[${i}].metrics.${k}: bad value` } });
          }
        }
      }
      run.received.push(batch.seq);
      if (run.batches.has(batch.seq)) return send(res, 200, { accepted: {}, duplicate: true, alerts: [], refused: null });
      const refused = this.refuseKeys(run.id, batch);
      const accepted = {
        points: (batch.rows ?? []).reduce((n, r) => n + Object.keys(r.metrics).length, 0),
        histograms: (batch.histograms ?? []).length,
        events: (batch.events ?? []).length,
      };
      run.batches.set(batch.seq, batch);
      const alerts = this.alertsFor?.(run, batch) ?? [];
      return send(res, 200, { accepted, duplicate: false, alerts, refused });
    }
    send(res, 404, { error: { code: "not_found", message: `no route ${req.method} ${path}` } });
  }

  /** Leaves out of `batch` the metric keys beyond keysPerRun; the `refused` answer, or null. */
  private refuseKeys(runId: string, batch: FakeBatch): Record<string, unknown> | null {
    const known = this.runKeys.get(runId) ?? new Set<string>();
    this.runKeys.set(runId, known);
    const refusedKeys = new Set<string>();
    let points = 0;
    for (const row of batch.rows ?? []) {
      const kept: Record<string, number | string> = Object.create(null);
      for (const [k, v] of Object.entries(row.metrics)) {
        if (!known.has(k) && known.size >= this.keysPerRun) {
          refusedKeys.add(k);
          points++;
          continue;
        }
        known.add(k);
        kept[k] = v;
      }
      row.metrics = kept;
    }
    if (points === 0) return null;
    const message = `the run already has ${this.keysPerRun} distinct metric keys, the most one run may have`;
    return { code: "too_many_keys", message, points, histograms: 0, events: 0, keys: [...refusedKeys].slice(0, 20) };
  }
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

export async function startFakeServer(port = 0): Promise<FakeServer> {
  return new FakeServer().start(port);
}
