import { LIMITS } from "../contract/limits";

/**
 * A run's start or end as its SDK saw it (unix seconds), or null when the server must use its own
 * clock: a run replayed from a spool hours later keeps its training times, while a client clock far
 * off (in the future past a small skew, older than a year, or an end before the start) cannot put
 * a run somewhere nobody would look for it. Never an error: the run's data matters more than its time.
 */
export function clientTime(t: number | undefined, now: number, notBefore = 0): number | null {
  if (t === undefined) return null;
  if (t > now + LIMITS.runTimeFutureSkew.value || t < now - LIMITS.runTimeMaxAge.value || t < notBefore) return null;
  return t;
}
