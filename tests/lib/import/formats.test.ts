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

describe("TensorBoard's CSV download", () => {
  test.each([
    ["run-train-tag-loss.csv", "loss"],
    ["run-.-tag-val_acc.csv", "val_acc"],
    ["accuracy.csv", "accuracy"],
  ])("%s: its one column is the tag %s", (name, key) => {
    const d = parse(name, "Wall time,Step,Value\n1700000000.5,0,2.3\n1700000001.5,100,1.9\n");
    expect(series(d, key)).toEqual([
      [0, 2.3],
      [100, 1.9],
    ]);
    expect(d.points.get(key)?.times).toEqual([1700000000.5, 1700000001.5]);
    expect(d.points.has("Value")).toBe(false);
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

  test("a `time` that is a duration (detectron2's seconds per iteration) is a metric, not when the row was written", () => {
    const d = parse(
      "metrics.jsonl",
      '{"iteration": 19, "total_loss": 1.2, "time": 0.31}\n{"iteration": 39, "total_loss": 1.0, "time": 1700000000}\n',
    );
    expect(series(d, "time")).toEqual([[19, 0.31]]);
    expect(d.points.get("total_loss")?.times).toEqual([Number.NaN, 1_700_000_000]);
  });

  test.each([
    [
      "detectron2's metrics.json (JSON Lines named .json)",
      "metrics.json",
      '{"iteration": 19, "total_loss": 1.2, "lr": 0.0002}\n{"iteration": 39, "total_loss": 1.0, "lr": 0.0004}\n',
      "total_loss",
      [
        [19, 1.2],
        [39, 1.0],
      ],
    ],
    [
      "Hugging Face's trainer_state.json: log_history at its steps",
      "checkpoint-20/trainer_state.json",
      JSON.stringify(
        {
          epoch: 1,
          global_step: 20,
          train_batch_size: 8,
          log_history: [
            { epoch: 0.5, loss: 2.3, learning_rate: 4.5e-5, step: 10 },
            { epoch: 1, loss: 1.9, step: 20 },
            { epoch: 1, eval_loss: 1.7, step: 20 },
          ],
        },
        null,
        2,
      ),
      "loss",
      [
        [10, 2.3],
        [20, 1.9],
      ],
    ],
    [
      "a Keras history.history dump: value i at epoch i",
      "history.json",
      '{"loss": [0.9, 0.5, NaN], "val_accuracy": [0.5, 0.7, 0.8]}',
      "loss",
      [
        [0, 0.9],
        [1, 0.5],
        [2, Number.NaN],
      ],
    ],
    [
      "a list of flat objects",
      "log.json",
      '[\n {"epoch": 1, "val_loss": 0.6},\n {"epoch": 2, "val_loss": 0.5}\n]',
      "val_loss",
      [
        [1, 0.6],
        [2, 0.5],
      ],
    ],
  ] as [string, string, string, string, [number, number][]][])("%s", (_what, name, text, key, want) => {
    expect(formatOf(name, Buffer.from(text))).toBe("jsonl");
    expect(series(parse(name, text), key)).toEqual(want);
  });

  test("trainer_state.json: the end-of-training entry is the run's summary; batch size and epochs are config", () => {
    const state = {
      train_batch_size: 16,
      num_train_epochs: 3,
      max_steps: 60,
      log_history: [
        { loss: 2, step: 10, epoch: 0.5 },
        { train_runtime: 30.5, train_loss: 1.4, step: 60, epoch: 3 },
      ],
    };
    const d = parse("trainer_state.json", JSON.stringify(state));
    expect(series(d, "loss")).toEqual([[10, 2]]);
    expect(d.points.has("train_loss")).toBe(false);
    expect(d.events).toMatchObject([{ type: "summary", step: null }]);
    expect({ ...d.events[0].data }).toMatchObject({ train_runtime: 30.5, train_loss: 1.4 });
    expect([...d.config]).toEqual([
      ["batch_size", 16],
      ["epochs", 3],
      ["max_steps", 60],
    ]);
  });

  test("a .json file that is neither a document babysit reads nor JSON Lines: nothing imported, said so", () => {
    const d = parse("config.json", '{\n  "lr": 0.1,\n  "layers": 3\n}\n');
    expect(d.pointCount).toBe(0);
    expect(d.skipped).toEqual([expect.stringContaining("a JSON document that is not a log babysit reads")]);
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

  // Console output as other tools and hand-written loops print it: each row names what a reader of the
  // log sees (the metric's name as printed, at the step the progress says), never a number taken
  // from a unit, a total or another metric's name
  const K3 = "\u001b[1m1875/1875\u001b[0m \u001b[32m━━━━━━━━━━━━━━━━━━━━\u001b[0m\u001b[37m\u001b[0m \u001b[1m3s\u001b[0m 1ms/step";
  test.each([
    [
      "Keras 3 in colour (escape codes before the step count)",
      `Epoch 1/2\n${K3} - accuracy: 0.88 - loss: 0.43 - val_loss: 0.15\nEpoch 2/2\n${K3} - accuracy: 0.96 - loss: 0.13 - val_loss: 0.1\n`,
      "val_loss",
      [
        [0, 0.15],
        [1, 0.1],
      ],
    ],
    ["coloured key=value lines", "\u001b[32mstep=1\u001b[0m loss=\u001b[1m0.5\u001b[0m\n", "loss", [[1, 0.5]]],
    [
      "train and val metrics named by two words",
      "Epoch: 1 | Train Loss: 0.512 | Train Acc: 81.20% | Val Loss: 0.432 | Val Acc: 84.10%",
      "Val_Loss",
      [[1, 0.432]],
    ],
    ["... the training one apart", "Epoch: 1 | Train Loss: 0.512 | Val Loss: 0.432", "Train_Loss", [[1, 0.512]]],
    ["... without separators", "epoch 2 train loss: 0.3 val loss: 0.4", "val_loss", [[2, 0.4]]],
    ["a logger's level is not part of the name", "2024-05-01 12:00:00 INFO Train Loss: 0.7 step: 9", "Train_Loss", [[9, 0.7]]],
    ["PyTorch examples: Train Epoch e [i/N]", "Train Epoch: 2 [640/60000 (1%)]\tLoss: 0.213150", "Loss", [[60640, 0.21315]]],
    [
      "mmcv: Epoch [e][i/N]",
      "2023-01-01 12:00:00,000 - mmdet - INFO - Epoch [1][50/7330]\tlr: 1.978e-03, eta: 1 day, 1:00:00, time: 0.500, loss: 0.8",
      "loss",
      [[50, 0.8]],
    ],
    ["mmengine: Epoch(train) [e][i/N]", "Epoch(train)  [3][ 100/1000]  lr: 1.0e-02  eta: 0:10:00  loss: 0.6123", "loss", [[2100, 0.6123]]],
    ["mmengine: Iter(train) [i/N]", "Iter(train) [  500/90000]  lr: 2.0e-02  loss: 1.25", "loss", [[500, 1.25]]],
    ["timm: Train: e [i/N]", "Train: 3 [  50/1251 (  4%)]  Loss: 6.912 (6.92)  Time: 0.300s,  106.67/s  LR: 1.000e-05", "Loss", [[3803, 6.912]]],
    [
      "timm: an evaluation line without an epoch is no training step",
      "Test: [   0/196]  Time: 0.5 (0.5)  Loss:  0.5 (0.5)  Acc@1: 80.0 (80.0)",
      "Loss",
      [],
    ],
    ["Epoch e/E before the metrics", "[Epoch 4/10] loss: 0.25, acc: 0.91", "acc", [[4, 0.91]]],
    [
      "a Lightning progress bar: its metrics at e*N + i",
      "Epoch 1: 100%|██████████| 100/100 [00:10<00:00, 10.00it/s, loss=0.3, v_num=0, val_loss=0.35]",
      "val_loss",
      [[200, 0.35]],
    ],
    ["... v_num is Lightning's version, not a metric", "Epoch 1: 100%|██████████| 100/100 [00:10<00:00, 10.00it/s, loss=0.3, v_num=0]", "v_num", []],
    ["a tqdm bar with no epoch: step i", "train:  42%|████▏     | 42/100 [00:05<00:07,  8.10it/s, loss=0.512, acc=0.8]", "loss", [[42, 0.512]]],
    [
      "every drawing of a bar redrawn with \\r",
      "\rEpoch 0:  10%|█| 10/100 [00:01<00:09, loss=0.9]\rEpoch 0:  20%|██| 20/100 [00:02<00:08, loss=0.8]\rEpoch 0:  30%|███| 30/100 [00:03<00:07, loss=0.7]\n",
      "loss",
      [
        [10, 0.9],
        [20, 0.8],
        [30, 0.7],
      ],
    ],
    ["a download bar is no metric", "model.safetensors: 100%|██████████| 1.2M/1.2M [00:01<00:00, 1.0MB/s]", "model.safetensors", []],
    ["nanoGPT: name value fields", "iter 10: loss 9.1235, time 100.12ms, mfu 20.10%", "loss", [[10, 9.1235]]],
    ["... a value with a unit is no metric", "iter 10: loss 9.1235, time 100.12ms, mfu 20.10%", "time", []],
    ["nanoGPT's evaluation line", "step 500: train loss 1.8265, val loss 1.9227", "val_loss", [[500, 1.9227]]],
    ["comma-separated name value fields", "epoch 1, step 100, loss 0.52, acc 0.81", "acc", [[100, 0.81]]],
    ["a unit word after a number: not a metric", "step: 3, eta: 1 day, loss: 0.5", "eta", []],
    ["... nor a count out of a total", "step: 3, correct: 9837/10000, loss: 0.5", "correct", []],
    [
      "fastai's table: a row under a header of names",
      "epoch     train_loss  valid_loss  accuracy  time    \n0         0.412345    0.301234    0.901234  00:12     \n1         0.212345    #na#        0.951234  00:12     \n",
      "valid_loss",
      [[0, 0.301234]],
    ],
    [
      "... every column of a row, the step column left out",
      "epoch  train_loss  time\n0  0.5  00:12\n1  0.25  00:11\nBetter model found at epoch 1 with valid_loss value: 0.2.\n2  0.125  00:12\n",
      "train_loss",
      [
        [0, 0.5],
        [1, 0.25],
      ],
    ],
    ["a header with no step column is no table", "loss  accuracy\n0.5  0.9\n", "accuracy", []],
    ["a sentence with a number is no metric", "Saving the model from epoch 3 to ckpt/epoch3.pt", "to", []],
  ] as [string, string, string, [number, number][]][])("%s", (_what, text, key, want) => {
    expect(series(parse("train.log", text), key)).toEqual(want);
  });

  // what a new user's logs showed: a plain print() lost whole, the first epoch of 1-based progress at
  // step N, evaluations printed without a step of their own dropped
  test.each([
    [
      'print(f"epoch {e} loss {l:.4f} acc {a:.3f}")',
      "epoch 0 loss 1.0000 acc 0.500\nepoch 1 loss 0.5000 acc 0.540\n",
      "acc",
      [
        [0, 0.5],
        [1, 0.54],
      ],
    ],
    ["... with names of two words", "epoch 1 train loss 0.5 val loss 0.6\n", "val_loss", [[1, 0.6]]],
    ["... a step word among them", "Step 300 loss 2.25 lr 0.001\n", "lr", [[300, 0.001]]],
    ["... a number with a unit makes it no such line", "iter 5 time 41ms loss 2\n", "loss", []],
    ["... nor does a sentence", "epoch 3 of 10 done\n", "of", []],
    ["... nor a count out of a total", "Epoch 3 of 10\n", "of", []],
    ["... nor steps out of a total", "step 5 out of 100\n", "out_of", []],
    ["... nor a time taken", "epoch 2 took 31\n", "took", []],
    [
      "mmcv's first epoch (printed as 1) starts at step 0",
      "Epoch [1][50/100]\tlr: 1e-2, loss: 1.5\nEpoch [1][100/100]\tlr: 1e-2, loss: 1.4\nEpoch [2][50/100]\tlr: 1e-2, loss: 1.2\n",
      "loss",
      [
        [50, 1.5],
        [100, 1.4],
        [150, 1.2],
      ],
    ],
    [
      "... a log that counts epochs from 0 stays so",
      "Epoch [0][50/100]\tloss: 1.5\nEpoch [1][50/100]\tloss: 1.2\n",
      "loss",
      [
        [50, 1.5],
        [150, 1.2],
      ],
    ],
    [
      "PyTorch's examples: the test set's loss at the last training step",
      "Train Epoch: 1 [0/60000 (0%)]\tLoss: 2.3\nTrain Epoch: 1 [59520/60000 (99%)]\tLoss: 0.1\n\nTest set: Average loss: 0.0339, Accuracy: 9890/10000 (99%)\n\n",
      "test_Average_loss",
      [[59520, 0.0339]],
    ],
    [
      "timm: the evaluation's running averages, its last batch line kept",
      "Train: 0 [ 124/125 (99%)]  Loss: 5.66 (6.2)  LR: 1.000e-03\nTest: [   0/19]  Time: 0.3 (0.3)  Loss:  6.25 (6.25)  Acc@1:  1.56 ( 1.56)\nTest: [  19/19]  Time: 0.05 (0.07)  Loss:  6.10 (6.00)  Acc@1:  2.00 ( 2.10)\n",
      "test_Acc@1",
      [[124, 2.1]],
    ],
    [
      "mmengine: Epoch(val) at the last training step",
      "Epoch(train)  [1][200/200]  lr: 1.0e-01  loss: 1.3\nEpoch(val) [1][100/100]    accuracy/top1: 45.6700  accuracy/top5: 80.1200\n",
      "val_accuracy/top1",
      [[200, 45.67]],
    ],
    [
      "a line with only an epoch, printed after a training bar: at the bar's last step",
      "\rEpoch 0:  50%|█    | 25/50 [00:01<00:01, 9.9it/s, loss=0.7]\rEpoch 0: 100%|██████████| 50/50 [00:02<00:00, 9.9it/s, loss=0.5]\nepoch 0 val_loss 1.0\n",
      "val_loss",
      [[50, 1]],
    ],
    [
      "timm's best metric (epoch 0) after the epoch's training lines",
      "Train: 0 [ 124/125 (99%)]  Loss: 5.66 (6.2)  LR: 1.000e-03\n*** Best metric: 2.1 (epoch 0)\n",
      "Best_metric",
      [[124, 2.1]],
    ],
    [
      "PyTorch's ImageNet example: aligned columns, each value with its running average",
      "Epoch: [0][  0/21]\tTime  0.215 ( 0.300)\tLoss 6.9000e+00 (6.9500e+00)\tAcc@1   0.00 (  0.10)\n" +
        "Epoch: [0][ 10/21]\tTime  0.215 ( 0.300)\tLoss 6.8000e+00 (6.9000e+00)\tAcc@1   1.00 (  0.50)\n",
      "Acc@1",
      [
        [0, 0],
        [10, 1],
      ],
    ],
    [
      "... its Test lines: the running average of the last, at the last training step",
      "Epoch: [0][ 10/21]\tLoss 6.8000e+00 (6.9000e+00)\tAcc@1   1.00 (  0.50)\n" +
        "Test: [ 0/11]\tTime  0.100 ( 0.100)\tLoss 6.8000e+00 (6.7000e+00)\tAcc@1   0.50 (  1.00)\n" +
        "Test: [10/11]\tTime  0.100 ( 0.100)\tLoss 6.8000e+00 (6.7100e+00)\tAcc@1   0.50 (  1.25)\n",
      "test_Acc@1",
      [[10, 1.25]],
    ],
    ["an evaluation before any training line has no step", "Test set: Average loss: 0.0339, Accuracy: 9890/10000 (99%)\n", "test_Average_loss", []],
  ] as [string, string, string, [number, number][]][])("%s", (_what, text, key, want) => {
    expect(series(parse("train.log", text), key)).toEqual(want);
  });

  // a log no rule reads showed as "0 points" and nothing more
  test.each([
    ["a log of a format of its own", "L=0.5 @ it#3\nL=0.4 @ it#4\n", 1],
    ["a log with metrics", "step: 1 loss: 0.5\n", 0],
    ["an empty log", "\n\n", 0],
  ])("%s: what would read it is said when nothing was", (_what, text, said) => {
    const d = parse("train.log", text);
    expect(d.skipped.filter((r) => r.startsWith("no metric lines recognised")).length).toBe(said);
    if (said) expect(d.skipped[0]).toMatch(/--pattern/);
  });

  test("a bar redrawn all epoch long is read drawing by drawing, however long its line", () => {
    const drawings = Array.from(
      { length: 3000 },
      (_, i) => `\rEpoch 0: ${Math.floor(i / 30)}%|█| ${i + 1}/3000 [00:01<00:09, 9.9it/s, loss=${(1 / (i + 1)).toFixed(5)}]`,
    );
    const d = parse("train.log", `${drawings.join("")}\nstep=5000 loss=0.1\n`);
    expect(d.skipped).toEqual([]);
    const loss = series(d, "loss");
    expect(loss).toHaveLength(3001);
    expect(loss[2999]).toEqual([3000, 0.00033]);
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
    ["many epoch words", "a.log", `loss: 1 ${"epoch epoch: [".repeat(6_000)}`],
    ["many bars in one drawing", "a.log", `${"9%| 1/2 [a=1 ".repeat(6_000)}`],
    ["many name words before a pair", "a.log", `step=1 ${"word ".repeat(12_000)}x: 1`],
    ["many unit words after numbers", "a.log", `step=1 ${"a: 1 b c d ".repeat(6_000)}`],
    ["many spaced fields", "a.log", `step 1, ${"loss 1, ".repeat(8_000)}`],
    ["many fields with running averages", "a.log", `Epoch: [0][1/2]\t${"Loss 1 (1)\t".repeat(8_000)}`],
    ["many opening brackets in a field", "a.log", `Epoch: [0][1/2]\tLoss 1 ${"(".repeat(60_000)}1)`],
    ["many space-separated name value pairs", "a.log", `epoch 1 ${"loss 1 ".repeat(12_000)}`],
    ["many running averages in an evaluation line", "a.log", `step: 1 loss: 1\nTest: ${"loss: 1 ( ".repeat(8_000)}`],
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

// Console lines of common tools on which a rule could take the wrong number: each is read as a
// reader of the log would read it (the keys listed, at these steps, nothing else).
describe("text logs: numbers that are no metric of the step", () => {
  /** Every point of a parse, as `key@step=value`, sorted. */
  function all(d: ImportData): string[] {
    const out: string[] = [];
    for (const [k, p] of d.points) p.steps.forEach((s, i) => out.push(`${k}@${s}=${p.values[i]}`));
    return out.sort();
  }

  test.each([
    ["a time of day", "step: 3 loss: 0.5 time: 12:30:45", ["loss@3=0.5"]],
    ["an ETA h:mm:ss", "step: 3 loss: 0.5 eta: 0:01:23", ["loss@3=0.5"]],
    ["an ETA mm:ss", "Epoch 3/10 loss: 0.5 ETA: 05:12", ["loss@3=0.5"]],
    ["an elapsed time after =", "[Epoch 3] loss=0.5 elapsed=1:02:03", ["loss@3=0.5"]],
    ["a date", "step: 3 loss: 0.5 date: 2024-01-05", ["loss@3=0.5"]],
    ["a range of learning rates", "step: 3 loss: 0.5 lr: 1e-3-1e-5", ["loss@3=0.5"]],
    ["a version", "step: 3 loss: 0.5 torch: 2.1.0+cu118", ["loss@3=0.5"]],
    ["an address", "step: 3 loss: 0.5 host: 10.0.0.1:8080", ["loss@3=0.5"]],
    [
      "mmcv's ETA and a logger's date",
      "2023-05-01 10:00:00,000 - mmdet - INFO - Epoch [0][50/100]\tlr: 1.000e-02, eta: 1 day, 6:52:05, loss: 1.5",
      ["loss@50=1.5", "lr@50=0.01"],
    ],
    [
      "timm's epoch number (`Train: 3`)",
      "Train: 3 [  50/200 ( 25%)]  Loss: 6.93 (6.93)  Time: 3.221s,   79.47/s  LR: 1.000e-06",
      ["LR@650=0.000001", "Loss@650=6.93"],
    ],
    ["a Lightning validation bar", "Validation DataLoader 0: 100%|██████████| 20/20 [00:01<00:00, 19.5it/s, val_loss=0.4]", []],
    ["a Lightning test bar", "Testing DataLoader 0: 100%|██████████| 20/20 [00:01<00:00, 19.5it/s, test_acc=0.9]", []],
    ["a loop's evaluation bar", "Evaluating: 100%|██████████| 20/20 [00:01<00:00, 19.5it/s, loss=0.9]", []],
    [
      "an eval bar among training drawings",
      "Epoch 0:  50%|█████     | 50/100 [00:05<00:05, 9.5it/s, loss=0.5]\reval:  50%|█| 10/20 [00:01<00:01, 9.5it/s, loss=0.9]\r",
      ["loss@50=0.5"],
    ],
    ["a download bar", "Downloading model.safetensors: 100%|██████████| 440M/440M [00:05<00:00, 80.1MB/s]", []],
    ["pip's bar", "   ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 12.3/12.3 MB 45.6 MB/s eta 0:00:00", []],
    ["a learning-rate schedule print", "Epoch 00005: reducing learning rate of group 0 to 1.0000e-04.", []],
  ])("%s", (_what, text, expected) => {
    expect(all(parse("a.log", text))).toEqual(expected);
  });
});

describe("JSON documents: hostile and junk", () => {
  test.each([
    ["a history dump of 300k keys", `{${Array.from({ length: 300_000 }, (_, i) => `"k${i}":[1]`).join(",")}}`, 300_000],
    // (entries whose step is no step are left out and said so: their place in the list is no step)
    ["log_history whose step is NaN or 1e300", '{"log_history":[{"step":NaN,"loss":1},{"step":1e300,"loss":2},{"step":-1,"loss":3}]}', 0],
    ["rows whose step is no step", '[{"step":1.5,"loss":1},{"global_step":"7","loss":2}]', 2],
    ["log_history of junk", '{"log_history":[5, null, [1], "x", {"step":"3","loss":"0.5"}, {}]}', 0],
    ["arrays of arrays", "[[1,2],[3,4]]", 0],
    ["a history dump of nested lists", '{"loss":[[1,2],[3]],"acc":[{"a":1}]}', 0],
    ["deep nesting", `${"[".repeat(100_000)}${"]".repeat(100_000)}`, 0],
    ["deep objects in log_history", `{"log_history":[${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}]}`, 0],
  ])("%s: no throw, no step series", (_what, text, points) => {
    const d = parse("a.json", text);
    expect(d.pointCount).toBe(points);
    for (const k of ["step", "global_step", "_step", "iteration"]) expect(d.points.has(k)).toBe(false);
  });

  // a JSON file a directory walk takes by name (metrics.json, trainer_state.json) that holds nothing
  // babysit reads says so, and an entry of the Trainer's log with no step is not put at its index
  test.each([
    ["trainer_state.json", '{"log_history": "junk"}', [], /no metrics in this JSON file/],
    ["trainer_state.json", '{"global_step": 10, "log_history": []}', [], /no metrics in this JSON file/],
    ["trainer_state.json", '{"global_step": 10}', [], /no metrics in this JSON file/],
    ["metrics.json", '{"iteration": 19}\n{"iteration": 39}\n', [], /no metrics in this JSON file/],
    [
      "trainer_state.json",
      '{"log_history": [{"loss": 0.9, "step": 500}, {"loss": 0.8}, {"loss": 0.7, "step": 2.5}, {"loss": 0.6, "step": 1000}]}',
      [
        [500, 0.9],
        [1000, 0.6],
      ],
      /log_history item 2 has no step/,
    ],
  ] as [string, string, [number, number][], RegExp][])("%s %s: said in skipped", (name, text, loss, reason) => {
    const d = parse(name, text);
    expect(series(d, "loss")).toEqual(loss);
    expect(d.skipped.join("\n")).toMatch(reason);
  });

  test("__proto__ and constructor in a trainer_state.json are ordinary keys, never inherited names", () => {
    const d = parse(
      "trainer_state.json",
      '{"__proto__":{"x":1},"train_batch_size":8,"log_history":[{"step":1,"__proto__":1,"constructor":2},{"train_runtime":1,"__proto__":3}]}',
    );
    expect(series(d, "__proto__")).toEqual([[1, 1]]);
    expect(series(d, "constructor")).toEqual([[1, 2]]);
    expect(d.points.has("x")).toBe(false);
    expect([...d.config]).toEqual([["batch_size", 8]]);
    expect(Object.getPrototypeOf(d.events[0].data)).toBeNull();
    expect(Object.keys(d.events[0].data)).toEqual(["train_runtime", "__proto__"]);
  });
});

describe("text logs: progress bars around other lines", () => {
  test("Hugging Face Trainer dicts printed after its bar's drawings are at the bar's global step; the evaluation's bar does not move it", () => {
    const log = [
      "  3%|▎         | 10/300 [00:05<02:20,  2.06it/s]\r  7%|▋         | 20/300 [00:10<02:20,  2.06it/s]{'loss': 0.69, 'learning_rate': 4.8e-05, 'epoch': 0.1}",
      " 13%|█▎        | 40/300 [00:10<02:20,  2.06it/s]{'loss': 0.5, 'learning_rate': 4.6e-05, 'epoch': 0.2}",
      " 33%|███▎      | 100/300 [00:50<01:40,  2.0it/s]\r",
      "  0%|          | 0/13 [00:00<?, ?it/s]\r100%|██████████| 13/13 [00:01<00:00, 10.0it/s]\r                    \r{'eval_loss': 0.41, 'epoch': 1.0}",
      "{'train_runtime': 150.0, 'train_loss': 0.55, 'epoch': 3.0}",
    ].join("\n");
    const d = parse("a.log", log);
    expect(series(d, "loss")).toEqual([
      [20, 0.69],
      [40, 0.5],
    ]);
    expect(series(d, "eval_loss")).toEqual([[100, 0.41]]);
    expect([...d.epochs]).toEqual([
      [20, 0.1],
      [40, 0.2],
      [100, 1],
    ]);
    expect(d.events.map((e) => e.type)).toEqual(["summary"]);
  });

  test("Trainer dicts follow the training bar, not a data set's bigger Map bar drawn before it", () => {
    const log = [
      "Map: 100%|██████████| 25000/25000 [00:05<00:00, 4500.00 examples/s]",
      "  3%|▎         | 10/375 [00:05<02:20,  2.06it/s]{'loss': 0.69, 'learning_rate': 4.8e-05, 'epoch': 0.08}",
      "  5%|▌         | 20/375 [00:10<02:20,  2.06it/s]{'loss': 0.5, 'learning_rate': 4.6e-05, 'epoch': 0.16}",
      "100%|██████████| 32/32 [00:01<00:00, 20.0it/s]\r                    \r{'eval_loss': 0.41, 'epoch': 0.16}",
      "  8%|▊         | 30/375 [00:15<02:20,  2.06it/s]{'loss': 0.4, 'learning_rate': 4.4e-05, 'epoch': 0.24}",
    ].join("\n");
    const d = parse("a.log", log);
    expect(series(d, "loss")).toEqual([
      [10, 0.69],
      [20, 0.5],
      [30, 0.4],
    ]);
    expect(series(d, "eval_loss")).toEqual([[20, 0.41]]);
  });

  test.each([
    ["no bar at all", "{'loss': 0.69, 'epoch': 0.1}\n{'loss': 0.5, 'epoch': 0.2}"],
    [
      "a download bar long before them",
      "Downloading: 100%|██████████| 1000/1000 [00:01<00:00]\n{'loss': 0.69, 'epoch': 0.1}\n{'loss': 0.5, 'epoch': 0.2}",
    ],
  ])("Trainer dicts with %s are counted", (_what, log) => {
    expect(series(parse("a.log", log), "loss")).toEqual([
      [0, 0.69],
      [1, 0.5],
    ]);
  });

  test.each([
    ["a print after a bar with no metrics", "Epoch 1:  10%|█         | 10/100 [00:01<00:09, 9.5it/s]step: 5 loss: 0.2", ["loss@5=0.2"]],
    ["a print after a bar with metrics", " 10%|█         | 10/100 [00:01<00:09, 9.5it/s, loss=0.3]epoch: 2 acc: 0.9", ["acc@2=0.9", "loss@10=0.3"]],
    [
      "a print after a drawing redrawn later",
      "\r 10%|█ | 10/100 [00:01<00:09, 9.5it/s]step: 5 loss: 0.2\r 11%|█ | 11/100 [00:01<00:09, 9.5it/s]",
      ["loss@5=0.2"],
    ],
  ])("%s is read as a line of its own", (_what, log, expected) => {
    const d = parse("a.log", log);
    const out: string[] = [];
    for (const [k, p] of d.points) p.steps.forEach((s, i) => out.push(`${k}@${s}=${p.values[i]}`));
    expect(out.sort()).toEqual(expected);
  });

  test.each([
    ["text after a bar", `9%| 1/2 [a]${"x: 1 y ".repeat(9_000)}`],
    ["closing brackets after a bar", `9%| 1/2 [${"]".repeat(60_000)}`],
    ["bars before a dict", `${"9%| 1/2 [a]".repeat(5_000)}{'a': 1}`],
  ])("%s reads in linear time", (_what, text) => {
    expect(() => parse("a.log", Array(20).fill(text).join("\n"))).not.toThrow();
  });
});

describe("text logs: a bar's values drawn again", () => {
  test("Lightning: the drawing redrawn after validation and the validation values shown all next epoch are one point each", () => {
    const log = [
      "Epoch 0:  50%|█████     | 50/100 [00:05<00:05, 9.5it/s, loss=0.5, v_num=0]",
      "Epoch 0: 100%|██████████| 100/100 [00:10<00:00, 9.5it/s, loss=0.4, v_num=0]",
      "Validation DataLoader 0:  50%|█████     | 10/20 [00:01<00:01, 9.5it/s]",
      "Epoch 0: 100%|██████████| 100/100 [00:12<00:00, 8.1it/s, loss=0.4, v_num=0, val_loss=0.45]",
      "Epoch 1:  50%|█████     | 50/100 [00:05<00:05, 9.5it/s, loss=0.3, v_num=0, val_loss=0.45]",
      "Epoch 1: 100%|██████████| 100/100 [00:10<00:00, 9.5it/s, loss=0.3, v_num=0, val_loss=0.45]",
      "Epoch 1: 100%|██████████| 100/100 [00:12<00:00, 8.1it/s, loss=0.3, v_num=0, val_loss=0.41]",
    ].join("\r");
    const d = parse("a.log", `${log}\n`);
    expect(series(d, "loss")).toEqual([
      [50, 0.5],
      [100, 0.4],
      [150, 0.3],
      [200, 0.3],
    ]);
    expect(series(d, "val_loss")).toEqual([
      [100, 0.45],
      [200, 0.41],
    ]);
  });

  test("a value drawn after another validation bar is that validation's, equal or not; an _epoch value is one point an epoch", () => {
    // an accuracy pinned at the majority share is the same at every validation: three points, not one
    const epoch = (e: number, loss: number, post: string) =>
      [
        `Epoch ${e}:  50%|█████     | 50/100 [00:05<00:05, 9.5it/s, v_num=0, train_loss_step=${loss}${post}]`,
        `Epoch ${e}: 100%|██████████| 100/100 [00:10<00:00, 9.5it/s, v_num=0, train_loss_step=${loss}${post}]`,
        "Validation DataLoader 0: 100%|██████████| 20/20 [00:01<00:00, 19.5it/s]",
      ].join("\r");
    const validated = (e: number, loss: number, post: string) =>
      `Epoch ${e}: 100%|██████████| 100/100 [00:12<00:00, 8.1it/s, v_num=0, train_loss_step=${loss}${post}]`;
    const log = [
      epoch(0, 0.9, ""),
      validated(0, 0.9, ", val_acc=0.85, train_loss_epoch=0.95"),
      epoch(1, 0.8, ", val_acc=0.85, train_loss_epoch=0.95"),
      validated(1, 0.8, ", val_acc=0.85, train_loss_epoch=0.85"),
      epoch(2, 0.7, ", val_acc=0.85, train_loss_epoch=0.85"),
      validated(2, 0.7, ", val_acc=0.85, train_loss_epoch=0.75"),
    ].join("\r");
    const d = parse("a.log", `${log}\n`);
    expect(series(d, "val_acc")).toEqual([
      [100, 0.85],
      [200, 0.85],
      [300, 0.85],
    ]);
    expect(series(d, "train_loss_epoch")).toEqual([
      [100, 0.95],
      [200, 0.85],
      [300, 0.75],
    ]);
  });

  test("tqdm's close redraws the last drawing: one point", () => {
    const d = parse("a.log", " 99%|█| 99/100 [00:09, loss=0.6]\r100%|█| 100/100 [00:10, loss=0.5]\r100%|█| 100/100 [00:10, loss=0.5]\n");
    expect(series(d, "loss")).toEqual([
      [99, 0.6],
      [100, 0.5],
    ]);
  });
});

describe("text logs: lines next to other rules", () => {
  function all(d: ImportData): string[] {
    const out: string[] = [];
    for (const [k, p] of d.points) p.steps.forEach((s, i) => out.push(`${k}@${s}=${p.values[i]}`));
    return out.sort();
  }

  test.each([
    ["a pair named with a slash after a value", "step: 5 loss: 0.3 samples/sec: 120.5", ["loss@5=0.3", "samples/sec@5=120.5"]],
    ["W&B-style names", "step: 5 train/loss: 0.3 val/acc: 0.9", ["train/loss@5=0.3", "val/acc@5=0.9"]],
    ["a logger's source line (DeepSpeed)", "[2024-01-05 12:30:45,123] [INFO] [logging.py:96:log_dist] [Rank 0] step=10, lr=0.0001", ["lr@10=0.0001"]],
    ["a logger's source line before pairs", "I0105 12:30:45.123 train.py:123] step: 3 loss: 0.5", ["loss@3=0.5"]],
    ["a Keras epoch line after a table header", "epoch train_loss valid_loss\nEpoch 1/3\n0 0.5 0.4", []],
    ["a Keras epoch line between table rows", "epoch loss\n0 0.5\nEpoch 1/3\n1 0.4", ["loss@0=0.5"]],
    ["a blank line inside a table", "epoch loss\n0 0.5\n\n1 0.4", ["loss@0=0.5", "loss@1=0.4"]],
  ])("%s", (_what, text, expected) => {
    expect(all(parse("a.log", text))).toEqual(expected);
  });
});

describe("text logs: where the line says it is", () => {
  function all(d: ImportData): string[] {
    const out: string[] = [];
    for (const [k, p] of d.points) p.steps.forEach((s, i) => out.push(`${k}@${s}=${p.values[i]}`));
    return out.sort();
  }

  test.each([
    [
      "an iteration count after the epoch",
      "Epoch: 2, Iteration: 100/500, Loss: 0.3\nEpoch: 2, Iteration: 200/500, Loss: 0.2",
      ["Loss@1100=0.3", "Loss@1200=0.2"],
    ],
    ["Epoch e/E then a step count", "Epoch 0/3, Step 100/1000: loss=0.5", ["loss@100=0.5"]],
    ["an epoch then a global iteration", "[Epoch 1] iter 500: loss=0.5", ["loss@500=0.5"]],
    ["`Training: i/N` counts steps", "Training: 100/1000 loss: 0.3", ["loss@100=0.3"]],
    [
      "a percentage of progress",
      "Training: 45% | step: 3 | loss: 0.3\nProgress: 45.0% loss: 0.2 step: 4\nstep: 5 done: 50% acc: 97%",
      ["acc@5=97", "loss@3=0.3", "loss@4=0.2"],
    ],
  ])("%s", (_what, text, expected) => {
    expect(all(parse("a.log", text))).toEqual(expected);
  });

  test("`Training: i/N` is no epoch", () => {
    expect([...parse("a.log", "Training: 100/1000 loss: 0.3").epochs]).toEqual([]);
  });

  test.each([
    ["an epoch then many iteration words", `Epoch 1/2 ${"iteration: a ".repeat(4_000)}loss: 1`],
    ["many percentages", `step: 1 ${"progress: 1% ".repeat(4_000)}`],
  ])("%s reads in linear time", (_what, line) => {
    expect(() => parse("a.log", Array(50).fill(line).join("\n"))).not.toThrow();
  });
});

describe("text logs: an evaluation's line", () => {
  function all(d: ImportData): string[] {
    const out: string[] = [];
    for (const [k, p] of d.points) p.steps.forEach((s, i) => out.push(`${k}@${s}=${p.values[i]}`));
    return out.sort();
  }

  test.each([
    [
      "train and val lines",
      "Epoch 3 train: loss: 0.5 acc: 0.9\nEpoch 3 val: loss: 0.4 acc: 0.85",
      ["acc@3=0.9", "loss@3=0.5", "val_acc@3=0.85", "val_loss@3=0.4"],
    ],
    ["a validation line", "Epoch 1 validation: loss: 0.6", ["val_loss@1=0.6"]],
    ["an eval line with a step", "step: 5 | eval | loss: 0.3", ["eval_loss@5=0.3"]],
    ["a test line", "[Epoch 2] Testing: loss=0.7", ["test_loss@2=0.7"]],
    ["names that already say it", "Epoch 3 val: val_loss: 0.4 test_acc: 0.8", ["test_acc@3=0.8", "val_loss@3=0.4"]],
    ["a file named val", "INFO val.py step: 3 loss: 0.5", ["loss@3=0.5"]],
    ["nanoGPT's train and val fields", "step 2000: train loss 1.0, val loss 1.2", ["train_loss@2000=1", "val_loss@2000=1.2"]],
  ])("%s", (_what, text, expected) => {
    expect(all(parse("a.log", text))).toEqual(expected);
  });
});

// A .tsv file is split at its tabs (read at commas, every row was one cell: it imported nothing), and
// a CSV file whose rows hold no number says so in skipped, as a text log does (a header alone is a
// log still to be written: nothing to say yet).
describe("CSV and TSV files that read as nothing", () => {
  test.each([
    [
      "a.tsv",
      "step\tloss\tacc\n1\t0.5\t0.8\n2\t0.4\t0.9\n",
      [
        [1, 0.5],
        [2, 0.4],
      ],
      [],
    ],
    ["Results.TSV", "epoch\tloss\n0\t0.7\n", [[0, 0.7]], []],
    ["a.csv", "step,loss\n1,0.5\n", [[1, 0.5]], []],
    ["a.csv", "name,value\nfoo,bar\n", [], ["no metrics in this CSV file: no column of its rows holds numbers"]],
    ["a.tsv", "run\tnote\nx\ty\n", [], ["no metrics in this CSV file: no column of its rows holds numbers"]],
    ["a.csv", "epoch,loss\n", [], []],
    ["a.csv", "", [], []],
  ] as [string, string, [number, number][], string[]][])("%s %j", (name, text, loss, skipped) => {
    const d = parse(name, text);
    expect(series(d, "loss")).toEqual(loss);
    expect(d.skipped).toEqual(skipped);
  });

  test("a header and millions of blank lines: nothing to say, in linear time", () => {
    expect(parse("a.csv", `a,b\n${"\n".repeat(20_000_000)}`).skipped).toEqual([]);
  });
});

// Console logs of other training tools: each metric under its name at the step the tool counts.
describe("text logs: other tools' console output", () => {
  function all(d: ImportData): string[] {
    const out: string[] = [];
    for (const [k, p] of d.points) p.steps.forEach((s, i) => out.push(`${k}@${s}=${p.values[i]}`));
    return out.sort();
  }

  test.each([
    [
      "XGBoost: the round in brackets",
      "[0]\ttrain-logloss:0.61\teval-logloss:0.62\n[1]\ttrain-logloss:0.55\teval-logloss:0.57\n",
      ["eval-logloss@0=0.62", "eval-logloss@1=0.57", "train-logloss@0=0.61", "train-logloss@1=0.55"],
    ],
    [
      "LightGBM: the data set's name owns the metric",
      "[10]\ttraining's binary_logloss: 0.2\tvalid_1's binary_logloss: 0.3\n",
      ["training_binary_logloss@10=0.2", "valid_1_binary_logloss@10=0.3"],
    ],
    [
      "CLU after glog's prefix",
      "I0101 12:00:00.000 140 train.py:100] [100] train_loss=0.5, learning_rate=0.1\n",
      ["learning_rate@100=0.1", "train_loss@100=0.5"],
    ],
    ["a plain print after the step in brackets", "[200] loss 0.5 acc 0.9\n", ["acc@200=0.9", "loss@200=0.5"]],
    [
      "CatBoost: the iteration before a colon",
      "0:\tlearn: 0.6\ttest: 0.61\tbest: 0.61 (0)\ttotal: 5ms\tremaining: 5s\n1:\tlearn: 0.5\ttest: 0.55\tbest: 0.55 (1)\ttotal: 10ms\tremaining: 5s\n",
      ["best@0=0.61", "best@1=0.55", "learn@0=0.6", "learn@1=0.5", "test@0=0.61", "test@1=0.55"],
    ],
    ["a time of day is no such iteration", "12:00:01 loss: 0.5\n", []],
    [
      "fairseq: num_updates is the step, the valid subset's line the evaluation's",
      "2024-01-01 12:00:00 | INFO | train_inner | epoch 001:    100 / 1000 loss=9.5, ppl=720, num_updates=100, lr=0.0005\n2024-01-01 12:01:00 | INFO | valid | epoch 001 | valid on 'valid' subset | loss 8.5 | ppl 362 | num_updates 1000\n",
      ["loss@100=9.5", "lr@100=0.0005", "ppl@100=720", "val_loss@1000=8.5", "val_ppl@1000=362"],
    ],
    [
      "Megatron: a name ends at a word of a sentence",
      " iteration      100/  500000 | lm loss: 7.500000E+00 | number of skipped iterations:   0 |\n",
      ["lm_loss@100=7.5", "skipped_iterations@100=0"],
    ],
  ])("%s", (_what, text, expected) => {
    expect(all(parse("a.log", text))).toEqual(expected);
  });
});

// Lines that put a metric twice on one step (nothing in them tells the steps apart): the run keeps the
// last, and the file says so rather than losing the others in silence.
describe("text logs: values that fall on a step already holding one", () => {
  test.each([
    [
      "two prints of one epoch",
      "epoch 1 loss 0.9\nepoch 1 loss 0.8\n",
      [
        [1, 0.9],
        [1, 0.8],
      ],
      /^1 value of "loss" fell on a step that already held one/,
    ],
    [
      "a second run printed to the same log",
      "step 0 loss 1\nstep 1 loss 0.9\nstep 0 loss 0.8\nstep 1 loss 0.7\n",
      [
        [0, 1],
        [1, 0.9],
        [0, 0.8],
        [1, 0.7],
      ],
      /^2 values of "loss"/,
    ],
    [
      "a log whose steps differ",
      "step 0 loss 1\nstep 1 loss 0.9\n",
      [
        [0, 1],
        [1, 0.9],
      ],
      null,
    ],
  ] as [string, string, [number, number][], RegExp | null][])("%s", (_what, text, loss, note) => {
    const d = parse("a.log", text);
    expect(series(d, "loss")).toEqual(loss);
    const said = d.skipped.filter((s) => s.includes("fell on a step"));
    if (note) expect(said).toEqual([expect.stringMatching(note)]);
    else expect(said).toEqual([]);
  });

  test("many metrics: three named, the rest counted", () => {
    const line = "epoch 1 l1 1 l2 2 l3 3 l4 4 l5 5\n";
    expect(parse("a.log", line + line).skipped).toEqual([
      '5 values of "l1", "l2", "l3" and 2 more fell on a step that already held one (the last of each is kept): a line template with {step} (`--pattern`) places such lines',
    ]);
  });
});

// Console output around a plain print of `name value` pairs: what a reader of the log takes from
// each line (the keys listed, at these steps, nothing else): no version, size, count or setting
// becomes a metric, a logger's prefix does not hide the print, and an evaluation's values never land
// in the training's series (same key, same step).
describe("text logs: plain prints among other console output", () => {
  function all(d: ImportData): string[] {
    const out: string[] = [];
    for (const [k, p] of d.points) p.steps.forEach((s, i) => out.push(`${k}@${s}=${p.values[i]}`));
    return out.sort();
  }

  test.each([
    ["pip's collecting line", "Collecting torch 2.1.0", []],
    ["pip's installed line", "Successfully installed numpy 1.26.4 torch 2.1.0", []],
    ["a version print", "python 3.10", []],
    ["library versions", "CUDA 12.1 cuDNN 8902", []],
    ["a device print", "Using device cuda 0", []],
    ["a download size", "Downloading 100 MB", []],
    ["an argument dump", "batch 32 workers 4", []],
    ["an argument dump with an epoch count", "epoch 10 batch 32 workers 4", []],
    ["a config print", "config: lr 0.001 batch_size 32", []],
    ["argparse's Namespace", "Namespace(batch_size=32, epochs=10, lr=0.001, seed=42)", []],
    ["GPU memory", "GPU 0 memory 1234 MiB", []],
    ["nvidia-smi's table", "| N/A 34C P0 42W / 300W | 1234MiB / 16384MiB | 0% Default |", []],
    ["a checkpoint saved", "Saving checkpoint epoch 3", []],
    ["timing columns", "data 0.01 (0.02) time 0.5", []],
    ["a traceback", '  File "train.py", line 42, in <module>', []],
    ["a warning's source line", "train.py:42: UserWarning: foo", []],
    ["a seed", "seed 42", []],
    ["ReduceLROnPlateau", "Epoch 00005: reducing learning rate of group 0 to 1.0000e-04.", []],
    ["Keras's data set count", "Found 50000 images belonging to 10 classes.", []],
    ["a plain print after a date and a level", "2024-01-01 12:00:00 INFO epoch 1 loss 0.5", ["loss@1=0.5"]],
    ["... logging's asctime - name - level", "2024-01-01 12:00:00,123 - train - INFO - epoch 1 loss 0.5", ["loss@1=0.5"]],
    ["... logging's basicConfig", "INFO:root:epoch 1 loss 0.5", ["loss@1=0.5"]],
    ["... Hydra's brackets", "[2024-01-01 12:00:00,123][train][INFO] - epoch 1 loss 0.5", ["loss@1=0.5"]],
    ["... glog", "I0101 12:00:00.123456 12345 train.py:42] epoch 1 loss 0.5", ["loss@1=0.5"]],
    ["... torchrun's rank", "[rank0]: epoch 1 loss 0.5", ["loss@1=0.5"]],
    ["... loguru's name:function:line is no pair", "2024-01-01 12:00:00 | INFO     | __main__:train:42 - step 3 loss 0.5", ["loss@3=0.5"]],
    ["... nor with colon pairs", "2024-01-01 12:00:00 | INFO | __main__:train:42 - step: 3 loss: 0.5", ["loss@3=0.5"]],
    ["a logged download is still no metric", "2024-01-01 12:00:00 INFO Downloading 100 MB", []],
    ["the epoch, then pairs after a colon", "Epoch 3: loss 0.5 acc 0.9", ["acc@3=0.9", "loss@3=0.5"]],
    ["... after a comma", "epoch 3, loss 0.5 acc 0.9", ["acc@3=0.9", "loss@3=0.5"]],
    ["... between dashes", "Epoch 3 - loss 0.5 - acc 0.9", ["acc@3=0.9", "loss@3=0.5"]],
    [
      "... train and val between dashes",
      "Epoch 3 - train loss 0.5 acc 0.7 - val loss 0.6 acc 0.8",
      ["acc@3=0.7", "train_loss@3=0.5", "val_acc@3=0.8", "val_loss@3=0.6"],
    ],
    ["a fractional epoch is no step (its integer part put the epoch's lines on one step)", "epoch 1.25 loss 0.5\nepoch 1.5 loss 0.4", []],
    ["... with colons", "Epoch: 1.5, loss: 0.5", []],
    ["... a step beside it places the line", "Epoch 1.5 step 30 loss 0.5", ["loss@30=0.5"]],
    ["... an epoch printed as 1.0 is epoch 1", "epoch: 1.0 loss: 0.5", ["loss@1=0.5"]],
    ["hyperparameters between commas are no metrics", "config: lr 0.001, batch_size 32, epochs 10", []],
    ["nor a data set's sizes", "Dataset: train 50000, val 10000, test 10000", []],
    ["nor a checkpoint loaded", "Loaded checkpoint from epoch 3, step 300", []],
    ["the rank printing", "rank 0 epoch 1 loss 0.5", ["loss@1=0.5"]],
    ["... as colon pairs", "epoch: 1 rank: 0 loss: 0.5", ["loss@1=0.5"]],
    ["node and GPU", "node 0 gpu 3 epoch 1 loss 0.5", ["loss@1=0.5"]],
    ["a seed with the epoch", "random seed 42 epoch 0 loss 1", ["loss@0=1"]],
    ["the batch within the epoch (TensorFlow's tutorials) is where in the epoch", "Epoch 1 Batch 100 Loss 0.5", ["Loss@100=0.5"]],
    ["... as colon pairs", "Epoch: 1, Batch: 100, Loss: 0.5", ["Loss@100=0.5"]],
    ["the planned epochs", "epoch 1 lr 0.1 epochs 90", ["lr@1=0.1"]],
    ["sizes", "epoch 1 params 11689512 classes 10 loss 2", ["loss@1=2"]],
    ["a float under a count's name is a value", "epoch 1 gpu 0.5", ["gpu@1=0.5"]],
  ] as [string, string, string[]][])("%s", (_what, line, expected) => {
    expect(all(parse("a.log", `${line}\n`))).toEqual(expected);
  });

  test.each([
    [
      "train and val in one line, colon pairs",
      "Epoch 1 train loss: 0.5 acc: 0.7 val loss: 0.6 acc: 0.8",
      ["acc@1=0.7", "train_loss@1=0.5", "val_acc@1=0.8", "val_loss@1=0.6"],
    ],
    [
      "... spaced fields",
      "epoch 1, train loss 0.5, acc 0.7, val loss 0.6, acc 0.8",
      ["acc@1=0.7", "train_loss@1=0.5", "val_acc@1=0.8", "val_loss@1=0.6"],
    ],
    [
      "... a plain print",
      "epoch 1 train loss 0.5 acc 0.7 val loss 0.6 acc 0.8",
      ["acc@1=0.7", "train_loss@1=0.5", "val_acc@1=0.8", "val_loss@1=0.6"],
    ],
    ["... the learning rate stays the training's", "epoch 1 val loss 0.6 lr 0.01", ["lr@1=0.01", "val_loss@1=0.6"]],
    ["... written as the evaluation's name is", "Epoch 1 Val Loss: 0.6 Acc: 0.8", ["Val_Acc@1=0.8", "Val_Loss@1=0.6"]],
    [
      "... but a line that is an evaluation's as a whole leaves the training's time at that step alone",
      "Epoch: [0][9/10]\tTime 0.1 (0.3)\tLoss 5.0 (6.0)\nTest: [9/10]\tTime 0.2 (0.25)\tLoss 4.5 (4.2)",
      ["Loss@9=5", "Time@9=0.1", "test_Loss@9=4.2", "test_Time@9=0.25"],
    ],
    [
      "... mmengine's val time",
      "Epoch(train) [1][10/10]  lr: 0.1  time: 0.06  loss: 1.9\nEpoch(val) [1][313/313]  accuracy/top1: 45.67  time: 0.0102",
      ["loss@10=1.9", "lr@10=0.1", "time@10=0.06", "val_accuracy/top1@10=45.67", "val_time@10=0.0102"],
    ],
    [
      "a validation print after the training print of the epoch",
      "epoch 1 loss 0.9 acc 0.7\nepoch 1 validation loss 0.5 acc 0.8",
      ["acc@1=0.7", "loss@1=0.9", "val_acc@1=0.8", "validation_loss@1=0.5"],
    ],
    [
      "a validation print with no step",
      "epoch 0 loss 1\nepoch 1 loss 0.9 acc 0.7\nval loss 0.5 acc 0.8",
      ["acc@1=0.7", "loss@0=1", "loss@1=0.9", "val_acc@1=0.8", "val_loss@1=0.5"],
    ],
    ["a test print after its label", "epoch 1 loss 0.9\nTest: loss 0.5 acc 0.8", ["loss@1=0.9", "test_acc@1=0.8", "test_loss@1=0.5"]],
    ["... before any training line: no step to put it at", "val loss 0.5 acc 0.8\nepoch 1 loss 0.9", ["loss@1=0.9"]],
    ["an evaluation print of names that say so", "step 10 loss 1\nval_loss 0.5 val_acc 0.8", ["loss@10=1", "val_acc@10=0.8", "val_loss@10=0.5"]],
    ["... a bare val is no such name", "step 10 loss 1\nval 0.5", ["loss@10=1"]],
    [
      "the epoch's mean loss after the last step's loss: kept apart as the epoch's",
      "step 10 loss 1\nepoch 0 loss 0.5 val_loss 0.7",
      ["epoch_loss@10=0.5", "loss@10=1", "val_loss@10=0.7"],
    ],
    [
      "a step counted within each epoch: the next epoch's steps follow the last one's, never land on them",
      "Epoch 1 Step 0 loss 1\nEpoch 1 Step 100 loss 0.9\nEpoch 1 Step 200 loss 0.8\nEpoch 2 Step 0 loss 0.7\nEpoch 2 Step 100 loss 0.6\nEpoch 3 Step 0 loss 0.5",
      ["loss@0=1", "loss@100=0.9", "loss@200=0.8", "loss@300=0.7", "loss@400=0.6", "loss@500=0.5"],
    ],
    [
      "... TensorFlow's tutorials' batches",
      "Epoch 1 Batch 0 Loss 4.5\nEpoch 1 Batch 100 Loss 3.2\nEpoch 2 Batch 0 Loss 2.5",
      ["Loss@0=4.5", "Loss@100=3.2", "Loss@200=2.5"],
    ],
    ["... one line per epoch", "Epoch 1 Step 937 loss 1\nEpoch 2 Step 937 loss 0.9", ["loss@1875=0.9", "loss@937=1"]],
    ["... an iteration with no total after the epoch", "[Epoch 1] iter 100 loss: 0.5\n[Epoch 2] iter 0 loss: 0.3", ["loss@100=0.5", "loss@101=0.3"]],
    [
      "... a batch of a total after the epoch, as an iteration is",
      "Epoch: 1, Batch: 100/500, Loss: 0.5\nEpoch: 2, Batch: 100/500, Loss: 0.3",
      ["Loss@1100=0.3", "Loss@600=0.5"],
    ],
    ["... a batch size alone is no step", "step 5 loss 1\nbatch: 32, lr: 0.1", ["loss@5=1"]],
    [
      "... a global step is left as printed",
      "epoch: 0 step: 0 loss: 1\nepoch: 0 step: 500 loss: 0.9\nepoch: 1 step: 1000 loss: 0.8",
      ["loss@0=1", "loss@1000=0.8", "loss@500=0.9"],
    ],
    [
      "... and so is a second run's count",
      "epoch 0 step 0 loss 1\nepoch 0 step 100 loss 0.9\nepoch 1 step 0 loss 0.8\nepoch 0 step 0 loss 0.7",
      ["loss@0=0.7", "loss@0=1", "loss@100=0.9", "loss@200=0.8"],
    ],
    [
      "a second run printed to the same log starts at its own epoch 0",
      "epoch 0 loss 1\nepoch 1 loss 0.9\nepoch 0 loss 0.8\nepoch 1 loss 0.7",
      ["loss@0=0.8", "loss@0=1", "loss@1=0.7", "loss@1=0.9"],
    ],
    [
      "an epoch's print after iterations still lands at the last one",
      "step 0 loss 1\nstep 100 loss 0.9\nepoch 0 val_loss 0.8\nepoch 0 val_acc 0.5",
      ["loss@0=1", "loss@100=0.9", "val_acc@100=0.5", "val_loss@100=0.8"],
    ],
  ] as [string, string, string[]][])("%s", (_what, text, expected) => {
    expect(all(parse("a.log", `${text}\n`))).toEqual(expected);
  });

  test.each([
    ["logger prefixes", `${"2024-01-01 12:00:00 - INFO - [x] ".repeat(4_000)}epoch 1 loss 1`],
    ["opening brackets", `${"[".repeat(60_000)}epoch 1 loss 1`],
    ["basicConfig colons", `INFO:${"a:".repeat(30_000)}epoch 1 loss 1`],
    ["evaluation names", `step 1 loss 1\n${"val loss 1 ".repeat(10_000)}`],
    ["dashes between fields of pairs", `epoch 1 - ${"loss 1 acc 2 - ".repeat(8_000)}`],
    ["loguru's source lines", `step: 1 ${"a:b:1 ".repeat(10_000)}`],
  ])("%s before a plain print read in linear time", (_what, text) => {
    expect(() => parse("a.log", Array(20).fill(text).join("\n"))).not.toThrow();
  });
});
