import { describe, expect, test } from "vitest";
import { LIMITS } from "../../../lib/contract/limits";
import { AppError } from "../../../lib/errors";
import { checkJsonType, jsonTooDeep, parseJsonBytes } from "../../../lib/http/handler";

const bytes = (s: string) => Buffer.from(s, "utf8");
const max = LIMITS.jsonDepth.value;

describe("jsonTooDeep counts nesting outside strings only", () => {
  test.each([
    [`${"[".repeat(max)}${"]".repeat(max)}`, false],
    [`${"[".repeat(max + 1)}${"]".repeat(max + 1)}`, true],
    [`${'{"a":'.repeat(max + 1)}1${"}".repeat(max + 1)}`, true],
    [JSON.stringify({ s: "[".repeat(1000) }), false],
    [JSON.stringify({ s: `\\"${"{".repeat(1000)}` }), false],
    [JSON.stringify({ s: `"${"[".repeat(1000)}` }), false],
    [JSON.stringify({ "🚀[": ["{日本"] }), false],
    // siblings do not add up: depth, not count
    [JSON.stringify(Array.from({ length: 1000 }, () => [[1]])), false],
  ])("%#", (text, deep) => {
    expect(jsonTooDeep(bytes(text))).toBe(deep);
  });
});

describe("parseJsonBytes", () => {
  const code = (f: () => unknown) => {
    try {
      f();
      return "ok";
    } catch (e) {
      return e instanceof AppError ? `${e.status} ${e.code}: ${e.message}` : String(e);
    }
  };
  test.each([
    ["invalid UTF-8", Buffer.from([0x7b, 0xff, 0x7d]), /^400 invalid_json: .*UTF-8/],
    ["an encoded surrogate", Buffer.concat([bytes('{"a":"'), Buffer.from([0xed, 0xa0, 0x80]), bytes('"}')]), /^400 invalid_json: .*UTF-8/],
    ["too deep", bytes("[".repeat(max + 1) + "]".repeat(max + 1)), /^400 invalid_json: .*nested more than/],
    ["empty", bytes("  "), /^400 invalid_json: .*empty/],
    ["not JSON", bytes("{x"), /^400 invalid_json: .*not valid JSON/],
    ["fine", bytes('{"k":"日本🚀"}'), /^ok$/],
  ])("%s", (_name, body, want) => {
    expect(code(() => parseJsonBytes(body))).toMatch(want);
  });
});

describe("checkJsonType", () => {
  test.each([undefined, null, "application/json", "application/json; charset=utf-8", "APPLICATION/JSON;CHARSET=UTF8", "application/merge-patch+json"])("%s is JSON", (t) => {
    expect(() => checkJsonType(t)).not.toThrow();
  });
  test.each(["", "text/plain", "application/jsonx", "application/+json", "application/json; charset=iso-8859-1", "json", "multipart/form-data"])("%j is refused", (t) => {
    expect(() => checkJsonType(t)).toThrow(expect.objectContaining({ code: "unsupported_media_type" }));
  });
});
