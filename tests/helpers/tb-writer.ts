import { create, toBinary } from "@bufbuild/protobuf";
import { EventSchema } from "@/lib/import/tensorboard/gen/tensorboard/compat/proto/event_pb";
import { HistogramProtoSchema } from "@/lib/import/tensorboard/gen/tensorboard/compat/proto/histogram_pb";
import { SummaryMetadataSchema, SummarySchema, Summary_ValueSchema } from "@/lib/import/tensorboard/gen/tensorboard/compat/proto/summary_pb";
import { TensorProtoSchema } from "@/lib/import/tensorboard/gen/tensorboard/compat/proto/tensor_pb";
import { TensorShapeProtoSchema, TensorShapeProto_DimSchema } from "@/lib/import/tensorboard/gen/tensorboard/compat/proto/tensor_shape_pb";
import { DataType } from "@/lib/import/tensorboard/gen/tensorboard/compat/proto/types_pb";
import { frameRecord } from "@/lib/import/tensorboard/tfrecord";

// Hand-made TensorBoard event records, as TF2's summary writer and torch's SummaryWriter write them,
// for the importer's tests and benchmark (the bytes are cross-checked with `protoc --decode`).

type Value = ReturnType<typeof create<typeof Summary_ValueSchema>>;

const shape = (dims: number[]) =>
  create(TensorShapeProtoSchema, { dim: dims.map((size) => create(TensorShapeProto_DimSchema, { size: BigInt(size) })) });
const meta = (plugin: string) => create(SummaryMetadataSchema, { pluginData: { pluginName: plugin } });

export const tb = {
  /** TF1: Summary.Value.simple_value. */
  simple: (tag: string, v: number): Value => create(Summary_ValueSchema, { tag, value: { case: "simpleValue", value: v } }),
  /**
   * TF2: a float32 scalar tensor; `plugin` false leaves out the metadata (a tag's later values);
   * `dims` [1] is the one-element vector some writers log.
   */
  scalar: (tag: string, v: number, plugin = true, dims: number[] = []): Value =>
    create(Summary_ValueSchema, {
      tag,
      ...(plugin ? { metadata: meta("scalars") } : {}),
      value: { case: "tensor", value: create(TensorProtoSchema, { dtype: DataType.DT_FLOAT, tensorShape: shape(dims), floatVal: [v] }) },
    }),
  /** TF2: a float64 scalar packed in tensor_content. */
  scalarPacked: (tag: string, v: number): Value => {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    return create(Summary_ValueSchema, {
      tag,
      metadata: meta("scalars"),
      value: { case: "tensor", value: create(TensorProtoSchema, { dtype: DataType.DT_DOUBLE, tensorShape: shape([]), tensorContent: b }) },
    });
  },
  /** TF2: the histograms plugin's [k, 3] (left, right, count) float64 tensor, packed. */
  histogram: (tag: string, buckets: [number, number, number][], plugin = true): Value => {
    const b = Buffer.alloc(buckets.length * 24);
    buckets.flat().forEach((x, i) => b.writeDoubleLE(x, i * 8));
    return create(Summary_ValueSchema, {
      tag,
      ...(plugin ? { metadata: meta("histograms") } : {}),
      value: {
        case: "tensor",
        value: create(TensorProtoSchema, { dtype: DataType.DT_DOUBLE, tensorShape: shape([buckets.length, 3]), tensorContent: b }),
      },
    });
  },
  /** TF1 (torch): HistogramProto with right bucket limits. */
  histo: (tag: string, h: { min: number; max: number; limits: number[]; counts: number[] }): Value =>
    create(Summary_ValueSchema, {
      tag,
      value: {
        case: "histo",
        value: create(HistogramProtoSchema, {
          min: h.min,
          max: h.max,
          num: h.counts.reduce((a, b) => a + b, 0),
          bucketLimit: h.limits,
          bucket: h.counts,
        }),
      },
    }),
  /** TF1 (torch add_image): Summary.Image with encoded PNG. */
  image: (tag: string, png: Uint8Array, width: number, height: number): Value =>
    create(Summary_ValueSchema, { tag, value: { case: "image", value: { height, width, colorspace: 3, encodedImageString: png } } }),
  /** TF2: the images plugin's string tensor [width, height, png...]. */
  images: (tag: string, pngs: Uint8Array[], width: number, height: number, plugin = true): Value =>
    create(Summary_ValueSchema, {
      tag,
      ...(plugin ? { metadata: meta("images") } : {}),
      value: {
        case: "tensor",
        value: create(TensorProtoSchema, {
          dtype: DataType.DT_STRING,
          tensorShape: shape([2 + pngs.length]),
          stringVal: [Buffer.from(String(width)), Buffer.from(String(height)), ...pngs],
        }),
      },
    }),
  /** TF2: the audio plugin's [k, 2] string tensor of (encoded audio, label) rows. */
  audio: (tag: string, wav: Uint8Array, plugin = true): Value =>
    create(Summary_ValueSchema, {
      tag,
      ...(plugin ? { metadata: meta("audio") } : {}),
      value: {
        case: "tensor",
        value: create(TensorProtoSchema, { dtype: DataType.DT_STRING, tensorShape: shape([1, 2]), stringVal: [wav, Buffer.from("")] }),
      },
    }),
  /** The text plugin's string tensor (torch add_text); several strings make a [k] tensor (TF2 tf.summary.text of a vector). */
  text: (tag: string, text: string | string[], plugin = true): Value => {
    const lines = typeof text === "string" ? [text] : text;
    return create(Summary_ValueSchema, {
      tag,
      ...(plugin ? { metadata: meta("text") } : {}),
      value: {
        case: "tensor",
        value: create(TensorProtoSchema, {
          dtype: DataType.DT_STRING,
          tensorShape: shape([lines.length]),
          stringVal: lines.map((l) => Buffer.from(l)),
        }),
      },
    });
  },
};

/** One Event's bytes (unframed): a summary of `values` at `step`. */
export function eventBytes(step: number, wallTime: number, values: Value[]): Uint8Array {
  return toBinary(
    EventSchema,
    create(EventSchema, { step: BigInt(step), wallTime, what: { case: "summary", value: create(SummarySchema, { value: values }) } }),
  );
}

/** The file_version record every event file starts with. */
export function fileVersion(wallTime = 1_700_000_000): Uint8Array {
  return toBinary(EventSchema, create(EventSchema, { wallTime, what: { case: "fileVersion", value: "brain.Event:2" } }));
}

/** An event file: framed records, the file_version one first. */
export function eventFile(events: Uint8Array[]): Buffer {
  return Buffer.concat([frameRecord(fileVersion()), ...events.map(frameRecord)]);
}

/**
 * One step of a TF2 run whose tags name their plugin at step 0 only, as TF2's writers do, with
 * later values shaped so that a guess from the shape alone goes wrong: `loss` a [1] scalar, `notes`
 * a text of numbers (it looks like an images tensor [width, height, ...]), `batch` an images summary
 * of two PNGs, and of none at step 5 (it looks like text); `w` a [2, 3] histogram.
 */
export function pluginOnceRecord(s: number, png: Uint8Array): Uint8Array {
  return eventBytes(s, 1_700_000_000 + s, [
    s === 0 ? tb.scalar("loss", 1) : tb.scalar("loss", 1 / (s + 1), false, [1]),
    tb.histogram(
      "w",
      [
        [0, 1, s],
        [1, 2, 1],
      ],
      s === 0,
    ),
    tb.images("batch", s === 5 ? [] : [png, png], 2, 2, s === 0),
    tb.text("notes", [String(s), String(2 * s), "ok"], s === 0),
  ]);
}

/** What a run made of pluginOnceRecord(s) for `steps` holds besides its points, as eventKinds lists it. */
export function pluginOnceExpected(steps: number[]) {
  return {
    histograms: steps.map((s) => `w@${s}`),
    images: ["batch/0", "batch/1"].flatMap((key) => steps.filter((s) => s !== 5).map((s) => `${key}@${s}`)),
    texts: steps.map((s) => `notes@${s}:${s}\n${2 * s}\nok`),
    other: [] as string[],
  };
}

/** A run's histograms, images, texts and other events as key@step lists (texts with their text). */
export function eventKinds(db: { prepare(sql: string): { all(...a: unknown[]): unknown[] } }, runId: string) {
  const rows = db
    .prepare("SELECT type, json_extract(data, '$.key') AS key, step, data FROM events WHERE run_id = ? ORDER BY type, key, step")
    .all(runId) as { type: string; key: string; step: number; data: string }[];
  const hist = db.prepare("SELECT key, step FROM histograms WHERE run_id = ? ORDER BY key, step").all(runId) as { key: string; step: number }[];
  return {
    histograms: hist.map((h) => `${h.key}@${h.step}`),
    images: rows.filter((r) => r.type === "image").map((r) => `${r.key}@${r.step}`),
    texts: rows.filter((r) => r.type === "text").map((r) => `${r.key}@${r.step}:${JSON.parse(r.data).text}`),
    other: rows.filter((r) => r.type !== "image" && r.type !== "text").map((r) => r.type),
  };
}
