import http from "node:http";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LIMITS } from "@/lib/contract/limits";
import { frameRecord } from "@/lib/import/tensorboard/tfrecord";
import { type TestServer, api, startServer, waitFor } from "../helpers/server";

// Files an attacker sends to POST /api/v1/import to make the server run out of memory: each is
// within importFileBytes but decodes into far more than its size (a point, a row, a protobuf field
// are each an object). Each is refused whole, with the envelope, writes nothing, and the server
// still answers.

async function send(base: string, q: Record<string, string>, body: Uint8Array) {
  const res = await fetch(`${base}/api/v1/import?${new URLSearchParams(q)}`, {
    method: "POST",
    headers: { "content-type": "application/octet-stream" },
    body: new Blob([body as Uint8Array<ArrayBuffer>]),
  });
  return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
}

const varint = (n: number): number[] => {
  const o: number[] = [];
  while (n >= 0x80) {
    o.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  o.push(n);
  return o;
};
const ld = (field: number, body: Uint8Array): Uint8Array => Uint8Array.from([...varint((field << 3) | 2), ...varint(body.length), ...body]);

/** One Event record whose Summary holds `n` empty Values (2 bytes each on disk). */
function emptyValuesBomb(n: number): Uint8Array {
  const summary = new Uint8Array(n * 2);
  for (let i = 0; i < n; i++) summary[2 * i] = 0x0a;
  const head = Uint8Array.from([0x2a, ...varint(summary.length)]);
  const rec = new Uint8Array(head.length + summary.length);
  rec.set(head);
  rec.set(summary, head.length);
  return frameRecord(rec);
}

/** One Event record of `n` unknown varint fields (protobuf keeps each as an object). */
function unknownFieldsBomb(n: number): Uint8Array {
  const rec = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) rec.set([0xa0, 0x06, 0x01], 3 * i); // field 100, varint 1
  return frameRecord(rec);
}

/** A text tensor of `n` empty strings: Event > Summary > Value(tag "t", plugin text) > tensor(8) > string_val(8). */
function emptyStringsBomb(n: number): Uint8Array {
  const strings = new Uint8Array(n * 2);
  for (let i = 0; i < n; i++) strings[2 * i] = 0x42;
  const tensor = ld(8, Uint8Array.from([0x08, 0x07, ...strings])); // dtype DT_STRING
  const value = Uint8Array.from([...ld(1, Uint8Array.from([0x74])), ...tensor]);
  return frameRecord(ld(5, ld(1, value)));
}

const over = LIMITS.importPointsMax.value + 1;

describe("import bombs", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { BABYSIT_EVAL_INTERVAL_MS: "1000000" } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  test.each([
    ["a CSV of more rows than importPointsMax (no step column)", "m.csv", () => Buffer.from(`v\n${"1\n".repeat(over)}`), 413, "payload_too_large"],
    [
      "a CSV of more points than importPointsMax in few rows",
      "m.csv",
      () => {
        const cols = 1000;
        const header = Array.from({ length: cols }, (_, i) => `c${i}`).join(",");
        const row = Array(cols).fill("1").join(",");
        return Buffer.from(`${header}\n${`${row}\n`.repeat(Math.ceil(over / cols))}`);
      },
      413,
      "payload_too_large",
    ],
    [
      "a text log of more points than importPointsMax",
      "train.log",
      () => {
        const pairs = Array.from({ length: 200 }, (_, i) => `m${i}=1`).join(" ");
        const lines: string[] = [];
        for (let s = 0; s * 200 <= over; s++) lines.push(`step=${s} ${pairs}\n`);
        return Buffer.from(lines.join(""));
      },
      413,
      "payload_too_large",
    ],
    ["a JSON Lines file of more events than importPointsMax", "m.jsonl", () => Buffer.from('{"kind":"x"}\n'.repeat(over)), 413, "payload_too_large"],
    ["an event record of 200k empty summary values", "events.out.tfevents.1.h", () => emptyValuesBomb(200_000), 400, "invalid_import"],
    ["an event record of 200k unknown fields", "events.out.tfevents.1.h", () => unknownFieldsBomb(200_000), 400, "invalid_import"],
    ["a text tensor of 200k empty strings", "events.out.tfevents.1.h", () => emptyStringsBomb(200_000), 400, "invalid_import"],
  ])("%s: refused whole, nothing written, the server still answers", async (what, file, make, status, code) => {
    const project = "bombs";
    const before = (await api(server.url, "GET", `/api/v1/runs?project=${project}`)).body.total ?? 0;
    const r = await send(server.url, { project, source: `/atk/${what}`, path: file }, make());
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status, code });
    expect((await api(server.url, "GET", `/api/v1/runs?project=${project}`)).body.total ?? 0).toBe(before);
    expect((await api(server.url, "GET", "/api/v1/runs")).status).toBe(200);
  });

  test.each([
    ["an event's data nested 10,000 objects deep", `{"kind":"ev","step":1,"a":${'{"b":'.repeat(10_000)}1${"}".repeat(10_000)}}\n`],
    ["an event's data nested 30,000 arrays deep", `{"kind":"ev","step":1,"a":${"[".repeat(30_000)}${"]".repeat(30_000)}}\n`],
    ["input_stats nested 30,000 arrays deep", `{"kind":"input_stats","a":${"[".repeat(30_000)}${"]".repeat(30_000)}}\n`],
  ])("%s: the rest imports, the event is skipped and said so (never a 500)", async (what, text) => {
    const r = await send(
      server.url,
      { project: "bombs-deep", source: `/deep/${what}`, path: "m.jsonl" },
      Buffer.from(`${text}{"step":1,"loss":1}\n`),
    );
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ points: 1, events: 0 });
    expect(JSON.stringify(r.body)).toContain(`nested at most ${LIMITS.jsonDepth.value} levels deep`);
  });

  test.each([
    ["a text log of 16 MiB one-character lines", "train.log", () => Buffer.from("1\n".repeat(8 * 1024 * 1024))],
    ["a JSON Lines file of 16 MiB empty objects", "m.jsonl", () => Buffer.from("{}\n".repeat((16 * 1024 * 1024) / 3))],
    [
      "an event file of 80 records of 99,000 empty values each",
      "events.out.tfevents.1.h",
      () => Buffer.concat(Array(80).fill(emptyValuesBomb(99_000))),
    ],
  ])("while %s is read, the server answers others (it is not frozen)", async (what, file, make) => {
    const body = make();
    const done: string[] = [];
    const sent = new Promise<void>((resolve) => {
      const req = http.request(
        `${server.url}/api/v1/import?${new URLSearchParams({ project: "bombs-slow", source: `/slow/${what}`, path: file })}`,
        { method: "POST", headers: { "content-type": "application/octet-stream", "content-length": String(body.length) } },
        (res) => {
          res.resume();
          res.on("end", () => done.push(`import ${res.statusCode}`));
        },
      );
      req.end(body, () => resolve());
    });
    await sent;
    const probe = await api(server.url, "GET", "/api/v1/runs?project=other");
    done.push(`probe ${probe.status}`);
    await waitFor(() => done.length === 2, 120_000, "the import's answer");
    expect(done).toEqual(["probe 200", "import 200"]);
  });

  test.each([
    ["a string (a W&B sweep's name)", '"lr-sweep"'],
    ["an object without id", '{"name":"x"}'],
    ["a space that is not one", '{"id":"s","space":{"a":[1]}}'],
    ["a trial past the budget", '{"id":"s","trial":1e300}'],
  ])("a logged hyperparameter sweep that is %s: the file imports without it, and says so", async (what, sweep) => {
    const body = Buffer.from(`{"kind":"config","sweep":${sweep},"lr":0.1}\n{"step":1,"loss":1}\n`);
    const r = await send(server.url, { project: "bombs-sweep", source: `/sweep/${what}`, path: "m.jsonl" }, body);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ points: 1 });
    expect(JSON.stringify(r.body)).toContain('the recorded hyperparameter \\"sweep\\" was not kept');
    const run = await api(server.url, "GET", `/api/v1/runs/${(r.body as { runId: string }).runId}`);
    expect(run.body.run.config).toEqual({ lr: 0.1 });
    expect((await api(server.url, "GET", "/api/v1/sweeps?project=bombs-sweep")).body.sweeps).toEqual([]);
  });

  test("a file just under the limits still imports whole", async () => {
    const r = await send(server.url, { project: "bombs-ok", source: "/ok", path: "m.csv" }, Buffer.from(`v\n${"1\n".repeat(1000)}`));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ points: 1000 });
    const ok = await send(server.url, { project: "bombs-ok", source: "/ok-tb", path: "events.out.tfevents.1.h" }, emptyValuesBomb(50_000));
    expect(ok.status).toBe(200);
  });
});
