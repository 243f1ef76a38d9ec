import { describe, expect, test } from "vitest";
import { groupFiles } from "@/lib/import/group-files";

// How a tree of files becomes runs, from relative paths alone (what a folder drop in a browser has).

const E = (rel: string) => ({ rel, size: 1, ref: rel });
const hparamsIn = (dirs: string[]) => (files: { rel: string }[]) => dirs.some((d) => files[0].rel.startsWith(`${d}/`));

describe("groupFiles", () => {
  test.each([
    [
      "the root is a run, its hparams sub-directory joins it",
      ["events.out.tfevents.1", "hparams/events.out.tfevents.2", "notes.md"],
      ["hparams"],
      [{ kind: "tensorboard", path: "", name: "root", files: ["events.out.tfevents.1", "hparams/events.out.tfevents.2"] }],
    ],
    [
      "a log directory of runs, named as TensorBoard names them; a sub-directory without hparams is a run of its own",
      ["a/events.out.tfevents.1", "b/events.out.tfevents.1", "b/1732912345.12/events.out.tfevents.2", "b/eval/events.out.tfevents.3"],
      ["b/1732912345.12"],
      [
        { kind: "tensorboard", path: "a", name: "a", files: ["events.out.tfevents.1"] },
        { kind: "tensorboard", path: "b", name: "b", files: ["1732912345.12/events.out.tfevents.2", "events.out.tfevents.1"] },
        { kind: "tensorboard", path: "b/eval", name: "b/eval", files: ["events.out.tfevents.3"] },
      ],
    ],
    [
      "an hparams directory with no run above it is a run",
      ["x/hp/events.out.tfevents.1"],
      ["x/hp"],
      [{ kind: "tensorboard", path: "x/hp", name: "x/hp", files: ["events.out.tfevents.1"] }],
    ],
    [
      "Keras's TensorBoard callback: train/ and validation/ are one run at its log directory",
      [
        "logs/fit/20261130-080000/train/events.out.tfevents.1.v2",
        "logs/fit/20261130-080000/validation/events.out.tfevents.2.v2",
        "k/train/events.out.tfevents.3.v2",
        "k/validation/events.out.tfevents.4.v2",
      ],
      [],
      [
        { kind: "tensorboard", path: "k", name: "k", files: ["train/events.out.tfevents.3.v2", "validation/events.out.tfevents.4.v2"] },
        {
          kind: "tensorboard",
          path: "logs/fit/20261130-080000",
          name: "logs/fit/20261130-080000",
          files: ["train/events.out.tfevents.1.v2", "validation/events.out.tfevents.2.v2"],
        },
      ],
    ],
    [
      "validation/ without a train/ beside it, or beside a run of its own, stays a run",
      ["a/validation/events.out.tfevents.1", "b/events.out.tfevents.1", "b/train/events.out.tfevents.2", "b/validation/events.out.tfevents.3"],
      [],
      [
        { kind: "tensorboard", path: "a/validation", name: "a/validation", files: ["events.out.tfevents.1"] },
        { kind: "tensorboard", path: "b", name: "b", files: ["events.out.tfevents.1"] },
        { kind: "tensorboard", path: "b/train", name: "b/train", files: ["events.out.tfevents.2"] },
        { kind: "tensorboard", path: "b/validation", name: "b/validation", files: ["events.out.tfevents.3"] },
      ],
    ],
    [
      "log files are runs of their own, other files are left out",
      ["lightning_logs/version_0/metrics.csv", "train.log", "log.txt", "keras_log.txt", "model.pt", "README.md", "m.jsonl"],
      [],
      [
        { kind: "file", path: "keras_log.txt", name: "keras_log.txt", files: ["keras_log.txt"] },
        { kind: "file", path: "lightning_logs/version_0/metrics.csv", name: "lightning_logs/version_0/metrics.csv", files: ["metrics.csv"] },
        { kind: "file", path: "log.txt", name: "log.txt", files: ["log.txt"] },
        { kind: "file", path: "m.jsonl", name: "m.jsonl", files: ["m.jsonl"] },
        { kind: "file", path: "train.log", name: "train.log", files: ["train.log"] },
      ],
    ],
  ])("%s", (_what, paths, hparamsDirs, want) => {
    const got = groupFiles("root", paths.map(E), hparamsIn(hparamsDirs)).map((g) => ({ ...g, files: g.files.map((f) => f.rel) }));
    expect(got).toEqual(want);
  });
});
