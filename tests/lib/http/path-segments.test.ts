import { describe, expect, test } from "vitest";
import { pathSegmentProblem } from "@/lib/http/path-segments";

// The segments the front gate refuses: every disguise of a dot segment or of a separator inside
// one (the gate hands the segments decoded once, as here).

const DOTS = "the URL path must not hold . or .. segments";
const SLASH = "the URL path must not hold an encoded / or \\ in a segment";
const once = (path: string) => path.split("/").slice(1).map(decodeURIComponent);

describe("refused", () => {
  test.each([
    ["/api/v1/shares/T/../../runs/R", DOTS],
    ["/api/v1/shares/T/%2E%2E/%2e%2e/runs/R", DOTS],
    ["/api/v1/shares/T/.%2e/runs/R", DOTS],
    ["/api/v1/shares/T/%2e./runs/R", DOTS],
    ["/./api/v1/runs", DOTS],
    ["/api/v1/runs/R/.", DOTS],
    ["/api/v1/runs/R/%2E", DOTS],
    ["/api/v1/shares/T/..;/..;/runs/R", DOTS],
    ["/api/v1/shares/T/..;x=1/runs/R", DOTS],
    ["/api/v1/shares/T/.;/series", DOTS],
    ["/api/v1/shares/T/%252e%252e/runs/R", DOTS],
    ["/api/v1/shares/T/%25252E%25252E/runs/R", DOTS],
    ["/api/v1/shares/T/..%2f..%2fruns%2fR", SLASH],
    ["/api/v1/shares/T/..%2F..%2Fruns%2FR", SLASH],
    ["/api/v1/shares/T/..%5c..%5cruns", SLASH],
    ["/share/a%2Fb", SLASH],
    ["/share/%252F", SLASH],
  ])("%s", (path, problem) => {
    expect(pathSegmentProblem(once(path))).toBe(problem);
  });
});

describe("served", () => {
  test.each([
    "/api/v1/runs",
    "/api/v1/shares/AbC_-0123456789abcdefg/series",
    "/share/AbC_-0123456789abcdefg",
    "/api/v1/runs/.../x", // three dots name nothing special
    "/api/v1/runs/a.b",
    "/api/v1/runs/%2e%2e%2e",
    "/api/v1/runs/a;b",
    "/api/v1/runs/100%25",
    "/_next/static/chunks/app-1a2b.js",
    "/",
  ])("%s", (path) => {
    expect(pathSegmentProblem(once(path))).toBeNull();
  });
});
