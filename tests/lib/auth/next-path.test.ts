import { describe, expect, test } from "vitest";
import { safeNextUrl } from "@/lib/auth/next-path";

// Where the login page goes after a login (lib/auth/next-path.ts): a place on this server, or `/`.
// The hostile values are what URL parsing turns into another host although the raw string starts
// with one `/` (tabs/newlines dropped, `\` read as `/`), plus the plain ways to name another site.

const ORIGIN = "http://127.0.0.1:4500";
const HOME = `${ORIGIN}/`;

describe("safeNextUrl", () => {
  test.each([
    ["/%09/evil.example/phish decoded", "/\t/evil.example/phish"],
    ["newline between the slashes", "/\n/evil.example"],
    ["carriage return between the slashes", "/\r/evil.example"],
    ["tab first", "\t//evil.example"],
    ["scheme-relative", "//evil.example/x"],
    ["backslash after the slash", "/\\evil.example"],
    ["two backslashes", "\\\\evil.example"],
    ["backslash later", "/runs/\\..\\x"],
    ["absolute http URL", "http://evil.example/"],
    ["absolute URL of this host with another port", "http://127.0.0.1:4501/"],
    ["javascript:", "javascript:alert(1)"],
    ["data:", "data:text/html,<script>alert(1)</script>"],
    ["no leading slash", "evil.example"],
    ["NUL", "/runs\u0000"],
    ["DEL", "/\u007f/evil.example"],
    ["C1 control (NEL)", "/\u0085/evil.example"],
    ["empty", ""],
    ["none", null],
  ])("%s -> the runs list", (_what, next) => {
    expect(safeNextUrl(next, ORIGIN)).toBe(HOME);
  });

  test.each([
    ["/", HOME],
    ["/runs/abc?tab=charts#loss", `${ORIGIN}/runs/abc?tab=charts#loss`],
    ["/account", `${ORIGIN}/account`],
    // a path whose dots resolve to `//evil.example` stays a path on this origin (the href is returned, not the path)
    ["/.//evil.example", `${ORIGIN}//evil.example`],
    ["/%2F%2Fevil.example", `${ORIGIN}/%2F%2Fevil.example`],
  ])("%j stays on this server as %j", (next, want) => {
    expect(safeNextUrl(next, ORIGIN)).toBe(want);
    expect(new URL(safeNextUrl(next, ORIGIN)).origin).toBe(ORIGIN);
  });
});
