// A small fixed-window limiter for login attempts (per client address and per user name), kept in
// memory: a restart forgets it, which costs an attacker a restart they cannot cause. A library
// (rate-limiter-flexible) would add sliding windows and shared stores; one process needs neither.

export interface Window {
  /** Attempts allowed per window. */
  points: number;
  /** Window length in seconds. */
  seconds: number;
}

export class FixedWindowLimiter {
  private readonly hits = new Map<string, { start: number; count: number }>();

  constructor(private readonly window: Window) {}

  /** Counts one attempt for `key`; returns 0 when allowed, else the seconds until the window ends. */
  consume(key: string, now = Date.now()): number {
    const ms = this.window.seconds * 1000;
    let e = this.hits.get(key);
    if (!e || now - e.start >= ms) {
      e = { start: now, count: 0 };
      this.hits.set(key, e);
    }
    e.count++;
    if (this.hits.size > 10_000) this.sweep(now);
    return e.count > this.window.points ? Math.max(1, Math.ceil((e.start + ms - now) / 1000)) : 0;
  }

  /** Forgets `key` (a successful login clears its name's count). */
  reset(key: string): void {
    this.hits.delete(key);
  }

  private sweep(now: number): void {
    const ms = this.window.seconds * 1000;
    for (const [k, e] of this.hits) if (now - e.start >= ms) this.hits.delete(k);
  }
}
