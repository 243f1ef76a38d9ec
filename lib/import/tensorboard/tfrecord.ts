import CRC32C from "crc-32/crc32c";
import { LIMITS } from "../../contract/limits";

// a CommonJS module whose exports Node cannot name statically: its default import is module.exports
const crc32c = CRC32C.buf;

// TFRecord framing, as TensorFlow's RecordWriter writes event files:
//   uint64 length (little endian) | uint32 masked CRC-32C of those 8 bytes | length bytes of data |
//   uint32 masked CRC-32C of the data
// A record cut short at the end of the file is what a writer still appending leaves behind: the
// reader stops before it and says so (`truncated`), so that a later read starting at `end` picks it
// up whole. A checksum that does not match is damage, never a partial write: it is an error.

const HEADER = 12;
const FOOTER = 4;

/** The masked CRC TensorFlow stores: rotate right by 15 bits, add a constant (crc32c.h Mask). */
export function maskedCrc32c(data: Uint8Array): number {
  const crc = crc32c(data) >>> 0;
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

export class RecordError extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

export interface Records {
  /** Each complete record's data (a view into the input) with the offset its frame starts at. */
  records: { offset: number; data: Uint8Array }[];
  /** Where the first byte not read starts: the end of the last complete record. */
  end: number;
  /** Bytes after `end` that do not make a whole record yet (a file being written). */
  truncated: boolean;
}

/** Reads every complete record from `start` on; throws RecordError at a bad checksum. */
export function readRecords(bytes: Uint8Array, start = 0): Records {
  const records: Records["records"] = [];
  const parts = recordParts(bytes, start, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
  for (;;) {
    const r = parts.next();
    if (r.done) return { records, ...r.value };
    for (const rec of r.value) records.push(rec);
  }
}

/**
 * readRecords in parts of at most `maxRecords` records or about `maxBytes` bytes of data, checksums
 * checked as they are read: a caller may let others run between parts (checking 64 MiB of records
 * takes about a second). Throws RecordError at a bad checksum; returns where reading ended.
 */
export function* recordParts(
  bytes: Uint8Array,
  start: number,
  maxRecords: number,
  maxBytes: number,
): Generator<Records["records"], Omit<Records, "records">> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let records: Records["records"] = [];
  let size = 0;
  let at = start;
  while (at < bytes.length) {
    if (records.length >= maxRecords || size >= maxBytes) {
      yield records;
      records = [];
      size = 0;
    }
    if (bytes.length - at < HEADER) {
      if (records.length) yield records;
      return { end: at, truncated: true };
    }
    const lengthCrc = view.getUint32(at + 8, true);
    if (maskedCrc32c(bytes.subarray(at, at + 8)) !== lengthCrc) {
      throw new RecordError(at, `the record at byte ${at} has a bad length checksum (the file is damaged or not a TensorBoard event file)`);
    }
    const length = Number(view.getBigUint64(at, true));
    // a record that could never be sent whole (a file is sent in parts of at most importFileBytes)
    // is not a write in progress: waiting for it would read the file again forever and say nothing
    if (length > LIMITS.importFileBytes.value - HEADER - FOOTER) {
      throw new RecordError(
        at,
        `the record at byte ${at} declares ${length} bytes, more than a file sent to the server may hold (importFileBytes, ${LIMITS.importFileBytes.value}): the file is damaged or the record is too large to import`,
      );
    }
    if (length > bytes.length - at - HEADER - FOOTER) {
      if (records.length) yield records;
      return { end: at, truncated: true };
    }
    const data = bytes.subarray(at + HEADER, at + HEADER + length);
    if (maskedCrc32c(data) !== view.getUint32(at + HEADER + length, true)) {
      throw new RecordError(at, `the record at byte ${at} has a bad data checksum (the file is damaged)`);
    }
    records.push({ offset: at, data });
    size += length;
    at += HEADER + length + FOOTER;
  }
  if (records.length) yield records;
  return { end: at, truncated: false };
}

/** One record framed as TensorFlow writes it (tests and benchmarks make event files with it). */
export function frameRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(HEADER + data.length + FOOTER);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, HEADER);
  out.writeUInt32LE(maskedCrc32c(data), HEADER + data.length);
  return out;
}
