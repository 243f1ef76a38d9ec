import { describe, expect, test } from "vitest";
import { keyMatches, pickerConfigKeys, pickerMetricGroups } from "../../../lib/ui/column-picker";

// The runs list's column picker with many keys (issue #9 §4, second review): keys sorted as text
// put m/5 after m/49, and one flat list of every key was unusable after one watch() run.

describe("column picker keys", () => {
  test("numbers inside keys compare as numbers", () => {
    const keys = ["m/41", "m/5", "m/49", "m/10", "m/9"];
    expect(pickerMetricGroups(keys, "")).toEqual([{ prefix: "m/", keys: ["m/5", "m/9", "m/10", "m/41", "m/49"], layer: false }]);
    expect(pickerConfigKeys(["layer10_width", "layer2_width", "lr"], "")).toEqual(["layer2_width", "layer10_width", "lr"]);
  });

  test("metrics group by prefix: plain groups first, keys without a prefix after them, layer families last", () => {
    const keys = ["act/fc1/mean", "val/acc", "lr", "train/loss", "grad/fc1/norm", "update_ratio/fc1", "weight/fc1/norm", "epoch_time", "val/loss"];
    expect(pickerMetricGroups(keys, "").map((g) => [g.prefix, g.layer, g.keys])).toEqual([
      ["train/", false, ["train/loss"]],
      ["val/", false, ["val/acc", "val/loss"]],
      ["", false, ["epoch_time", "lr"]],
      ["act/", true, ["act/fc1/mean"]],
      ["grad/", true, ["grad/fc1/norm"]],
      ["update_ratio/", true, ["update_ratio/fc1"]],
      ["weight/", true, ["weight/fc1/norm"]],
    ]);
  });

  test.each([
    ["ACC", ["val/acc", "train/acc"], true],
    ["fc1", ["act/fc1/mean"], true],
    ["(", ["f(x)"], true],
    [".*", ["val/acc"], false],
    ["", ["anything"], true],
    ["  acc ", ["val/acc"], true],
  ])("search %j is plain text", (search, keys, match) => {
    for (const k of keys) expect(keyMatches(k, search)).toBe(match);
  });

  test("a search narrows every group and drops the empty ones", () => {
    const keys = ["train/loss", "val/loss", "val/acc", "act/fc1/mean", "__proto__", "constructor"];
    expect(pickerMetricGroups(keys, "loss").map((g) => g.keys)).toEqual([["train/loss"], ["val/loss"]]);
    expect(pickerMetricGroups(keys, "proto").map((g) => g.keys)).toEqual([["__proto__"]]);
    expect(pickerConfigKeys(["lr", "batch size"], "size")).toEqual(["batch size"]);
  });
});
