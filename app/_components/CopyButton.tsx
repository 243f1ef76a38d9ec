"use client";

import { useState } from "react";

// A one-time secret (an invite's password, a new API key, a new share link) is shown once: a copy
// button beside it, so nobody has to select it by hand. Without a clipboard (plain http on another
// machine: browsers give clipboard access to secure pages only) the field beside it is selected
// for a manual copy and the button says so.

export default function CopyButton({ text, label = "copy" }: { text: string; label?: string }) {
  const [state, setState] = useState<"" | "copied" | "manual">("");
  const copy = async (e: React.MouseEvent<HTMLButtonElement>) => {
    const field = e.currentTarget.parentElement?.querySelector("input");
    try {
      await navigator.clipboard.writeText(text);
      setState("copied");
    } catch {
      field?.focus();
      field?.select();
      setState("manual");
    }
  };
  return (
    <button type="button" className="button small" onClick={(e) => void copy(e)} data-copy aria-label={`${label}${state ? ` (${state})` : ""}`}>
      {state === "copied" ? "copied" : state === "manual" ? "press Ctrl+C" : label}
    </button>
  );
}
