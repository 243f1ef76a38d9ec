// How an alert travels: API responses, socket.io, the SDK's log/finish responses.

export interface AlertView {
  code: string;
  severity: string;
  status: string;
  step: number;
  firstStep: number;
  title: string;
  message: string;
  evidence: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
  /** active alerts only: the root cause this one follows from (lib/diagnostics/causes.ts) */
  causedBy?: string;
  /** active root causes only: the codes of their symptoms, in display order */
  symptoms?: string[];
}

export function alertView(a: {
  code: string;
  severity: string;
  status: string;
  step: bigint | number;
  firstStep: bigint | number;
  title: string;
  message: string;
  evidence: string;
  createdAt: number;
  updatedAt: number;
}): AlertView {
  return {
    code: a.code,
    severity: a.severity,
    status: a.status,
    step: Number(a.step),
    firstStep: Number(a.firstStep),
    title: a.title,
    message: a.message,
    evidence: JSON.parse(a.evidence) as Record<string, unknown>,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
  };
}

export const SEVERITY_RANK: Record<string, number> = { info: 0, warning: 1, critical: 2 };
