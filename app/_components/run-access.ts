"use client";

import { createContext, useContext } from "react";
import type { Room } from "./live";

// How a page reaches a run's data: the dashboard by run id (/api/v1/runs/<id>/..., socket room
// {run}), a shared link by its token only (/api/v1/shares/<token>/..., socket room {share}), so
// that a shared page never needs the rest of the API.

export interface RunAccess {
  /** Base path of the run's API: append "/series?...", "/alerts", ... */
  api(runId: string): string;
  /** The socket.io room of the run's live updates. */
  room(runId: string): Room;
  /** The token of a shared link, when the page is one. */
  share?: string;
}

export const directAccess: RunAccess = {
  api: (runId) => `/api/v1/runs/${encodeURIComponent(runId)}`,
  room: (runId) => ({ run: runId }),
};

export function shareAccess(token: string): RunAccess {
  return { api: () => `/api/v1/shares/${encodeURIComponent(token)}`, room: () => ({ share: token }), share: token };
}

export const RunAccessContext = createContext<RunAccess>(directAccess);

export const useRunAccess = () => useContext(RunAccessContext);
