import type { WireNumber } from "../values";
import { LIMITS } from "./limits";

// The live-update contract between the server (socket.io, lib/realtime/hub.ts and server.ts) and
// the pages (app/_components/live.ts): event names, their payloads, and which rooms a socket may
// ask for. Typed once here so that the emitters, the subscribe handler and the pages cannot drift.

export const SOCKET_PATH = "/socket.io";

/**
 * The heartbeat the server asks of every page's socket (socket.io's pingInterval / pingTimeout, in
 * ms). A page whose connection dies without a close it can see (the server frozen, a laptop's network
 * gone, a close lost while the transport was being upgraded) hears no ping and says "offline" within
 * their sum (15 s) instead of socket.io's default 45 s: a page never claims "live" for long while cut off.
 */
export const SOCKET_HEARTBEAT = { pingInterval: 10_000, pingTimeout: 5_000 } as const;

/** A point as `points` events carry it: [step, value, time (Unix seconds)]. */
export type LivePoint = [number, WireNumber, number];

/**
 * `series` maps metric keys to their new points. Keys are user data: the server builds it with a
 * null prototype (so `__proto__` is a key like any other) and readers go through Object.keys or
 * seriesEntries(), never `in` or plain indexing.
 */
export interface PointsPayload {
  runId: string;
  series: Record<string, LivePoint[]>;
}

/** A run as `run` events carry it (the API's run view). */
export interface RunPayload {
  id: string;
  status: string;
  [field: string]: unknown;
}

export interface AlertPayload {
  runId: string;
  /** The alert as the alerts endpoint lists it. */
  alert: object;
}

export interface RunAlertsPayload {
  runId: string;
}

export interface HistogramPayload {
  runId: string;
  key: string;
  step: number;
}

export interface EventPayload {
  runId: string;
  type: string;
  step: number | null;
  data: Record<string, unknown>;
}

/** To the pages open on a shared link when it is revoked or expires (or already was, at subscribe). */
export interface ShareRevokedPayload {
  token: string;
  reason: "revoked" | "expired";
}

/** To the runs room and the run's own room when a run is deleted (its page says so; lists drop it). */
export interface RunDeletedPayload {
  runId: string;
}

/** A line of a run's console output (`babysit run`), as GET /api/v1/runs/{id}/logs lists it. */
export interface LogLine {
  /** The line's number in the run's output, from 0. */
  n: number;
  stream: "stdout" | "stderr";
  /** Unix seconds when it was printed. */
  time: number;
  /** The line as printed, without its line end. Data: pages show it as text, never as HTML. */
  text: string;
}

/** To the pages following a run by id (never through a shared link) as console lines are stored. */
export interface LogsPayload {
  runId: string;
  lines: LogLine[];
}

/** Why a dashboard socket's session ended (team mode): the server says so, then disconnects it. */
export type SessionEndReason = "logged_out" | "expired" | "password_changed" | "account_disabled" | "account_deleted" | "ended";

/** To a dashboard socket whose login session ended, just before the server disconnects it (log in again). */
export interface SessionEndedPayload {
  reason: SessionEndReason;
}

/**
 * To a sweep's room (`sweep:<id>`) when one of its trials is created, logs, raises or clears an
 * alert, or finishes: at most one a second per sweep (the last change is never dropped). The page
 * reads the sweep again (GET /api/v1/sweeps/{id}).
 */
export interface SweepPayload {
  sweepId: string;
}

/** Server -> page events (socket.io's ServerToClientEvents). */
export interface ServerToClientEvents {
  points: (msg: PointsPayload) => void;
  run: (msg: RunPayload) => void;
  alert: (msg: AlertPayload) => void;
  "run-alerts": (msg: RunAlertsPayload) => void;
  histogram: (msg: HistogramPayload) => void;
  event: (msg: EventPayload) => void;
  "share-revoked": (msg: ShareRevokedPayload) => void;
  "run-deleted": (msg: RunDeletedPayload) => void;
  "session-ended": (msg: SessionEndedPayload) => void;
  sweep: (msg: SweepPayload) => void;
  logs: (msg: LogsPayload) => void;
}

export type ServerEvent = keyof ServerToClientEvents;
export type PayloadOf<E extends ServerEvent> = Parameters<ServerToClientEvents[E]>[0];

/** Every server event name, for pages that listen to all of them. */
export const SERVER_EVENTS = [
  "points",
  "run",
  "alert",
  "run-alerts",
  "histogram",
  "event",
  "share-revoked",
  "run-deleted",
  "session-ended",
  "sweep",
  "logs",
] as const satisfies readonly ServerEvent[];

/** A room a page asks for: one run's updates, a shared link's run, the runs list, or a sweep's changes. */
export type RoomRequest = { run: string } | { share: string } | { runs: true } | { sweep: string };

/** Page -> server events (socket.io's ClientToServerEvents). */
export interface ClientToServerEvents {
  /** `joined`, when given, is called once the server has handled the request (rooms joined or refused). */
  subscribe: (room: RoomRequest, joined?: () => void) => void;
  unsubscribe: (room: RoomRequest) => void;
}

/**
 * Rooms one socket may be in at once (besides its own): a page needs a few (a compare view one per
 * run); more is a misbehaving client, and its further subscriptions are ignored so that room names
 * and counts stay bounded whatever a client sends.
 */
export const MAX_ROOMS_PER_SOCKET = 200;

/** Shared-link tokens: 16 random bytes, base64url (lib/shares). */
const TOKEN_LENGTH = 22;

const isIdChar = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 /* _ */ || c === 45; /* - */

function ofIdChars(s: string, max: number): boolean {
  if (s.length === 0 || s.length > max) return false;
  for (let i = 0; i < s.length; i++) if (!isIdChar(s.charCodeAt(i))) return false;
  return true;
}

/** True for a string that can be a run id (the contract's runIdPattern). */
export const isRunId = (s: unknown): s is string => typeof s === "string" && ofIdChars(s, LIMITS.runIdMaxLength.value);

/** True for a string shaped like a shared-link token. */
export const isShareToken = (s: unknown): s is string => typeof s === "string" && s.length === TOKEN_LENGTH && ofIdChars(s, TOKEN_LENGTH);

/**
 * The rooms a subscribe/unsubscribe message asks for, malformed parts dropped (a page sends one
 * room per message; older pages sent several fields in one, still understood).
 */
export function roomRequests(msg: unknown): RoomRequest[] {
  if (!msg || typeof msg !== "object") return [];
  const m = msg as { run?: unknown; runs?: unknown; share?: unknown; sweep?: unknown };
  const out: RoomRequest[] = [];
  if (isRunId(m.run)) out.push({ run: m.run });
  if (isRunId(m.sweep)) out.push({ sweep: m.sweep }); // sweep ids are made like run ids
  if (m.runs === true) out.push({ runs: true });
  if (isShareToken(m.share)) out.push({ share: m.share });
  return out;
}

/** The key/points pairs of a `points` payload, whatever the keys are named. */
export function seriesEntries(series: PointsPayload["series"]): [string, LivePoint[]][] {
  if (!series || typeof series !== "object") return [];
  return Object.keys(series).map((k) => [k, (series as Record<string, LivePoint[]>)[k]]);
}

/** Builds a `points` payload's series from a Map: a null-prototype record, so every key survives. */
export function seriesRecord(entries: Iterable<[string, LivePoint[]]>): PointsPayload["series"] {
  const out = Object.create(null) as Record<string, LivePoint[]>;
  for (const [k, pts] of entries) out[k] = pts;
  return out;
}
