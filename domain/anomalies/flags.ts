// isRecurring and isIncident: the one definition, as SQL over `anomaly_issues`, computed when a
// session or an anomaly is read (the session views and the anomaly workspace alike). Each kind of
// incident is one clause in `incidentClauses`.

/** Same category at the same connector at least twice within this window: recurring. */
export const RECURRENCE_WINDOW = '7 days';
/** Same category on two or more connectors of one station within this window: an incident. */
export const INCIDENT_WINDOW = '1 hour';

/**
 * Whether an issue counts as an anomaly that is there: not marked a false positive by a member and
 * not resolved by the detector (a later analysis no longer found it). OPEN, IN_PROGRESS and
 * RESOLVED by a member (a confirmed anomaly that was fixed) count.
 */
export const countsSql = (i: string) => `(${i}.status <> 'FALSE_POSITIVE' and ${i}.resolved_by is distinct from 'detector')`;

/**
 * Issue `i` recurs: another session's counting issue of the same category at the same connector
 * (same station; a session without connector id is the station's unnamed connector) occurred
 * within RECURRENCE_WINDOW of it. Times are when the anomaly occurred in the readings.
 */
export function issueIsRecurringSql(i: string): string {
  return `(${countsSql(i)} and exists (select 1 from anomaly_issues rr
      where rr.tenant_id = ${i}.tenant_id and rr.station_id = ${i}.station_id and rr.category = ${i}.category
        and rr.occurred_at between ${i}.occurred_at - interval '${RECURRENCE_WINDOW}' and ${i}.occurred_at + interval '${RECURRENCE_WINDOW}'
        and rr.connector_id is not distinct from ${i}.connector_id and rr.session_id <> ${i}.session_id and ${countsSql('rr')}))`;
}

/** The ways issue `i` is part of an incident; any one suffices. */
function incidentClauses(i: string): string[] {
  return [
    // The same category on another (named) connector of the same station within INCIDENT_WINDOW.
    `exists (select 1 from anomaly_issues ii
      where ii.tenant_id = ${i}.tenant_id and ii.station_id = ${i}.station_id and ii.category = ${i}.category
        and ii.occurred_at between ${i}.occurred_at - interval '${INCIDENT_WINDOW}' and ${i}.occurred_at + interval '${INCIDENT_WINDOW}'
        and ii.connector_id <> ${i}.connector_id and ${countsSql('ii')})`,
    // A station-level SHADE finding at the same station whose minute range overlaps the anomaly
    // (the whole station-day when a result lists no findings). Station runs come after the day:
    // reads compute the flags live, so they see it.
    `exists (select 1 from station_inferences sf
      where sf.tenant_id = ${i}.tenant_id and sf.station_id = ${i}.station_id and sf.is_anomaly
        and sf.day_start <= ${i}.occurred_until and sf.day_start + sf.minutes * interval '1 minute' > ${i}.occurred_at
        and (jsonb_typeof(sf.detection_details->'findings') is distinct from 'array' or exists (
          select 1 from jsonb_array_elements(sf.detection_details->'findings') f
           where sf.day_start + (f->>'start_minute')::int * interval '1 minute' <= ${i}.occurred_until
             and sf.day_start + ((f->>'end_minute')::int + 1) * interval '1 minute' > ${i}.occurred_at)))`,
  ];
}

/** Issue `i` is part of an incident (see `incidentClauses`). */
export function issueIsIncidentSql(i: string): string {
  return `(${countsSql(i)} and (${incidentClauses(i).join(' or ')}))`;
}

/** Some issue of the session whose database id is `sessionId` (an SQL expression) is recurring / part of an incident. */
const anyIssueRecurringSql = (sessionId: string) => `exists (select 1 from anomaly_issues si where si.session_id = ${sessionId} and ${issueIsRecurringSql('si')})`;
const anyIssueIncidentSql = (sessionId: string) => `exists (select 1 from anomaly_issues si where si.session_id = ${sessionId} and ${issueIsIncidentSql('si')})`;

/** Session `s` (a charging_sessions alias) is recurring: one of its issues recurs. Null until analysed. */
export const sessionIsRecurringSql = (s: string) => `case when ${s}.status = 'active' then ${anyIssueRecurringSql(`${s}.id`)} end`;

/** Session `s` is part of an incident: one of its issues is. Null until analysed. */
export const sessionIsIncidentSql = (s: string) => `case when ${s}.status = 'active' then ${anyIssueIncidentSql(`${s}.id`)} end`;
