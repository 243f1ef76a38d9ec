// Everything the SDK prints goes to stderr through here, so a training script's stdout stays its own.

/** "1 point", "2 points": a count with its noun. */
export const counted = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Writes one line to stderr. Never throws: a closed stderr must not break training. */
export function say(line: string): void {
  try {
    process.stderr.write(line.endsWith("\n") ? line : `${line}\n`);
  } catch {
    // nowhere left to complain to
  }
}

/**
 * The line printed at finish(): the run's checklist as the server summed it up (its `checklist.summary`,
 * e.g. "7 passed, 1 raised (lr_too_high), 2 not checkable"), or null when the answer has none. The
 * same wording as the Python SDK's.
 */
export function checklistLine(checklist: unknown, url: string): string | null {
  const summary = (checklist as { summary?: unknown } | null)?.summary;
  if (typeof summary !== "string" || summary.length === 0 || summary.length > 500) return null;
  // server text, printed to a terminal: no control characters
  return `babysit: checklist ${summary.replace(/[\u0000-\u001f\u007f-\u009f]/g, " ")} -> ${url}`;
}

/**
 * Prints each distinct warning once. Training loops call log() millions of times, and a warning
 * per call would drown the script's own output.
 */
export class OnceWarner {
  private readonly seen = new Set<string>();

  constructor(private readonly maxDistinct = 200) {}

  warn(key: string, message: string): void {
    if (this.seen.has(key) || this.seen.size >= this.maxDistinct) return;
    this.seen.add(key);
    say(`babysit: ${message}`);
  }
}
