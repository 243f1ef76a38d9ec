import { describe, expect, test } from "vitest";
import { type Guard, LoginLimiter, RateLimited, guardedCheck } from "@/lib/auth/rate-limit";

// How login's three limits combine (lib/auth/rate-limit.ts guardedCheck), with small numbers:
// consecutive failures per (name, address) reset by a success, failures per address, failures per
// name; only failures count, and concurrent guesses cannot slip past a limit while hashing.

type Attempt = [name: string, ip: string, right: boolean];
const guards = (l: ReturnType<typeof limiters>, name: string, ip: string): Guard[] => [
  { limiter: l.pair, key: JSON.stringify([name, ip]), onSuccess: "reset" },
  { limiter: l.ip, key: ip, onSuccess: "refund" },
  { limiter: l.name, key: name, onSuccess: "refund" },
];
const limiters = () => ({
  pair: new LoginLimiter({ points: 3, seconds: 60, blockSeconds: 30 }),
  ip: new LoginLimiter({ points: 5, seconds: 60 }),
  name: new LoginLimiter({ points: 8, seconds: 60 }),
});

/** Runs the attempts in order; each answer is "ok", "wrong" or "429 <seconds>". */
async function run(attempts: Attempt[]): Promise<string[]> {
  const l = limiters();
  const out: string[] = [];
  for (const [name, ip, right] of attempts) {
    try {
      out.push((await guardedCheck(guards(l, name, ip), async () => right)) ? "ok" : "wrong");
    } catch (e) {
      if (!(e instanceof RateLimited)) throw e;
      out.push(`429 ${e.retryAfter}`);
    }
  }
  return out;
}

const wrong = (name: string, ip: string, n: number): Attempt[] => Array.from({ length: n }, () => [name, ip, false]);

describe("login limits", () => {
  test.each<[string, Attempt[], string[]]>([
    [
      "3 failures of one pair: the right password from that address waits (the pair's block), from another address it works",
      [...wrong("bob", "a", 3), ["bob", "a", true], ["bob", "b", true]],
      ["wrong", "wrong", "wrong", "429 30", "ok"],
    ],
    [
      "a success resets the pair's consecutive failures",
      [...wrong("bob", "a", 2), ["bob", "a", true], ...wrong("bob", "a", 2), ["bob", "a", true]],
      ["wrong", "wrong", "ok", "wrong", "wrong", "ok"],
    ],
    [
      "one address spraying names: its 6th attempt waits, whatever the name",
      [...wrong("u1", "a", 2), ...wrong("u2", "a", 2), ["u3", "a", false], ["u4", "a", true], ["u4", "b", true]],
      ["wrong", "wrong", "wrong", "wrong", "wrong", "429 60", "ok"],
    ],
    [
      "successes are not counted against the address",
      [...Array.from({ length: 7 }, (_, i): Attempt => [`u${i}`, "a", true]), ...wrong("x", "a", 1)],
      ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "wrong"],
    ],
    [
      "one name from many addresses: after 8 failures in all, the name waits everywhere",
      [...["a", "b", "c", "d"].flatMap((ip) => wrong("bob", ip, 2)), ["bob", "e", true]],
      [...Array(8).fill("wrong"), "429 60"],
    ],
  ])("%s", async (_what, attempts, want) => {
    expect(await run(attempts)).toEqual(want);
  });

  test("concurrent wrong guesses cannot all pass while the hash runs: only the pair's 3 are checked", async () => {
    const l = limiters();
    let checked = 0;
    const slow = async () => {
      checked++;
      await new Promise((r) => setImmediate(r));
      return false;
    };
    const answers = await Promise.allSettled(Array.from({ length: 10 }, () => guardedCheck(guards(l, "bob", "a"), slow)));
    expect(checked).toBe(3);
    expect(answers.filter((a) => a.status === "rejected" && a.reason instanceof RateLimited)).toHaveLength(7);
  });

  test("user names are data: JS member names are keys like any other", async () => {
    expect(await run([...wrong("__proto__", "constructor", 3), ["__proto__", "constructor", true], ["toString", "constructor", true]])).toEqual([
      "wrong",
      "wrong",
      "wrong",
      "429 30",
      "ok",
    ]);
  });
});
