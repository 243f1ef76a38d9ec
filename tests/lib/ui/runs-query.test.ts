import { describe, expect, test } from "vitest";
import { filterRuns, parseRunsQuery, withRunsQuery } from "../../../lib/ui/runs-query";

// The runs list's project / status / sort controls and their place in the URL.

const run = (name: string, project: string, status: string, createdAt: number) => ({ name, project, status, createdAt });
const runs = [
  run("r10", "a", "running", 1),
  run("r2", "a", "finished", 2),
  run("r1", "b", "crashed", 3),
  run("r3", "b", "stale", 4),
  run("r4", "a", "stale", 5),
];

describe("runs list query", () => {
  test.each([
    [{}, { project: "", status: "", sort: "newest" }],
    [
      { status: "stale", sort: "name", project: "p" },
      { project: "p", status: "stale", sort: "name" },
    ],
    [
      { status: "bogus", sort: "sideways" },
      { project: "", status: "", sort: "newest" },
    ],
    [{ status: ["running", "stale"] }, { project: "", status: "", sort: "newest" }],
    [{ status: "constructor" }, { project: "", status: "", sort: "newest" }],
  ])("%j parses to %j", (q, want) => {
    expect(parseRunsQuery(q)).toEqual(want);
  });

  test.each([
    ["running", ["r10"]],
    ["stale", ["r4", "r3"]],
    ["finished", ["r2"]],
    ["crashed", ["r1"]],
    ["", ["r4", "r3", "r1", "r2", "r10"]],
  ] as const)("status %j shows %j", (status, names) => {
    expect(filterRuns(runs, { project: "", status, sort: "newest" }).map((r) => r.name)).toEqual(names);
  });

  test("status and project together; name order is natural", () => {
    expect(filterRuns(runs, { project: "a", status: "stale", sort: "newest" }).map((r) => r.name)).toEqual(["r4"]);
    expect(filterRuns(runs, { project: "a", status: "", sort: "name" }).map((r) => r.name)).toEqual(["r2", "r4", "r10"]);
  });

  test("the URL carries what is not the default and round-trips", () => {
    const u = withRunsQuery(new URL("http://h/?x=1&sort=name"), { project: "p q", status: "crashed", sort: "newest" });
    expect([...u.searchParams]).toEqual([
      ["x", "1"],
      ["project", "p q"],
      ["status", "crashed"],
    ]);
    expect(parseRunsQuery(Object.fromEntries(u.searchParams))).toEqual({ project: "p q", status: "crashed", sort: "newest" });
    expect(withRunsQuery(u, { project: "", status: "", sort: "newest" }).search).toBe("?x=1");
  });
});
