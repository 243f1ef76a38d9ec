import { describe, expect, test } from "vitest";
import { LIMITS } from "../../../lib/contract/limits";
import { AppError } from "../../../lib/errors";
import { checkJsonType, parseJsonBytes } from "../../../lib/http/handler";

const bytes = (s: string) => Buffer.from(s, "utf8");
const max = LIMITS.jsonDepth.value;

describe("the depth limit counts nesting outside strings only", () => {
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
    const refused = (() => {
      try {
        parseJsonBytes(bytes(text));
        return false;
      } catch (e) {
        return e instanceof AppError && e.code === "invalid_json" && /nested more than/.test(e.message);
      }
    })();
    expect(refused).toBe(deep);
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

  // JSON.parse makes a number past a double's range Infinity without a word; it is refused, named
  const TOO_LARGE = "is a number too large for a double";
  test.each([
    ['{"a":1e400}', "a"],
    ['{"a":-1E+400}', "a"],
    ['{"a":1.5e309}', "a"],
    ['{"a":1.8e308}', "a"],
    ['{"a":0.01e313}', "a"],
    ['{"rows":[{"step":1,"metrics":{"x/y":1,"z":[1e999]}}]}', "rows[0].metrics.z[0]"],
    [`{"big":${"9".repeat(310)}}`, "big"],
    [`{"big":-${"1".repeat(310)}.5}`, "big"],
    [`{"k k":{"__proto__":[0,2e308]}}`, '["k k"].__proto__[1]'],
    ["1e400", "the body"],
  ])("%s -> 400 naming %s", (text, where) => {
    expect(code(() => parseJsonBytes(bytes(text), { code: "invalid_batch" }))).toBe(
      `400 invalid_batch: ${where} ${TOO_LARGE} (beyond ±1.7976931348623157e308); non-finite values are sent as the strings "NaN", "Infinity", "-Infinity"`,
    );
  });
  test("the code defaults to invalid_body", () => {
    expect(code(() => parseJsonBytes(bytes('{"a":1e400}')))).toMatch(/^400 invalid_body: a is a number too large/);
  });
  // what a double does with the rest is kept: underflow to 0 or a subnormal, rounding to 53 bits, -0
  test.each([
    ['{"a":1e-400}', 0],
    ['{"a":-1e-400}', -0],
    ['{"a":5e-324}', 5e-324],
    ['{"a":1.7976931348623157e308}', Number.MAX_VALUE],
    ['{"a":1.79769313486231580793e308}', Number.MAX_VALUE],
    ['{"a":1e308}', 1e308],
    ['{"a":9007199254740993}', 9007199254740992],
    [`{"a":${"1".repeat(300)}}`, Number(`${"1".repeat(300)}`)],
    ['{"a":-0}', -0],
  ])("%s is kept as a double", (text, want) => {
    const got = parseJsonBytes(bytes(text)) as Record<string, unknown>;
    expect(Object.is(got.a, want)).toBe(true);
  });
  test("true, false and a string that reads like an overflow are not numbers", () => {
    expect(parseJsonBytes(bytes('{"t":true,"f":false,"e":"1e400"}'))).toEqual({ t: true, f: false, e: "1e400" });
  });
  test("four million numbers: the one past a double's range is found by its index", () => {
    const many = `[${"0,".repeat(4_000_000)}1e400]`;
    expect(code(() => parseJsonBytes(bytes(many)))).toMatch(/^400 invalid_body: \[4000000\] is a number too large/);
    // and one with a big exponent that stays finite is kept, the walk finding nothing
    expect((parseJsonBytes(bytes(`[${"0,".repeat(1000)}1e100]`)) as number[])[1000]).toBe(1e100);
  });
});

describe("checkJsonType", () => {
  test.each(["application/json", "application/json; charset=utf-8", "APPLICATION/JSON;CHARSET=UTF8", "application/merge-patch+json"])(
    "%s is JSON",
    (t) => {
      expect(() => checkJsonType(t)).not.toThrow();
    },
  );
  // no Content-Type at all is refused too: it is what another site's form or beacon sends (docs/security.md)
  test.each([
    undefined,
    null,
    "",
    "text/plain",
    "application/jsonx",
    "application/+json",
    "application/json; charset=iso-8859-1",
    "application/json; charset=utf-8; charset=latin1",
    "application/json; charset=utf-8; charset=utf-8",
    "application/json; charset = latin1",
    "application/json; charset=utf-16",
    "json",
    "multipart/form-data",
  ])("%j is refused", (t) => {
    expect(() => checkJsonType(t)).toThrow(expect.objectContaining({ code: "unsupported_media_type" }));
  });
});
