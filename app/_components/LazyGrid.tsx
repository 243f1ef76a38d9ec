"use client";

import { Fragment, type ReactNode, useLayoutEffect, useRef, useState } from "react";
import { chartFamilies } from "@/lib/ui/chart-families";
import { plural } from "@/lib/ui/format";
import { useNear } from "./lazy";

// A chart grid that mounts only what is near the viewport. Its items go in blocks of BLOCK, blocks
// in groups of GROUP; a block or group away from the viewport is an empty box of its last known
// (else estimated) height. 10,000 charts are then a hundred boxes and a few dozen live charts, and
// the page's first render stays small. A block that leaves and comes back mounts its charts
// afresh, and they fetch what is stored by then: nothing logged while they were away is missed.
// A box names the items it stands for (data-holds), so a link to one of them can scroll there.

const BLOCK = 12; // divisible by 1, 2, 3, 4 and 6 columns: blocks end on full rows
const GROUP = BLOCK * 8;
const GAP = 14;

/** The grid's CSS class and its column's least width (globals.css), for the estimated heights. */
export interface GridLayout {
  gridClass: string;
  columnMin: number;
  /** A row's height until one is measured. */
  rowHeight: number;
}
export const CHART_GRID: GridLayout = { gridClass: "chart-grid", columnMin: 440, rowHeight: 330 };
export const IMAGE_GRID: GridLayout = { gridClass: "chart-grid images", columnMin: 200, rowHeight: 260 };

// a row's height per grid class, refined from the blocks measured
const rowHeights = new Map<string, number>();

interface Props<T> {
  items: readonly T[];
  itemKey: (t: T) => string;
  render: (t: T) => ReactNode;
  layout?: GridLayout;
}

/** With `eager` (the default), the grid's first block renders with the page, without waiting to be seen. */
export default function LazyGrid<T>({ eager = true, ...props }: Props<T> & { eager?: boolean }) {
  const groups = chunk(props.items, GROUP);
  return (
    <div className="lazy-grid">
      {groups.map((g, i) => (
        <Chunk key={props.itemKey(g[0])} {...props} items={g} group first={eager && i === 0} />
      ))}
    </div>
  );
}

/**
 * A section's charts as lazy grids: on a page with many charts, the charts sharing a key prefix
 * form a family under its own heading, which collapses (lib/ui/chart-families.ts).
 */
export function FamilyGrids<T extends { title: string }>(props: Props<T>) {
  const [closed, setClosed] = useState<ReadonlySet<string>>(new Set());
  return (
    <>
      {chartFamilies(props.items).map((f, i) => {
        // only the first grid renders with the page: a thousand small families would otherwise
        // each render their charts at once (ten thousand charts in the page's HTML)
        if (f.name === null) return <LazyGrid key="" {...props} items={f.charts} eager={i === 0} />;
        const name = f.name;
        const open = !closed.has(name);
        return (
          <div key={`f:${name}`} className="chart-family" data-family={name}>
            <h3>
              <button
                type="button"
                className="family-toggle"
                aria-expanded={open}
                onClick={() =>
                  setClosed((c) => {
                    const n = new Set(c);
                    if (open) n.add(name);
                    else n.delete(name);
                    return n;
                  })
                }
              >
                {name}/<span className="muted"> · {plural(f.charts.length, "chart")}</span>
              </button>
            </h3>
            {open && <LazyGrid {...props} items={f.charts} eager={i === 0} />}
          </div>
        );
      })}
    </>
  );
}

function Chunk<T>({ items, itemKey, render, layout = CHART_GRID, group = false, first = false }: Props<T> & { group?: boolean; first?: boolean }) {
  const ref = useRef<HTMLDivElement>(null);
  // groups mount their blocks well ahead; blocks mount their charts a screen ahead; the first
  // block of a grid is there from the start (rendered with the page, no frame's wait)
  const near = useNear(ref, group ? "300% 0px" : "100% 0px", false, first);
  const height = useRef<number | null>(null);

  // remember the height the charts took, for the box that stands in for them while away
  useLayoutEffect(() => {
    const el = ref.current;
    if (!near || !el) return;
    const measure = () => {
      if (el.offsetHeight > 0) height.current = el.offsetHeight;
      const rows = group ? 0 : Math.ceil(items.length / columns(el.offsetWidth, layout));
      if (rows > 0 && el.offsetHeight > 0) rowHeights.set(layout.gridClass, (el.offsetHeight + GAP) / rows);
    };
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, [near, group, items.length, layout]);

  const cols = columns(ref.current?.offsetWidth || 1300, layout);
  const rowHeight = rowHeights.get(layout.gridClass) ?? layout.rowHeight;
  const rows = chunk(items, BLOCK).reduce((n, b) => n + Math.ceil(b.length / cols), 0);
  // the observed element stays the same whether the charts are in it or not
  return (
    <div
      ref={ref}
      className={group ? "lazy-grid" : "lazy-block"}
      style={near ? undefined : { height: height.current ?? rows * rowHeight - GAP }}
      data-holds={near ? undefined : items.map(itemKey).join(" ")}
    >
      {near &&
        (group ? (
          chunk(items, BLOCK).map((b, i) => (
            <Chunk key={itemKey(b[0])} items={b} itemKey={itemKey} render={render} layout={layout} first={first && i === 0} />
          ))
        ) : (
          <div className={layout.gridClass}>
            {items.map((t) => (
              <Fragment key={itemKey(t)}>{render(t)}</Fragment>
            ))}
          </div>
        ))}
    </div>
  );
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function columns(width: number, layout: GridLayout): number {
  return Math.max(1, Math.floor((width + GAP) / (layout.columnMin + GAP)));
}
