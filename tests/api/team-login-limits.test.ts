import crypto from "node:crypto";
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LOGIN_FAILS_PER_IP, LOGIN_FAILS_PER_NAME_AND_IP, PASSWORD_CHECK_FAILS_PER_SESSION } from "@/lib/auth/config";
import { AMBIGUOUS_SESSION } from "@/lib/auth/front";
import { ROOT } from "../helpers/server";
import { type TeamServer, as, login, startTeamServer } from "../helpers/team";

// What a stranger can and cannot do to team mode's logins (docs/security.md): failed logins are
// limited per (name, address), per address and per name, so guessing is slow but nobody locks a
// user out from one address; the current-password check of a password change is limited per user;
// names are unique once folded (case, NFKC) and log in folded; the session cookie is __Host- over
// https, and a cookie planted beside the user's own never wins.

let server: TeamServer;
beforeAll(async () => {
  // a trusted proxy: the tests choose the client address (X-Forwarded-For) and scheme (X-Forwarded-Proto)
  server = await startTeamServer({ BABYSIT_TRUST_PROXY: "1" });
});
afterAll(async () => {
  server?.db.close();
  await server?.stop();
});

let ips = 0;
const freshIp = () => `10.9.${Math.floor(++ips / 250)}.${ips % 250}`;
const loginRaw = (name: string, password: string, ip: string, extra: Record<string, string> = {}) =>
  fetch(`${server.url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": ip, ...extra },
    body: JSON.stringify({ name, password }),
  });
const sessionHash = (id: string) => crypto.createHash("sha256").update(id).digest("hex");
const cookieId = (setCookie: string) => setCookie.split(";", 1)[0].split("=")[1];

async function admin() {
  return as(server.url, { cookie: await login(server.url, "admin", server.adminPassword, { "x-forwarded-for": freshIp() }) });
}
async function invite(name: string): Promise<string> {
  const r = await (await admin())("POST", "/api/v1/users", { name });
  expect([r.status, r.body.error?.code]).toEqual([201, undefined]);
  return r.body.password;
}
async function expect429(res: Response) {
  expect([res.status, (await res.json()).error.code]).toEqual([429, "too_many_requests"]);
  expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
}
const failures = (name: string, ip: string, n: number) =>
  Promise.all(Array.from({ length: n }, (_, i) => loginRaw(name, `wrong-password-${i}`, ip).then((r) => r.status)));

describe("login limits", () => {
  const N = LOGIN_FAILS_PER_NAME_AND_IP.points;

  test(`${N} failures for a name from one address: that address waits, even with the right password; the owner elsewhere logs in`, async () => {
    const password = await invite("target");
    const attacker = freshIp();
    expect(await failures("target", attacker, N)).toEqual(Array(N).fill(401));
    await expect429(await loginRaw("target", password, attacker));
    expect((await loginRaw("target", password, freshIp())).status).toBe(200);
  });

  test("failures under any spelling of the name count for the one account (case, full-width, look-alike compatibility forms)", async () => {
    const password = await invite("Folded");
    const ip = freshIp();
    const spellings = ["folded", "FOLDED", "Folded", "ｆｏｌｄｅｄ", "ＦＯＬＤＥＤ", "folded", "FoLdEd", "fＯlded", "ﬀ-not-it", "folded"];
    const statuses = await Promise.all(spellings.slice(0, N).map((n, i) => loginRaw(n, `wrong-${i}-password`, ip).then((r) => r.status)));
    expect(statuses).toEqual(Array(N).fill(401));
    // 9 of the 10 were this account's spellings: one more failure is allowed under any of them, then it waits
    expect((await loginRaw("FOLDED", "still wrong password", ip)).status).toBe(401);
    await expect429(await loginRaw("folded", password, ip));
  });

  test("a success resets the consecutive failures of its (name, address)", async () => {
    const password = await invite("typist");
    const ip = freshIp();
    for (let round = 0; round < 3; round++) {
      expect(await failures("typist", ip, N - 1)).toEqual(Array(N - 1).fill(401));
      expect((await loginRaw("typist", password, ip)).status).toBe(200);
    }
  });

  test(`one address spraying names: ${LOGIN_FAILS_PER_IP.points} failures in a day, then it waits whatever the name; other addresses do not`, async () => {
    const ip = freshIp();
    const names = Array.from({ length: LOGIN_FAILS_PER_IP.points }, (_, i) => `spray-${i % 20}`);
    // in parallel batches: the decoy hash costs each attempt the time of a real one
    for (let i = 0; i < names.length; i += 20) {
      const statuses = await Promise.all(names.slice(i, i + 20).map((n) => loginRaw(n, "some wrong password", ip).then((r) => r.status)));
      expect(statuses).toEqual(Array(statuses.length).fill(401));
    }
    await expect429(await loginRaw("admin", server.adminPassword, ip));
    expect((await loginRaw("admin", server.adminPassword, freshIp())).status).toBe(200);
  }, 120_000);

  test("the answer of a refused attempt names the wait; concurrent guesses cannot pass the limit while hashing", async () => {
    await invite("raced");
    const ip = freshIp();
    const statuses = (await failures("raced", ip, 3 * N)).sort();
    expect(statuses.filter((s) => s === 401)).toHaveLength(N);
    expect(statuses.filter((s) => s === 429)).toHaveLength(2 * N);
    const res = await loginRaw("raced", "x-wrong-password", ip);
    expect(res.status).toBe(429);
    expect((await res.json()).error.message).toMatch(/^too many failed login attempts; try again in \d+ s$/);
  });
});

describe("the current-password check of a password change", () => {
  const N = PASSWORD_CHECK_FAILS_PER_SESSION.points;

  test(`${N} wrong current passwords in one session: 403 each, then 429 with Retry-After even for the right one; the owner's other session and other users are not held up`, async () => {
    const password = await invite("changer");
    const stolen = await login(server.url, "changer", password, { "x-forwarded-for": freshIp() });
    const own = await login(server.url, "changer", password, { "x-forwarded-for": freshIp() });
    const thief = as(server.url, { cookie: stolen });
    const answers = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        thief("POST", "/api/v1/auth/password", { current: `wrong-current-${i}`, password: "a brand new password" }),
      ),
    );
    expect(answers.map((a) => [a.status, a.body.error.code])).toEqual(Array(N).fill([403, "forbidden"]));
    const res = await fetch(`${server.url}/api/v1/auth/password`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: stolen },
      body: JSON.stringify({ current: password, password: "a brand new password" }),
    });
    expect(res.status).toBe(429);
    expect((await res.json()).error).toMatchObject({
      code: "too_many_requests",
      message: expect.stringMatching(/^too many failed current-password checks; try again in \d+ s$/),
    });
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);

    // the owner, in their own session, still changes it, and that ends the stolen one
    expect(
      (await as(server.url, { cookie: own })("POST", "/api/v1/auth/password", { current: password, password: "the owner's new password" })).status,
    ).toBe(204);
    expect((await thief("GET", "/api/v1/keys")).status).toBe(401);

    const otherPassword = await invite("bystander");
    const other = as(server.url, { cookie: await login(server.url, "bystander", otherPassword, { "x-forwarded-for": freshIp() }) });
    expect((await other("POST", "/api/v1/auth/password", { current: otherPassword, password: "another new password" })).status).toBe(204);
  });
});

describe("account names are unique once folded", () => {
  test.each([
    ["the same name in lower case", "casey", "Casey"],
    ["in upper case", "CASEY", "Casey"],
    ["mixed case", "cAsEy", "Casey"],
  ])("inviting %s (%j) beside %j: 409 conflict naming the existing account", async (_what, name, existing) => {
    await (await admin())("POST", "/api/v1/users", { name: "Casey" });
    const r = await (await admin())("POST", "/api/v1/users", { name });
    expect([r.status, r.body.error.code]).toEqual([409, "conflict"]);
    expect(r.body.error.message).toBe(
      `the name ${name} is taken: a user named ${existing} exists (names that differ only in case or character width count as the same name)`,
    );
  });

  test.each([
    ["full-width letters", "ｃａｓｅｙ"],
    ["a Kelvin sign for K", "\u212Aelvin"],
    ["a dotless i", "d\u0131ana"],
  ])("a name in %s (%j) is refused: 400 invalid_body (names are ASCII letters, digits, . _ -)", async (_what, name) => {
    const r = await (await admin())("POST", "/api/v1/users", { name });
    expect([r.status, r.body.error.code]).toEqual([400, "invalid_body"]);
  });

  test("the CLI refuses a folded clash too: exit 2 and one line", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/admin.ts", "create", "ADMIN", "--role", "member"], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: `file:${server.dbPath}` },
      encoding: "utf8",
    });
    expect([r.status, r.stderr.trim()]).toEqual([
      2,
      "babysit: the name ADMIN is taken: a user named admin exists (names that differ only in case or character width count as the same name)",
    ]);
  });

  test.each([["Logan"], ["logan"], ["LOGAN"], ["ｌｏｇａｎ"], ["Ｌｏｇａｎ"]])("logging in as %j reaches the account Logan", async (typed) => {
    loganPassword ??= invite("Logan");
    const res = await loginRaw(typed, await loganPassword, freshIp());
    expect([res.status, await res.json()]).toEqual([200, { user: { name: "Logan", role: "member", passwordChangeRequired: true } }]);
  });

  test("a database from before (Twin and twin both exist): each logs in by its exact name, another spelling by neither", async () => {
    const hash = (server.db.prepare("SELECT password_hash FROM users WHERE name = 'admin'").get() as { password_hash: string }).password_hash;
    const insert = server.db.prepare("INSERT INTO users (name, role, password_hash, created_at) VALUES (?, 'member', ?, 0)");
    insert.run("Twin", hash);
    insert.run("twin", hash);
    expect((await (await loginRaw("Twin", server.adminPassword, freshIp())).json()).user.name).toBe("Twin");
    expect((await (await loginRaw("twin", server.adminPassword, freshIp())).json()).user.name).toBe("twin");
    expect((await loginRaw("TWIN", server.adminPassword, freshIp())).status).toBe(401);
  });
});
let loganPassword: Promise<string> | undefined;

describe("the session cookie", () => {
  const https = { "x-forwarded-proto": "https" };
  const get = (cookie: string, extra: Record<string, string> = {}) =>
    fetch(`${server.url}/api/v1/auth/me`, { headers: { cookie, "x-forwarded-for": freshIp(), ...extra } });
  // /auth/me answers anyone: who the server took the request for (null: nobody)
  const meName = async (res: Response) => ((await res.json()) as { user: { name: string } | null }).user?.name ?? null;

  test("over https it is __Host-babysit_session: Secure, Path=/, no Domain; over http babysit_session", async () => {
    const secure = (await loginRaw("admin", server.adminPassword, freshIp(), https)).headers.get("set-cookie")!;
    expect(secure).toMatch(/^__Host-babysit_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+; Secure$/);
    const plain = (await loginRaw("admin", server.adminPassword, freshIp())).headers.get("set-cookie")!;
    expect(plain).toMatch(/^babysit_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
  });

  test("which cookies a request is believed with", async () => {
    const adminId = cookieId((await loginRaw("admin", server.adminPassword, freshIp())).headers.get("set-cookie")!);
    const adminId2 = cookieId((await loginRaw("admin", server.adminPassword, freshIp())).headers.get("set-cookie")!);
    const secureId = cookieId((await loginRaw("admin", server.adminPassword, freshIp(), https)).headers.get("set-cookie")!);
    const plantedPassword = await invite("planter");
    const planted = cookieId((await loginRaw("planter", plantedPassword, freshIp())).headers.get("set-cookie")!);
    const unknown = "A".repeat(43);
    const cases: [string, string, Record<string, string>, string | null][] = [
      ["own cookie", `babysit_session=${adminId}`, {}, "admin"],
      ["a planted session of another account beside it (either order): neither", `babysit_session=${planted}; babysit_session=${adminId}`, {}, null],
      ["the same, own first", `babysit_session=${adminId}; babysit_session=${planted}`, {}, null],
      ["an unknown id beside it", `babysit_session=${unknown}; babysit_session=${adminId}`, {}, "admin"],
      ["a malformed value beside it", `babysit_session=<script>; babysit_session=${adminId}`, {}, "admin"],
      ["two sessions of the same account", `babysit_session=${adminId2}; babysit_session=${adminId}`, {}, "admin"],
      ["over https, the __Host- cookie", `__Host-babysit_session=${secureId}`, https, "admin"],
      ["over https, a plain-named cookie (settable from http or a sibling host) is not read", `babysit_session=${adminId}`, https, null],
      [
        "over https, a planted plain-named cookie beside the __Host- one does not matter",
        `babysit_session=${planted}; __Host-babysit_session=${secureId}`,
        https,
        "admin",
      ],
      ["over http, a __Host- cookie is not read", `__Host-babysit_session=${secureId}`, {}, null],
    ];
    const got = [];
    for (const [what, cookie, extra] of cases) got.push([what, await meName(await get(cookie, extra))]);
    expect(got).toEqual(cases.map(([what, , , want]) => [what, want]));
  });

  test("ambiguous cookies: the 401 says what happened and what to do; logout ends every session sent", async () => {
    const own = cookieId((await loginRaw("admin", server.adminPassword, freshIp())).headers.get("set-cookie")!);
    const planted = cookieId((await loginRaw("planter2", await invite("planter2"), freshIp())).headers.get("set-cookie")!);
    const cookie = `babysit_session=${planted}; babysit_session=${own}`;
    const r = await as(server.url, { cookie })("GET", "/api/v1/runs");
    expect([r.status, r.body.error]).toEqual([401, { code: "unauthenticated", message: AMBIGUOUS_SESSION }]);
    const out = await fetch(`${server.url}/api/v1/auth/logout`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json" },
      body: "{}",
    });
    expect(out.status).toBe(204);
    const left = server.db.prepare("SELECT COUNT(*) AS n FROM sessions WHERE token_hash IN (?, ?)").get(sessionHash(own), sessionHash(planted));
    expect(left).toEqual({ n: 0 });
  });
});
