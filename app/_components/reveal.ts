"use client";

// Alerts and their chart markers point at each other: a click on one scrolls the other into view
// (centred, clear of the sticky chart controls) and rings it briefly in the alert's colour.

export function reveal(selector: string, color: string): void {
  const el = document.querySelector<HTMLElement>(selector);
  if (!el) return;
  const closed = el.closest("details");
  if (closed && !closed.open) closed.open = true; // a resolved alert sits in a collapsed list
  const still = window.matchMedia?.("(prefers-reduced-motion: reduce)").matches;
  el.scrollIntoView({ behavior: still ? "auto" : "smooth", block: "center" });
  el.animate?.([{ boxShadow: `0 0 0 3px ${color}` }, { boxShadow: `0 0 0 3px ${color}` }, { boxShadow: "0 0 0 3px transparent" }], {
    duration: 1600,
    easing: "ease-out",
  });
}

/** A CSS attribute selector value, quoted. */
export const attr = (name: string, value: string) => `[${name}="${CSS.escape(value)}"]`;
