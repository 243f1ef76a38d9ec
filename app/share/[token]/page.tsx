import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { cache } from "react";
import RunView from "@/app/_components/RunView";
import { ShareExpired } from "@/app/_components/ShareExpired";
import { AppError } from "@/lib/errors";
import { getRun, pageDetail } from "@/lib/runs/get-run";
import { openShare } from "@/lib/shares/shares";
import type { PageRunDetail, RunDetail } from "@/lib/ui/api-types";

export const dynamic = "force-dynamic";

type Params = { params: Promise<{ token: string }> };

// one read per request, shared by the metadata and the page
const load = cache(async (token: string): Promise<(PageRunDetail & { shareExpiresAt: number | null }) | null | "expired"> => {
  try {
    const link = openShare(token, { touch: true });
    return { ...pageDetail((await getRun(link.runId)) as RunDetail), shareExpiresAt: link.expiresAt };
  } catch (e) {
    if (e instanceof AppError && e.code === "share_expired") return "expired";
    if (e instanceof AppError && e.code === "not_found") return null;
    throw e;
  }
});

export async function generateMetadata({ params }: Params): Promise<Metadata> {
  const run = await load((await params).token);
  // a shared page is not for search engines, whatever the proxy in front does
  // no-referrer: the token in this page's address never goes out in a Referer header
  const title = run === "expired" ? "link expired · babysit" : run ? `${run.run.name} · shared run · babysit` : "link not found · babysit";
  return { title, robots: { index: false, follow: false }, referrer: "no-referrer" };
}

// /share/[token] – the read-only view of one run that a shared link opens
export default async function SharedRunPage({ params }: Params) {
  const { token } = await params;
  const detail = await load(token);
  if (!detail) notFound(); // app/share/[token]/not-found.tsx
  if (detail === "expired") return <ShareExpired />;
  const { shareExpiresAt, ...initial } = detail;
  return <RunView initial={initial} serverNow={Date.now() / 1000} share={token} shareExpiresAt={shareExpiresAt} />;
}
