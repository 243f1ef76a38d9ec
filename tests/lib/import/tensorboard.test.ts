import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { useFreshDatabase } from "../../helpers/lib-db";
import { unpackTb } from "../../helpers/import-fixtures";
import { png } from "../../helpers/png";
import { eventBytes, eventFile, eventKinds, pluginOnceExpected, pluginOnceRecord, tb } from "../../helpers/tb-writer";

// TensorBoard event files made by hand in the TF2 forms torch's fixtures do not use (tensor
// summaries, packed tensor_content, the [k, 3] histogram tensor, the images plugin), each record
// cross-checked with Debian's `protoc --decode` against the vendored .proto files; then the states
// a log directory is found in: a file still being written, a damaged file, a second import.

useFreshDatabase();
process.env.BABYSIT_EVAL_INTERVAL_MS = "1000000";
await import("@/lib/alerts/register");
const { ImportData } = await import("@/lib/import/model");
const { readEventFile } = await import("@/lib/import/tensorboard/events");
const { maskedCrc32c, readRecords } = await import("@/lib/import/tensorboard/tfrecord");
const { importFile, importRunId } = await import("@/lib/import/import-file");
const { planImport } = await import("@/lib/import/plan");
const { scanRunPoints } = await import("@/lib/series/read-points");
const { getRun } = await import("@/lib/runs/get-run");
const { AppError } = await import("@/lib/errors");
const { sqlite } = await import("@/lib/db");

const PROTO = path.join(import.meta.dirname, "../../../lib/import/tensorboard/proto");

/** What protoc makes of an Event's bytes, in its text format. */
function protocDecode(bytes: Uint8Array): string {
  return execFileSync("protoc", [`-I${PROTO}`, "--decode=tensorboard.Event", "tensorboard/compat/proto/event.proto"], { input: bytes }).toString();
}

function read(file: Uint8Array) {
  const d = new ImportData();
  const r = readEventFile(file, d);
  return { d, r };
}

describe("TFRecord framing", () => {
  test("the masked CRC-32C is TensorFlow's (crc32c of '123456789' is 0xE3069283)", () => {
    const crc = 0xe3069283;
    const masked = ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
    expect(maskedCrc32c(Buffer.from("123456789"))).toBe(masked);
  });

  test("reads every record of a real event file with both checksums right", () => {
    const dir = unpackTb("healthy");
    const file = fs.readdirSync(dir).find((f) => f.includes("tfevents"))!;
    const bytes = fs.readFileSync(path.join(dir, file));
    const r = readRecords(bytes);
    expect(r.truncated).toBe(false);
    expect(r.end).toBe(bytes.length);
    expect(r.records.length).toBeGreaterThan(1000);
  });
});

describe("hand-made TF2 records, cross-checked with protoc --decode", () => {
  test("a scalar tensor summary (float_val), then the same tag without metadata (its plugin remembered)", () => {
    const first = eventBytes(3, 1_700_000_000.5, [tb.scalar("train/loss", 0.5)]);
    const later = eventBytes(4, 1_700_000_001, [tb.scalar("train/loss", 0.25, false)]);
    const text = protocDecode(first);
    expect(text).toContain("step: 3");
    expect(text).toContain('tag: "train/loss"');
    expect(text).toContain('plugin_name: "scalars"');
    expect(text).toContain("float_val: 0.5");
    expect(text).toContain("dtype: DT_FLOAT");
    expect(protocDecode(later)).not.toContain("plugin_name");
    const { d } = read(eventFile([first, later]));
    expect(d.points.get("train/loss")).toEqual({ steps: [3, 4], values: [0.5, 0.25], times: [1_700_000_000.5, 1_700_000_001] });
  });

  test("a float64 scalar packed in tensor_content", () => {
    const e = eventBytes(7, 1_700_000_000, [tb.scalarPacked("lr", 0.1)]);
    const text = protocDecode(e);
    expect(text).toContain("dtype: DT_DOUBLE");
    expect(text).toContain("tensor_content:");
    expect(read(eventFile([e])).d.points.get("lr")?.values).toEqual([0.1]);
  });

  test("the histograms plugin's [k, 3] tensor becomes edges and counts", () => {
    const e = eventBytes(5, 1_700_000_000, [
      tb.histogram("weight/fc1", [
        [-1, 0, 3],
        [0, 1, 5],
        [1, 2, 2],
      ]),
    ]);
    const text = protocDecode(e);
    expect(text).toContain('plugin_name: "histograms"');
    expect(text.match(/size: 3/g)).toHaveLength(2); // shape [3, 3]
    const { d } = read(eventFile([e]));
    expect(d.histograms).toEqual([{ key: "weight/fc1", step: 5, time: 1_700_000_000, edges: [-1, 0, 1, 2], counts: [3, 5, 2] }]);
  });

  test("a TF1 HistogramProto: the first bucket starts at min, TF's open last limit ends at max", () => {
    const e = eventBytes(2, 1_700_000_000, [tb.histo("act/fc1", { min: -0.5, max: 3, limits: [0, 1, 1.7976931348623157e308], counts: [1, 4, 2] })]);
    const text = protocDecode(e);
    expect(text).toContain("histo {");
    expect(text).toContain("bucket_limit: 1");
    const { d } = read(eventFile([e]));
    expect(d.histograms[0]).toMatchObject({ edges: [-0.5, 0, 1, 3], counts: [1, 4, 2] });
  });

  // damaged TF1 histograms were stored with made-up buckets: counts cut to the limits' length, a
  // NaN limit taken for TF's open end; each is left out and said, the record's other values kept
  test.each([
    ["more counts than limits", { min: 0, max: 3, limits: [1, 2], counts: [1, 4, 2] }, "has 2 bucket limits for 3 counts"],
    ["more limits than counts", { min: 0, max: 3, limits: [0.5, 1, 2], counts: [1, 2] }, "has 3 bucket limits for 2 counts"],
    ["a NaN limit", { min: 0, max: 1, limits: [Number.NaN, 1.7976931348623157e308], counts: [1, 2] }, "has a NaN bucket limit"],
  ])("a TF1 HistogramProto with %s is skipped and said so", (_what, h, said) => {
    const { d } = read(eventFile([eventBytes(3, 1_700_000_000, [tb.histo("h", h), tb.simple("loss", 0.5)])]));
    expect(d.histograms).toEqual([]);
    expect(d.skipped).toEqual([`histogram "h" at step 3 ${said}`]);
    expect(d.points.get("loss")?.values).toEqual([0.5]);
  });

  test("images (TF1 Summary.Image and the TF2 images plugin) and text", () => {
    const p = png(3, 2);
    const e = eventBytes(1, 1_700_000_000, [tb.image("sample", p, 3, 2), tb.images("batch", [p, p], 3, 2), tb.text("notes", "hello **world**")]);
    const text = protocDecode(e);
    expect(text).toContain("encoded_image_string:");
    expect(text).toContain('plugin_name: "images"');
    expect(text).toContain('plugin_name: "text"');
    const { d } = read(eventFile([e]));
    expect(d.images.map((i) => [i.key, i.width, i.height])).toEqual([
      ["sample", 3, 2],
      ["batch/0", 3, 2],
      ["batch/1", 3, 2],
    ]);
    expect(d.texts).toEqual([{ key: "notes", step: 1, time: 1_700_000_000, text: "hello **world**" }]);
  });

  test("a JPEG image is skipped and said so", () => {
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, ...new Array(40).fill(0)]);
    const { d } = read(eventFile([eventBytes(1, 1_700_000_000, [tb.image("photo", jpeg, 4, 4)])]));
    expect(d.images).toEqual([]);
    expect(d.skipped[0]).toContain("JPEG");
  });
});

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "babysit-tbt-"));
}

function stored(runId: string): Map<string, Map<number, number>> {
  const out = new Map<string, Map<number, number>>();
  scanRunPoints(runId, (key, steps, values) => {
    let m = out.get(key);
    if (!m) out.set(key, (m = new Map()));
    for (let i = 0; i < steps.length; i++) m.set(steps[i], values[i]);
  });
  return out;
}

function counts(runId: string) {
  const db = sqlite();
  let points = 0;
  scanRunPoints(runId, (_k, steps) => (points += steps.length));
  const h = (db.prepare("SELECT COUNT(*) AS n FROM histograms WHERE run_id = ?").get(runId) as { n: number }).n;
  const e = (db.prepare("SELECT COUNT(*) AS n FROM events WHERE run_id = ?").get(runId) as { n: number }).n;
  return { points, histograms: h, events: e };
}

async function importDir(project: string, dir: string) {
  const plan = planImport([dir]);
  const out = [];
  for (const run of plan.runs)
    for (const f of run.files)
      out.push(await importFile({ project, source: run.source, name: run.name, path: f.rel, bytes: fs.readFileSync(f.abs) }));
  return out;
}

describe("a log directory as it is found", () => {
  const steps = Array.from({ length: 50 }, (_, i) => i);
  const records = steps.map((s) =>
    eventBytes(s, 1_700_000_000 + s, [
      tb.scalar("loss", 1 / (s + 1), s === 0),
      ...(s % 10 === 0
        ? [
            tb.histogram("w", [
              [0, 1, s],
              [1, 2, 1],
            ]),
            tb.image("img", png(2, 2), 2, 2),
          ]
        : []),
    ]),
  );
  const full = eventFile(records);

  test("a truncated last record (a file being written) imports what is whole, then the rest once it is", async () => {
    const dir = tmpDir();
    const file = path.join(dir, "events.out.tfevents.1.host");
    const cut = full.length - 7; // inside the last record
    fs.writeFileSync(file, full.subarray(0, cut));
    const [first] = await importDir("grow", dir);
    expect(first.truncated).toBe(true);
    expect(first.points).toBe(49);
    fs.writeFileSync(file, full);
    const [second] = await importDir("grow", dir);
    expect(second.runId).toBe(first.runId);
    expect(second.truncated).toBe(false);
    expect(second.points).toBe(1); // only the record that was cut short
    expect(second.unchanged).toBeGreaterThanOrEqual(49);
    expect([...stored(first.runId).get("loss")!.keys()]).toEqual(steps);
  });

  test("a growing file sent in parts: each answer's end is where the next part starts (offset)", async () => {
    const cut = full.length - 7;
    const q = { project: "parts", source: "/logs/run", path: "events.out.tfevents.1.host" };
    const a = await importFile({ ...q, bytes: full.subarray(0, cut) });
    expect(a).toMatchObject({ truncated: true, points: 49 });
    expect(a.end).toBeLessThan(cut);
    const b = await importFile({ ...q, offset: a.end, bytes: full.subarray(a.end) });
    expect(b).toMatchObject({ truncated: false, points: 1, unchanged: 0, end: full.length });
    expect([...stored(a.runId).get("loss")!.keys()]).toEqual(steps);
    // a text log the same way: lines after the last newline wait for the next part
    const log = "step=1 loss=1 acc=1\nstep=2 loss=2 acc=2\nstep=3 lo";
    const t = { project: "parts", source: "/logs/train.log", path: "train.log" };
    const c = await importFile({ ...t, bytes: Buffer.from(log) });
    expect(c.end).toBe(log.lastIndexOf("\n") + 1);
    const rest = Buffer.from(`${log.slice(c.end)}ss=3 acc=3\n`);
    const d = await importFile({ ...t, offset: c.end, bytes: rest });
    expect(d.points).toBe(2);
    expect([...stored(c.runId).get("loss")!]).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    // a CSV is sent whole: its header names the columns
    await expect(
      importFile({ project: "parts", source: "/logs/m.csv", path: "m.csv", offset: 10, bytes: Buffer.from("1,2\n") }),
    ).rejects.toMatchObject({
      code: "invalid_import",
    });
  });

  test("a re-import of the same directory stores no point, histogram or image twice", async () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, "events.out.tfevents.1.host"), full);
    const [a] = await importDir("again", dir);
    const before = counts(a.runId);
    expect(before).toEqual({ points: 50, histograms: 5, events: 5 });
    const [b] = await importDir("again", dir);
    expect(b.runId).toBe(a.runId);
    expect(b.resumed).toBe(true);
    expect([b.points, b.histograms, b.images]).toEqual([0, 0, 0]);
    expect(b.unchanged).toBe(60);
    expect(counts(a.runId)).toEqual(before);
  });

  type Damage = [string, (b: Buffer) => void, RegExp];
  test.each<Damage>([
    [
      "the data checksum",
      (b) => {
        b[b.length - 10] ^= 0xff;
      },
      /bad data checksum/,
    ],
    [
      "the length checksum",
      (b) => {
        b[b.length - records[49].length - 16 + 9] ^= 0xff;
      },
      /bad length checksum/,
    ],
    // a length no file sent to the server can hold, its checksum right: was read as a record still
    // being written (nothing imported, nothing said, and `babysit watch` sent the file again forever)
    ...[2 ** 40, 2 ** 53 + 2, 64 * 1024 * 1024].map(
      (length): Damage => [
        `a declared length of ${length} bytes`,
        (b) => {
          const at = b.length - records[49].length - 16;
          b.writeBigUInt64LE(BigInt(length), at);
          b.writeUInt32LE(maskedCrc32c(b.subarray(at, at + 8)), at + 8);
        },
        new RegExp(`declares ${length} bytes, more than`),
      ],
    ),
  ])("a damaged record (%s) is a clear error naming the file and offset, and nothing of the file is stored", async (_what, damage, message) => {
    const dir = tmpDir();
    const bytes = Buffer.from(full);
    damage(bytes);
    fs.writeFileSync(path.join(dir, "events.out.tfevents.2.host"), bytes);
    const run = planImport([dir]).runs[0];
    const err = await importFile({ project: "damaged", source: run.source, path: run.files[0].rel, bytes }).catch((e) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err.code).toBe("invalid_import");
    expect(err.message).toMatch(message);
    expect(err.message).toContain("events.out.tfevents.2.host");
    expect(err.message).toMatch(/at byte \d+/);
    expect(err.message).toContain("nothing of this file was imported");
    await expect(getRun(importRunId("damaged", run.source))).rejects.toMatchObject({ code: "not_found" });
  });
});

describe("hostile keys and values through the store", () => {
  test("__proto__ keys and NaN/inf values are stored as data; a key the contract refuses is skipped and said so", async () => {
    const text = [
      '{"step": 1, "__proto__": 1, "loss": NaN, "x": {"constructor": Infinity}}',
      '{"step": 2, "__proto__": 2, "loss": -Infinity, "bad\\u0001key": 3}',
      `{"step": 3, "${"k".repeat(300)}": 1}`,
      '{"kind": "config", "__proto__": {"polluted": true}, "lr": 0.1}',
    ].join("\n");
    const r = await importFile({ project: "hostile", source: "/x/m.jsonl", path: "m.jsonl", bytes: Buffer.from(text) });
    expect(r.skipped.map((s) => s.reason)).toEqual([expect.stringContaining("control characters"), expect.stringContaining("at most 200")]);
    const got = stored(r.runId);
    expect([...got.get("__proto__")!]).toEqual([
      [1, 1],
      [2, 2],
    ]);
    expect([...got.get("loss")!]).toEqual([
      [1, Number.NaN],
      [2, Number.NEGATIVE_INFINITY],
    ]);
    expect([...got.get("x/constructor")!]).toEqual([[1, Number.POSITIVE_INFINITY]]);
    const detail = (await getRun(r.runId)) as unknown as { run: { config: Record<string, unknown> } };
    expect(Object.hasOwn(detail.run.config, "__proto__")).toBe(true);
    expect(detail.run.config.lr).toBe(0.1);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("a tag's plugin, named on its first value only (TF2), holds for the run's later requests", () => {
  // Each tag names its plugin at step 0 only, as TF2's writers do; the later values are shaped so
  // that a guess from the shape alone goes wrong: a [1] scalar, a text of numbers (looks like an
  // images tensor [width, height, ...]), an images summary of no image (looks like text).
  const p = png(2, 2);
  const steps = Array.from({ length: 10 }, (_, i) => i);
  const records = steps.map((s) => pluginOnceRecord(s, p));
  const want = {
    points: 10,
    histograms: 10,
    images: 18, // two a step, none at step 5
    texts: 10,
  };

  function kinds(runId: string) {
    const points = stored(runId);
    return { ...eventKinds(sqlite(), runId), keys: [...points.keys()], loss: [...(points.get("loss")?.keys() ?? [])] };
  }

  function expectRight(runId: string) {
    expect(kinds(runId)).toEqual({ ...pluginOnceExpected(steps), keys: ["loss"], loss: steps });
  }

  test("the guess alone is wrong for these values (what the run's memory is for)", () => {
    const { d } = read(eventFile(records.slice(1)));
    expect(d.pointCount).toBe(0);
    expect(d.texts.map((t) => t.key)).toEqual(["batch"]); // the empty images summary read as text
    expect(d.skipped.length).toBeGreaterThan(0);
  });

  test("a file sent in two parts (offset): every later value lands in its tag's kind", async () => {
    const full = eventFile(records);
    const cut = full.length - records.slice(2).reduce((n, r) => n + r.length + 16, 0) + 5; // 5 bytes into step 2's record
    const q = { project: "plugins", source: "/logs/tf2-parts", path: "events.out.tfevents.1.host" };
    const a = await importFile({ ...q, bytes: full.subarray(0, cut) });
    expect(a).toMatchObject({ truncated: true, points: 2, histograms: 2, images: 4, skipped: [] });
    const b = await importFile({ ...q, offset: a.end, bytes: full.subarray(a.end) });
    expect(b).toMatchObject({ runId: a.runId, truncated: false, points: 8, histograms: 8, images: 14, unchanged: 0, skipped: [] });
    expectRight(a.runId);
    // the same tail again, and the whole file again: nothing stored twice
    const c = await importFile({ ...q, offset: a.end, bytes: full.subarray(a.end) });
    expect(c).toMatchObject({ points: 0, histograms: 0, images: 0, events: 0, skipped: [] });
    const d = await importFile({ ...q, bytes: full });
    expect(d).toMatchObject({ points: 0, histograms: 0, images: 0, events: 0, skipped: [] });
    expect(d.unchanged).toBe(want.points + want.histograms + want.images + want.texts);
    expectRight(a.runId);
  });

  test("two event files of one run (a writer session each), imported in two requests", async () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, "events.out.tfevents.1700000000.host.1.0"), eventFile(records.slice(0, 4)));
    fs.writeFileSync(path.join(dir, "events.out.tfevents.1700000100.host.2.0"), eventFile(records.slice(4)));
    const [a, b] = await importDir("plugins-files", dir);
    expect(b.runId).toBe(a.runId);
    expect(a).toMatchObject({ points: 4, histograms: 4, images: 8, skipped: [] });
    expect(b).toMatchObject({ points: 6, histograms: 6, images: 10, unchanged: 0, skipped: [] });
    expectRight(a.runId);
    const again = await importDir("plugins-files", dir);
    expect(again.map((r) => [r.points, r.histograms, r.images, r.events])).toEqual([
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
    expectRight(a.runId);
  });

  test.each([
    ["histograms", tb.histogram("w", [[0, 1, 2]], false), ["histogram w@20"]],
    ["images", tb.images("batch", [], 2, 2, false), []], // an empty images summary, not the text "2\n2"
    ["text", tb.text("notes", ["1", "2", "ok"], false), ["text notes@20:1\n2\nok"]],
    ["scalars", tb.scalar("loss", 0.5, false, [1]), ["point loss@20"]],
  ])("a tag the run stored as %s is read as such in a later request, the guess notwithstanding", async (kind, value, at20) => {
    const q = { project: "plugins-each", source: `/logs/${kind}`, path: "events.out.tfevents.1.host" };
    const first = await importFile({ ...q, bytes: eventFile([records[0]]) });
    const later = await importFile({ ...q, path: "events.out.tfevents.2.host", bytes: eventFile([eventBytes(20, 1_700_000_020, [value])]) });
    expect(later.runId).toBe(first.runId);
    expect(later.skipped).toEqual([]);
    const k = kinds(first.runId);
    const stored20 = [
      ...k.histograms.map((h) => `histogram ${h}`),
      ...k.images.map((im) => `image ${im}`),
      ...k.texts.map((t) => `text ${t}`),
      ...k.loss.map((s) => `point loss@${s}`),
    ].filter((x) => x.includes("@20"));
    expect(stored20).toEqual(at20);
  });

  test("a tag nobody named (its head never imported) is guessed, but binary strings (audio) never become text", async () => {
    // a WAV's first bytes: "RIFF", a size, "WAVEfmt ", then PCM samples that are no UTF-8
    const wav = Buffer.concat([
      Buffer.from("RIFF"),
      Buffer.from([0x24, 0xf0, 0x00, 0x00]),
      Buffer.from("WAVEfmt "),
      Buffer.from([0x10, 0, 0, 0, 0xff, 0xfe, 0x80, 0x81]),
    ]);
    for (const named of [true, false]) {
      const q = { project: "plugins-guess", source: `/logs/audio-${named}`, path: "events.out.tfevents.1.host" };
      const values = [eventBytes(1, 1_700_000_001, [tb.audio("speech", wav, named)]), eventBytes(2, 1_700_000_002, [tb.audio("speech", wav, false)])];
      const r = await importFile({ ...q, bytes: eventFile(values) });
      expect(r.skipped.map((s) => s.reason)).toEqual([
        named ? expect.stringContaining('"audio" plugin') : expect.stringContaining("no plugin named"),
        named ? expect.stringContaining('"audio" plugin') : expect.stringContaining("no plugin named"),
      ]);
      expect(kinds(r.runId).texts).toEqual([]);
    }
  });
});
