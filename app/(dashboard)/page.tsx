import RunsList from "@/app/_components/RunsList";
import { modeFrom } from "@/lib/auth/mode";
import { listRuns } from "@/lib/runs/list-runs";
import { splitConfigFilters } from "@/lib/schemas/runs";
import type { RunList } from "@/lib/ui/api-types";
import { METRIC_PREFIX, parseColumns, parseConfigFilters, parseListFilters, parseRunsQuery } from "@/lib/ui/runs-query";

export const dynamic = "force-dynamic";

type Search = { searchParams: Promise<Record<string, string | string[] | undefined>> };

// / – projects and runs, live
export default async function Home({ searchParams }: Search) {
  const params = await searchParams;
  const { project, status, sort } = parseRunsQuery(params);
  const filters = parseListFilters(params);
  const configFilters = parseConfigFilters(params);
  const metricFilters = parseConfigFilters(params, METRIC_PREFIX);
  const filterQuery = Object.fromEntries([
    ...configFilters.map((f) => [`config.${f.key}`, f.value]),
    ...metricFilters.map((f) => [`${METRIC_PREFIX}${f.key}`, f.value]),
  ]);
  // the project, search, archive, config and metric filters apply on the server (status and order on the
  // page, as the client applies them); a filter the list's query refuses shows the unfiltered list
  // instead (the page then asks the API, which says what is wrong with it)
  const list = (await Promise.resolve()
    .then(() => splitConfigFilters(filterQuery))
    .then(({ config, metric }) =>
      listRuns({
        sort: "-created",
        limit: 1000,
        archived: filters.archived,
        // as the page's own query asks (its total counts the project's runs, not every run)
        ...(project ? { project } : {}),
        ...(filters.q ? { q: filters.q } : {}),
        ...(filters.tag ? { tag: filters.tag } : {}),
        ...(filters.owner ? { owner: filters.owner } : {}),
        config,
        metric,
      }),
    )
    .catch(() => listRuns({ sort: "-created", limit: 1000 }))) as RunList;
  return (
    <RunsList
      initial={list}
      serverNow={Date.now() / 1000}
      initialProject={project}
      initialSort={sort}
      initialStatus={status}
      initialFilters={filters}
      initialColumns={parseColumns(params)}
      initialConfig={configFilters}
      initialMetric={metricFilters}
      initialGroup={params.group === "sweep" ? "sweep" : ""}
      team={modeFrom() === "team"}
    />
  );
}
