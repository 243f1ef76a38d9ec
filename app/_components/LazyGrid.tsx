"use client";

import { Fragment, type ReactNode, useLayoutEffect, useRef } from "react";
import { useNear } from "./lazy";

// A chart grid that mounts only what is near the viewport: its items go in blocks of BLOCK, and a
// block further than a screen or so away is an empty box of its last known (else estimated)
// height. 10,000 charts are then a few hundred boxes and a few dozen live charts. A block that
// leaves and comes back mounts its charts afresh, and they fetch what is stored by then: nothing
// logged while they were away is missed.

const BLOCK = 12; // divisible by 1, 2, 3, 4 and 6 columns: blocks end on full rows
const COLUMN_MIN = 440; // .chart-grid's minmax(440px, 1fr)
const GAP = 14;
let rowHeight = 330; // refined from the first block measured

export default function LazyGrid<T>({ items, itemKey, render }: { items: readonly T[]; itemKey: (t: T) => string; render: (t: T) => ReactNode }) {
  const blocks: T[][] = [];
  for (let i = 0; i < items.length; i += BLOCK) blocks.push(items.slice(i, i + BLOCK));
  return (
    <div className="lazy-grid">
      {blocks.map((b) => (
        <Block key={itemKey(b[0])} items={b} itemKey={itemKey} render={render} />
      ))}
    </div>
  );
}

function Block<T>({ items, itemKey, render }: { items: T[]; itemKey: (t: T) => string; render: (t: T) => ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  const near = useNear(ref, "100% 0px");
  const height = useRef<number | null>(null);

  // remember the height the charts took, for the box that stands in for them while away
  useLayoutEffect(() => {
    const el = ref.current;
    if (!near || !el) return;
    const measure = () => {
      height.current = el.offsetHeight;
      const cols = columns(el.offsetWidth);
      const rows = Math.ceil(items.length / cols);
      if (rows > 0 && el.offsetHeight > 0) rowHeight = (el.offsetHeight + GAP) / rows;
    };
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, [near, items.length]);

  const width = ref.current?.offsetWidth ?? 0;
  const estimate = Math.ceil(items.length / columns(width || 1300)) * rowHeight - GAP;
  // the observed element stays the same whether the charts are in it or not
  return (
    <div ref={ref} className="lazy-block" style={near ? undefined : { height: height.current ?? estimate }}>
      {near && (
        <div className="chart-grid">
          {items.map((t) => (
            <Fragment key={itemKey(t)}>{render(t)}</Fragment>
          ))}
        </div>
      )}
    </div>
  );
}

function columns(width: number): number {
  return Math.max(1, Math.floor((width + GAP) / (COLUMN_MIN + GAP)));
}

