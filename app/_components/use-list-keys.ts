"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import { tryJson } from "@/lib/ui/api-error";

// The config and metric keys the project's newest runs have (GET /api/v1/runs?keys=true), for the
// runs list's column picker, config filter and sort menu. Read each time one of them is opened
// (so keys logged since show up), never before: a list that nobody customizes does not ask.

export interface ListKeys {
  config: string[];
  metrics: string[];
}

export function useListKeys(project: string): { keys: ListKeys | null; want: () => void } {
  const [keys, setKeys] = useState<ListKeys | null>(null);
  const [asks, setAsks] = useState(0);
  const asked = useRef("");
  const shownFor = useRef<string | null>(null);
  useEffect(() => {
    if (asks === 0) return;
    const query = `limit=1&keys=true${project ? `&project=${encodeURIComponent(project)}` : ""}`;
    asked.current = query;
    // another project's keys are not this one's: none until its answer (the same project's stay)
    if (shownFor.current !== project) setKeys(null);
    void fetch(`/api/v1/runs?${query}`)
      .then((res) => (res.ok ? tryJson<{ keys?: ListKeys }>(res) : null))
      .catch(() => null)
      .then((body) => {
        // an answer for another project than the one now shown is dropped
        if (!body?.keys || asked.current !== query) return;
        shownFor.current = project;
        setKeys(body.keys);
      });
  }, [project, asks]);
  const want = useCallback(() => setAsks((n) => n + 1), []);
  return { keys, want };
}
