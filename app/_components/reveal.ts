"use client";

// Alerts and their chart markers point at each other: a click on one scrolls the other into view
// (centred, clear of the sticky chart controls) and rings it briefly in the alert's colour.

export function reveal(selector: string, color: string, holder?: string, unfolded = false): void {
  const el = document.querySelector<HTMLElement>(selector);
  if (!el) {
    if (holder) revealHeld(selector, color, holder);
    return;
  }
  // a symptom sits folded under its root cause (AlertsPanel): unfold it through its toggle first
  const folded = el.closest<HTMLElement>(".alert-symptoms[hidden]");
  if (folded && !unfolded) {
    document.querySelector<HTMLElement>(`[aria-controls="${CSS.escape(folded.id)}"]`)?.click();
    requestAnimationFrame(() => reveal(selector, color, holder, true));
    return;
  }
  const closed = el.closest("details");
  if (closed && !closed.open) closed.open = true; // a resolved alert sits in a collapsed list
  const still = window.matchMedia?.("(prefers-reduced-motion: reduce)").matches;
  el.scrollIntoView({ behavior: still ? "auto" : "smooth", block: "center" });
  el.animate?.([{ boxShadow: `0 0 0 3px ${color}` }, { boxShadow: `0 0 0 3px ${color}` }, { boxShadow: "0 0 0 3px transparent" }], {
    duration: 1600,
    easing: "ease-out",
  });
}

/**
 * On a long page a chart far from the viewport is not mounted: scroll to the box that holds it
 * (`holder`, the innermost match) until it is, then reveal it.
 */
function revealHeld(selector: string, color: string, holder: string): void {
  const deadline = performance.now() + 4000;
  let last: Element | null = null;
  const step = () => {
    if (document.querySelector(selector)) return reveal(selector, color);
    const boxes = document.querySelectorAll<HTMLElement>(holder);
    const box = boxes[boxes.length - 1];
    if (!box) return;
    if (box !== last) box.scrollIntoView({ block: "start" });
    last = box;
    if (performance.now() < deadline) requestAnimationFrame(step);
  };
  step();
}

/** A CSS attribute selector value, quoted. */
export const attr = (name: string, value: string) => `[${name}="${CSS.escape(value)}"]`;
