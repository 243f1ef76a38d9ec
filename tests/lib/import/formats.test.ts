import { describe, expect, test } from "vitest";
import type { ImportData } from "@/lib/import/model";
import { formatOf, parseFile } from "@/lib/import/parse-file";

// The CSV, JSON Lines and text-log readers on the files the tools write, and on hostile ones:
// a value is at the step the source gives it, NaN and infinities are data, user keys such as
// __proto__ stay ordinary keys, and nothing a file holds makes reading slow or throw.

function parse(name: string, text: string | Buffer, opts = {}) {
  return parseFile(name, typeof text === "string" ? Buffer.from(text) : text, opts).data;
}

function series(d: ImportData, key: string): [number, number][] {
  const p = d.points.get(key);
  return p ? p.steps.map((s, i) => [s, p.values[i]]) : [];
}

describe("CSV", () => {
  test.each([
    [
      "Keras CSVLogger (epoch column)",
      "epoch,accuracy,loss,val_accuracy,val_loss\n0,0.35,2.01,0.6,1.57\n1,0.72,1.27,0.82,0.99\n",
      "val_loss",
      [
        [0, 1.57],
        [1, 0.99],
      ],
    ],
    [
      "Lightning metrics.csv (step and epoch, sparse rows)",
      "epoch,step,train_loss,val_acc,val_loss\n0,49,0.9,,\n0,99,0.7,,\n0,99,,0.8,0.6\n1,149,0.5,,\n",
      "train_loss",
      [
        [49, 0.9],
        [99, 0.7],
        [149, 0.5],
      ],
    ],
    [
      "W&B panel export (Step, run - metric, __MIN/__MAX)",
      "Step,run-1 - loss,run-1 - loss__MIN,run-1 - loss__MAX\n0,2,1.9,2.1\n10,1,0.9,1.1\n",
      "loss",
      [
        [0, 2],
        [10, 1],
      ],
    ],
    [
      "W&B history (_step)",
      "_step,_timestamp,loss\n0,1700000000,3\n1,1700000001,2\n",
      "loss",
      [
        [0, 3],
        [1, 2],
      ],
    ],
    [
      "MLflow metric export (key, value, step, timestamp)",
      "key,value,step,timestamp\nloss,0.5,1,1700000000000\nacc,0.9,1,1700000000000\n",
      "acc",
      [[1, 0.9]],
    ],
    [
      "generic, no step column (rows numbered)",
      "loss,acc\n1,0.1\n0.5,0.2\n",
      "acc",
      [
        [0, 0.1],
        [1, 0.2],
      ],
    ],
  ])("%s", (_what, text, key, want) => {
    const d = parse("metrics.csv", text);
    expect(series(d, key)).toEqual(want);
  });

  test("Lightning's epoch column is each row's epoch; MLflow milliseconds become seconds", () => {
    const d = parse("metrics.csv", "epoch,step,train_loss\n2,49,0.9\n");
    expect(d.epochs.get(49)).toBe(2);
    expect(d.points.has("epoch")).toBe(false);
    const m = parse("m.csv", "key,value,step,timestamp\nloss,0.5,1,1700000000000\n");
    expect(m.points.get("loss")?.times).toEqual([1_700_000_000]);
  });

  test("a step column named by the user; a missing one is said so", () => {
    expect(series(parse("a.csv", "it,loss\n5,1\n6,2\n", { stepColumn: "it" }), "loss")).toEqual([
      [5, 1],
      [6, 2],
    ]);
    expect(parse("a.csv", "it,loss\n5,1\n", { stepColumn: "nope" }).skipped[0]).toContain('"nope"');
  });

  // two columns of one name wrote both at every step, the second replacing the first when stored,
  // unsaid: the first is kept and the repeats are said
  test.each([
    ["a repeated name", "step,loss,loss\n1,0.5,0.6\n2,0.4,0.7\n", "loss", 3],
    ["a name repeated after trimming", "step,loss, loss ,acc\n1,0.5,0.6,0.9\n2,0.4,0.7,0.9\n", "loss", 3],
    ["W&B columns that repeat once the run's prefix is cut", "Step,r - loss,r - loss\n1,0.5,0.6\n2,0.4,0.7\n", "loss", 3],
    ["__proto__ twice", "step,__proto__,__proto__\n1,0.5,0.6\n2,0.4,0.7\n", "__proto__", 3],
  ])("%s: the first column is kept, the other said so", (_what, text, key, column) => {
    const d = parse("m.csv", text);
    expect(series(d, key)).toEqual([
      [1, 0.5],
      [2, 0.4],
    ]);
    expect(d.skipped).toEqual([expect.stringContaining(`column ${column} repeats the name ${JSON.stringify(key)}`)]);
  });
});

describe("JSON Lines", () => {
  test("flat objects with a step, nested objects flattened, bare NaN and Infinity as data", () => {
    const d = parse("m.jsonl", '{"step": 1, "loss": NaN, "val": {"acc": 0.5}}\n{"step": 2, "loss": Infinity, "val": {"acc": -Infinity}}\n');
    expect(series(d, "loss")).toEqual([
      [1, Number.NaN],
      [2, Number.POSITIVE_INFINITY],
    ]);
    expect(series(d, "val/acc")).toEqual([
      [1, 0.5],
      [2, Number.NEGATIVE_INFINITY],
    ]);
  });

  test("babysit's run format: scalars with epochs, histograms, config, input_stats", () => {
    const d = parse(
      "metrics.jsonl",
      [
        '{"kind": "config", "num_classes": 10}',
        '{"kind": "input_stats", "mean": [0], "std": [1]}',
        '{"kind": "scalar", "step": 3, "epoch": 1, "wall_time": 1700000000, "key": "train/loss", "value": 0.5}',
        '{"kind": "hist", "step": 3, "key": "w", "edges": [0, 1], "counts": [4]}',
      ].join("\n"),
    );
    expect(d.config.get("num_classes")).toBe(10);
    expect(d.events).toEqual([{ type: "input_stats", step: 0, time: Number.NaN, data: expect.objectContaining({ mean: [0], std: [1] }) }]);
    expect(d.points.get("train/loss")).toEqual({ steps: [3], values: [0.5], times: [1_700_000_000] });
    expect(d.epochs.get(3)).toBe(1);
    expect(d.histograms[0]).toMatchObject({ key: "w", edges: [0, 1], counts: [4] });
  });

  test("a torn last line is a file being written; a bad line in the middle is skipped and said so", () => {
    const d = parse("m.jsonl", '{"step": 1, "a": 1}\nnot json\n{"step": 2, "a": 2}\n{"step": 3, "a"');
    expect(series(d, "a")).toEqual([
      [1, 1],
      [2, 2],
    ]);
    expect(d.truncated).toBe(true);
    expect(d.skipped).toEqual(["line 2 is not JSON"]);
  });
});

describe("text logs", () => {
  test.each([
    ["cs231n iteration", "(Iteration 5 / 100) loss: 2.3", "loss", [[5, 2.3]]],
    ["Keras verbose=2", "Epoch 3/10\n15/15 - 0s - loss: 0.77 - accuracy: 0.86 - val_loss: 0.6", "val_loss", [[2, 0.6]]],
    [
      "Keras verbose=1 (progress redrawn with \\r, only the finished line counts)",
      "Epoch 1/2\n1/3 [=>...] - loss: 9.0\r3/3 [===] - 1s 5ms/step - loss: 1.5 - val_loss: 1.25\n",
      "loss",
      [[0, 1.5]],
    ],
    [
      "Hugging Face Trainer dicts",
      "{'loss': 0.69, 'learning_rate': 5e-05, 'epoch': 0.5}\n{'loss': 0.5, 'learning_rate': 4e-05, 'epoch': 1.0}",
      "learning_rate",
      [
        [0, 5e-5],
        [1, 4e-5],
      ],
    ],
    ["Hugging Face Trainer dict with a step", "{'eval_loss': 0.4, 'epoch': 1.0, 'step': 500}", "eval_loss", [[500, 0.4]]],
    ["generic key=value", "step=10 loss=0.25 acc=0.5", "loss", [[10, 0.25]]],
    ["generic key: value", "iter: 7, loss: nan, grad_norm: inf", "loss", [[7, Number.NaN]]],
    ["generic with only an epoch", "epoch 3 | epoch: 3 | val_loss: 0.125", "val_loss", [[3, 0.125]]],
    ["a plain sentence is no metric", "Saving model to checkpoint: done", "checkpoint", []],
  ])("%s", (_what, text, key, want) => {
    expect(series(parse("train.log", text), key)).toEqual(want);
  });

  // the Trainer's last dict sums the run up (train_loss: the run's average): as points, that lone
  // train_loss would outrank `loss` as the run's training loss (diagnostics, checklist)
  test.each([
    ["without a step", "{'loss': 2.0, 'epoch': 0.5}\n{'loss': 1.0, 'epoch': 1.0}\n"],
    ["after dicts with steps", "{'loss': 2.0, 'epoch': 0.5, 'step': 10}\n{'loss': 1.0, 'epoch': 1.0, 'step': 20}\n"],
  ])("Hugging Face Trainer's end-of-training dict (%s) is the run's summary, not a step", (_what, dicts) => {
    const end = "{'train_runtime': 30.5, 'train_samples_per_second': 98.3, 'train_loss': 1.4, 'epoch': 1.0}\n";
    const d = parse("train.log", dicts + end);
    expect(series(d, "loss").map(([, v]) => v)).toEqual([2, 1]);
    for (const k of ["train_loss", "train_runtime", "train_samples_per_second"]) expect(d.points.has(k), k).toBe(false);
    expect(d.events).toHaveLength(1);
    expect(d.events[0]).toMatchObject({ type: "summary", step: null });
    expect({ ...d.events[0].data }).toEqual({ train_runtime: 30.5, train_samples_per_second: 98.3, train_loss: 1.4, epoch: 1 });
  });

  test("user templates match numbers between literal text, with no regular expression built from them", () => {
    const d = parse("train.log", "ep 2 it 40 | L=0.5 (acc 91.5%)\nep 2 it 41 | L=-inf (acc 90%)", {
      patterns: ["it {step} | L={loss} (acc {acc}%)"],
    });
    expect(series(d, "loss")).toEqual([
      [40, 0.5],
      [41, Number.NEGATIVE_INFINITY],
    ]);
    expect(series(d, "acc")).toEqual([
      [40, 91.5],
      [41, 90],
    ]);
    // a template full of regex syntax is literal text
    expect(series(parse("t.log", "(.*)+ 3 (.*)+ 4", { patterns: ["(.*)+ {step} (.*)+ {x}"] }), "x")).toEqual([[3, 4]]);
  });
});

describe("hostile input", () => {
  test("__proto__, constructor and toString are ordinary keys in every format", () => {
    for (const [name, text] of [
      ["a.jsonl", '{"step": 1, "__proto__": 1, "constructor": 2, "toString": 3}'],
      ["a.csv", "step,__proto__,constructor,toString\n1,1,2,3\n"],
      ["a.log", "step=1 __proto__=1 constructor=2 toString=3"],
      ["b.log", "{'__proto__': 1, 'constructor': 2, 'toString': 3, 'step': 1}"],
    ]) {
      const d = parse(name, text);
      expect([...d.points.keys()].sort(), name).toEqual(["__proto__", "constructor", "toString"]);
      expect(series(d, "__proto__"), name).toEqual([[1, 1]]);
      expect(({} as Record<string, unknown>).constructor).toBe(Object);
    }
  });

  test("a huge line is skipped and said so; a line of repeated separators reads in linear time", () => {
    const huge = `step=1 loss=${"9".repeat(2_000_000)}\nstep=2 loss=0.5\n`;
    const d = parse("a.log", huge);
    expect(series(d, "loss")).toEqual([[2, 0.5]]);
    expect(d.skipped[0]).toMatch(/line 1 is longer than/);
    const many = `step=1 ${"a=:".repeat(20_000)}`;
    expect(() => parse("b.log", many)).not.toThrow();
  });

  // each of these took seconds to minutes with a backtracking pattern (quadratic in the line): the
  // readers must get through them like any other line (the test's timeout is the guard)
  test.each([
    ["a long word", "a.log", `step=1 ${"a".repeat(60_000)}`],
    ["a long run of digits in a pair", "a.log", `step=1 a=${"1".repeat(60_000)}x`],
    ["a long number cell", "a.csv", `step,a\n1,${"1".repeat(1_000_000)}x\n`],
    ["escaped quotes in a line that is not JSON", "a.jsonl", `{"a": "${'\\"'.repeat(30_000)}, NaN`],
    ["many Keras separators", "a.log", `Epoch 1/1\n1/1 - ${"x: - ".repeat(12_000)}`],
  ])("%s reads in linear time", (_what, name, text) => {
    expect(() => parse(name, text)).not.toThrow();
  });

  test("binary junk is skipped as binary; junk with no NUL byte reads as a text log with no metrics", () => {
    const junk = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7919) % 256));
    expect(formatOf("x.txt", junk)).toBeNull();
    expect(parse("x.txt", junk).skipped).toEqual(["a binary file that is not a TensorBoard event file"]);
    const noNul = Buffer.from(Array.from({ length: 100_000 }, (_, i) => 1 + ((i * 7919) % 255)));
    expect(parse("x.txt", noNul).pointCount).toBe(0);
  });

  test("junk named like an event file is refused as damaged, not half read", () => {
    expect(() => parse("events.out.tfevents.1", Buffer.from("this is not a tfrecord file at all, but long enough"))).toThrow(/bad length checksum/);
  });

  test("a step beyond 2^53-1 or negative is no point", () => {
    expect(parse("a.log", "step=-1 loss=1\nstep=1e300 loss=2\nstep=3 loss=3").pointCount).toBe(1);
  });
});
