// One order for every list of user-named keys on the pages (charts, legends, histogram and image
// panels): digit runs compare by value (act/2 before act/10), letters ignore case, and keys that
// still tie (Fc1 and fc1) fall back to code-unit order so the order is total and stable.

const collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

export function naturalCompare(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** A sorted copy of `items` by `keyOf` (the item itself by default). */
export function naturalSort<T>(items: readonly T[], keyOf: (t: T) => string = (t) => String(t)): T[] {
  return [...items].sort((x, y) => naturalCompare(keyOf(x), keyOf(y)));
}
