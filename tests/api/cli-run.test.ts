import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LIMITS } from "@/lib/contract/limits";
import { ROOT, type TestServer, api, freePort, startServer, waitFor } from "../helpers/server";
import { startTeamServer } from "../helpers/team";

// `babysit run -- CMD` with real child processes against a real server: the child's output reaches
// the terminal unchanged, its exit code (or 128 + signal) is ours, signals sent to babysit reach it,
// metric lines become points, the console output is stored (GET /api/v1/runs/{id}/logs), the run
// ends crashed or finished; with no server the child still runs and nothing is dropped unsaid.

const CLI = path.join(ROOT, "scripts/babysit.mjs");
const PY = "/usr/bin/python3";

// a cs231n Solver's console output, a line of hostile text, stderr, then exit 1
const CS231N = `
import sys
print("(Iteration 1 / 40) loss: 2.301234")
for i in range(2, 41):
    print(f"(Iteration {i} / 40) loss: {2.3 - i * 0.02:.6f}")
    if i % 20 == 0:
        print(f"(Epoch {i // 20} / 2) train acc: {0.3 + i / 100:.3f}; val_acc: {0.25 + i / 100:.3f}")
print("<img src=x onerror=alert(1)> caf\\u00e9 \\u2603 (a+)+$", flush=True)
print("warning: something on stderr", file=sys.stderr)
sys.stdout.write("last line without a newline")
sys.exit(1)
`;

let work: string;
let server: TestServer;

function script(name: string, body: string): string {
  const f = path.join(work, name);
  fs.writeFileSync(f, body);
  return f;
}

function babysit(args: string[], env: Record<string, string> = {}, cwd = work) {
  return spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...process.env, BABYSIT_RUN_LOG_DIR: path.join(work, "run-logs"), ...env },
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
}

async function runByName(project: string): Promise<any> {
  const list = await api(server.url, "GET", `/api/v1/runs?project=${project}`);
  expect(list.body.runs).toHaveLength(1);
  return list.body.runs[0];
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "babysit-run-"));
  server = await startServer({ env: { BABYSIT_EVAL_INTERVAL_MS: "1000000" } });
});
afterAll(async () => {
  await server?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

describe("babysit run", () => {
  test("a cs231n script that exits 1: output unchanged, exit code 1, run crashed with its metrics, console and command", async () => {
    const repo = path.join(work, "repo");
    fs.mkdirSync(repo);
    const git = (...a: string[]) => execFileSync("git", a, { cwd: repo, stdio: "pipe", encoding: "utf8" }).trim();
    git("init", "-q");
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "start");
    const train = path.join(repo, "train.py");
    fs.writeFileSync(train, CS231N);
    git("add", "train.py");
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "-m", "train");
    fs.appendFileSync(train, "\n# edited\n"); // a change not committed: dirty

    const direct = spawnSync(PY, [train], { cwd: repo });
    const r = babysit(["run", "--url", server.url, "--project", "cli-run", "--", PY, "train.py", "--lr", "0.1"], {}, repo);
    expect(r.status).toBe(1);
    expect(Buffer.compare(r.stdout, direct.stdout)).toBe(0); // byte for byte
    expect(r.stderr.toString()).toContain("warning: something on stderr");

    const run = await runByName("cli-run");
    expect(run.status).toBe("crashed");
    expect(run.name).toBe(`${PY} train.py --lr 0.1`);
    const detail = (await api(server.url, "GET", `/api/v1/runs/${run.id}`)).body;
    expect(detail.run.config).toMatchObject({
      command: `${PY} train.py --lr 0.1`,
      argv: [PY, "train.py", "--lr", "0.1"],
      cwd: fs.realpathSync(repo),
      git_commit: git("rev-parse", "HEAD"),
      git_dirty: true,
    });
    const loss = await api(server.url, "GET", `/api/v1/runs/${run.id}/series?key=loss`);
    expect(loss.body.buckets.map((b: { step: number }) => b.step)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(loss.body.buckets[0].last).toBeCloseTo(2.301234, 6);
    const val = await api(server.url, "GET", `/api/v1/runs/${run.id}/series?key=val_acc`);
    expect(val.body.buckets.map((b: { step: number }) => b.step)).toEqual([20, 40]);

    const logs = (await api(server.url, "GET", `/api/v1/runs/${run.id}/logs?limit=5000`)).body;
    // stdout's lines in order, as printed (the two streams' lines interleave as they arrived)
    const stdout = logs.lines.filter((l: { stream: string }) => l.stream === "stdout").map((l: { text: string }) => l.text);
    expect(stdout).toEqual(direct.stdout.toString().split("\n"));
    expect(stdout).toContain("<img src=x onerror=alert(1)> café ☃ (a+)+$");
    expect(stdout.at(-1)).toBe("last line without a newline");
    const stderr = logs.lines.filter((l: { stream: string }) => l.stream === "stderr").map((l: { text: string }) => l.text);
    expect(stderr).toEqual(["warning: something on stderr"]);
    expect(logs.lines.map((l: { n: number }) => l.n)).toEqual(logs.lines.map((_: unknown, i: number) => i));
    expect(r.stderr.toString()).toMatch(/babysit: run crashed \(exit code 1\)/);
    expect(fs.readdirSync(path.join(work, "run-logs"))).toEqual([]); // all delivered: no file left
  });

  test("a script that exits 0 finishes its run; --name names it", async () => {
    const f = script("ok.py", 'print("step=1 loss=0.5 acc=0.25")\nprint("step=2 loss=0.25 acc=0.5")\n');
    const r = babysit(["run", "--url", server.url, "--project", "cli-ok", "--name", "my run", "--", PY, f]);
    expect(r.status).toBe(0);
    const run = await runByName("cli-ok");
    expect(run).toMatchObject({ name: "my run", status: "finished" });
    const acc = await api(server.url, "GET", `/api/v1/runs/${run.id}/series?key=acc`);
    expect(acc.body.buckets.map((b: { step: number; last: number }) => [b.step, b.last])).toEqual([
      [1, 0.25],
      [2, 0.5],
    ]);
  });

  test.each([
    [
      "Keras fit (progress redrawn with \\r)",
      [
        "import sys",
        "for e in (1, 2):",
        '    print(f"Epoch {e}/2")',
        '    sys.stdout.write("1/3 [=>....] - loss: 0.9\\r2/3 [===>..] - loss: 0.8\\r")',
        '    print(f"3/3 [======] - 1s 5ms/step - loss: {0.5 / e} - accuracy: {0.5 + e / 10} - val_loss: {0.6 / e}")',
      ],
      "val_loss",
      [
        [0, 0.6],
        [1, 0.3],
      ],
    ],
    [
      "Hugging Face Trainer dicts",
      ["for i in range(3):", "    print({'loss': 1.0 / (i + 1), 'learning_rate': 5e-05, 'epoch': i / 3})"],
      "loss",
      [
        [0, 1],
        [1, 0.5],
        [2, 1 / 3],
      ],
    ],
    [
      "tqdm bars redrawn with \\r (PyTorch Lightning): every drawing's metrics, at e*N + i",
      [
        "import sys, time",
        "for e in range(2):",
        "    for i in range(1, 4):",
        '        sys.stdout.write(f"\\rEpoch {e}: {i * 33}%|#| {i}/3 [00:01<00:00, 5.0it/s, loss={1.0 / (e * 3 + i)}, v_num=0]")',
        "        sys.stdout.flush()",
        "        time.sleep(0.02)",
        '    sys.stdout.write("\\n")',
      ],
      "loss",
      [
        [1, 1],
        [2, 0.5],
        [3, 1 / 3],
        [4, 0.25],
        [5, 0.2],
        [6, 1 / 6],
      ],
    ],
    [
      "generic key=value with a step, nan as data",
      ['print("it=10 loss=0.5 lr=0.1")', 'print("it=20 loss=nan lr=0.1")'],
      "loss",
      [
        [10, 0.5],
        [20, "NaN"],
      ],
    ],
  ] as const)("%s: the metrics are on the run", async (what, lines, key, want) => {
    const project = `cli-fmt-${what.split(" ")[0].toLowerCase()}`;
    const f = script(`${project}.py`, `${lines.join("\n")}\n`);
    const r = babysit(["run", "--url", server.url, "--project", project, "--", PY, f]);
    expect(r.status).toBe(0);
    const run = await runByName(project);
    const s = await api(server.url, "GET", `/api/v1/runs/${run.id}/series?key=${key}`);
    const got = s.body.buckets.map((b: { step: number; last: number | string }) => [b.step, b.last]);
    expect(got.map((p: [number, unknown]) => p[0])).toEqual(want.map((p) => p[0]));
    for (const [i, [, v]] of want.entries()) {
      if (typeof v === "string") expect(got[i][1]).toBe(v);
      else expect(got[i][1]).toBeCloseTo(v, 9);
    }
  });

  test("the babysitter's alerts and checklist reach the terminal, as the SDKs print them (stderr; stdout stays the command's)", async () => {
    const project = "cli-alerts";
    const f = script(
      "nan.py",
      ["import math", "for i in range(1, 60):", '    print(f"(Iteration {i} / 60) loss: {2.3 * math.exp(i / 5) if i < 40 else math.nan}")', ""].join(
        "\n",
      ),
    );
    const r = babysit(["run", "--url", server.url, "--project", project, "--", PY, f]);
    expect(r.status).toBe(0);
    const run = await runByName(project);
    const err = r.stderr.toString();
    expect(err).toContain(`babysit [critical] divergence (step 40): Divergence: the loss is NaN/Inf -> ${server.url}/runs/${run.id}`);
    const checklist = err.split("\n").find((l) => l.startsWith("babysit: checklist "));
    expect(checklist).toContain("1 raised (divergence)");
    expect(checklist).toContain(`-> ${server.url}/runs/${run.id}`);
    expect(r.stdout.toString()).not.toContain("babysit");
  });

  test("Hugging Face Trainer output: the end-of-training dict is the run's summary; the checklist reads the logged loss curve", async () => {
    const project = "cli-hf-summary";
    const f = script(
      "hf.py",
      [
        "for i in range(12):",
        "    print({'loss': round(2.3 - i * 0.1, 4), 'learning_rate': 5e-05, 'epoch': (i + 1) / 12})",
        "print({'train_runtime': 30.5, 'train_samples_per_second': 98.3, 'train_loss': 1.1, 'epoch': 1.0})",
        "",
      ].join("\n"),
    );
    const r = babysit(["run", "--url", server.url, "--project", project, "--", PY, f]);
    expect(r.status).toBe(0);
    const run = await runByName(project);
    const detail = (await api(server.url, "GET", `/api/v1/runs/${run.id}`)).body;
    expect(detail.keys.map((k: { key: string }) => k.key)).not.toContain("train_loss");
    expect(detail.events.find((e: { type: string }) => e.type === "summary")?.data).toEqual({
      train_runtime: 30.5,
      train_samples_per_second: 98.3,
      train_loss: 1.1,
      epoch: 1,
    });
    const items = (await api(server.url, "GET", `/api/v1/runs/${run.id}/checklist`)).body.items;
    expect(items.find((i: { id: string }) => i.id === "initial_loss").evidence).toContain("first loss 2.3");
  });

  test.each([
    ["SIGTERM", 143],
    ["SIGINT", 130],
    ["SIGHUP", 129],
  ] as const)("%s sent to babysit reaches the child: exit code %i, run crashed", async (signal, code) => {
    const project = `cli-${signal.toLowerCase()}`;
    const f = script(`wait-${signal}.py`, 'import time\nprint("(Iteration 1 / 10) loss: 2.3", flush=True)\nwhile True:\n    time.sleep(0.05)\n');
    const child: ChildProcess = spawn(process.execPath, [CLI, "run", "--url", server.url, "--project", project, "--", PY, f], {
      cwd: work,
      env: { ...process.env, BABYSIT_RUN_LOG_DIR: path.join(work, "run-logs") },
      stdio: ["ignore", "pipe", "pipe"],
      // sent by kill, not by a terminal (a test run from a terminal would otherwise be in its foreground group)
      detached: true,
    });
    let out = "";
    let err = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    await waitFor(() => out.includes("(Iteration 1 / 10)") && err.includes("babysit: run"), 30_000, "the child's first line and the run");
    child.kill(signal); // to babysit only: the child hears it only if babysit passes it on
    expect(await exited).toBe(code);
    const run = await runByName(project);
    expect(run.status).toBe("crashed");
    const logs = (await api(server.url, "GET", `/api/v1/runs/${run.id}/logs`)).body;
    expect(logs.lines[0].text).toBe("(Iteration 1 / 10) loss: 2.3");
  });

  // Ctrl-C in a real terminal (a pty made by util-linux `script`): the terminal sends SIGINT to its
  // foreground process group, babysit and the command alike; passed on again by babysit, it would
  // interrupt a script's own KeyboardInterrupt handler (the checkpoint it saves) a second time.
  test.each([
    ["catches KeyboardInterrupt and saves a checkpoint", "checkpoint saved", 0, "finished"],
    ["does not catch it", "KeyboardInterrupt", 130, "crashed"],
  ] as const)("Ctrl-C in a terminal reaches a command that %s once, as without babysit", async (_what, last, code, status) => {
    const project = `cli-ctrlc-${code}`;
    const body =
      code === 0
        ? 'import sys, time\ntry:\n    print("(Iteration 1 / 10) loss: 2.3", flush=True)\n    while True:\n        time.sleep(0.05)\nexcept KeyboardInterrupt:\n    print("saving a checkpoint", flush=True)\n    time.sleep(1.0)\n    print("checkpoint saved", flush=True)\n    sys.exit(0)\n'
        : 'import time\nprint("(Iteration 1 / 10) loss: 2.3", flush=True)\nwhile True:\n    time.sleep(0.05)\n';
    const f = script(`ctrlc-${code}.py`, body);
    // `exec`: script runs the command with $SHELL -c, and dash (Debian's /bin/sh, used where SHELL is
    // unset, as on CI) stays in between, in the same foreground group: killed by the Ctrl-C itself,
    // it would end the terminal session with 130 whatever babysit and the command did
    const cmd = `exec ${[process.execPath, CLI, "run", "--url", server.url, "--project", project, "--", PY, f].map((a) => `'${a}'`).join(" ")}`;
    const term: ChildProcess = spawn("script", ["-qfec", cmd, "/dev/null"], {
      cwd: work,
      env: { ...process.env, SHELL: "/bin/sh", BABYSIT_RUN_LOG_DIR: path.join(work, "run-logs") },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    term.stdout!.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => term.once("exit", (c) => resolve(c)));
    await waitFor(() => out.includes("(Iteration 1 / 10)") && out.includes("babysit: run"), 30_000, "the child's first line and the run");
    term.stdin!.write("\u0003"); // the terminal's interrupt character
    expect(await exited).toBe(code);
    term.stdin!.end();
    expect(out).toContain(last);
    expect(out.split("KeyboardInterrupt").length - 1).toBe(code === 0 ? 0 : 1);
    const run = await runByName(project);
    expect(run.status).toBe(status);
  });

  test("no server: the child runs to its end, its exit code is returned, and the output is kept in a file to import", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const f = script("down.py", 'import sys\nfor i in range(1, 6):\n    print(f"(Iteration {i} / 5) loss: {1 / i}")\nsys.exit(3)\n');
    const logDir = path.join(work, "down-logs");
    const r = babysit(["run", "--url", dead, "--project", "cli-down", "--flush-timeout", "1", "--", PY, f], { BABYSIT_RUN_LOG_DIR: logDir });
    expect(r.status).toBe(3);
    expect(r.stdout.toString()).toBe(spawnSync(PY, [f]).stdout.toString());
    const err = r.stderr.toString();
    expect(err).toContain("not everything reached the server");
    const kept = fs.readdirSync(logDir).map((x) => path.join(logDir, x));
    expect(kept).toHaveLength(1);
    expect(err).toContain(kept[0]);
    expect(fs.readFileSync(kept[0], "utf8")).toBe(r.stdout.toString());
    // the command it prints sends the metrics later
    const imp = babysit(["import", kept[0], "--url", server.url, "--project", "cli-down", "--no-progress"]);
    expect(imp.status).toBe(0);
    const run = await runByName("cli-down");
    const loss = await api(server.url, "GET", `/api/v1/runs/${run.id}/series?key=loss`);
    expect(loss.body.buckets.map((b: { step: number }) => b.step)).toEqual([1, 2, 3, 4, 5]);
  });

  test("the server comes up while the command runs: what waited is delivered in order, and no file is left", async () => {
    const port = await freePort();
    const flag = path.join(work, "late-go");
    const f = script(
      "late.py",
      [
        "import os, time",
        "for i in range(1, 4):",
        '    print(f"(Iteration {i} / 6) loss: {1 / i}", flush=True)',
        `while not os.path.exists(${JSON.stringify(flag)}):`,
        "    time.sleep(0.05)",
        "for i in range(4, 7):",
        '    print(f"(Iteration {i} / 6) loss: {1 / i}", flush=True)',
      ].join("\n"),
    );
    const logDir = path.join(work, "late-logs");
    const child = spawn(process.execPath, [CLI, "run", "--url", `http://127.0.0.1:${port}`, "--project", "cli-late", "--", PY, f], {
      cwd: work,
      env: { ...process.env, BABYSIT_RUN_LOG_DIR: logDir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    await waitFor(() => out.includes("(Iteration 3 / 6)") && err.includes("cannot reach"), 30_000, "the first lines, with the server away");
    const late = await startServer({ port, env: { BABYSIT_EVAL_INTERVAL_MS: "1000000" } });
    try {
      await waitFor(() => err.includes("answers again"), 30_000, "babysit reaching the server");
      fs.writeFileSync(flag, "");
      expect(await exited).toBe(0);
      const list = await api(late.url, "GET", "/api/v1/runs?project=cli-late");
      expect(list.body.runs.map((r: { status: string }) => r.status)).toEqual(["finished"]);
      const id = list.body.runs[0].id;
      const logs = (await api(late.url, "GET", `/api/v1/runs/${id}/logs`)).body;
      expect(logs.lines.map((l: { text: string }) => l.text)).toEqual(out.trimEnd().split("\n"));
      const loss = await api(late.url, "GET", `/api/v1/runs/${id}/series?key=loss`);
      expect(loss.body.buckets.map((b: { step: number }) => b.step)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(fs.readdirSync(logDir)).toEqual([]);
    } finally {
      await late.stop();
    }
  });

  test("a process the command leaves behind, holding its output open, does not keep babysit waiting", async () => {
    const f = script("leaves.py", 'import subprocess\nsubprocess.Popen(["sleep", "8"])\nprint("step=1 loss=0.5 acc=0.5")\n');
    const r = babysit(["run", "--url", server.url, "--project", "cli-leaves", "--", PY, f]);
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toBe("step=1 loss=0.5 acc=0.5\n");
    const run = await runByName("cli-leaves");
    expect(run.status).toBe("finished");
    expect((await api(server.url, "GET", `/api/v1/runs/${run.id}/logs`)).body.lines.map((l: { text: string }) => l.text)).toEqual([
      "step=1 loss=0.5 acc=0.5",
    ]);
  });

  // what a command prints must never make the server refuse a batch: that stopped every later line
  // and point from reaching the run, which was then left running
  test.each([
    ["a metric key over keyMaxLength", `"'${"k".repeat(LIMITS.keyMaxLength.value + 1)}'"`, "at most"],
    ["a metric key with a control character", `"'a\\x01b'"`, "control characters"],
    ["an empty metric key", `"''"`, "must not be empty"],
  ])("%s in a logged dict: that metric is left out and said so; the rest is stored and the run finished", async (what, key, said) => {
    const project = `cli-badkey-${what.split(" ")[3]}`.toLowerCase();
    const f = script(
      `${project}.py`,
      [
        "print({'loss': 1.0, 'epoch': 0.1})",
        `print("{" + ${key} + ": 2.0, 'loss': 0.8, 'epoch': 0.2}")`,
        "print({'loss': 0.5, 'epoch': 0.3})",
        'print("after")',
      ].join("\n"),
    );
    const r = babysit(["run", "--url", server.url, "--project", project, "--", PY, f]);
    expect(r.status).toBe(0);
    const err = r.stderr.toString();
    expect(err).toContain("is not recorded");
    expect(err).toContain(said);
    expect(err).not.toContain("not everything reached the server");
    const run = await runByName(project);
    expect(run.status).toBe("finished");
    const loss = await api(server.url, "GET", `/api/v1/runs/${run.id}/series?key=loss`);
    expect(loss.body.buckets.map((b: { step: number; last: number }) => [b.step, b.last])).toEqual([
      [0, 1],
      [1, 0.8],
      [2, 0.5],
    ]);
    const logs = (await api(server.url, "GET", `/api/v1/runs/${run.id}/logs`)).body;
    expect(logs.lines.map((l: { text: string }) => l.text)).toEqual(r.stdout.toString().trimEnd().split("\n"));
  });

  // more distinct keys than keysPerRun in one batch (or one line) made the server refuse the batch
  // whole, and every later line and point with it; keys past the run's limit are refused one by
  // one, and that is now said
  test.each([
    [
      "lines naming 1,500 new keys each, 8 lines at once",
      "for s in range(8):\n    print(f'step={s} ' + ' '.join(f'k{s}_{i}={i}' for i in range(1500)))\n",
    ],
    ["one line naming 12,000 keys", "print('step=1 ' + ' '.join(f'k{i}={i}' for i in range(12000)))\nprint('step=2 loss=0.5 acc=0.1')\n"],
  ])("%s: the keys the run can hold are stored, the rest said, and the run finished", async (what, body) => {
    const project = `cli-keys-${what.split(" ")[0]}`;
    const f = script(`${project}.py`, body);
    const r = babysit(["run", "--url", server.url, "--project", project, "--", PY, f]);
    expect(r.status).toBe(0);
    const err = r.stderr.toString();
    expect(err).not.toContain("not everything reached the server");
    expect(err).toMatch(/keysPerRun/);
    const run = await runByName(project);
    expect(run.status).toBe("finished");
    const detail = (await api(server.url, "GET", `/api/v1/runs/${run.id}`)).body;
    expect(detail.keys.length).toBe(LIMITS.keysPerRun.value);
    const logs = (await api(server.url, "GET", `/api/v1/runs/${run.id}/logs?limit=${LIMITS.runLogPageMax.value}`)).body;
    expect(logs.lines.map((l: { text: string }) => l.text).join("")).toBe(r.stdout.toString().replaceAll("\n", ""));
  });

  test.each([
    // 2,000 lines of 3,000 characters at once: a batch of them is over runLogBodyBytes (was a 413)
    ["many long lines printed at once", 'import sys\nsys.stdout.write("".join(f"{i:05d}" + "x" * 2995 + "\\n" for i in range(2000)))\n'],
    // a 3 MiB line with no line end for a while: was cut to its last MiB, unsaid
    [
      "a 3 MiB line without a line end",
      "import sys\nfor i in range(3):\n    sys.stdout.write(str(i) * (1024 * 1024))\n    sys.stdout.flush()\nprint()\n",
    ],
  ])("%s: every character is stored, and the run finished", async (what, body) => {
    const project = `cli-long-${what.split(" ")[1]}`;
    const f = script(`${project}.py`, body);
    const r = babysit(["run", "--url", server.url, "--project", project, "--", PY, f]);
    expect(r.status).toBe(0);
    expect(r.stderr.toString()).not.toContain("not everything reached the server");
    const run = await runByName(project);
    expect(run.status).toBe("finished");
    let text = "";
    let after = -1;
    for (;;) {
      const page = (await api(server.url, "GET", `/api/v1/runs/${run.id}/logs?after=${after}&limit=${LIMITS.runLogPageMax.value}`)).body;
      text += page.lines.map((l: { text: string }) => l.text).join("");
      if (page.next === null) break;
      after = page.next;
    }
    expect(text).toBe(r.stdout.toString().replaceAll("\n", ""));
  });

  // babysit's stdout closed by its reader (`babysit run -- cmd | head -1`): the read of the child's
  // output stayed paused for a drain that never came, so the child blocked on its next write forever
  test("its output piped to a reader that goes away (| head -1): the command runs to its end, every line kept", async () => {
    const total = 50_000;
    const f = script("head.py", `for i in range(${total}):\n    print(f"line {i}")\n`);
    const child = spawn(process.execPath, [CLI, "run", "--url", server.url, "--project", "cli-head", "--", PY, f], {
      cwd: work,
      env: { ...process.env, BABYSIT_RUN_LOG_DIR: path.join(work, "run-logs") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    try {
      await new Promise<void>((resolve) => child.stdout!.once("data", () => resolve()));
      child.stdout!.destroy(); // as head does after its first line
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    const run = await runByName("cli-head");
    expect(run.status).toBe("finished");
    expect((await api(server.url, "GET", `/api/v1/runs/${run.id}/logs?limit=1`)).body.last).toBe(total - 1);
  });

  // points waited behind lines: a command printing metric lines without pause kept the lines queue
  // busy, so its points piled up until they overflowed memory and were dropped (said, but lost)
  test("300,000 metric lines printed at once: every point reaches the run", async () => {
    const total = 300_000;
    const f = script("burst.py", `for i in range(${total}):\n    print("step=%d loss=%f" % (i, 1 / (i + 1)))\n`);
    const r = babysit(["run", "--url", server.url, "--project", "cli-burst", "--", PY, f]);
    expect(r.status).toBe(0);
    expect(r.stderr.toString()).not.toMatch(/[1-9]\d* points did not fit/);
    // the test's kept-alive connection idled past the server's 5 s while babysit ran: asked again
    const run = await runByName("cli-burst").catch(() => runByName("cli-burst"));
    const detail = (await api(server.url, "GET", `/api/v1/runs/${run.id}`)).body;
    expect(detail.keys.find((k: { key: string }) => k.key === "loss").count).toBe(total);
  });

  test("a command that does not exist: 127, as a shell says, and the run says why", async () => {
    const r = babysit(["run", "--url", server.url, "--project", "cli-missing", "--", "no-such-command-here"]);
    expect(r.status).toBe(127);
    expect(r.stderr.toString()).toContain('cannot run "no-such-command-here"');
    expect((await runByName("cli-missing")).status).toBe("crashed");
  });
});

describe("GET and POST /api/v1/runs/{id}/logs", () => {
  let id: string;
  beforeAll(async () => {
    id = (await api(server.url, "POST", "/api/v1/runs", { project: "logs-api" })).body.id;
    const lines = ["Alpha", "beta ALPHA", "(a+)+$ .*", "<b>alpha</b>", "gamma"].map((text, n) => ({ n, stream: "stdout", text }));
    expect((await api(server.url, "POST", `/api/v1/runs/${id}/logs`, { lines })).body).toEqual({ stored: 5, duplicate: 0, refused: 0 });
  });

  // a search read up to 200,000 lines per request whatever their length: over lines of
  // runLogLineMaxLength that held the server (every other request) for seconds per search
  test("a search over long lines answers in parts, each reading a bounded number of characters; following next finds every match", async () => {
    const run = (await api(server.url, "POST", "/api/v1/runs", { project: "logs-long-search" })).body.id;
    const max = LIMITS.runLogLineMaxLength.value;
    const total = 2_500; // 10 million characters: more than one request reads
    for (let start = 0; start < total; start += 200) {
      const lines = Array.from({ length: 200 }, (_, i) => {
        const n = start + i;
        return { n, stream: "stdout", text: (n === 5 || n === total - 1 ? "needle " : "") + "z".repeat(max - 7) };
      });
      expect((await api(server.url, "POST", `/api/v1/runs/${run}/logs`, { lines })).status).toBe(200);
    }
    const found: number[] = [];
    let after = -1;
    let requests = 0;
    for (;;) {
      const r = await api(server.url, "GET", `/api/v1/runs/${run}/logs?q=needle&after=${after}`);
      expect(r.status).toBe(200);
      requests++;
      found.push(...r.body.lines.map((l: { n: number }) => l.n));
      if (r.body.next === null) break;
      after = r.body.next;
    }
    expect(found).toEqual([5, total - 1]);
    expect(requests).toBeGreaterThan(1);
  });

  test("lines sent again are not stored twice", async () => {
    const again = await api(server.url, "POST", `/api/v1/runs/${id}/logs`, { lines: [{ n: 4, stream: "stderr", text: "other" }] });
    expect(again.body).toEqual({ stored: 0, duplicate: 1, refused: 0 });
    const all = (await api(server.url, "GET", `/api/v1/runs/${id}/logs`)).body;
    expect(all.lines.map((l: { text: string }) => l.text)).toEqual(["Alpha", "beta ALPHA", "(a+)+$ .*", "<b>alpha</b>", "gamma"]);
    expect(all).toMatchObject({ next: null, last: 4 });
  });

  test.each([
    ["alpha", ["Alpha", "beta ALPHA", "<b>alpha</b>"]],
    ["(a+)+$", ["(a+)+$ .*"]],
    [".*", ["(a+)+$ .*"]],
    ["<B>", ["<b>alpha</b>"]],
    ["zzz", []],
  ])("q=%s is a plain, case-insensitive substring", async (q, want) => {
    const r = await api(server.url, "GET", `/api/v1/runs/${id}/logs?q=${encodeURIComponent(q)}`);
    expect(r.status).toBe(200);
    expect(r.body.lines.map((l: { text: string }) => l.text)).toEqual(want);
  });

  test("pages: after and limit, next says where to go on", async () => {
    const a = (await api(server.url, "GET", `/api/v1/runs/${id}/logs?limit=2`)).body;
    expect(a.lines.map((l: { n: number }) => l.n)).toEqual([0, 1]);
    expect(a.next).toBe(1);
    const b = (await api(server.url, "GET", `/api/v1/runs/${id}/logs?after=${a.next}&limit=2`)).body;
    expect(b.lines.map((l: { n: number }) => l.n)).toEqual([2, 3]);
    const c = (await api(server.url, "GET", `/api/v1/runs/${id}/logs?after=${b.next}&limit=2`)).body;
    expect(c).toMatchObject({ next: null });
    expect(c.lines.map((l: { n: number }) => l.n)).toEqual([4]);
  });

  const long = "x".repeat(LIMITS.runLogLineMaxLength.value + 1);
  test.each([
    ["no lines", "invalid_body", 400, { lines: [] }],
    ["a negative number", "invalid_body", 400, { lines: [{ n: -1, stream: "stdout", text: "x" }] }],
    ["an unknown stream", "invalid_body", 400, { lines: [{ n: 0, stream: "stdin", text: "x" }] }],
    ["a line too long", "invalid_body", 400, { lines: [{ n: 0, stream: "stdout", text: long }] }],
    ["an unknown field", "invalid_body", 400, { lines: [{ n: 0, stream: "stdout", text: "x", html: true }] }],
    ["a lone surrogate", "invalid_body", 400, { lines: [{ n: 0, stream: "stdout", text: "a\ud800b" }] }],
    // every other time of the API refuses these; a line's was stored as sent
    ["a time in milliseconds", "invalid_body", 400, { lines: [{ n: 0, stream: "stdout", text: "x", time: 1_700_000_000_000 }] }],
    ["a time past timeMax", "invalid_body", 400, { lines: [{ n: 0, stream: "stdout", text: "x", time: 1e300 }] }],
    ["a time as a string", "invalid_body", 400, { lines: [{ n: 0, stream: "stdout", text: "x", time: "1700000000" }] }],
    [
      "too many lines",
      "invalid_body",
      400,
      { lines: Array.from({ length: LIMITS.runLogLinesPerBatch.value + 1 }, (_, n) => ({ n, stream: "stdout", text: "x" })) },
    ],
  ])("POST with %s: %s %i, nothing stored", async (_what, code, status, body) => {
    const before = (await api(server.url, "GET", `/api/v1/runs/${id}/logs`)).body.lines.length;
    const r = await api(server.url, "POST", `/api/v1/runs/${id}/logs`, body);
    expect([r.status, r.body.error?.code]).toEqual([status, code]);
    expect((await api(server.url, "GET", `/api/v1/runs/${id}/logs`)).body.lines.length).toBe(before);
  });

  test.each([
    ["after=abc", "invalid_query", 400],
    ["after=-2", "invalid_query", 400],
    [`limit=${LIMITS.runLogPageMax.value + 1}`, "invalid_query", 400],
    ["limit=0", "invalid_query", 400],
    ["regex=1", "invalid_query", 400],
  ])("GET ?%s: %s %i", async (q, code, status) => {
    const r = await api(server.url, "GET", `/api/v1/runs/${id}/logs?${q}`);
    expect([r.status, r.body.error?.code]).toEqual([status, code]);
  });

  test("lines numbered past runLogLinesPerRun are refused, the others stored", async () => {
    const max = LIMITS.runLogLinesPerRun.value;
    const lines = [max - 1, max, max + 5].map((n) => ({ n, stream: "stdout", text: `line ${n}` }));
    const r = await api(server.url, "POST", `/api/v1/runs/${id}/logs`, { lines });
    expect(r.body).toEqual({ stored: 1, duplicate: 0, refused: 2 });
    const page = (await api(server.url, "GET", `/api/v1/runs/${id}/logs?after=${max - 2}`)).body;
    expect(page.lines.map((l: { n: number }) => l.n)).toEqual([max - 1]);
  });

  test("a run that does not exist: 404 both ways", async () => {
    expect((await api(server.url, "GET", "/api/v1/runs/nope/logs")).status).toBe(404);
    const r = await api(server.url, "POST", "/api/v1/runs/nope/logs", { lines: [{ n: 0, stream: "stdout", text: "x" }] });
    expect([r.status, r.body.error.code]).toEqual([404, "not_found"]);
  });
});

describe("babysit run against a team-mode server", () => {
  test("no API key: the refusal is said once, the command runs to its end, its exit code is returned, the output is kept", async () => {
    const team = await startTeamServer();
    try {
      const f = script("team.py", 'import sys\nprint("(Iteration 1 / 2) loss: 2.0")\nprint("(Iteration 2 / 2) loss: 1.0")\nsys.exit(4)\n');
      const logDir = path.join(work, "team-logs");
      const r = babysit(["run", "--url", team.url, "--project", "cli-team", "--", PY, f], { BABYSIT_RUN_LOG_DIR: logDir, BABYSIT_API_KEY: "" });
      expect(r.status).toBe(4);
      expect(r.stdout.toString()).toBe("(Iteration 1 / 2) loss: 2.0\n(Iteration 2 / 2) loss: 1.0\n");
      const err = r.stderr.toString();
      expect(err.match(/the server refused the run's data/g)).toHaveLength(1);
      const kept = fs.readdirSync(logDir);
      expect(kept).toHaveLength(1);
      expect(err).toContain(path.join(logDir, kept[0]));
      expect(fs.readFileSync(path.join(logDir, kept[0]), "utf8")).toBe(r.stdout.toString());
    } finally {
      team.db.close();
      await team.stop();
    }
  });
});
