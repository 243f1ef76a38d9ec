import { describe, expect, test } from "vitest";
import { commandConfig, commandName, pieces, shownText } from "@/lib/cli/run-command";
import { terminalText } from "@/lib/cli/terminal-text";
import { configProblem } from "@/lib/schemas/config";
import { LIMITS } from "@/lib/contract/limits";

// How `babysit run` turns what a command prints into stored lines and names its run.

describe("shownText: the line as a terminal shows it last", () => {
  test.each([
    ["plain", "loss: 1", "loss: 1"],
    ["CRLF", "loss: 1\r", "loss: 1"],
    ["a progress bar redrawn", " 10%|#   |\r 50%|#####|\r100%|######|", "100%|######|"],
    ["Keras redrawing with backspaces", "1/2 [==>...] - loss: 0.9\b\b\b\b2/2 [=====] - 1s - loss: 0.7", "2/2 [=====] - 1s - loss: 0.7"],
    ["colours", "\u001b[1;31mERROR\u001b[0m loss: nan", "ERROR loss: nan"],
    ["a window title", "\u001b]0;training\u0007epoch 1", "epoch 1"],
    ["markup stays text", "<b>x</b>", "<b>x</b>"],
  ])("%s", (_what, raw, want) => {
    expect(shownText(raw)).toBe(want);
  });
});

describe("pieces: long lines split at the contract's limit, never inside a surrogate pair", () => {
  const max = LIMITS.runLogLineMaxLength.value;
  test.each([
    ["short", "abc", ["abc"]],
    ["exactly the limit", "a".repeat(max), ["a".repeat(max)]],
    ["one over", "a".repeat(max + 1), ["a".repeat(max), "a"]],
    ["astral characters", "😀".repeat(max + 2), ["😀".repeat(max), "😀😀"]],
  ])("%s", (_what, text, want) => {
    expect(pieces(text)).toEqual(want);
  });
});

describe("commandName", () => {
  test.each([
    [["python", "train.py", "--lr", "0.1"], "python train.py --lr 0.1"],
    [["python", "-c", "print('a b')"], `python -c "print('a b')"`],
    [["x".repeat(300)], `${"x".repeat(LIMITS.runNameMaxLength.value - 1)}…`],
  ])("%j -> %s", (argv, want) => {
    expect(commandName(argv)).toBe(want);
  });
});

// The run's config records the command line twice (command, argv): a long one (a `python -c`
// script, thousands of file arguments) made the server refuse the run itself (config over
// configBytes), so nothing of the command was kept.
describe("commandConfig: a command line of any length fits the config", () => {
  const big = "y".repeat(120_000);
  test.each([
    ["five 120 kB arguments", ["/bin/true", big, big, big, big, big]],
    ["100,000 file arguments", ["ls", ...Array.from({ length: 100_000 }, (_, i) => `file-${i}.txt`)]],
    ["control characters (6 bytes each in JSON)", ["printf", "\u0001".repeat(300_000)]],
  ])("%s", (_what, argv) => {
    const config = commandConfig(argv, "/tmp");
    expect(configProblem(config)).toBeNull();
    expect(Buffer.byteLength(JSON.stringify(config))).toBeLessThanOrEqual(LIMITS.configBytes.value);
    const kept = config.argv as string[];
    expect(kept[0]).toBe(argv[0]);
    expect(String(config.command).startsWith(argv[0])).toBe(true);
    expect(kept.join(" ")).toMatch(/…/);
  });

  test("a short command line is recorded as it is", () => {
    expect(commandConfig(["python", "train.py", "--lr", "0.1"], "/tmp")).toMatchObject({
      command: "python train.py --lr 0.1",
      argv: ["python", "train.py", "--lr", "0.1"],
      cwd: "/tmp",
    });
  });
});

describe("terminalText: babysit's own lines never carry control characters to the terminal", () => {
  test.each([
    ["a window title", "a\u001b]0;x\u0007b", "a\ufffd]0;x\ufffdb"],
    ["an 8-bit CSI", "a\u009b2Jb", "a\ufffd2Jb"],
    ["a tab and DEL", "a\tb\u007f", "a\ufffdb\ufffd"],
    ["plain text and other scripts", "café ☃ <b>", "café ☃ <b>"],
  ])("%s", (_what, line, want) => {
    expect(terminalText(line)).toBe(want);
  });
});
