import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { FIXTURES } from "../../helpers/fixtures";
import { unpackTb } from "../../helpers/import-fixtures";
import { eventBytes, eventFile, tb } from "../../helpers/tb-writer";
import { recordsHparams } from "@/lib/import/hparams-peek";
import { LIMITS, nameProblem } from "@/lib/contract/limits";
import { planImport } from "@/lib/import/plan";
import { type PathEntry, UPLOAD_SOURCE_PREFIX, planPaths } from "@/lib/import/plan-paths";

// The three places that group files into runs agree on the real fixture directories: plan.ts (the
// `babysit import` CLI, from the file system), plan-paths.ts (the dashboard, from a dropped
// folder's relative paths) and the Python SDK's `python -m babysit import` (sdk/python/babysit/importer.py).

const RUNS = ["healthy", "lr_too_low", "overfit", "saturated_tanh"];

/** A folder like the team's shared runs/ folder: every run's tb/ and logs, and things left out. */
function fixtureFolder(): string {
  const top = fs.mkdtempSync(path.join(os.tmpdir(), "babysit-plan-"));
  const root = path.join(top, "runs");
  for (const run of RUNS) {
    unpackTb(run, root);
    for (const f of ["log.txt", "keras_log.txt"]) fs.copyFileSync(path.join(FIXTURES, run, f), path.join(root, run, f));
  }
  fs.mkdirSync(path.join(root, ".hidden"), { recursive: true });
  fs.writeFileSync(path.join(root, ".hidden", "x.csv"), "step,loss\n0,1\n");
  fs.mkdirSync(path.join(root, "node_modules"), { recursive: true });
  fs.writeFileSync(path.join(root, "node_modules", "y.txt"), "loss: 1\n");
  fs.writeFileSync(path.join(root, "weights.bin"), "\0\0");
  fs.writeFileSync(path.join(root, "Metrics.CSV"), "epoch,loss\n0,1\n");
  // training tools' .json logs beside files that are not logs: a detectron2 and a Hugging Face output folder
  fs.mkdirSync(path.join(root, "det"));
  fs.writeFileSync(path.join(root, "det", "metrics.json"), '{"iteration": 19, "total_loss": 1.5}\n');
  fs.writeFileSync(path.join(root, "det", "config.json"), "{}");
  fs.mkdirSync(path.join(root, "hf", "checkpoint-500"), { recursive: true });
  fs.writeFileSync(path.join(root, "hf", "trainer_state.json"), '{"log_history": [{"loss": 0.5, "step": 500}]}');
  fs.writeFileSync(path.join(root, "hf", "checkpoint-500", "trainer_state.json"), '{"log_history": [{"loss": 0.5, "step": 500}]}');
  fs.writeFileSync(path.join(root, "hf", "config.json"), "{}");
  // a small event directory under a run that records no hparams is a run of its own
  fs.mkdirSync(path.join(root, "healthy", "tb", "eval"));
  fs.writeFileSync(
    path.join(root, "healthy", "tb", "eval", "events.out.tfevents.1.eval"),
    eventFile([eventBytes(0, 1_700_000_000, [tb.simple("eval/loss", 1.5)]), eventBytes(1, 1_700_000_001, [tb.simple("eval/loss", 1.2)])]),
  );
  // Keras's TensorBoard callback: train/ and validation/ under the log directory, the same tags in both
  for (const [dir, name, v] of [
    ["train", "events.out.tfevents.1795700000.host.7.0.v2", 0.9],
    ["validation", "events.out.tfevents.1795700001.host.7.1.v2", 1.1],
  ] as const) {
    fs.mkdirSync(path.join(root, "keras", "logs", dir), { recursive: true });
    fs.writeFileSync(path.join(root, "keras", "logs", dir, name), eventFile([eventBytes(0, 1_795_700_000, [tb.scalar("epoch_loss", v)])]));
  }
  return root;
}

/** What a browser sees of a dropped folder: every file's path from the folder's name down. */
function entriesOf(root: string): (PathEntry & { abs: string })[] {
  const out: (PathEntry & { abs: string })[] = [];
  const walk = (abs: string, rel: string) => {
    for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(abs, e.name), `${rel}/${e.name}`);
      else out.push({ path: `${rel}/${e.name}`, size: fs.statSync(path.join(abs, e.name)).size, abs: path.join(abs, e.name) });
    }
  };
  walk(root, path.basename(root));
  return out;
}

const shape = (runs: { name: string; kind: string; files: { rel: string }[] }[]) =>
  runs.map((r) => ({ name: r.name, kind: r.kind, files: r.files.map((f) => f.rel) })).sort((a, b) => (a.name < b.name ? -1 : 1));

const peek = (files: { abs: string }[]) => recordsHparams(files.map((f) => fs.readFileSync(f.abs)));

describe("grouping a dropped folder into runs", () => {
  const root = fixtureFolder();

  test("the dashboard's plan is the CLI's: same runs, names, kinds and files", async () => {
    const cli = planImport([root]);
    const browser = await planPaths(entriesOf(root), peek);
    expect(shape(browser)).toEqual(shape(cli.runs));
    // the hparams sub-runs were merged; the eval directory without hparams was not
    const healthy = browser.find((r) => r.name === "healthy/tb")!;
    expect(healthy.files.map((f) => f.rel)).toEqual(expect.arrayContaining([expect.stringMatching(/^hparams\/events\.out\.tfevents/)]));
    expect(browser.map((r) => r.name)).toContain("healthy/tb/eval");
    expect(browser.map((r) => r.name)).toContain("Metrics.CSV");
    // detectron2's and Hugging Face's logs are taken by name; configs and a checkpoint's copy of the log are not
    const jsons = browser.map((r) => r.name).filter((n) => n.endsWith(".json"));
    expect(jsons.sort()).toEqual(["det/metrics.json", "hf/trainer_state.json"]);
    expect(browser.some((r) => r.name.includes("node_modules") || r.name.includes(".hidden") || r.name.includes("weights"))).toBe(false);
    // the same sources, so a drop and a CLI import of the same folder make the same runs; a second
    // drop resumes them; runs imported before (named `upload:` and the path) are named as formerSource
    expect(browser.map((r) => r.source).sort()).toEqual(cli.runs.map((r) => r.source).sort());
    expect(healthy.source).toBe("tfevents:events.out.tfevents.1795698224.vm.415.0");
    expect(healthy.formerSource).toBe(`${UPLOAD_SOURCE_PREFIX}runs/healthy/tb`);
    expect(browser.find((r) => r.name === "healthy/log.txt")!.source).toBe("file:runs/healthy/log.txt");
    expect(cli.runs.find((r) => r.name === "healthy/tb")!.formerSource).toBe(path.join(root, "healthy", "tb"));
  });

  test("a run directory's source is its first event file's, whichever folder above it was chosen or dropped", async () => {
    const tb = path.join(root, "healthy", "tb");
    const sources = new Set<string>();
    for (const chosen of [root, path.join(root, "healthy"), tb]) {
      const isIt = (r: { name: string }) => r.name === "healthy/tb" || r.name === "tb";
      for (const r of planImport([chosen]).runs.filter(isIt)) sources.add(r.source);
      for (const r of (await planPaths(entriesOf(chosen), peek)).filter(isIt)) sources.add(r.source);
    }
    expect([...sources]).toEqual(["tfevents:events.out.tfevents.1795698224.vm.415.0"]);
    // a log file is named by its path from the chosen folder, as a person names it
    expect(planImport([path.join(root, "healthy")]).runs.find((r) => r.kind === "file" && r.name === "log.txt")!.source).toBe("file:healthy/log.txt");
    expect(planImport([path.join(root, "healthy", "log.txt")]).runs[0].source).toBe("file:log.txt");
  });

  test("a Keras TensorBoard directory is one run for the CLI, the dashboard and the Python SDK, named by its train/ file", async () => {
    const want = "tfevents:events.out.tfevents.1795700000.host.7.0.v2";
    for (const chosen of [root, path.join(root, "keras"), path.join(root, "keras", "logs")]) {
      const cli = planImport([chosen]).runs.filter((r) => r.source === want);
      const browser = (await planPaths(entriesOf(chosen), peek)).filter((r) => r.source === want);
      const py = JSON.parse(
        execFileSync(
          process.env.PYTHON ?? "/usr/bin/python3",
          ["-c", "import json,sys; from babysit.importer import plan_import; print(json.dumps(plan_import(sys.argv[1:])))", chosen],
          { env: { ...process.env, PYTHONPATH: path.resolve("sdk/python") }, encoding: "utf8" },
        ),
      ).runs.filter((r: { source: string }) => r.source === want);
      for (const runs of [cli, browser, py]) {
        expect(runs).toHaveLength(1);
        expect(runs[0].files.map((f: { rel: string }) => f.rel)).toEqual([
          "train/events.out.tfevents.1795700000.host.7.0.v2",
          "validation/events.out.tfevents.1795700001.host.7.1.v2",
        ]);
      }
      expect(shape(py)).toEqual(shape(cli));
      expect(cli[0].name).toBe(chosen === root ? "keras/logs" : chosen.endsWith("keras") ? "logs" : "keras/logs");
    }
  });

  test("a run directory dropped itself is one run, named by its own name", async () => {
    const tb = path.join(root, "overfit", "tb");
    const cli = planImport([tb]);
    const browser = await planPaths(entriesOf(tb), peek);
    expect(browser).toHaveLength(1);
    expect(shape(browser)[0].files).toEqual(shape(cli.runs)[0].files);
    expect(browser[0].source).toBe(cli.runs[0].source);
    expect(browser[0].name).toBe("tb"); // the CLI adds the parent's name, which a browser never learns
  });

  test.each([
    ["log.txt", "file", "file:log.txt"],
    ["events.out.tfevents.1.host", "tensorboard", "tfevents:events.out.tfevents.1.host"],
  ])("a file dropped alone (%s) is a run named by the file", async (name, kind, source) => {
    const runs = await planPaths([{ path: name, size: 10 }], () => false);
    expect(runs).toEqual([
      { source, formerSource: `${UPLOAD_SOURCE_PREFIX}${name}`, name, kind, files: [{ entry: { path: name, size: 10 }, rel: name }] },
    ]);
  });

  test.each(["a/../b.txt", "a//b.txt", "./b.txt"])("a path with an empty, . or .. part (%s) is left out", async (p) => {
    expect(await planPaths([{ path: p, size: 1 }], () => false)).toEqual([]);
  });

  test("the Python SDK's plan is the CLI's", () => {
    const py = process.env.PYTHON ?? "/usr/bin/python3";
    const out = execFileSync(
      py,
      ["-c", "import json,sys; from babysit.importer import plan_import; print(json.dumps(plan_import(sys.argv[1:])))", root],
      {
        env: { ...process.env, PYTHONPATH: path.resolve("sdk/python") },
        encoding: "utf8",
      },
    );
    const pyPlan = JSON.parse(out) as { runs: { source: string; name: string; kind: string; files: { rel: string }[] }[] };
    const cli = planImport([root]);
    expect(shape(pyPlan.runs)).toEqual(shape(cli.runs));
    expect(pyPlan.runs.map((r) => r.source).sort()).toEqual(cli.runs.map((r) => r.source).sort());
    expect(pyPlan.runs.map((r) => (r as { formerSource?: string }).formerSource).sort()).toEqual(cli.runs.map((r) => r.formerSource).sort());
    const tb = path.join(root, "overfit", "tb");
    const one = JSON.parse(
      execFileSync(py, ["-c", "import json,sys; from babysit.importer import plan_import; print(json.dumps(plan_import(sys.argv[1:])))", tb], {
        env: { ...process.env, PYTHONPATH: path.resolve("sdk/python") },
        encoding: "utf8",
      }),
    );
    expect(shape(one.runs)).toEqual(shape(planImport([tb]).runs));
  });

  // the size past which a sub-directory is not peeked at comes from the contract for all three
  test.each([
    ["at importHparamsPeekBytes: the run's hparams sub-run", 0, false],
    ["one byte past it: a run of its own", 1, true],
  ])("an hparams directory %s, for the CLI, the dashboard and the Python SDK alike", async (_what, over, own) => {
    const top = fs.mkdtempSync(path.join(os.tmpdir(), "babysit-peek-"));
    const root = path.join(top, "runs");
    unpackTb("healthy", root);
    const hp = path.join(root, "healthy", "tb", "hparams");
    const had = fs.readdirSync(hp).reduce((n, f) => n + fs.statSync(path.join(hp, f)).size, 0);
    // a second file in the hparams directory brings it to the limit (plus `over`); a file's bytes past
    // its last whole record are a record still being written, which the peek does not mind
    fs.writeFileSync(path.join(hp, "events.out.tfevents.1795698228.vm.415.2"), Buffer.alloc(LIMITS.importHparamsPeekBytes.value - had + over));
    const names = (runs: { name: string }[]) => runs.map((r) => r.name).sort();
    const want = own ? ["healthy/tb", "healthy/tb/hparams"] : ["healthy/tb"];
    expect(names(planImport([root]).runs)).toEqual(want);
    expect(names(await planPaths(entriesOf(root), peek))).toEqual(want);
    const py = execFileSync(
      process.env.PYTHON ?? "/usr/bin/python3",
      ["-c", "import json,sys; from babysit.importer import plan_import; print(json.dumps(plan_import(sys.argv[1:])))", root],
      { env: { ...process.env, PYTHONPATH: path.resolve("sdk/python") }, encoding: "utf8" },
    );
    expect(names(JSON.parse(py).runs)).toEqual(want);
  });
});

// A run is named by its path; a path the API would refuse as a name (longer than runNameMaxLength:
// TensorBoard run directories often spell out their hyperparameters; a tab or newline in a
// directory's name) made every file of the run refused. The three planners name them alike, and
// every name is one the API takes.
describe("runs whose paths the API would refuse as names", () => {
  const long = "lr_0.001_bs_128_wd_0.0001_".repeat(6);
  const top = fs.mkdtempSync(path.join(os.tmpdir(), "babysit-names-"));
  const root = path.join(top, "odd");
  const dirs = [`${long}/${long}`, "tab\tdir", "new\nline", "del\u007fdir", "<b>x</b>", "ok"];
  // event files are named by their writer's time, host and process: each directory's its own (one
  // name in two directories is one run, wherever it was copied: lib/import/run-source.ts)
  dirs.forEach((d, i) => {
    fs.mkdirSync(path.join(root, d), { recursive: true });
    fs.writeFileSync(path.join(root, d, `events.out.tfevents.1.host.${i}`), eventFile([eventBytes(0, 1_700_000_000, [tb.simple("loss", 1)])]));
    fs.writeFileSync(path.join(root, d, "m.csv"), "step,loss\n0,1\n");
  });
  const names = planImport([root]).runs.map((r) => r.name);

  test("every name is one the API takes, and names stay apart", () => {
    expect(names).toHaveLength(dirs.length * 2);
    for (const n of names) expect(nameProblem(n, LIMITS.runNameMaxLength, "name")).toBeNull();
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(["tab\ufffddir", "new\ufffdline/m.csv", "<b>x</b>", "ok/m.csv"]));
    const cut = names.find((n) => n.startsWith("…") && !n.endsWith(".csv"))!;
    expect([...cut]).toHaveLength(LIMITS.runNameMaxLength.value);
    expect(cut.endsWith(`/${long}`)).toBe(true);
  });

  test("the dashboard and the Python SDK name them as the CLI does", async () => {
    expect(shape(await planPaths(entriesOf(root), peek)).map((r) => r.name)).toEqual(
      shape(planImport([root]).runs.map((r) => ({ ...r, name: r.name.replace(/^odd\//, "") }))).map((r) => r.name),
    );
    const out = execFileSync(
      process.env.PYTHON ?? "/usr/bin/python3",
      ["-c", "import json,sys; from babysit.importer import plan_import; print(json.dumps(plan_import(sys.argv[1:])))", root],
      { env: { ...process.env, PYTHONPATH: path.resolve("sdk/python") }, encoding: "utf8" },
    );
    expect(shape(JSON.parse(out).runs)).toEqual(shape(planImport([root]).runs));
  });
});

// A folder as an unlucky user has it: links that loop, a pipe, a checkpoint-N directory at odd depths,
// names in other cases, JSON that is no training log, thousands of files. The walk never follows a
// link (a loop cannot hang it), takes only regular files, takes metrics.json and trainer_state.json in
// any case but not a checkpoint-N directory's copy, and the CLI, the dashboard and the Python SDK agree.
describe("a hostile folder", () => {
  const top = fs.mkdtempSync(path.join(os.tmpdir(), "babysit-hostile-"));
  const root = path.join(top, "out");
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  };
  write("Metrics.JSON", '{"iteration": 1, "total_loss": 1}\n');
  write("a/metrics.json", '{"foo": {"bar": 1}}');
  write("a/config.json", '{"a": 1}');
  write("checkpoint-7/trainer_state.json", '{"log_history": []}');
  write("checkpoint-7x/trainer_state.json", '{"log_history": []}');
  write("b/checkpoint-500/TRAINER_STATE.JSON", '{"log_history": []}');
  write("b/checkpoint-500/sub/trainer_state.json", '{"log_history": []}');
  write("b/checkpoint-500/log.txt", "loss: 1\n");
  write("c/trainer_state.json.bak", "{}");
  write("c/metrics.json~", "{}");
  fs.symlinkSync(root, path.join(root, "a", "loop"));
  fs.symlinkSync(path.join(root, "a"), path.join(root, "a", "loop2"));
  fs.symlinkSync(path.join(root, "Metrics.JSON"), path.join(root, "a", "link.csv"));
  fs.symlinkSync(path.join(root, "missing"), path.join(root, "a", "dangling.log"));
  execFileSync("mkfifo", [path.join(root, "pipe.log")]);
  const want = [
    "Metrics.JSON",
    "a/metrics.json",
    "b/checkpoint-500/log.txt",
    "b/checkpoint-500/sub/trainer_state.json",
    "checkpoint-7x/trainer_state.json",
  ];
  /** What a browser lists of a dropped folder: its regular files. */
  const regularFiles = (dir: string): PathEntry[] => {
    const out: PathEntry[] = [];
    const walk = (abs: string, rel: string) => {
      for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
        if (e.isDirectory()) walk(path.join(abs, e.name), `${rel}/${e.name}`);
        else if (e.isFile()) out.push({ path: `${rel}/${e.name}`, size: fs.statSync(path.join(abs, e.name)).size });
      }
    };
    walk(dir, path.basename(dir));
    return out;
  };
  const pyPlan = (dir: string) =>
    JSON.parse(
      execFileSync(
        process.env.PYTHON ?? "/usr/bin/python3",
        ["-c", "import json,sys; from babysit.importer import plan_import; print(json.dumps(plan_import(sys.argv[1:])))", dir],
        { env: { ...process.env, PYTHONPATH: path.resolve("sdk/python") }, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 },
      ),
    ) as { runs: { name: string; source: string }[]; skipped: unknown[] };
  const names = (runs: { name: string }[]) => runs.map((r) => r.name).sort();

  test("links, a pipe, checkpoint copies and other JSON: the three take the same files", async () => {
    const cli = planImport([root]);
    expect(names(cli.runs)).toEqual(want);
    expect(cli.skipped).toEqual([]);
    expect(names(await planPaths(regularFiles(root), () => false))).toEqual(want);
    const py = pyPlan(root);
    expect(names(py.runs)).toEqual(want);
    expect(py.runs.map((r) => r.source).sort()).toEqual(cli.runs.map((r) => r.source).sort());
  });

  test("a checkpoint-N directory chosen itself is read: the user named it", async () => {
    const ckpt = path.join(root, "checkpoint-7");
    expect(names(planImport([ckpt]).runs)).toEqual(["trainer_state.json"]);
    expect(names(await planPaths(regularFiles(ckpt), () => false))).toEqual(["trainer_state.json"]);
    expect(names(pyPlan(ckpt).runs)).toEqual(["trainer_state.json"]);
  });

  test("10,000 files in one folder: one run per log file, alike in the three", async () => {
    const big = path.join(top, "big");
    fs.mkdirSync(big);
    for (let i = 0; i < 10_000; i++) fs.writeFileSync(path.join(big, `f${i}.${i % 3 ? "bin" : "log"}`), "x");
    const cli = planImport([big]);
    expect(cli.runs).toHaveLength(3334);
    expect(names(await planPaths(regularFiles(big), () => false))).toEqual(names(cli.runs));
    expect(names(pyPlan(big).runs)).toEqual(names(cli.runs));
  });
});
