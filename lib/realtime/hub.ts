import type { Server, Socket } from "socket.io";
import {
  type ClientToServerEvents,
  MAX_ROOMS_PER_SOCKET,
  type PayloadOf,
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
export const sweepRoom = (sweepId: string) => `sweep:${sweepId}`;

/** True when someone is listening in the room, so callers can skip building a payload. */
export function hasListeners(room: string): boolean {
  return (io()?.sockets.adapter.rooms.get(room)?.size ?? 0) > 0;
}

export function emitTo<E extends ServerEvent>(room: string, event: E, payload: PayloadOf<E>): void {
  const server = io();
  // any: socket.io's emit is typed by event; E is one of them
  if (server && hasListeners(room)) (server.to(room).emit as any)(event, payload);
}

/** What a dashboard socket follows by id: a run, the runs list, or a sweep (never through a shared link). */
export type FollowRequest = { run: string } | { runs: true } | { sweep: string };
/**
 * Emits to the sockets in a run's room that follow the run by id (a dashboard page whose viewer may
 * read it), not to those there through a shared link only: what a link shows is decided per route,
 * and a run's console output is not part of it (the `logs` event).
 */
export function emitToRunFollowers<E extends ServerEvent>(runId: string, event: E, payload: PayloadOf<E>): void {
  const server = io();
  const ids = server?.sockets.adapter.rooms.get(runRoom(runId));
  if (!server || !ids?.size) return;
  for (const sid of ids) {
    const socket = server.sockets.sockets.get(sid);
    const direct = (socket?.data as { direct?: Set<string> } | undefined)?.direct;
    // any: socket.io's emit is typed by event; E is one of them
    if (socket && direct?.has(runId)) (socket.emit as any)(event, payload);
  }
}

/** Sockets that joined a run's room through a shared link are also in this room (by the link's id: tokens are not kept). */
export const shareRoom = (shareId: number) => `share:${shareId}`;

/** What a shared-link token opens for a socket: its run and link, "expired", or null (unknown or revoked). */
export type SharedRun = (token: string) => { runId: string; shareId: number; expiresAt: number | null } | "expired" | null;

interface ShareSocketData {
  /** The links this socket follows: id -> token (to name it in share-revoked) and its expiry timer. */
  shares?: Map<number, { token: string; runId: string; timer?: NodeJS.Timeout }>;
}

const sharesOf = (socket: { data: unknown }) => {
  const data = socket.data as ShareSocketData;
  if (!data.shares) data.shares = new Map();
  return data.shares;
};

/** A revoked or expired link: the pages open on it are told so, and stop getting the run's updates. */
export function closeShareRoom(shareId: number, reason: "revoked" | "expired"): void {
  const server = io();
  const ids = server?.sockets.adapter.rooms.get(shareRoom(shareId));
  if (!server || !ids) return;
  for (const sid of [...ids]) {
    const socket = server.sockets.sockets.get(sid);
    if (socket) leaveShare(socket, shareId, reason);
  }
}

function leaveShare(socket: IOSocket, shareId: number, reason: "revoked" | "expired" | null): void {
  const link = sharesOf(socket).get(shareId);
  if (!link) return;
  clearTimeout(link.timer);
  sharesOf(socket).delete(shareId);
  socket.leave(shareRoom(shareId));
  // the run's room stays only when the socket follows the run another way
  const other =
    [...sharesOf(socket).values()].some((l) => l.runId === link.runId) || (socket.data as { direct?: Set<string> }).direct?.has(link.runId);
  if (!other) socket.leave(runRoom(link.runId));
  if (reason) socket.emit("share-revoked", { token: link.token, reason });
}

/** Timers reach at most 2^31-1 ms (24.8 days): a later expiry re-arms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function watchExpiry(socket: IOSocket, shareId: number, expiresAt: number | null, sharedRun: SharedRun): void {
  const link = sharesOf(socket).get(shareId);
  if (!link || expiresAt === null) return;
  const ms = Math.max(0, expiresAt * 1000 - Date.now()) + 50;
  link.timer = setTimeout(
    () => {
      const now = sharedRun(link.token);
      if (now === null) leaveShare(socket, shareId, "revoked");
      else if (now === "expired") leaveShare(socket, shareId, "expired");
      else watchExpiry(socket, shareId, now.expiresAt, sharedRun);
    },
    Math.min(ms, MAX_TIMER_MS),
  );
  link.timer.unref();
}

/**
 * The subscribe/unsubscribe rules of one socket. `sharedRun` gives what a shared-link token opens.
 * A socket opened by a shared page (`bound`: its token, from the handshake) may only follow that
 * link: no other run, no runs list, no other link. Malformed requests are ignored, and a socket
 * holds at most MAX_ROOMS_PER_SOCKET rooms, so a client cannot grow the server's room table without bound.
 * `mayFollow` says whether the socket may follow a run or the runs list by id (the permissions,
 * asked at each subscription: lib/auth/socket-access.ts); a refused request is ignored like a malformed one.
 */
export function attachRoomRules(
  socket: IOSocket,
  sharedRun: SharedRun,
  bound: string | null = null,
  mayFollow: (r: FollowRequest) => boolean = () => true,
): void {
  const joined = () => socket.rooms.size - 1; // a socket is always in its own room
  const direct = new Set<string>(); // runs followed by id (not through a link)
  (socket.data as { direct?: Set<string> }).direct = direct;
  socket.on("subscribe", (msg: unknown, joinedAck?: unknown) => {
    // a page learns when its rooms are joined, and reads what was logged before that itself
    if (typeof joinedAck === "function") queueMicrotask(() => (joinedAck as () => void)());
    for (const r of roomRequests(msg)) {
      if (bound !== null && !("share" in r && r.share === bound)) continue;
      if (!("share" in r)) {
        const room = "run" in r ? runRoom(r.run) : "sweep" in r ? sweepRoom(r.sweep) : RUNS_ROOM;
        if (socket.rooms.has(room) || joined() + 1 > MAX_ROOMS_PER_SOCKET || !mayFollow(r)) continue;
        socket.join(room);
        if ("run" in r) direct.add(r.run);
        continue;
      }
      const link = sharedRun(r.share); // a shared page: the run's room, through its token only
      if (link === null || link === "expired") {
        socket.emit("share-revoked", { token: r.share, reason: link ?? "revoked" }); // while the page was away
        continue;
      }
      const fresh = [shareRoom(link.shareId), runRoom(link.runId)].filter((x) => !socket.rooms.has(x));
      if (joined() + fresh.length > MAX_ROOMS_PER_SOCKET) continue;
      if (fresh.length) socket.join(fresh);
      if (!sharesOf(socket).has(link.shareId)) {
        sharesOf(socket).set(link.shareId, { token: r.share, runId: link.runId });
        watchExpiry(socket, link.shareId, link.expiresAt, sharedRun);
      }
    }
  });
  socket.on("unsubscribe", (msg: unknown) => {
    for (const r of roomRequests(msg)) {
      if ("run" in r) {
        direct.delete(r.run);
        if (![...sharesOf(socket).values()].some((l) => l.runId === r.run)) socket.leave(runRoom(r.run));
      } else if ("runs" in r) socket.leave(RUNS_ROOM);
      else if ("sweep" in r) socket.leave(sweepRoom(r.sweep));
      else {
        for (const [id, l] of sharesOf(socket)) if (l.token === r.share) leaveShare(socket, id, null);
      }
    }
  });
  socket.on("disconnect", () => {
    for (const l of sharesOf(socket).values()) clearTimeout(l.timer);
  });
}
