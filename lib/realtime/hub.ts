import type { Server, Socket } from "socket.io";
import {
  type ClientToServerEvents,
  MAX_ROOMS_PER_SOCKET,
  type PayloadOf,
  type RoomRequest,
  type ServerEvent,
  type ServerToClientEvents,
  roomRequests,
} from "../contract/socket";

// The socket.io server lives in the custom server (server.ts); route handlers reach it through
// globalThis. Rooms: `run:<id>` for a run page, `runs` for the runs list, `share:<token>` beside
// the run's room for a page open on a shared link. Event names and payloads: lib/contract/socket.ts.

export type IOServer = Server<ClientToServerEvents, ServerToClientEvents>;
export type IOSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

const g = globalThis as unknown as { __babysitIO?: IOServer };

export function setIO(io: IOServer | undefined): void {
  g.__babysitIO = io;
}

export function io(): IOServer | undefined {
  return g.__babysitIO;
}

export const runRoom = (runId: string) => `run:${runId}`;
export const RUNS_ROOM = "runs";

/** True when someone is listening in the room, so callers can skip building a payload. */
export function hasListeners(room: string): boolean {
  return (io()?.sockets.adapter.rooms.get(room)?.size ?? 0) > 0;
}

export function emitTo<E extends ServerEvent>(room: string, event: E, payload: PayloadOf<E>): void {
  const server = io();
  // any: socket.io's emit is typed by event; E is one of them
  if (server && hasListeners(room)) (server.to(room).emit as any)(event, payload);
}

/** Sockets that joined a run's room through a shared link are also in this room. */
export const shareRoom = (token: string) => `share:${token}`;

/** A revoked link: the pages open on it are told so, and stop getting the run's updates. */
export function closeShareRoom(token: string, runId: string): void {
  const server = io();
  if (!server) return;
  server.to(shareRoom(token)).emit("share-revoked", { token });
  server.in(shareRoom(token)).socketsLeave([shareRoom(token), runRoom(runId)]);
}

/**
 * The subscribe/unsubscribe rules of one socket. `sharedRun` gives the run a shared-link token
 * opens, or null once revoked. Malformed requests are ignored, and a socket holds at most
 * MAX_ROOMS_PER_SOCKET rooms, so a client cannot grow the server's room table without bound.
 */
export function attachRoomRules(socket: IOSocket, sharedRun: (token: string) => string | null): void {
  const joined = () => socket.rooms.size - 1; // a socket is always in its own room
  socket.on("subscribe", (msg: unknown) => {
    for (const r of roomRequests(msg)) {
      const rooms = roomsOf(r, sharedRun);
      if (!rooms) {
        if ("share" in r) socket.emit("share-revoked", { token: r.share }); // revoked while the page was away
        continue;
      }
      const fresh = rooms.filter((x) => !socket.rooms.has(x));
      if (joined() + fresh.length > MAX_ROOMS_PER_SOCKET) continue;
      if (fresh.length) socket.join(fresh);
    }
  });
  socket.on("unsubscribe", (msg: unknown) => {
    for (const r of roomRequests(msg)) {
      if ("run" in r) socket.leave(runRoom(r.run));
      else if ("runs" in r) socket.leave(RUNS_ROOM);
      else {
        socket.leave(shareRoom(r.share));
        const runId = sharedRun(r.share);
        if (runId) socket.leave(runRoom(runId));
      }
    }
  });
}

function roomsOf(r: RoomRequest, sharedRun: (token: string) => string | null): string[] | null {
  if ("run" in r) return [runRoom(r.run)];
  if ("runs" in r) return [RUNS_ROOM];
  const runId = sharedRun(r.share); // a shared page: the run's room, through its token only
  return runId ? [shareRoom(r.share), runRoom(runId)] : null;
}
