import type { Server } from "socket.io";

// The socket.io server lives in the custom server (server.ts); route handlers reach it through
// globalThis. Rooms: `run:<id>` for a run page, `runs` for the runs list.

const g = globalThis as unknown as { __babysitIO?: Server };

export function setIO(io: Server | undefined): void {
  g.__babysitIO = io;
}

export function io(): Server | undefined {
  return g.__babysitIO;
}

export const runRoom = (runId: string) => `run:${runId}`;
export const RUNS_ROOM = "runs";

/** True when someone is listening in the room, so callers can skip building a payload. */
export function hasListeners(room: string): boolean {
  return (io()?.sockets.adapter.rooms.get(room)?.size ?? 0) > 0;
}

export function emitTo(room: string, event: string, payload: unknown): void {
  const server = io();
  if (server && hasListeners(room)) server.to(room).emit(event, payload);
}

/** Sockets that joined a run's room through a shared link are also in this room. */
export const shareRoom = (token: string) => `share:${token}`;

/** A revoked link: the pages open on it stop getting the run's updates. */
export function closeShareRoom(token: string, runId: string): void {
  io()?.in(shareRoom(token)).socketsLeave([shareRoom(token), runRoom(runId)]);
}
