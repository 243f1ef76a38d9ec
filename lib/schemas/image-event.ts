import { LIMITS, nameProblem } from "../contract/limits";
import { AppError } from "../errors";

// Image events ({ type: "image", data: { key, width, height, png_base64 } }) are stored as they come
// and drawn by the dashboard as <img src="data:image/png;base64,…">: whatever is accepted here is
// what every run page decodes. So an image must be what it says: a PNG of the given size.

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
// signature (8) + IHDR length (4) + "IHDR" (4) + width (4) + height (4)
const HEADER_BYTES = 24;

function fail(message: string): never {
  throw new AppError("invalid_batch", message);
}

function isBase64Char(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f;
}

/** Decoded size of padded standard base64, or -1 when it is not that. */
function base64Bytes(s: string): number {
  if (s.length % 4 !== 0) return -1;
  let pad = 0;
  if (s.endsWith("==")) pad = 2;
  else if (s.endsWith("=")) pad = 1;
  for (let i = 0; i < s.length - pad; i++) if (!isBase64Char(s.charCodeAt(i))) return -1;
  return (s.length / 4) * 3 - pad;
}

function checkSide(v: unknown, where: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > LIMITS.imageSideMax.value) {
    fail(`${where} must be an integer from 1 to ${LIMITS.imageSideMax.value} (${LIMITS.imageSideMax.unit})`);
  }
  return v;
}

/** Checks the data of one image event; `at` names it in messages, e.g. events[2].data. */
export function checkImageData(data: Record<string, unknown>, at: string): void {
  const key = data.key;
  if (typeof key !== "string") fail(`${at}.key must be a string`);
  const problem = nameProblem(key, LIMITS.keyMaxLength, "image keys");
  if (problem) fail(`${at}.key ${problem}`);
  const width = checkSide(data.width, `${at}.width`);
  const height = checkSide(data.height, `${at}.height`);
  const png = data.png_base64;
  if (typeof png !== "string") fail(`${at}.png_base64 must be a base64 string`);
  const size = base64Bytes(png);
  if (size < 0) fail(`${at}.png_base64 must be standard padded base64 (A-Z a-z 0-9 + / =)`);
  if (size > LIMITS.imageBytesMax.value) fail(`${at}.png_base64 decodes to ${size} bytes; at most ${LIMITS.imageBytesMax.value} are stored`);
  const head = Buffer.from(png.slice(0, 32), "base64");
  if (head.length < HEADER_BYTES || PNG_SIGNATURE.some((b, i) => head[i] !== b) || head.toString("latin1", 12, 16) !== "IHDR") {
    fail(`${at}.png_base64 is not a PNG image`);
  }
  const w = head.readUInt32BE(16);
  const h = head.readUInt32BE(20);
  if (w !== width || h !== height) fail(`${at} says ${width}x${height} but the PNG is ${w}x${h}`);
}

/** Checks every image event of a batch; throws invalid_batch naming the first bad field. */
export function checkImageEvents(events: readonly { type: string; data: Record<string, unknown> }[]): void {
  for (let i = 0; i < events.length; i++) {
    if (events[i].type === "image") checkImageData(events[i].data, `events[${i}].data`);
  }
}
