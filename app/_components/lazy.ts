"use client";

import { type RefObject, useEffect, useState } from "react";
import { SeriesLoader } from "@/lib/ui/series-loader";
import { WorkQueue } from "@/lib/ui/work-queue";

// Loading for pages with many charts: one SeriesLoader per tab (so every chart's reads are
// batched together), one draw queue (so drawing many charts never blocks the page for long), and
// a hook that says when an element comes near the viewport.

export const seriesLoader = new SeriesLoader();
export const drawQueue = new WorkQueue();

// One IntersectionObserver per margin for every element on the page: thousands of observers cost
// more than one that watches thousands of elements.
const observers = new Map<string, { io: IntersectionObserver; fns: Map<Element, (near: boolean) => void> }>();

function observe(el: Element, margin: string, fn: (near: boolean) => void): () => void {
  let o = observers.get(margin);
  if (!o) {
    const fns = new Map<Element, (near: boolean) => void>();
    const io = new IntersectionObserver(
      (entries) => {
        for (const e of entries) fns.get(e.target)?.(e.isIntersecting);
      },
      { rootMargin: margin },
    );
    o = { io, fns };
    observers.set(margin, o);
  }
  const { io, fns } = o;
  fns.set(el, fn);
  io.observe(el);
  return () => {
    fns.delete(el);
    io.unobserve(el);
  };
}

/**
 * Whether `ref`'s element is within `margin` of the viewport (CSS margin syntax, e.g. "50% 0px").
 * With `once`, stays true after the first time (a chart that has loaded keeps its data). `initial`
 * is the answer before the first observation (true for what is at the top of a page: it renders
 * on the server and does not wait for a frame).
 */
export function useNear(ref: RefObject<Element | null>, margin: string, once = false, initial = false): boolean {
  const [near, setNear] = useState(initial);
  const done = once && near;
  useEffect(() => {
    const el = ref.current;
    if (!el || done) return;
    if (typeof IntersectionObserver === "undefined") return void setNear(true);
    return observe(el, margin, setNear);
  }, [ref, margin, done]);
  return near;
}
