import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { AppError } from "../errors";

// Password checks (login, the current password of a password change) are limited with
// rate-limiter-flexible's in-memory limiter (keys in a Map, each forgotten when its window ends):
// one process needs no shared store, and a restart forgets the counts, which costs an attacker a
// restart they cannot cause. How the limits combine is `guardedCheck` below; the numbers are in
// lib/auth/config.ts and docs/security.md says what they let an attacker do.

export interface Window {
  /** Attempts allowed per window. */
  points: number;
  /** Window length in seconds. */
  seconds: number;
  /** Once over, the key stays refused this long (default: until its window ends). */
  blockSeconds?: number;
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

export class LoginLimiter {
  private readonly limiter: RateLimiterMemory;

  constructor(private readonly window: Window) {
    this.limiter = new RateLimiterMemory({ points: window.points, duration: window.seconds, blockDuration: window.blockSeconds ?? 0 });
  }

  /** Counts one attempt for `key`; resolves 0 when allowed, else the whole seconds until it may try again. */
  async consume(key: string): Promise<number> {
    try {
      const r = await this.limiter.consume(key);
      // the attempt that spends the last point starts the block (the limiter would start it only at the next one)
      if (this.window.blockSeconds && r.consumedPoints >= this.window.points) await this.limiter.block(key, this.window.blockSeconds);
      return 0;
    } catch (e) {
      if (e instanceof RateLimiterRes) return seconds(e.msBeforeNext);
      throw e;
    }
  }

  /** 0 when `key` may try now, else the seconds until it may (counts nothing). */
  async blocked(key: string): Promise<number> {
    const r = await this.limiter.get(key);
    return r !== null && r.consumedPoints >= this.window.points ? seconds(r.msBeforeNext) : 0;
  }

  /** Gives back one attempt counted for `key` (it turned out not to be a failure). */
  async refund(key: string): Promise<void> {
    await this.limiter.reward(key, 1);
  }

  /** Forgets `key` (a successful login clears its consecutive failures). */
  async reset(key: string): Promise<void> {
    await this.limiter.delete(key);
  }
}

export class RateLimited extends AppError {
  constructor(
    readonly retryAfter: number,
    what = "login attempts",
  ) {
    super("too_many_requests", `too many failed ${what}; try again in ${retryAfter} s`);
  }
}

/** One limit a password check passes: its limiter, the key, and what a success does to the count. */
export interface Guard {
  limiter: LoginLimiter;
  key: string;
  /** "reset": a success forgets the failures (consecutive failures); "refund": only this attempt is not counted. */
  onSuccess: "reset" | "refund";
}

/**
 * Runs a password check behind limits that count failures only: refused (RateLimited, 429) when any
 * guard is spent, else the attempt is counted before `check` runs and given back when it succeeds.
 * Counting first means concurrent guesses cannot all pass while the slow hash of the first runs.
 */
export async function guardedCheck(guards: Guard[], check: () => Promise<boolean>, what?: string): Promise<boolean> {
  let wait = 0;
  for (const g of guards) wait = Math.max(wait, await g.limiter.blocked(g.key));
  if (wait > 0) throw new RateLimited(wait, what);
  const counted: Guard[] = [];
  for (const g of guards) {
    wait = await g.limiter.consume(g.key);
    if (wait > 0) {
      // refused after all (a concurrent attempt took the last try): not a failure for the other limits
      for (const c of counted) await c.limiter.refund(c.key);
      throw new RateLimited(wait, what);
    }
    counted.push(g);
  }
  const ok = await check();
  if (ok) for (const g of guards) await (g.onSuccess === "reset" ? g.limiter.reset(g.key) : g.limiter.refund(g.key));
  return ok;
}
