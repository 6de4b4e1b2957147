// A tenant-day SHADE run: plan (which day, which stations), then the stations in chunks, a few
// chunks at once, each one activity that heartbeats as it goes (a lost worker's chunk is retried
// elsewhere; storing a chunk replaces its rows, so a retry never duplicates results or events).
import { patched, proxyActivities, setCurrentDetails, upsertSearchAttributes, workflowInfo, type ActivityOptions } from '@temporalio/workflow';
import { SCHEDULED_START_TIME, SHADE_SEARCH_ATTRIBUTES, type ShadeActivities, type ShadeChunkStations, type ShadeRunInput, type ShadeRunResult } from './contract';
import { chunked, inLanes } from '../lanes';

const { planShadeRun } = proxyActivities<ShadeActivities>({ startToCloseTimeout: '2 minutes', retry: { maximumAttempts: 5 } });
// A chunk heartbeats after every slice of stations: a worker lost mid-chunk is noticed within a minute.
const CHUNK_OPTIONS: ActivityOptions = { startToCloseTimeout: '15 minutes', heartbeatTimeout: '1 minute', retry: { maximumAttempts: 5, initialInterval: '2 seconds' } };
const { runShadeChunk } = proxyActivities<ShadeActivities>(CHUNK_OPTIONS);

/**
 * Runs started since this patch plan chunks as ranges of station ids (the plan holds one id per
 * chunk); older runs replay with the plan that listed every station.
 */
const CHUNK_RANGES_PATCH = 'shade-chunk-ranges';

export async function shadeRun(input: ShadeRunInput): Promise<ShadeRunResult> {
  const info = workflowInfo();
  const ranges = patched(CHUNK_RANGES_PATCH);
  // The slot this run is for (a backfill's runs each have their own); a direct start: its start time.
  const scheduledAt = info.typedSearchAttributes.get(SCHEDULED_START_TIME) ?? info.startTime;
  const size = Math.max(1, input.chunkSize ?? 500);
  const plan = await planShadeRun({
    tenantId: input.tenantId,
    day: input.day,
    scheduledAt: new Date(scheduledAt).toISOString(),
    ...(ranges ? { chunkSize: size } : {}),
  });
  upsertSearchAttributes([{ key: SHADE_SEARCH_ATTRIBUTES.day, value: plan.day }]);
  // A plan without chunk starts lists the ids: a run from before the patch, or a plan made by a
  // worker of the earlier release during a rolling deploy.
  const starts = plan.chunkStarts;
  const chunks: ShadeChunkStations[] = starts
    ? starts.map((fromStation, i) => ({ fromStation, untilStation: starts[i + 1] ?? null }))
    : chunked(plan.stationIds ?? [], size).map((stationIds) => ({ stationIds }));
  const stations = starts ? (plan.stations ?? 0) : (plan.stationIds ?? []).length;
  const total: ShadeRunResult = { day: plan.day, timeZone: plan.timeZone, stations, chunks: chunks.length, stored: 0, anomalous: 0, events: 0 };
  let done = 0;
  const report = () => setCurrentDetails(`${plan.day} (${plan.timeZone}): ${done} of ${chunks.length} chunks done, ${total.anomalous} anomalous stations so far`);
  report();
  // Runs from before the patch went on starting chunks after one failed; they replay that way.
  await inLanes({ to: chunks.length, lanes: input.parallelism ?? 2, stopOnFailure: ranges }, async (i) => {
    const r = await runShadeChunk.executeWithOptions(
      { ...CHUNK_OPTIONS, summary: `stations ${i * size}–${Math.min(stations, (i + 1) * size) - 1}` },
      [{ tenantId: input.tenantId, day: plan.day, timeZone: plan.timeZone, ...chunks[i] }],
    );
    total.stored += r.stored;
    total.anomalous += r.anomalous;
    total.events += r.events;
    done++;
    report();
  });
  return total;
}
