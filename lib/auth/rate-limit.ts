import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";

// Login attempts are limited per client address and per user name with rate-limiter-flexible's
// in-memory limiter (keys in a Map, each forgotten when its window ends): one process needs no
// shared store, and a restart forgets the counts, which costs an attacker a restart they cannot cause.

export interface Window {
  /** Attempts allowed per window. */
  points: number;
  /** Window length in seconds. */
  seconds: number;
}

export class LoginLimiter {
  private readonly limiter: RateLimiterMemory;

  constructor(window: Window) {
    this.limiter = new RateLimiterMemory({ points: window.points, duration: window.seconds });
  }

  /** Counts one attempt for `key`; resolves 0 when allowed, else the whole seconds until it may try again. */
  async consume(key: string): Promise<number> {
    try {
      await this.limiter.consume(key);
      return 0;
    } catch (e) {
      if (e instanceof RateLimiterRes) return Math.max(1, Math.ceil(e.msBeforeNext / 1000));
      throw e;
    }
  }

  /** Forgets `key` (a successful login clears its name's count). */
  async reset(key: string): Promise<void> {
    await this.limiter.delete(key);
  }
}
