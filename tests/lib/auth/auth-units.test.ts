import { describe, expect, test, vi } from "vitest";
import { hashPassword, SCRYPT, verifyPassword } from "@/lib/auth/passwords";
import { isLoopbackHost, modeFrom } from "@/lib/auth/mode";
import { LoginLimiter } from "@/lib/auth/rate-limit";
import {
  canAdminister,
  canListRuns,
  canManageOwnKeys,
  canReadRun,
  canRevokeShare,
  canAdministerRun,
  canShareRun,
  canWriteProject,
  canWriteRun,
  ownerOfNewRun,
  type Principal,
} from "@/lib/auth/permissions";

// The pure parts of team mode: which HOST means which mode, password hashes, the login limiter,
// and the permission functions as one table.

describe("mode", () => {
  test.each([
    ["127.0.0.1", true],
    ["127.1.2.3", true],
    ["localhost", true],
    ["app.localhost", true],
    ["::1", true],
    ["[::1]", true],
    ["::ffff:127.0.0.1", true],
    ["0.0.0.0", false],
    ["::", false],
    ["192.168.1.10", false],
    ["127.0.0.256", false],
    ["localhost.example.com", false],
    ["", false],
  ])("isLoopbackHost(%j) = %s", (host, want) => {
    expect(isLoopbackHost(host)).toBe(want);
  });

  test.each([
    [{}, "local"],
    [{ HOST: "127.0.0.1" }, "local"],
    [{ HOST: "0.0.0.0" }, "team"],
    [{ HOST: "10.0.0.5", BABYSIT_MODE: "local" }, "team"],
    [{ HOST: "127.0.0.1", BABYSIT_MODE: "team" }, "team"],
    [{ BABYSIT_MODE: "TEAM" }, "team"],
  ])("modeFrom(%j) = %s", (env, want) => {
    expect(modeFrom(env)).toBe(want);
  });

  test.each([
    [{ BABYSIT_MODE: "offline" }, "local"],
    [{ BABYSIT_MODE: "disabled" }, "local"],
    [{ BABYSIT_MODE: " Online " }, "local"],
    [{ BABYSIT_MODE: "offline", HOST: "0.0.0.0" }, "team"],
  ])("the SDKs' BABYSIT_MODE %j leaves the server's mode to HOST: %s", (env, want) => {
    expect(modeFrom(env)).toBe(want);
  });

  test("an unknown BABYSIT_MODE is an error, not a guess", () => {
    expect(() => modeFrom({ BABYSIT_MODE: "open" })).toThrow(/BABYSIT_MODE must be/);
  });
});

describe("passwords", () => {
  test("a hash names its parameters and salt, verifies the password and nothing else", async () => {
    const h = await hashPassword("correct horse battery");
    expect(h).toMatch(new RegExp(`^scrypt\\$${SCRYPT.N}\\$${SCRYPT.r}\\$${SCRYPT.p}\\$[A-Za-z0-9_-]{22}\\$[A-Za-z0-9_-]{86}$`));
    expect(await verifyPassword("correct horse battery", h)).toBe(true);
    expect(await verifyPassword("correct horse batterY", h)).toBe(false);
    expect(await hashPassword("correct horse battery")).not.toBe(h); // a salt per hash
  });

  test("the same text in another Unicode normal form is the same password", async () => {
    expect(await verifyPassword("caf\u0065\u0301-password", await hashPassword("caf\u00e9-password"))).toBe(true);
  });

  test.each([
    ["", "empty"],
    ["bcrypt$1$2$3$4$5", "another scheme"],
    ["scrypt$x$8$1$c2FsdA$a2V5", "bad numbers"],
    ["scrypt$1048577$8$1$c2FsdA$a2V5", "N too large"],
    ["scrypt$16384$8$1$c2FsdA$", "no key"],
  ])("a malformed stored hash (%j, %s) never matches", async (stored) => {
    expect(await verifyPassword("anything", stored)).toBe(false);
  });
});

describe("login limiter", () => {
  test("allows `points` per window, then says how long to wait, and a new window starts afresh", async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    try {
      const l = new LoginLimiter({ points: 3, seconds: 60 });
      expect([await l.consume("k"), await l.consume("k"), await l.consume("k")]).toEqual([0, 0, 0]);
      expect(await l.consume("k")).toBe(60);
      vi.advanceTimersByTime(30_000);
      expect(await l.consume("k")).toBe(30);
      expect(await l.consume("other")).toBe(0);
      vi.advanceTimersByTime(29_999);
      expect(await l.consume("k")).toBe(1);
      vi.advanceTimersByTime(1);
      expect(await l.consume("k")).toBe(0); // a new window
      // user names are data: JS object member names count like any other
      for (const name of ["__proto__", "constructor", "toString"]) {
        expect([await l.consume(name), await l.consume(name), await l.consume(name), await l.consume(name)]).toEqual([0, 0, 0, 60]);
      }
      await l.reset("__proto__");
      expect(await l.consume("__proto__")).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("permissions", () => {
  // keys act for the member (id 2), the owner of `mine`: still never share or administer it
  const key = (access: "read" | "write", projects: string[] | null): Principal => ({
    kind: "key",
    scope: { keyId: 1, userId: 2, userName: "m", access, projects },
  });
  const P: [string, Principal][] = [
    ["local", { kind: "local" }],
    ["admin", { kind: "user", id: 1, name: "a", role: "admin" }],
    ["member", { kind: "user", id: 2, name: "m", role: "member" }],
    ["write key, all", key("write", null)],
    ["write key, p1", key("write", ["p1"])],
    ["write key, p2", key("write", ["p2"])],
    ["read key", key("read", null)],
    ["share of r1", { kind: "share", runId: "r1" }],
    ["share of r2", { kind: "share", runId: "r2" }],
  ];
  const mine = { id: "r1", project: "p1", ownerId: 2 };
  const other = { id: "r1", project: "p1", ownerId: 3 };
  const nobodys = { id: "r1", project: "p1", ownerId: null };
  // local admin member all p1 p2 read share-r1 share-r2
  const TABLE: [string, (p: Principal) => boolean, boolean[]][] = [
    ["canListRuns", canListRuns, [true, true, true, true, true, true, true, false, false]],
    ["canReadRun (another's)", (p) => canReadRun(p, other), [true, true, true, true, true, true, true, true, false]],
    ["canWriteRun (another's)", (p) => canWriteRun(p, other), [true, true, true, true, true, false, false, false, false]],
    ["canWriteRun (no owner)", (p) => canWriteRun(p, nobodys), [true, true, true, true, true, false, false, false, false]],
    ["canWriteProject p2", (p) => canWriteProject(p, "p2"), [true, true, true, true, false, true, false, false, false]],
    ["canShareRun (own)", (p) => canShareRun(p, mine), [true, true, true, false, false, false, false, false, false]],
    ["canShareRun (another's)", (p) => canShareRun(p, other), [true, true, false, false, false, false, false, false, false]],
    ["canShareRun (no owner)", (p) => canShareRun(p, nobodys), [true, true, false, false, false, false, false, false, false]],
    ["canAdministerRun (own)", (p) => canAdministerRun(p, mine), [true, true, true, false, false, false, false, false, false]],
    ["canAdministerRun (another's)", (p) => canAdministerRun(p, other), [true, true, false, false, false, false, false, false, false]],
    ["canAdministerRun (no owner)", (p) => canAdministerRun(p, nobodys), [true, true, false, false, false, false, false, false, false]],
    ["canRevokeShare (another's run, made by m)", (p) => canRevokeShare(p, other, "m"), [true, true, true, false, false, false, false, false, false]],
    [
      "canRevokeShare (another's run, made by x)",
      (p) => canRevokeShare(p, other, "x"),
      [true, true, false, false, false, false, false, false, false],
    ],
    ["canRevokeShare (own run, made by x)", (p) => canRevokeShare(p, mine, "x"), [true, true, true, false, false, false, false, false, false]],
    [
      "canRevokeShare (no owner, made before accounts)",
      (p) => canRevokeShare(p, nobodys, null),
      [true, true, false, false, false, false, false, false, false],
    ],
    ["canAdminister", canAdminister, [true, true, false, false, false, false, false, false, false]],
    ["canManageOwnKeys", canManageOwnKeys, [false, true, true, false, false, false, false, false, false]],
  ];
  test.each(P.map(([who, p], i) => [who, p, [null, 1, 2, 2, 2, 2, 2, null, null][i]] as const))("ownerOfNewRun(%s)", (_w, p, want) => {
    expect(ownerOfNewRun(p)).toBe(want);
  });
  test.each(TABLE.flatMap(([name, fn, wants]) => P.map(([who, p], i) => [name, who, fn, p, wants[i]] as const)))("%s(%s)", (_n, _w, fn, p, want) => {
    expect(fn(p)).toBe(want);
  });
});
