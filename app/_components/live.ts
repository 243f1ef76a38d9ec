"use client";

import { useEffect, useRef } from "react";
import { io, type Socket } from "socket.io-client";
import type { LivePoint } from "@/lib/ui/series";

// One socket.io connection per tab, same origin, path /socket.io. Components ask for rooms with
// useLive(); rooms are reference-counted so two components can share one without unsubscribing
// each other, and re-joined after a reconnect (the server forgets rooms with the old socket).

export type Room = { run: string } | { share: string } | { runs: true };

let socket: Socket | null = null;
const rooms = new Map<string, { room: Room; refs: number }>();

const roomKey = (r: Room) => ("run" in r ? `run:${r.run}` : "share" in r ? `share:${r.share}` : "runs");

function getSocket(): Socket {
  if (!socket) {
    socket = io({ path: "/socket.io" });
    socket.on("connect", () => {
      for (const { room } of rooms.values()) socket!.emit("subscribe", room);
    });
  }
  return socket;
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
  if (s.connected) s.emit("subscribe", room);
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
  points?: (msg: { runId: string; series: Record<string, LivePoint[]> }) => void;
  run?: (msg: { id: string; status: string; [k: string]: unknown }) => void;
  alert?: (msg: { runId: string; alert: Record<string, unknown> }) => void;
  /** To the runs room: some run's alerts changed (its counts in the list are out of date). */
  runAlerts?: (msg: { runId: string }) => void;
  histogram?: (msg: { runId: string; key: string; step: number }) => void;
  event?: (msg: { runId: string; type: string; step: number | null; data: Record<string, unknown> }) => void;
  /**
   * The rooms are joined: at mount when the socket is already up, and on every (re)connection.
   * Whatever was sent before (`first`: between the page's data and now; otherwise while the
   * connection was down) was missed, so refetch.
   */
  connected?: (first: boolean) => void;
}

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

  useEffect(() => {
    const s = getSocket();
    const wanted = roomList;
    for (const r of wanted) join(r);
    let seen = s.connected;
    if (seen) ref.current.connected?.(true);
    // socket.io hands over parsed JSON
    type Msg = any;
    const on: Record<string, (m: Msg) => void> = {
      points: (m: Msg) => ref.current.points?.(m),
      run: (m: Msg) => ref.current.run?.(m),
      alert: (m: Msg) => ref.current.alert?.(m),
      "run-alerts": (m: Msg) => ref.current.runAlerts?.(m),
      histogram: (m: Msg) => ref.current.histogram?.(m),
      event: (m: Msg) => ref.current.event?.(m),
      connect: () => {
        ref.current.connected?.(!seen);
        seen = true;
      },
    };
    for (const [ev, fn] of Object.entries(on)) s.on(ev, fn);
    return () => {
      for (const [ev, fn] of Object.entries(on)) s.off(ev, fn);
      for (const r of wanted) leave(r);
    };
    // `keys` is the identity of roomList
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

  publish(runId: string, series: Record<string, LivePoint[]>): void {
    for (const key in series) {
      for (const fn of this.listeners.get(`${runId}\u0000${key}`) ?? []) fn(series[key]);
    }
  }
}
