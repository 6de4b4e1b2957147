// Anomaly workspace request and response schemas (the reference's `002` shapes). Fields the
// reference does not have are marked as extensions in their descriptions.
import { ANOMALY_ISSUE_STATUSES } from '../../entities/AnomalyIssue';
import { ANOMALY_CATEGORIES } from '../../domain/analysis/types';
import { CATEGORY_INFO } from '../../domain/anomalies/categories';
import { INCIDENT_WINDOW, RECURRENCE_WINDOW } from '../../domain/anomalies/flags';
import { filterTime, iso, LimitedPaginationQuery, NO_NUL_PATTERN, text, timestampOut, vocabulary } from './common';
import { z } from '../zod';

const MAX_LIST = 50;

/**
 * An array query parameter: sent once (`?x=a`) or repeated (`?x=a&x=b`), at most MAX_LIST values.
 * (No comma splitting: station ids and emails may hold commas.)
 */
function queryList<T extends z.ZodTypeAny>(item: T, itemDoc: Record<string, unknown>, description: string) {
  return z
    .union([item, z.array(item).min(1).max(MAX_LIST)])
    .optional()
    .transform((v) => (v === undefined ? undefined : ((Array.isArray(v) ? v : [v]) as z.infer<T>[])))
    .openapi({ type: 'array', items: itemDoc, maxItems: MAX_LIST, description: `${description}. Send once or repeat the parameter (\`?x=a&x=b\`), at most ${MAX_LIST}.` } as never);
}

const categoryList = queryList(
  vocabulary(ANOMALY_CATEGORIES as unknown as readonly [string, ...string[]], 'expected an anomaly category name such as KWH_DECREASE'),
  { type: 'string', enum: ANOMALY_CATEGORIES },
  'Only anomalies of these categories (`anomalyType`, e.g. KWH_DECREASE)',
);

const occurrence = {
  occurrenceFrom: filterTime('Anomalies that occurred (in the readings: start of the category\'s first range) at or after this time').optional(),
  occurrenceTo: filterTime('Anomalies that occurred before this time').optional(),
};

/** `me`, or an email (compared case-insensitively with the members'). */
const EMAIL_OR_ME = /^(?:me|[^@\u0000]+@[^@\u0000]+)$/;

export const AnomalyListQuery = LimitedPaginationQuery.extend({
  anomalyType: categoryList,
  connectorId: text(100).optional().openapi({ description: 'Only anomalies at connectors with this id (at any station unless a station filter is sent)' }),
  chargingSessionId: text(200).optional().openapi({ description: "Only this session's anomalies (the client's session id)" }),
  chargingPointId: queryList(text(200, 1), { type: 'string', minLength: 1, maxLength: 200, pattern: NO_NUL_PATTERN }, "Only anomalies at these stations (the client's station ids)"),
  evseId: queryList(text(200, 1), { type: 'string', minLength: 1, maxLength: 200, pattern: NO_NUL_PATTERN }, 'Only anomalies at these EVSEs'),
  ocppChargingStationId: text(200).optional().openapi({ description: 'Only anomalies at this station (also accepted as `ocpp_charging_station_id`)' }),
  ...occurrence,
  updateFrom: filterTime('Anomalies whose issue last changed (detection, status or assignee) at or after this time').optional(),
  updateTo: filterTime('Anomalies whose issue last changed before this time').optional(),
  sortByScore: vocabulary(['asc', 'desc'] as const, 'expected asc or desc')
    .optional()
    .openapi({ description: 'Sort by aiRiskScore (asc or desc); without it, newest occurrence first' }),
  anomalyIssuesStatus: queryList(
    vocabulary(ANOMALY_ISSUE_STATUSES, 'expected OPEN, IN_PROGRESS, RESOLVED or FALSE_POSITIVE'),
    { type: 'string', enum: ANOMALY_ISSUE_STATUSES },
    'Only anomalies whose issue has one of these statuses',
  ),
  assignedTo: queryList(
    text(320, 1).regex(EMAIL_OR_ME, 'expected a member email or me'),
    { type: 'string', minLength: 1, maxLength: 320, pattern: EMAIL_OR_ME.source },
    "Only anomalies whose issue is assigned to one of these members (emails, case-insensitive; `me` is the caller)",
  ),
});
export type AnomalyListQueryT = z.infer<typeof AnomalyListQuery>;

export const AnomalyConnectorsQuery = LimitedPaginationQuery.extend({
  connectorId: text(100).optional().openapi({ description: 'Only connectors with this id' }),
  anomalyType: categoryList,
  ...occurrence,
  sortBy: vocabulary(['count_asc', 'count_desc'] as const, 'expected count_asc or count_desc')
    .optional()
    .openapi({ description: 'Sort by anomaly count (default count_desc); ties by station and connector' }),
});

export const AnomalySessionsQuery = LimitedPaginationQuery.extend({
  anomalyType: categoryList,
  chargingSessionId: text(200).optional().openapi({ description: "Only this session (the client's session id)" }),
  ...occurrence,
  sortBy: vocabulary(['score_asc', 'score_desc', 'count_asc', 'count_desc'] as const, 'expected score_asc, score_desc, count_asc or count_desc')
    .optional()
    .openapi({ description: 'Sort by highest score or by anomaly count (default score_desc)' }),
});

const STATUS = z.enum(ANOMALY_ISSUE_STATUSES);
const typeIdDoc = `The category's stable id: ${ANOMALY_CATEGORIES.map((c) => `${CATEGORY_INFO[c].id} ${c}`).join(', ')}`;

export const IssueRefOut = z
  .object({
    id: z.string().openapi({ description: 'The issue id (PUT /v1/anomalies/issues/{issue_id})' }),
    statusName: STATUS,
    assignedTo: z.string().nullable().openapi({ description: "The assignee member's email (null: unassigned)" }),
    resolvedBy: z.enum(['member', 'detector']).nullable().openapi({
      description: 'Extension. Who resolved it: a member, or the detector (a later analysis no longer found the anomaly); null unless RESOLVED',
    }),
  })
  .openapi('AnomalyIssue');

const flags = {
  isRecurring: z.boolean().openapi({ description: `Extension. The same category at the same connector in another session within ${RECURRENCE_WINDOW} (see README, Anomaly workspace)` }),
  isIncident: z.boolean().openapi({ description: `Extension. The same category on another connector of the same station within ${INCIDENT_WINDOW}` }),
};

export const AnomalyItemOut = z
  .object({
    id: z.string().openapi({ description: 'The anomaly (one per session and category); the same id as its issue' }),
    anomalyType: z.enum(ANOMALY_CATEGORIES as unknown as [string, ...string[]]),
    anomalyTypeId: z.string().openapi({ description: typeIdDoc }),
    aiRiskScore: z.number().min(0).max(1).openapi({ description: 'Highest score the detector gave this anomaly' }),
    connectorId: z.string().nullable(),
    chargingPointId: z.string().openapi({ description: "The station (client's id)" }),
    ocppChargingStationId: z.string().openapi({ description: 'The same station id' }),
    evseId: z.string().nullable(),
    chargingSessionId: z.string(),
    dateOfAnomalyOccurrence: timestampOut("When it occurred in the readings (start of the category's first range)"),
    dateOfLastUpdate: timestampOut('Last change of its issue: detection, status or assignee'),
    firstDetectedAt: timestampOut('Extension. When an analysis first found it'),
    lastDetectedAt: timestampOut('Extension. When an analysis last found it'),
    ...flags,
    issues: z.array(IssueRefOut).openapi({ description: 'Its issue (one per anomaly)' }),
  })
  .openapi('AnomalyListItem');

const TypeCountOut = z
  .object({ anomalyType: z.string(), anomalyTypeId: z.string(), count: z.number().int().min(1) })
  .openapi('AnomalyTypeCount');

export const AnomalyConnectorOut = z
  .object({
    id: z.string().openapi({ description: "The connector's id (the station's, for sessions without a connector id)" }),
    connectorId: z.string().nullable().openapi({ description: 'null: sessions that named no connector' }),
    anomalyCount: z.number().int().min(1),
    chargingPointId: z.string(),
    evseId: z.string().nullable(),
    detectionDate: timestampOut('Earliest occurrence among its anomalies'),
    lastUpdate: timestampOut('Latest change among its anomalies'),
    anomalyTypes: z.array(TypeCountOut),
  })
  .openapi('AnomalyConnector');

export const AnomalySessionOut = z
  .object({
    id: z.string().openapi({ description: "The session's row id" }),
    chargingSessionId: z.string(),
    anomalyCount: z.number().int().min(1),
    detectionDate: timestampOut('Earliest occurrence among its anomalies'),
    lastUpdate: timestampOut('Latest change among its anomalies'),
    aiRiskScore: z.number().min(0).max(1),
    anomalyTypes: z.array(TypeCountOut),
  })
  .openapi('AnomalySession');

export const DetailParams = z.object({
  session_id: text(200, 1).openapi({ description: "The client's session id" }),
  category_id: text(40, 1).openapi({ description: `${typeIdDoc}; the category's name is accepted too` }),
});

const HistoryEntry = z
  .object({
    at: timestampOut(),
    actor: z.enum(['member', 'detector']),
    actorEmail: z.string().nullable(),
    field: z.enum(['status', 'assignee']),
    from: z.string().nullable(),
    to: z.string().nullable(),
  })
  .openapi('AnomalyIssueChange');

const Period = z.object({ start: timestampOut(), end: timestampOut() });

export const AnomalyDetailOut = z
  .object({
    sessionId: z.string(),
    clientId: z.string().openapi({ description: 'The tenant' }),
    connectorId: z.string().nullable(),
    chargingPointId: z.string(),
    ocppChargingStationId: z.string(),
    evseId: z.string().nullable(),
    detectionLevel: z.enum(['SESSION']),
    meterValues: z.array(
      z.object({
        timestamp: timestampOut(),
        energy: z.number().nullable().openapi({ description: 'Register, kWh (after OCPP normalisation)' }),
        stateOfCharge: z.number().nullable().openapi({ description: 'SoC, %' }),
        power: z.number().nullable().openapi({ description: 'Active power import, kW (total over phases)' }),
      }),
    ),
    currentRiskScore: z.number().min(0).max(1).openapi({ description: 'Score in the latest analysis (0 when it no longer finds the category)' }),
    firstDetectionDate: timestampOut(),
    lastUpdateDate: timestampOut(),
    anomalyCategory: z.object({ id: z.string(), name: z.string(), description: z.string(), maxScore: z.number() }),
    riskScoreTimeline: z
      .array(z.object({ timestamp: timestampOut(), riskScore: z.number() }))
      .openapi({ description: "The category's score over the analysis window: the range's score inside each range, 0 outside (a step function)" }),
    anomalyPeriod: Period.nullable().openapi({ description: 'From the first range start to the last range end (null when no longer found)' }),
    anomalyPeriods: z.array(Period),
    ...flags,
    issues: z.array(IssueRefOut.extend({ history: z.array(HistoryEntry).openapi({ description: 'Extension. Every change, oldest first' }) })),
  })
  .openapi('AnomalyDetail');

export const IssueIdParams = z.object({ issue_id: text(64, 1).openapi({ description: 'The issue id (a UUID)' }) });

export const IssueUpdateIn = z
  .object({
    status: z.enum(ANOMALY_ISSUE_STATUSES).openapi({
      description:
        'New status. OPEN and IN_PROGRESS may move to any status; RESOLVED and FALSE_POSITIVE only reopen (to OPEN or IN_PROGRESS), otherwise 409',
    }),
    assignedTo: z
      .string()
      .max(320)
      .nullable()
      .optional()
      .openapi({ description: 'Email of an active member of this organization (422 otherwise); null unassigns; left out keeps the assignee', pattern: '^[^\\u0000]*$' }),
  })
  .openapi('AnomalyIssueUpdate');

export const IssueOut = IssueRefOut.extend({
  updatedAt: timestampOut('Extension'),
  history: z.array(HistoryEntry).openapi({ description: 'Extension. Every change, oldest first' }),
}).openapi('AnomalyIssueState');

/** Response timestamps: every Date of a domain result as `iso` prints it. */
export function withIsoDates<T>(value: T): unknown {
  if (value instanceof Date) return iso(value);
  if (Array.isArray(value)) return value.map(withIsoDates);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withIsoDates(v)]));
  return value;
}
