import { fromBinary, toJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { LIMITS } from "../../contract/limits";
import { type ImportData, isStep } from "../model";
import { EventSchema } from "./gen/tensorboard/compat/proto/event_pb";
import type { HistogramProto } from "./gen/tensorboard/compat/proto/histogram_pb";
import type { Summary_Value } from "./gen/tensorboard/compat/proto/summary_pb";
import type { TensorProto } from "./gen/tensorboard/compat/proto/tensor_pb";
import { DataType } from "./gen/tensorboard/compat/proto/types_pb";
import { HParamsPluginDataSchema } from "./gen/tensorboard/plugins/hparams/plugin_data_pb";
import { RecordError, recordParts } from "./tfrecord";

// TensorBoard event files -> ImportData. What each summary becomes:
// - scalars: TF1 `simple_value`, and TF2 tensor summaries of the "scalars" plugin (one number)
// - histograms: TF1 HistogramProto (bucket_limit are right edges; the first bucket starts at min),
//   and the TF2 "histograms" plugin's [k, 3] tensor of (left, right, count) rows
// - images: Summary.Image and the TF2 "images" plugin's string tensor [width, height, image...];
//   PNG only (babysit stores and draws PNG; a JPEG is skipped and said so)
// - text: the "text" plugin's string tensor
// - hparams: the "hparams" plugin's session_start_info hyperparameters -> the run's config
// - a text summary whose tag starts with "config" and whose text is a JSON object (bare or in a
//   ``` fence, as people log `json.dumps(config)` with add_text) is merged into the run's config too
// TF2 writers put a tag's metadata (its plugin) on its first value only: later values of the tag
// are read with the plugin remembered. What remembers it spans requests (a growing file's tail sent
// with `offset`, the run's next event file): the caller's TagPlugins answers for tags named before.
// Only a tag nobody knows is inferred from its shape, and a guess is never remembered.

export class EventFileError extends Error {}

/**
 * A tag's plugin as the run knows it (written on the tag's first value only): a Map within one
 * read, or one that also asks what the run already stored (lib/import/import-file.ts).
 */
export interface TagPlugins {
  get(tag: string): string | undefined;
  set(tag: string, plugin: string): void;
}

export interface EventFileResult {
  /** Where reading stopped: the end of the last complete record. */
  end: number;
  records: number;
}

/**
 * Reads an event file's records from `start` into `out`. A bad checksum throws EventFileError
 * naming the offset, and `out` is then to be discarded whole (callers parse into a fresh one).
 */
export function readEventFile(bytes: Uint8Array, out: ImportData, plugins: TagPlugins = new Map<string, string>(), start = 0): EventFileResult {
  const parts = eventFileParts(bytes, out, plugins, start);
  for (;;) {
    const r = parts.next();
    if (r.done) return r.value;
  }
}

/** readEventFile in parts: yields every RECORDS_PER_PART records, so that a caller may let others run. */
export function* eventFileParts(
  bytes: Uint8Array,
  out: ImportData,
  plugins: TagPlugins = new Map<string, string>(),
  start = 0,
): Generator<void, EventFileResult> {
  // a part ends after RECORDS_PER_PART records or BYTES_PER_PART bytes: a record of 100,000 empty
  // fields takes tens of milliseconds to decode, and checking a large file's checksums about a
  // second; a bad checksum anywhere still refuses the whole file (nothing is stored before its end)
  const parts = recordParts(bytes, start, RECORDS_PER_PART, BYTES_PER_PART);
  let records = 0;
  for (let first = true; ; first = false) {
    let r: ReturnType<typeof parts.next>;
    try {
      r = parts.next();
    } catch (e) {
      if (e instanceof RecordError) throw new EventFileError(e.message);
      throw e;
    }
    if (r.done) {
      if (r.value.truncated) out.truncated = true;
      out.end = r.value.end;
      return { end: r.value.end, records };
    }
    if (!first) yield;
    for (const rec of r.value) readRecord(rec, out, plugins);
    records += r.value.length;
  }
}

const RECORDS_PER_PART = 8192;
const BYTES_PER_PART = 256 * 1024;

function readRecord({ offset, data }: { offset: number; data: Uint8Array }, out: ImportData, plugins: TagPlugins): void {
  // protobuf decodes each field into an object: a record of 2-byte empty fields would take ~75
  // bytes of memory per byte of file, so one is refused before it is decoded
  if (fieldsAtMost(data, LIMITS.importRecordFieldsMax.value, SCAN_DEPTH) < 0) {
    throw new EventFileError(
      `the record at byte ${offset} holds more than ${LIMITS.importRecordFieldsMax.value} protobuf fields (no TensorBoard writer makes one)`,
    );
  }
  let event: ReturnType<typeof fromBinary<typeof EventSchema>>;
  try {
    event = fromBinary(EventSchema, data);
  } catch {
    throw new EventFileError(`the record at byte ${offset} is not a TensorBoard Event (its checksum is right: the file is not an event file)`);
  }
  if (event.what.case !== "summary") return;
  const step = Number(event.step);
  const time = event.wallTime;
  if (!isStep(step)) {
    out.skip(`the record at byte ${offset} has step ${event.step}, not an integer from 0 to 2^53-1`);
    return;
  }
  for (const v of event.what.value.value) readValue(v, step, time, out, plugins);
}

// Deeper than any TensorBoard message nests (Event > Summary > Value > metadata > plugin data >
// hparams > Value > ListValue ...); what lies deeper counts as one field.
const SCAN_DEPTH = 12;

/**
 * How many protobuf fields `bytes` holds, counting into every length-delimited field that itself
 * reads as a message (whatever the schema says it is: an overcount is harmless); a field that does
 * not read as one counts as 1. -1 once the count passes `budget`. `bytes` that are not a message at
 * all count as 1. Each byte is read at most `depth` + 1 times; no allocation.
 */
export function fieldsAtMost(bytes: Uint8Array, budget: number, depth: number): number {
  let n = 0;
  let i = 0;
  const len = bytes.length;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (let k = 0; k < 10; k++) {
      if (i >= len) return -1;
      const b = bytes[i++];
      v += (b & 0x7f) * mul;
      mul *= 128;
      if (b < 0x80) return v;
    }
    return -1;
  };
  while (i < len) {
    const tag = varint();
    if (tag < 8) return 1;
    switch (tag % 8) {
      case 0:
        if (varint() < 0) return 1;
        break;
      case 1:
        i += 8;
        break;
      case 5:
        i += 4;
        break;
      case 2: {
        const size = varint();
        if (size < 0 || size > len - i) return 1;
        if (depth > 0 && size > 0) {
          const inner = fieldsAtMost(bytes.subarray(i, i + size), budget - n, depth - 1);
          if (inner < 0) return -1;
          n += inner - 1;
        }
        i += size;
        break;
      }
      case 3:
      case 4:
        break;
      default:
        return 1;
    }
    if (i > len) return 1;
    if (++n > budget) return -1;
  }
  return n;
}

function readValue(v: Summary_Value, step: number, time: number, out: ImportData, plugins: TagPlugins): void {
  const tag = v.tag || v.nodeName;
  // hparams summaries carry everything in their metadata and often no value at all
  if (v.metadata?.pluginData?.pluginName === "hparams") {
    hparams(out, v.metadata.pluginData.content);
    return;
  }
  switch (v.value.case) {
    case "simpleValue":
      out.point(tag, step, v.value.value, time);
      return;
    case "histo":
      histogram(out, tag, step, time, fromHistogramProto(v.value.value));
      return;
    case "image": {
      const im = v.value.value;
      image(out, tag, step, time, im.encodedImageString);
      return;
    }
    case "tensor": {
      const named = v.metadata?.pluginData?.pluginName;
      if (named) plugins.set(tag, named);
      const plugin = named || plugins.get(tag) || inferPlugin(v.value.value);
      if (plugin === UNKNOWN) {
        out.skip(`${JSON.stringify(tag)} at step ${step}: no plugin named, and a tensor of a shape babysit does not import`);
        return;
      }
      readTensor(out, tag, step, time, plugin, v);
      return;
    }
    case "audio":
      out.skip(`audio ${JSON.stringify(tag)} at step ${step}: audio is not imported`);
      return;
    default:
      return;
  }
}

function readTensor(out: ImportData, tag: string, step: number, time: number, plugin: string, v: Summary_Value): void {
  const t = v.value.value as TensorProto;
  switch (plugin) {
    case "scalars": {
      const n = tensorNumbers(t);
      if (n.length === 1) out.point(tag, step, n[0], time);
      else out.skip(`scalar ${JSON.stringify(tag)} at step ${step} holds ${n.length} numbers, not one`);
      return;
    }
    case "histograms": {
      const n = tensorNumbers(t);
      if (n.length === 0 || n.length % 3 !== 0) {
        if (n.length) out.skip(`histogram ${JSON.stringify(tag)} at step ${step} is not a [k, 3] tensor`);
        return;
      }
      const edges = [n[0]];
      const counts: number[] = [];
      for (let i = 0; i < n.length; i += 3) {
        if (i > 0) edges[edges.length - 1] = Math.min(edges[edges.length - 1], n[i]);
        edges.push(n[i + 1]);
        counts.push(n[i + 2]);
      }
      histogram(out, tag, step, time, { edges, counts });
      return;
    }
    case "images": {
      const s = t.stringVal;
      for (let i = 2; i < s.length; i++) image(out, s.length > 3 ? `${tag}/${i - 2}` : tag, step, time, s[i]);
      return;
    }
    case "text": {
      const text = t.stringVal.map((b) => Buffer.from(b).toString("utf8")).join("\n");
      out.count();
      out.texts.push({ key: tag, step, time, text });
      configFromText(out, tag, text);
      return;
    }
    default:
      out.skip(`${JSON.stringify(tag)} at step ${step}: the ${JSON.stringify(plugin.slice(0, 64))} plugin's data is not imported`);
  }
}

function hparams(out: ImportData, content: Uint8Array): void {
  if (!content.length) return;
  let data: ReturnType<typeof fromBinary<typeof HParamsPluginDataSchema>>;
  try {
    data = fromBinary(HParamsPluginDataSchema, content);
  } catch {
    out.skip("an hparams record that does not parse");
    return;
  }
  if (data.data.case !== "sessionStartInfo") return;
  const hp = data.data.value.hparams;
  for (const name of Object.keys(hp)) out.config.set(name, toJson(ValueSchema, hp[name]));
}

function configFromText(out: ImportData, tag: string, text: string): void {
  if (!tag.toLowerCase().startsWith("config")) return;
  let body = text.trim();
  if (body.startsWith("```")) body = body.slice(body.indexOf("\n") + 1, body.lastIndexOf("```")).trim();
  if (!body.startsWith("{")) return;
  let o: unknown;
  try {
    o = JSON.parse(body);
  } catch {
    return;
  }
  if (typeof o !== "object" || o === null || Array.isArray(o)) return;
  for (const k of Object.keys(o)) if (!out.config.has(k)) out.config.set(k, (o as Record<string, unknown>)[k]);
}

const UNKNOWN = "\u0000unknown"; // no plugin is named so
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const DIGITS = /^[0-9]{1,6}$/; // the images plugin's width and height

/**
 * A tensor of a tag whose plugin neither this file nor the run names (e.g. a tail of a file whose
 * head was never imported): a guess from its type and shape. Strings that are not UTF-8 (audio's
 * WAV bytes) are no text.
 */
function inferPlugin(t: TensorProto): string {
  const dims = t.tensorShape?.dim.map((d) => Number(d.size)) ?? [];
  if (t.dtype === DataType.DT_STRING) {
    const s = t.stringVal;
    const size = (i: number) => DIGITS.test(Buffer.from(s[i]).toString("latin1"));
    if (dims.length === 1 && dims[0] >= 3 && s.length >= 3 && size(0) && size(1)) return "images";
    try {
      for (const b of t.stringVal) strictUtf8.decode(b);
    } catch {
      return UNKNOWN;
    }
    return "text";
  }
  if (dims.length === 0) return "scalars";
  if (dims.length === 2 && dims[1] === 3) return "histograms";
  return UNKNOWN;
}

/** The numbers of a numeric tensor, from its typed fields or its packed little-endian content. */
export function tensorNumbers(t: TensorProto): number[] {
  const c = t.tensorContent;
  if (c.length) {
    const view = new DataView(c.buffer, c.byteOffset, c.byteLength);
    const out: number[] = [];
    const width = {
      [DataType.DT_FLOAT]: 4,
      [DataType.DT_DOUBLE]: 8,
      [DataType.DT_INT32]: 4,
      [DataType.DT_INT64]: 8,
      [DataType.DT_HALF]: 2,
      [DataType.DT_BFLOAT16]: 2,
    }[t.dtype as number];
    if (!width) return [];
    for (let i = 0; i + width <= c.length; i += width) {
      switch (t.dtype) {
        case DataType.DT_FLOAT:
          out.push(view.getFloat32(i, true));
          break;
        case DataType.DT_DOUBLE:
          out.push(view.getFloat64(i, true));
          break;
        case DataType.DT_INT32:
          out.push(view.getInt32(i, true));
          break;
        case DataType.DT_INT64:
          out.push(Number(view.getBigInt64(i, true)));
          break;
        case DataType.DT_HALF:
          out.push(half(view.getUint16(i, true)));
          break;
        default:
          out.push(bfloat16(view.getUint16(i, true)));
      }
    }
    return out;
  }
  if (t.floatVal.length) return t.floatVal;
  if (t.doubleVal.length) return t.doubleVal;
  if (t.intVal.length) return t.intVal;
  if (t.int64Val.length) return t.int64Val.map(Number);
  if (t.halfVal.length) return t.halfVal.map((h) => (t.dtype === DataType.DT_BFLOAT16 ? bfloat16(h) : half(h)));
  return [];
}

function half(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

function bfloat16(bits: number): number {
  const b = new DataView(new ArrayBuffer(4));
  b.setUint32(0, bits << 16);
  return b.getFloat32(0);
}

// Beyond this a bucket limit is TF1's open end (DBL_MAX), not a place on the axis.
const OPEN_END = 1e300;

/** TF1 buckets (limit[i-1], limit[i]] as edges: the first starts at min, an open last one ends at max. */
export function fromHistogramProto(h: HistogramProto): { edges: number[]; counts: number[]; problem?: string } {
  const limits = h.bucketLimit;
  // a count without its limit (or a limit without its count) is a damaged record: cutting one list
  // to the other's length dropped counts unsaid; a NaN limit was taken for the open end
  if (limits.length !== h.bucket.length)
    return { edges: [], counts: [], problem: `has ${limits.length} bucket limits for ${h.bucket.length} counts` };
  if (limits.some(Number.isNaN)) return { edges: [], counts: [], problem: "has a NaN bucket limit" };
  const counts = h.bucket.slice(0, limits.length);
  if (!counts.length) return { edges: [], counts: [] };
  const edges: number[] = [];
  const first = Math.abs(limits[0]) < OPEN_END ? limits[0] : h.max;
  edges.push(Number.isFinite(h.min) ? Math.min(h.min, first) : first);
  for (const l of limits.slice(0, counts.length)) {
    const prev = edges[edges.length - 1];
    edges.push(Math.abs(l) < OPEN_END ? Math.max(l, prev) : Math.max(Number.isFinite(h.max) ? h.max : prev, prev));
  }
  return { edges, counts };
}

function histogram(out: ImportData, key: string, step: number, time: number, h: { edges: number[]; counts: number[]; problem?: string }): void {
  let { edges, counts } = h;
  if (h.problem) {
    out.skip(`histogram ${JSON.stringify(key)} at step ${step} ${h.problem}`);
    return;
  }
  if (!counts.length) return;
  if (!edges.every(Number.isFinite) || !counts.every((c) => Number.isFinite(c) && c >= 0)) {
    out.skip(`histogram ${JSON.stringify(key)} at step ${step} has non-finite edges or counts`);
    return;
  }
  const max = LIMITS.histogramBins.value;
  if (counts.length > max) {
    // merged into at most histogramBins buckets of neighbours: the shape and the total stay
    const per = Math.ceil(counts.length / max);
    const e = [edges[0]];
    const c: number[] = [];
    for (let i = 0; i < counts.length; i += per) {
      let sum = 0;
      for (let j = i; j < Math.min(i + per, counts.length); j++) sum += counts[j];
      c.push(sum);
      e.push(edges[Math.min(i + per, counts.length)]);
    }
    edges = e;
    counts = c;
  }
  out.count();
  out.histograms.push({ key, step, time, edges, counts });
}

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function image(out: ImportData, key: string, step: number, time: number, bytes: Uint8Array): void {
  const isPng = bytes.length >= 24 && PNG.every((b, i) => bytes[i] === b) && Buffer.from(bytes.subarray(12, 16)).toString("latin1") === "IHDR";
  if (!isPng) {
    const jpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
    out.skip(`image ${JSON.stringify(key)} at step ${step}: ${jpeg ? "a JPEG (babysit stores PNG images only)" : "not a PNG image"}`);
    return;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const side = LIMITS.imageSideMax.value;
  if (width < 1 || height < 1 || width > side || height > side || bytes.length > LIMITS.imageBytesMax.value) {
    out.skip(`image ${JSON.stringify(key)} at step ${step}: ${width}x${height}, ${bytes.length} bytes is over the image limits`);
    return;
  }
  out.count();
  out.images.push({ key, step, time, width, height, png: bytes });
}
