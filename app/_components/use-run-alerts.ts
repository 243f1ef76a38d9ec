"use client";

import { useCallback, useEffect, useState } from "react";
import type { Alert } from "@/lib/ui/api-types";
import { useLive } from "./live";
import { type RunAccess, directAccess } from "./run-access";

// A run's alerts, as the alerts endpoint lists them, kept current by socket.io `alert` events
// (raised, updated, escalated, resolved). null until the first answer. The panel and the chart
// markers read the same list, so they never disagree.

export function useRunAlerts(runId: string, access: RunAccess = directAccess): Alert[] | null {
  const [alerts, setAlerts] = useState<Alert[] | null>(null);

  const load = useCallback(async () => {
    try {
      const res = await fetch(`${access.api(runId)}/alerts`);
      if (!res.ok) return;
      const body = (await res.json()) as { alerts?: Alert[] };
      if (Array.isArray(body.alerts)) setAlerts((prev) => merge(prev ?? [], body.alerts!));
    } catch {
      // stays as it is; the next event or reconnection fetches again
    }
  }, [runId, access]);

  useEffect(() => {
    void load();
  }, [load]);

  useLive([access.room(runId)], {
    alert: (msg) => {
      if (msg.runId !== runId || !msg.alert) return;
      setAlerts((prev) => merge(prev ?? [], [msg.alert as unknown as Alert]));
    },
    // (re)joined the room: whatever happened before is in the list
    connected: () => load(),
  });

  return alerts;
}

/**
 * One alert per code, the most recently updated version of each: a list fetched before an event
 * arrived (and answered after it) does not undo the event.
 */
function merge(prev: Alert[], incoming: Alert[]): Alert[] {
  const byCode = new Map(prev.map((a) => [a.code, a]));
  for (const a of incoming) {
    const old = byCode.get(a.code);
    if (!old || (a.updatedAt ?? Infinity) >= (old.updatedAt ?? 0)) byCode.set(a.code, a);
  }
  return [...byCode.values()];
}
