import crypto from "node:crypto";
import { forgetRun } from "../alerts/watch-runs";
import { prisma } from "../db";
import { emitTo, RUNS_ROOM, runRoom } from "../realtime/hub";
import { runView } from "./run-view";

export interface CreateRunInput {
  project: string;
  name?: string;
  config?: Record<string, unknown>;
  id?: string;
}

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

export function newRunId(): string {
  const bytes = crypto.randomBytes(12);
  let id = "";
  for (const b of bytes) id += ALPHABET[b % ALPHABET.length];
  return id;
}

/** Creates a run, or resumes it when `id` names an existing one (status back to running, config merged). */
export async function createRun(input: CreateRunInput): Promise<{ id: string; url: string; resumed: boolean }> {
  const db = prisma();
  const now = Date.now() / 1000;
  if (input.id) {
    const resumed = await resume(input, now);
    if (resumed) return resumed;
  }
  const id = input.id ?? newRunId();
  const project = await db.project.upsert({
    where: { name: input.project },
    create: { name: input.project, createdAt: now },
    update: {},
  });
  try {
    const run = await db.run.create({
      data: {
        id,
        projectId: project.id,
        name: input.name ?? `run-${id.slice(0, 6)}`,
        config: JSON.stringify(input.config ?? {}),
        status: "running",
        createdAt: now,
        updatedAt: now,
        lastSeenAt: now,
      },
      include: { project: true },
    });
    emitTo(RUNS_ROOM, "run", runView(run));
    return { id, url: `/runs/${id}`, resumed: false };
  } catch (e) {
    // Two SDK retries racing to create the same client id: the loser resumes.
    const again = input.id ? await resume(input, now) : null;
    if (again) return again;
    throw e;
  }
}

async function resume(input: CreateRunInput, now: number) {
  const db = prisma();
  const existing = await db.run.findUnique({ where: { id: input.id! } });
  if (!existing) return null;
  const config = input.config ? { ...JSON.parse(existing.config), ...input.config } : undefined;
  const run = await db.run.update({
    where: { id: existing.id },
    data: {
      status: "running",
      finishedAt: null,
      updatedAt: now,
      lastSeenAt: now,
      ...(config ? { config: JSON.stringify(config) } : {}),
      ...(input.name ? { name: input.name } : {}),
    },
    include: { project: true },
  });
  forgetRun(run.id); // its config (thresholds, key names) may have changed
  emitTo(RUNS_ROOM, "run", runView(run));
  emitTo(runRoom(run.id), "run", runView(run)); // its page (a shared one joins this room only)
  return { id: run.id, url: `/runs/${run.id}`, resumed: true };
}
