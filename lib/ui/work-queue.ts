// Spreads many small pieces of main-thread work (drawing a chart) over several tasks, so that a
// page with hundreds of charts whose data arrives together never blocks input for long: jobs run
// in order until `budgetMs` is used, then the rest wait for the next task. A job scheduled again
// for the same owner before it ran replaces the earlier one and keeps its place (only the latest
// draw of a chart matters).

export interface WorkQueueOptions {
  budgetMs?: number;
  now?: () => number;
  /** Runs `fn` in a later task. */
  post?: (fn: () => void) => void;
}

export class WorkQueue {
  private readonly jobs = new Map<object, () => void>();
  private posted = false;
  private readonly budgetMs: number;
  private readonly now: () => number;
  private readonly post: (fn: () => void) => void;

  constructor(opts: WorkQueueOptions = {}) {
    this.budgetMs = opts.budgetMs ?? 24;
    this.now = opts.now ?? (() => performance.now());
    this.post = opts.post ?? ((fn) => void setTimeout(fn, 0));
  }

  schedule(owner: object, job: () => void): void {
    this.jobs.set(owner, job);
    if (!this.posted) {
      this.posted = true;
      this.post(() => this.run());
    }
  }

  cancel(owner: object): void {
    this.jobs.delete(owner);
  }

  get pending(): number {
    return this.jobs.size;
  }

  private run(): void {
    this.posted = false;
    const start = this.now();
    let ran = 0;
    // what is scheduled while this task runs waits for the next one
    for (const owner of [...this.jobs.keys()]) {
      const job = this.jobs.get(owner);
      if (!job) continue;
      if (ran > 0 && this.now() - start >= this.budgetMs) break;
      this.jobs.delete(owner);
      ran++;
      try {
        job();
      } catch (e) {
        // one chart's failure must not stop the others from drawing
        console.error(e);
      }
    }
    if (this.jobs.size && !this.posted) {
      this.posted = true;
      this.post(() => this.run());
    }
  }
}
