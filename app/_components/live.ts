"use client";

import { useEffect, useRef, useSyncExternalStore } from "react";
import { io, type Socket } from "socket.io-client";
import {
  type ClientToServerEvents,
  type LivePoint,
  type PayloadOf,
  type RoomRequest,
  SERVER_EVENTS,
  SOCKET_PATH,
  type ServerEvent,
  type ServerToClientEvents,
  seriesEntries,
} from "@/lib/contract/socket";

// One socket.io connection per tab, same origin. Components ask for rooms with useLive(); rooms
// are reference-counted so two components can share one without unsubscribing each other, and
// re-joined after a reconnect (the server forgets rooms with the old socket). The connection's
// state is the page's to show (useLinkState): a page never claims "live" while it is cut off.

export type Room = RoomRequest;

let socket: Socket<ServerToClientEvents, ClientToServerEvents> | null = null;
const rooms = new Map<string, { room: Room; refs: number }>();

const roomKey = (r: Room) => ("run" in r ? `run:${r.run}` : "share" in r ? `share:${r.share}` : "sweep" in r ? `sweep:${r.sweep}` : "runs");

/**
 * connecting: no connection yet (the page's data is as the server rendered it);
 * live: connected, updates arrive; offline: the connection is lost, reconnecting;
 * catching-up: back, refetching what was logged meanwhile; caught-up: back and up to date;
 * session-ended: team mode's login session ended (logout elsewhere, expiry, new password, account
 * disabled or deleted): no more updates until the user logs in again.
 */
export type LinkState = "connecting" | "live" | "offline" | "catching-up" | "caught-up" | "session-ended";

let linkState: LinkState = "connecting";
let everConnected = false;
let pendingCatchUps = 0;
const linkListeners = new Set<() => void>();

function setLink(s: LinkState): void {
  if (s === linkState) return;
  linkState = s;
  for (const fn of linkListeners) fn();
}

/** Counts a refetch made after a reconnect: the page is caught up once every one has settled. */
export function trackCatchUp(p: unknown): void {
  if (!(p instanceof Promise) || linkState !== "catching-up") return;
  pendingCatchUps++;
  void p
    .catch(() => {})
    .finally(() => {
      pendingCatchUps--;
      settleCatchUp();
    });
}

function settleCatchUp(): void {
  if (pendingCatchUps === 0 && linkState === "catching-up" && socket?.connected) setLink("caught-up");
}

function getSocket(): Socket<ServerToClientEvents, ClientToServerEvents> {
  if (!socket) {
    // a shared page's socket names its link: the server lets it follow that link only (and the
    // share-only listener lets in no socket without one)
    const shared = /^\/share\/([A-Za-z0-9_-]+)$/.exec(window.location.pathname)?.[1];
    const s: Socket<ServerToClientEvents, ClientToServerEvents> = io({ path: SOCKET_PATH, auth: shared ? { share: shared } : {} });
    socket = s;
    s.on("connect", () => {
      for (const { room } of rooms.values()) subscribe(s, room);
      if (!everConnected) {
        everConnected = true;
        setLink("live");
        return;
      }
      // the pages' connect handlers (registered after this one) start their refetches now
      setLink("catching-up");
      setTimeout(settleCatchUp, 0);
    });
    // the server says why before it drops a socket whose session ended: asking again is pointless
    s.on("session-ended", () => setLink("session-ended"));
    s.on("disconnect", (reason) => {
      if (linkState === "session-ended") return;
      setLink("offline");
      // a server that drops the socket itself is not retried by socket.io: ask again
      if (reason === "io server disconnect") s.connect();
    });
    s.on("connect_error", (err: Error & { data?: { error?: { code?: unknown } } }) => {
      // refused for want of a session (it ended while the page was away): socket.io does not retry this
      if (!shared && err.message === "unauthenticated") setLink("session-ended");
      else if (!s.connected) setLink("offline");
      // a link revoked or expired while the page was away is refused at the handshake (and
      // socket.io does not retry a refusal): the page is told as an open one is
      const code = err.data?.error?.code;
      if (shared && (code === "share_expired" || code === "not_found")) {
        const msg = { token: shared, reason: code === "share_expired" ? "expired" : "revoked" } as const;
        for (const fn of s.listeners("share-revoked")) fn(msg);
      }
    });
  }
  return socket;
}

/**
 * Closes this tab's socket for good (logging out: the server ends the session's sockets, and a
 * poll of the ended session would be refused); the page is left right after.
 */
export function closeLive(): void {
  socket?.disconnect(); // "io client disconnect": not asked again
}

/** This tab's connection state, re-rendering on change ("connecting" on the server). */
export function useLinkState(): LinkState {
  return useSyncExternalStore(
    (fn) => {
      linkListeners.add(fn);
      return () => linkListeners.delete(fn);
    },
    () => linkState,
    () => "connecting",
  );
}

const joinedListeners = new Set<(room: Room) => void>();

/**
 * Calls `fn` with each room once the server has joined it (after every (re)connect too): events
 * sent before that reached no one, so a page reads what it may have missed then.
 */
export function onJoined(fn: (room: Room) => void): () => void {
  joinedListeners.add(fn);
  return () => joinedListeners.delete(fn);
}

function subscribe(s: Socket<ServerToClientEvents, ClientToServerEvents>, room: Room): void {
  s.emit("subscribe", room, () => {
    for (const fn of joinedListeners) fn(room);
  });
}

function join(room: Room): void {
  const k = roomKey(room);
  const entry = rooms.get(k);
  if (entry) {
    entry.refs++;
    return;
  }
  rooms.set(k, { room, refs: 1 });
  const s = getSocket();
  if (s.connected) subscribe(s, room);
}

function leave(room: Room): void {
  const k = roomKey(room);
  const entry = rooms.get(k);
  if (!entry) return;
  if (--entry.refs > 0) return;
  rooms.delete(k);
  if (socket?.connected) socket.emit("unsubscribe", room);
}

export interface LiveHandlers {
  points?: (msg: PayloadOf<"points">) => void;
  run?: (msg: PayloadOf<"run">) => void;
  alert?: (msg: PayloadOf<"alert">) => void;
  /** To the runs room: some run's alerts changed (its counts in the list are out of date). */
  runAlerts?: (msg: PayloadOf<"run-alerts">) => void;
  histogram?: (msg: PayloadOf<"histogram">) => void;
  event?: (msg: PayloadOf<"event">) => void;
  /** A shared link this page is open on was revoked or expired. */
  shareRevoked?: (msg: PayloadOf<"share-revoked">) => void;
  runDeleted?: (msg: PayloadOf<"run-deleted">) => void;
  /** To a sweep's room: a trial of it started, reported, raised an alert or finished (read the sweep again). */
  sweep?: (msg: PayloadOf<"sweep">) => void;
  /** The login session ended (the link state says so too: useLinkState). */
  sessionEnded?: (msg: PayloadOf<"session-ended">) => void;
  /** Console lines of a run followed by id (never on a shared page). */
  logs?: (msg: PayloadOf<"logs">) => void;
  /**
   * The rooms are joined: at mount when the socket is already up, and on every (re)connection.
   * Whatever was sent before (`first`: between the page's data and now; otherwise while the
   * connection was down) was missed, so refetch; return the refetch's promise, and after a
   * reconnect the page reads "caught up" once it has settled.
   */
  connected?: (first: boolean) => unknown;
}

const HANDLER_OF: Record<ServerEvent, keyof LiveHandlers> = {
  points: "points",
  run: "run",
  alert: "alert",
  "run-alerts": "runAlerts",
  histogram: "histogram",
  event: "event",
  "share-revoked": "shareRevoked",
  "run-deleted": "runDeleted",
  "session-ended": "sessionEnded",
  sweep: "sweep",
  logs: "logs",
};

/**
 * Resolves once this tab's rooms are joined (or after `timeoutMs` without a connection, so a
 * page still shows its data). Fetch after it and nothing logged in between goes missing: what
 * the fetch does not return arrives as an event.
 */
export function liveReady(timeoutMs = 2000): Promise<void> {
  const s = getSocket();
  return new Promise((resolve) => {
    // when already connected, let the effects of this render join their rooms first
    if (s.connected) return void setTimeout(resolve, 0);
    const done = () => {
      clearTimeout(timer);
      s.off("connect", done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    s.on("connect", done); // registered after the handler in getSocket() that joins the rooms
  });
}

/** Joins `rooms` while mounted and calls the latest handlers for their events. */
export function useLive(roomList: Room[], handlers: LiveHandlers): void {
  const ref = useRef(handlers);
  ref.current = handlers;
  const keys = roomList.map(roomKey).sort().join("|");

  // biome-ignore lint/correctness/useExhaustiveDependencies: keys is the identity of roomList (a new array each render): join and leave only when the rooms change
  useEffect(() => {
    const s = getSocket();
    const wanted = roomList;
    for (const r of wanted) join(r);
    let seen = s.connected;
    if (seen) ref.current.connected?.(true);
    const on = SERVER_EVENTS.map((ev) => {
      // any: each handler gets its own event's payload
      const fn = (m: any) => (ref.current[HANDLER_OF[ev]] as ((m: unknown) => void) | undefined)?.(m);
      return [ev, fn] as const;
    });
    const onConnect = () => {
      const again = seen;
      seen = true;
      const p = ref.current.connected?.(!again);
      if (again) trackCatchUp(p);
    };
    for (const [ev, fn] of on) s.on(ev, fn);
    s.on("connect", onConnect);
    return () => {
      for (const [ev, fn] of on) s.off(ev, fn);
      s.off("connect", onConnect);
      for (const r of wanted) leave(r);
    };
  }, [keys]);
}

type Listener = (points: LivePoint[]) => void;

/**
 * Fans live points out to the charts that draw them, keyed by run and metric key. A page
 * publishes each `points` event once; every chart subscribes to its own lines.
 */
export class LiveBus {
  private listeners = new Map<string, Set<Listener>>();

  subscribe(runId: string, key: string, fn: Listener): () => void {
    const k = `${runId}\u0000${key}`;
    if (!this.listeners.has(k)) this.listeners.set(k, new Set());
    this.listeners.get(k)!.add(fn);
    return () => {
      this.listeners.get(k)?.delete(fn);
    };
  }

  publish(runId: string, series: PayloadOf<"points">["series"]): void {
    for (const [key, pts] of seriesEntries(series)) {
      for (const fn of this.listeners.get(`${runId}\u0000${key}`) ?? []) fn(pts);
    }
  }
}
