"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import { tryJson } from "@/lib/ui/api-error";

// The config and metric keys the runs of a project have (GET /api/v1/runs?keys=true), for the
// runs list's column picker, config filter and sort menu. Read when one of them is first opened
// (it reads every key row of the project's runs), again when the project changes while shown.

export interface ListKeys {
  config: string[];
  metrics: string[];
}

export function useListKeys(project: string): { keys: ListKeys | null; want: () => void } {
  const [keys, setKeys] = useState<ListKeys | null>(null);
  const [wanted, setWanted] = useState(false);
  const asked = useRef("");
  useEffect(() => {
    if (!wanted) return;
    const query = `limit=1&keys=true${project ? `&project=${encodeURIComponent(project)}` : ""}`;
    asked.current = query;
    setKeys(null);
    void fetch(`/api/v1/runs?${query}`)
      .then((res) => (res.ok ? tryJson<{ keys?: ListKeys }>(res) : null))
      .catch(() => null)
      .then((body) => {
        // an answer for another project than the one now shown is dropped
        if (body?.keys && asked.current === query) setKeys(body.keys);
      });
  }, [project, wanted]);
  const want = useCallback(() => setWanted(true), []);
  return { keys, want };
}
