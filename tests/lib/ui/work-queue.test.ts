import { describe, expect, test } from "vitest";
import { WorkQueue } from "../../../lib/ui/work-queue";

// The draw queue: many chart draws spread over tasks within a time budget, latest draw per chart.

function fakeQueue(budgetMs: number) {
  let clock = 0;
  const tasks: (() => void)[] = [];
  const q = new WorkQueue({ budgetMs, now: () => clock, post: (fn) => void tasks.push(fn) });
  const drain = () => {
    let n = 0;
    while (tasks.length) {
      tasks.shift()!();
      n++;
    }
    return n;
  };
  /** Runs the next posted task only; false when none is posted. */
  const step = () => {
    const t = tasks.shift();
    t?.();
    return t !== undefined;
  };
  return { q, tick: (ms: number) => (clock += ms), drain, step };
}

describe("WorkQueue", () => {
  test.each([
    // jobs, ms each, budget -> tasks used
    [100, 10, 30, 34],
    [100, 1, 30, 4],
    [1, 500, 30, 1],
    [5, 0, 30, 1],
  ])("%i jobs of %i ms with a %i ms budget run in order over %i tasks", (jobs, ms, budget, tasks) => {
    const { q, tick, drain } = fakeQueue(budget);
    const done: number[] = [];
    for (let i = 0; i < jobs; i++) {
      q.schedule({}, () => {
        tick(ms);
        done.push(i);
      });
    }
    expect(drain()).toBe(tasks);
    expect(done).toEqual(Array.from({ length: jobs }, (_, i) => i));
    expect(q.pending).toBe(0);
  });

  test("a job scheduled again for its owner replaces the earlier one and keeps its place; a cancelled one does not run", () => {
    const { q, drain } = fakeQueue(30);
    const [a, b, c] = [{}, {}, {}];
    const done: string[] = [];
    q.schedule(a, () => done.push("a1"));
    q.schedule(b, () => done.push("b"));
    q.schedule(c, () => done.push("c"));
    q.schedule(a, () => done.push("a2"));
    q.cancel(c);
    drain();
    expect(done).toEqual(["a2", "b"]);
  });

  test("a job that throws does not stop the others", () => {
    const { q, drain } = fakeQueue(30);
    const done: number[] = [];
    const orig = console.error;
    console.error = () => {};
    q.schedule({}, () => {
      throw new Error("x");
    });
    q.schedule({}, () => done.push(2));
    drain();
    console.error = orig;
    expect(done).toEqual([2]);
  });

  test("work scheduled while running goes to a later task", () => {
    const { q, step } = fakeQueue(30);
    const done: string[] = [];
    q.schedule({}, () => {
      done.push("first");
      q.schedule({}, () => done.push("later"));
    });
    expect(step()).toBe(true);
    expect(done).toEqual(["first"]);
    expect(step()).toBe(true);
    expect(done).toEqual(["first", "later"]);
    expect(step()).toBe(false);
  });
});
