import { describe, expect, test } from "vitest";
import { bulkFailures, bulkRefusal } from "@/lib/ui/bulk-refusal";

// The runs list names refused runs by name (the API names ids), with their owner, and says the
// selection is kept.

const picked = [
  { id: "carolrevoked", name: "carol's resnet", owner: "carol" },
  { id: "r2", name: "sweep 7", owner: null },
  { id: "mine", name: "my run", owner: "bob" },
];

describe("bulkRefusal", () => {
  test.each([
    [
      "2 of the 3 runs are refused (only a run's owner or an admin deletes it): carolrevoked, r2; nothing was changed",
      `Nothing was changed: 2 of the 3 runs are refused (only a run's owner or an admin deletes it): "carol's resnet" (owner carol), "sweep 7" (no owner). They are still selected: unselect them to go on with the others.`,
    ],
    [
      "25 of the 26 runs are refused (only a run's owner or an admin deletes it): carolrevoked and 24 more; nothing was changed",
      `Nothing was changed: 25 of the 26 runs are refused (only a run's owner or an admin deletes it): "carol's resnet" (owner carol) and 24 more. They are still selected: unselect them to go on with the others.`,
    ],
    // an id the page does not know (gone from the list meanwhile) stays an id
    [
      "1 of the 1 runs are refused (only a run's owner or an admin deletes it): elsewhere; nothing was changed",
      `Nothing was changed: 1 of the 1 runs are refused (only a run's owner or an admin deletes it): elsewhere. They are still selected: unselect them to go on with the others.`,
    ],
    // a message of another form is shown as it came
    ["this API key may not do this", "this API key may not do this"],
  ])("%s", (message, shown) => {
    expect(bulkRefusal(message, picked)).toBe(shown);
  });
});

describe("bulkFailures", () => {
  test("names each failed run with its reason", () => {
    const results = [
      { id: "mine", ok: true },
      { id: "r2", ok: false, error: { message: "no run r2" } },
    ];
    expect(bulkFailures(results, picked)).toBe(`1 of 2 not done: "sweep 7" (no owner): no run r2`);
    expect(bulkFailures([{ id: "mine", ok: true }], picked)).toBe("");
  });
});
