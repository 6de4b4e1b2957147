// The anomaly workspace over HTTP against the real stack: sessions with known categories (the
// crafted fixtures, scored by the served detector) open issues; the list, its filters and the two
// aggregations read them; the detail shows readings, ranges and history; members triage issues;
// re-analysis resolves and reopens them; isRecurring / isIncident follow their definitions.
import assert from 'node:assert/strict';
import type { RawMeterValue } from '../domain/analysis/types';
import { sql } from '../db/sql';
import { refreshSessionRollups } from '../domain/anomalies/detections';
import { categoryFixtures, cleanFixtures } from './fixtures/sessions';
import { call, newTenant } from './helpers/http';
import { stack } from './helpers/stack';
import { waitFor } from './helpers/wait';

const DAY = 86_400_000;
const fixture = (category: string) => categoryFixtures.find((f) => f.expect.category === category)!;
const KWH = fixture('KWH_DECREASE');
const PIT = fixture('ENERGY_PIT');
const CLEAN = cleanFixtures[0];
/** The fixture's readings moved by `ms` (its anomaly occurs `ms` later). */
const shifted = (values: RawMeterValue[], ms: number) => values.map((m) => ({ ...m, timestamp: new Date(Date.parse(m.timestamp) + ms).toISOString() }));

type Tenant = Awaited<ReturnType<typeof newTenant>>;

async function post(t: Tenant, body: Record<string, unknown>) {
  const res = await call('POST', '/v1/sessions', { key: t.key, body });
  assert.ok(res.status === 201 || res.status === 200, res.text);
  assert.equal(res.body.status, 'active', res.text);
  return res.body;
}

const list = async (t: Tenant, qs = '') => {
  const res = await call('GET', `/v1/anomalies${qs}`, { key: t.key });
  assert.equal(res.status, 200, res.text);
  return res.body as { content: any[]; pagination: { totalCount: number; page: number; size: number } };
};
const sessionsOf = (page: { content: any[] }) => page.content.map((a) => a.chargingSessionId).sort();
const issueOf = async (t: Tenant, sessionId: string) => (await list(t, `?chargingSessionId=${sessionId}`)).content[0];

describe('anomaly workspace over HTTP', function () {
  this.timeout(180_000);
  let t: Tenant;
  let other: Tenant;
  let alice: { key: string; email: string };
  let t0: number;

  afterEach(function () {
    // A failed test shows the API's errors (a 500's cause is only in the log).
    if (this.currentTest?.state === 'failed') for (const l of stack().logLines.filter((l) => Number(l.level) >= 50).slice(-3)) console.error(JSON.stringify(l).slice(0, 2000));
  });

  before(async () => {
    t = await newTenant('workspace');
    other = await newTenant('workspace-other');
    const inv = await call('POST', '/v1/members/invitations', { key: t.key, body: { email: 'alice@workspace.example', role: 'member' } });
    assert.equal(inv.status, 201, inv.text);
    const acc = await call('POST', '/v1/invitations/accept', { body: { token: inv.body.token } });
    assert.equal(acc.status, 201, acc.text);
    alice = { key: acc.body.apiKey.key, email: 'alice@workspace.example' };
    // ws-1, ws-2 (2 days later) and ws-4 (20 days later) at CP-A connector 1; ws-3 at connector 2,
    // 30 minutes after ws-2; ws-5 an ENERGY_PIT at CP-B; ws-6 clean.
    const sessions: [string, string, string | null, RawMeterValue[], string | null][] = [
      ['ws-1', 'CP-WS-A', '1', KWH.values, null],
      ['ws-2', 'CP-WS-A', '1', shifted(KWH.values, 2 * DAY), null],
      ['ws-3', 'CP-WS-A', '2', shifted(KWH.values, 2 * DAY + 30 * 60_000), null],
      ['ws-4', 'CP-WS-A', '1', shifted(KWH.values, 20 * DAY), null],
      ['ws-5', 'CP-WS-B', '1', PIT.values, 'NL*WS*B1'],
      ['ws-6', 'CP-WS-B', '1', CLEAN.values, null],
    ];
    for (const [sessionId, station, connectorId, meterValues, evseId] of sessions) {
      await post(t, { sessionId, chargingStationId: station, connectorId, evseId, meterValues, metadata: sessionId === 'ws-6' ? CLEAN.metadata : undefined });
    }
    t0 = Date.parse(KWH.values[0].timestamp);
  });

  it('opens one OPEN, unassigned issue per detected (session, category), with its history', async () => {
    const page = await list(t);
    assert.equal(page.pagination.totalCount, 5);
    assert.deepEqual(sessionsOf(page), ['ws-1', 'ws-2', 'ws-3', 'ws-4', 'ws-5']);
    const a = page.content.find((x) => x.chargingSessionId === 'ws-1');
    assert.equal(a.anomalyType, 'KWH_DECREASE');
    assert.equal(a.anomalyTypeId, '2');
    assert.equal(a.connectorId, '1');
    assert.equal(a.chargingPointId, 'CP-WS-A');
    assert.equal(a.ocppChargingStationId, 'CP-WS-A');
    assert.ok(a.aiRiskScore > 0 && a.aiRiskScore <= 1);
    // It occurred where the detector put the range (bucket 80 of 15 s).
    assert.equal(Date.parse(a.dateOfAnomalyOccurrence), t0 + 80 * 15_000);
    assert.deepEqual(a.issues, [{ id: a.id, statusName: 'OPEN', assignedTo: null, resolvedBy: null }]);
    const pit = page.content.find((x) => x.chargingSessionId === 'ws-5');
    assert.equal(pit.anomalyType, 'ENERGY_PIT');
    assert.equal(pit.anomalyTypeId, '3');
    assert.equal(pit.evseId, 'NL*WS*B1');
    // Newest occurrence first by default.
    const times = page.content.map((x) => Date.parse(x.dateOfAnomalyOccurrence));
    assert.deepEqual(times, [...times].sort((x, y) => y - x));
    const detail = await call('GET', '/v1/anomalies/sessions/ws-1/categories/2/details', { key: t.key });
    assert.equal(detail.status, 200, detail.text);
    assert.deepEqual(
      detail.body.issues[0].history.map((h: any) => [h.actor, h.field, h.from, h.to]),
      [['detector', 'status', null, 'OPEN']],
    );
    // Analysing the same readings again keeps the one issue.
    await post(t, { sessionId: 'ws-1', chargingStationId: 'CP-WS-A', connectorId: '1', meterValues: KWH.values });
    const again = await issueOf(t, 'ws-1');
    assert.equal(again.id, a.id);
    assert.equal((await list(t)).pagination.totalCount, 5);
  });

  it('filters: every documented one, array parameters once or repeated, dates in three forms', async () => {
    assert.deepEqual(sessionsOf(await list(t, '?anomalyType=ENERGY_PIT')), ['ws-5']);
    assert.deepEqual(sessionsOf(await list(t, '?anomalyType=ENERGY_PIT&anomalyType=KWH_DECREASE')), ['ws-1', 'ws-2', 'ws-3', 'ws-4', 'ws-5']);
    assert.deepEqual(sessionsOf(await list(t, '?connectorId=2')), ['ws-3']);
    assert.deepEqual(sessionsOf(await list(t, '?chargingSessionId=ws-2')), ['ws-2']);
    assert.deepEqual(sessionsOf(await list(t, '?chargingPointId=CP-WS-B')), ['ws-5']);
    assert.deepEqual(sessionsOf(await list(t, '?chargingPointId=CP-WS-B&chargingPointId=CP-WS-A')), ['ws-1', 'ws-2', 'ws-3', 'ws-4', 'ws-5']);
    assert.deepEqual(sessionsOf(await list(t, '?evseId=NL*WS*B1')), ['ws-5']);
    assert.deepEqual(sessionsOf(await list(t, '?ocpp_charging_station_id=CP-WS-A&connectorId=1')), ['ws-1', 'ws-2', 'ws-4']);
    assert.deepEqual(sessionsOf(await list(t, '?ocppChargingStationId=CP-NONE')), []);
    // ws-2 and ws-3 occur on day t0 + 2: a date alone is its UTC midnight; no offset means UTC.
    const day2 = new Date(t0 + 2 * DAY).toISOString().slice(0, 10);
    const day3 = new Date(t0 + 3 * DAY).toISOString().slice(0, 10);
    assert.deepEqual(sessionsOf(await list(t, `?occurrenceFrom=${day2}&occurrenceTo=${day3}`)), ['ws-2', 'ws-3']);
    const ws3At = new Date(t0 + 2 * DAY + 30 * 60_000 + 80 * 15_000).toISOString().slice(0, 19);
    assert.deepEqual(sessionsOf(await list(t, `?occurrenceFrom=${ws3At}&occurrenceTo=${day3}T00:00:00`)), ['ws-3']);
    assert.deepEqual(sessionsOf(await list(t, `?occurrenceFrom=${encodeURIComponent(`${ws3At}+01:00`)}&occurrenceTo=${day3}`)), ['ws-2', 'ws-3']);
    const now = Date.now();
    assert.equal((await list(t, `?updateFrom=${new Date(now - 3_600_000).toISOString()}`)).pagination.totalCount, 5);
    assert.equal((await list(t, `?updateTo=${new Date(now - 3_600_000).toISOString()}`)).pagination.totalCount, 0);
    assert.equal((await list(t, '?anomalyIssuesStatus=OPEN&anomalyIssuesStatus=IN_PROGRESS')).pagination.totalCount, 5);
    assert.equal((await list(t, '?anomalyIssuesStatus=RESOLVED')).pagination.totalCount, 0);
    // sortByScore, and pages as in the rest of the API (`limit` as `pageSize`).
    const asc = (await list(t, '?sortByScore=asc')).content.map((a) => a.aiRiskScore);
    assert.deepEqual(asc, [...asc].sort((x, y) => x - y));
    const desc = (await list(t, '?sortByScore=desc')).content.map((a) => a.aiRiskScore);
    assert.deepEqual(desc, [...asc].reverse());
    const all = (await list(t)).content.map((a) => a.id);
    const p2 = await list(t, '?page=2&pageSize=2');
    assert.deepEqual(p2.content.map((a) => a.id), all.slice(2, 4));
    assert.deepEqual(p2.pagination, { totalCount: 5, page: 2, size: 2 });
    assert.deepEqual((await list(t, '?page=3&limit=2')).content.map((a) => a.id), all.slice(4));
    // Bad input is a 422 naming the parameter.
    for (const [qs, field] of [
      ['?anomalyType=NOT_A_CATEGORY', 'anomalyType'],
      ['?sortByScore=up', 'sortByScore'],
      ['?anomalyIssuesStatus=DONE', 'anomalyIssuesStatus'],
      ['?occurrenceFrom=yesterday', 'occurrenceFrom'],
      ['?assignedTo=nobody', 'assignedTo'],
      ['?pageSize=101', 'pageSize'],
    ]) {
      const res = await call('GET', `/v1/anomalies${qs}`, { key: t.key });
      assert.equal(res.status, 422, `${qs}: ${res.text}`);
      assert.match(res.body.detail, new RegExp(field));
    }
    // Another tenant sees none of it.
    assert.equal((await list(other)).pagination.totalCount, 0);
  });

  it('aggregates by connector and by session, with the sorts of 002', async () => {
    const con = await call('GET', '/v1/anomalies/connectors', { key: t.key });
    assert.equal(con.status, 200, con.text);
    assert.equal(con.body.pagination.totalCount, 3);
    const [top] = con.body.content;
    assert.equal(top.chargingPointId, 'CP-WS-A');
    assert.equal(top.connectorId, '1');
    assert.equal(top.anomalyCount, 3);
    assert.deepEqual(top.anomalyTypes, [{ anomalyType: 'KWH_DECREASE', anomalyTypeId: '2', count: 3 }]);
    assert.equal(Date.parse(top.detectionDate), t0 + 80 * 15_000);
    const asc = (await call('GET', '/v1/anomalies/connectors?sortBy=count_asc', { key: t.key })).body.content.map((c: any) => c.anomalyCount);
    assert.deepEqual(asc, [1, 1, 3]);
    const pit = (await call('GET', '/v1/anomalies/connectors?anomalyType=ENERGY_PIT', { key: t.key })).body.content;
    assert.deepEqual(pit.map((c: any) => [c.chargingPointId, c.connectorId, c.evseId, c.anomalyCount]), [['CP-WS-B', '1', 'NL*WS*B1', 1]]);
    assert.equal((await call('GET', '/v1/anomalies/connectors?connectorId=2', { key: t.key })).body.pagination.totalCount, 1);
    assert.equal((await call('GET', '/v1/anomalies/connectors?sortBy=most', { key: t.key })).status, 422);

    const ses = await call('GET', '/v1/anomalies/sessions?sortBy=score_desc', { key: t.key });
    assert.equal(ses.status, 200, ses.text);
    assert.equal(ses.body.pagination.totalCount, 5);
    const scores = ses.body.content.map((s: any) => s.aiRiskScore);
    assert.deepEqual(scores, [...scores].sort((x: number, y: number) => y - x));
    const one = (await call('GET', '/v1/anomalies/sessions?chargingSessionId=ws-5', { key: t.key })).body.content;
    assert.equal(one.length, 1);
    assert.equal(one[0].chargingSessionId, 'ws-5');
    assert.equal(one[0].anomalyCount, 1);
    assert.deepEqual(one[0].anomalyTypes, [{ anomalyType: 'ENERGY_PIT', anomalyTypeId: '3', count: 1 }]);
    assert.equal((await call('GET', '/v1/anomalies/sessions?anomalyType=KWH_DECREASE&sortBy=count_asc', { key: t.key })).body.pagination.totalCount, 4);
    assert.equal((await call('GET', '/v1/anomalies/sessions', { key: other.key })).body.pagination.totalCount, 0);
  });

  it('details: readings as energy/SoC/power points, the risk score timeline, periods, the category', async () => {
    for (const category of ['2', 'KWH_DECREASE', 'kwh_decrease']) {
      const res = await call('GET', `/v1/anomalies/sessions/ws-1/categories/${category}/details`, { key: t.key });
      assert.equal(res.status, 200, res.text);
      const d = res.body;
      assert.equal(d.sessionId, 'ws-1');
      assert.equal(d.chargingPointId, 'CP-WS-A');
      assert.equal(d.connectorId, '1');
      assert.equal(d.detectionLevel, 'SESSION');
      assert.equal(d.meterValues.length, 121);
      // Energy in kWh after normalisation; the fixture resets the register at sample 80.
      assert.ok(Math.abs(d.meterValues[0].energy - 1234.5) < 1e-6, JSON.stringify(d.meterValues[0]));
      assert.ok(d.meterValues[80].energy < 1);
      assert.ok(Math.abs(d.meterValues[10].power - 11) < 1e-6);
      assert.equal(d.anomalyCategory.name, 'KWH_DECREASE');
      assert.equal(d.anomalyCategory.id, '2');
      assert.match(d.anomalyCategory.description, /register goes down/);
      assert.equal(Date.parse(d.anomalyPeriod.start), t0 + 80 * 15_000);
      assert.equal(Date.parse(d.anomalyPeriod.end), t0 + 121 * 15_000);
      assert.equal(d.anomalyPeriods.length, 1);
      assert.ok(d.currentRiskScore > 0 && d.currentRiskScore <= d.anomalyCategory.maxScore);
      const inside = d.riskScoreTimeline.find((p: any) => Date.parse(p.timestamp) === t0 + 80 * 15_000);
      assert.equal(inside.riskScore, d.currentRiskScore);
      assert.equal(d.riskScoreTimeline[0].riskScore, 0);
      assert.equal(Date.parse(d.riskScoreTimeline[0].timestamp), t0);
      assert.equal(d.issues.length, 1);
    }
    for (const path of ['ws-1/categories/3', 'ws-1/categories/99', 'ws-1/categories/NOPE', 'ws-none/categories/2']) {
      const res = await call('GET', `/v1/anomalies/sessions/${path}/details`, { key: t.key });
      assert.equal(res.status, 404, `${path}: ${res.text}`);
    }
    assert.equal((await call('GET', '/v1/anomalies/sessions/ws-1/categories/2/details', { key: other.key })).status, 404);
  });

  it('isRecurring and isIncident, on sessions and anomalies', async () => {
    const flags = async (id: string) => {
      const s = (await call('GET', `/v1/sessions/${id}`, { key: t.key })).body;
      const a = await issueOf(t, id);
      assert.equal(a.isRecurring, s.isRecurring, `${id}: the anomaly and its session agree`);
      assert.equal(a.isIncident, s.isIncident, `${id}: the anomaly and its session agree`);
      return [s.isRecurring, s.isIncident];
    };
    // ws-1 and ws-2: same category, same connector, 2 days apart. ws-4 is 18 days after ws-2.
    assert.deepEqual(await flags('ws-1'), [true, false]);
    // ws-2 and ws-3: the same category on two connectors of CP-WS-A within 30 minutes.
    assert.deepEqual(await flags('ws-2'), [true, true]);
    assert.deepEqual(await flags('ws-3'), [false, true]);
    assert.deepEqual(await flags('ws-4'), [false, false]);
    assert.deepEqual(await flags('ws-5'), [false, false]);
    const clean = (await call('GET', '/v1/sessions/ws-6', { key: t.key })).body;
    assert.deepEqual([clean.isRecurring, clean.isIncident], [false, false]);
  });

  it('the issue lifecycle: assign, progress, resolve, reopen, false positive, with history; assignees must be members', async () => {
    const a = await issueOf(t, 'ws-1');
    const put = (body: unknown, key = t.key, id = a.id) => call('PUT', `/v1/anomalies/issues/${id}`, { key, body });

    const started = await put({ status: 'IN_PROGRESS', assignedTo: 'Alice@Workspace.example' });
    assert.equal(started.status, 200, started.text);
    assert.equal(started.body.id, a.id);
    assert.equal(started.body.statusName, 'IN_PROGRESS');
    assert.equal(started.body.assignedTo, alice.email);

    const stranger = await put({ status: 'RESOLVED', assignedTo: 'mallory@elsewhere.example' });
    assert.equal(stranger.status, 422, stranger.text);
    assert.match(stranger.body.detail, /assignedTo/);
    // An admin of another tenant is not a member here either.
    const otherAdmin = await put({ status: 'RESOLVED', assignedTo: other.email });
    assert.equal(otherAdmin.status, 422, otherAdmin.text);
    assert.equal((await issueOf(t, 'ws-1')).issues[0].statusName, 'IN_PROGRESS', 'a refused change changes nothing');

    // Alice (a member, not an admin) resolves it: confirmed, resolved by a member.
    const resolved = await put({ status: 'RESOLVED' }, alice.key);
    assert.equal(resolved.status, 200, resolved.text);
    assert.equal(resolved.body.resolvedBy, 'member');
    assert.equal(resolved.body.assignedTo, alice.email, 'a left-out assignee is kept');
    const closedToClosed = await put({ status: 'FALSE_POSITIVE' });
    assert.equal(closedToClosed.status, 409, closedToClosed.text);
    const reopened = await put({ status: 'OPEN', assignedTo: null });
    assert.equal(reopened.status, 200, reopened.text);
    assert.equal(reopened.body.resolvedBy, null);
    assert.equal(reopened.body.assignedTo, null);
    assert.deepEqual(
      reopened.body.history.map((h: any) => [h.actor, h.actorEmail, h.field, h.from, h.to]).filter((h: any[]) => h[0] === 'member').sort(),
      [
        ['member', t.email, 'assignee', alice.email, null],
        ['member', t.email, 'assignee', null, alice.email],
        ['member', t.email, 'status', 'RESOLVED', 'OPEN'],
        ['member', t.email, 'status', 'OPEN', 'IN_PROGRESS'],
        ['member', alice.email, 'status', 'IN_PROGRESS', 'RESOLVED'],
      ].sort(),
    );
    assert.deepEqual(reopened.body.history[0].to, 'OPEN', 'the detector opened it first');

    // assignedTo=me is the caller; emails are case-insensitive.
    assert.equal((await put({ status: 'OPEN', assignedTo: t.email })).status, 200);
    assert.deepEqual(sessionsOf(await list(t, '?assignedTo=me')), ['ws-1']);
    assert.deepEqual(sessionsOf((await call('GET', '/v1/anomalies?assignedTo=me', { key: alice.key })).body), []);
    assert.deepEqual(sessionsOf(await list(t, `?assignedTo=${encodeURIComponent(t.email.toUpperCase())}&assignedTo=${encodeURIComponent(alice.email)}`)), ['ws-1']);

    // A false positive no longer counts: ws-2 recurred only with ws-1.
    assert.equal((await put({ status: 'FALSE_POSITIVE' })).status, 200);
    assert.equal((await call('GET', '/v1/sessions/ws-2', { key: t.key })).body.isRecurring, false);
    assert.deepEqual(sessionsOf(await list(t, '?anomalyIssuesStatus=FALSE_POSITIVE')), ['ws-1']);

    // Bad bodies and ids.
    assert.equal((await put({ status: 'DONE' })).status, 422);
    assert.equal((await put({})).status, 422);
    assert.equal((await put({ status: 'OPEN' }, t.key, '00000000-0000-4000-8000-000000000000')).status, 404);
    assert.equal((await put({ status: 'OPEN' }, t.key, 'not-a-uuid')).status, 404);
    const foreign = await put({ status: 'OPEN' }, other.key);
    assert.equal(foreign.status, 404, foreign.text);
    assert.equal((await issueOf(t, 'ws-1')).issues[0].statusName, 'FALSE_POSITIVE', "another tenant's PUT changes nothing");
  });

  it('re-analysis that no longer finds the anomaly resolves its issue by the detector (kept, with history); finding it again reopens it', async () => {
    const before = await issueOf(t, 'ws-4');
    assert.equal((await call('PUT', `/v1/anomalies/issues/${before.id}`, { key: t.key, body: { status: 'IN_PROGRESS' } })).status, 200);
    // The client replaces ws-4's readings with clean ones.
    const put = await call('PUT', '/v1/sessions/ws-4', { key: t.key, body: { meterValues: shifted(CLEAN.values, 20 * DAY), metadata: CLEAN.metadata } });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.body.isAnomaly, false);
    const resolved = await issueOf(t, 'ws-4');
    assert.equal(resolved.id, before.id, 'the issue is kept');
    assert.deepEqual(resolved.issues[0], { id: before.id, statusName: 'RESOLVED', assignedTo: null, resolvedBy: 'detector' });
    assert.deepEqual(sessionsOf(await list(t, '?anomalyIssuesStatus=RESOLVED')), ['ws-4']);
    const detail = (await call('GET', '/v1/anomalies/sessions/ws-4/categories/2/details', { key: t.key })).body;
    assert.equal(detail.currentRiskScore, 0);
    assert.equal(detail.anomalyPeriod, null);
    assert.deepEqual(detail.issues[0].history.slice(-1).map((h: any) => [h.actor, h.field, h.from, h.to]), [['detector', 'status', 'IN_PROGRESS', 'RESOLVED']]);

    // The anomaly comes back: the detector reopens its issue.
    const back = await call('POST', '/v1/sessions', { key: t.key, body: { sessionId: 'ws-4', chargingStationId: 'CP-WS-A', meterValues: shifted(KWH.values, 20 * DAY) } });
    assert.equal(back.status, 200, back.text);
    const reopened = await issueOf(t, 'ws-4');
    assert.equal(reopened.id, before.id);
    assert.equal(reopened.issues[0].statusName, 'OPEN');
    assert.equal(reopened.issues[0].resolvedBy, null);
    const history = (await call('GET', '/v1/anomalies/sessions/ws-4/categories/2/details', { key: t.key })).body.issues[0].history;
    assert.deepEqual(
      history.map((h: any) => [h.actor, h.from, h.to]),
      [
        ['detector', null, 'OPEN'],
        ['member', 'OPEN', 'IN_PROGRESS'],
        ['detector', 'IN_PROGRESS', 'RESOLVED'],
        ['detector', 'RESOLVED', 'OPEN'],
      ],
    );
    // A member's resolution is a decision the detector does not undo.
    assert.equal((await call('PUT', `/v1/anomalies/issues/${before.id}`, { key: t.key, body: { status: 'RESOLVED' } })).status, 200);
    await post(t, { sessionId: 'ws-4', chargingStationId: 'CP-WS-A', meterValues: shifted(KWH.values, 20 * DAY) });
    assert.deepEqual((await issueOf(t, 'ws-4')).issues[0].resolvedBy, 'member');
  });

  it('the session aggregation without filters (a rollup) agrees with the issues grouped live', async () => {
    const all = (await call('GET', '/v1/anomalies/sessions?pageSize=100', { key: t.key })).body.content;
    assert.equal(all.length, 5);
    for (const s of all) {
      // A filter makes the aggregation group the issues themselves.
      const live = (await call('GET', `/v1/anomalies/sessions?chargingSessionId=${s.chargingSessionId}`, { key: t.key })).body.content;
      assert.deepEqual(live, [s]);
    }
  });

  it('a session moved to another station takes its issues along', async () => {
    await post(t, { sessionId: 'ws-5', chargingStationId: 'CP-WS-C', connectorId: '7', meterValues: PIT.values });
    const a = await issueOf(t, 'ws-5');
    assert.equal(a.chargingPointId, 'CP-WS-C');
    assert.equal(a.connectorId, '7');
    assert.deepEqual(sessionsOf(await list(t, '?chargingPointId=CP-WS-B')), []);
  });

  it("a member's change racing a re-analysis of the same session leaves the session's rollup exact", async () => {
    const a = await issueOf(t, 'ws-3');
    const em = stack().orm.em.fork();
    const [{ session_id: sessionDbId }] = await sql(em, 'select session_id from anomaly_issues where id = ?', [a.id]);
    // A re-analysis in flight, as storeVerdicts runs it: the session's row held, a new category
    // found an hour earlier than the other, the rollup refreshed; not committed yet.
    const analysis = stack().orm.em.fork();
    await analysis.begin();
    let change: ReturnType<typeof call> | undefined;
    try {
      await sql(analysis, 'select 1 from charging_sessions where id = ? for update', [sessionDbId]);
      await sql(
        analysis,
        `insert into anomaly_issues (id, tenant_id, session_id, category, status, max_score, first_detected_at, last_detected_at,
                                     station_id, connector_id, evse_id, occurred_at, occurred_until, created_at, updated_at)
         select gen_random_uuid(), tenant_id, session_id, 'ENERGY_PIT', 'OPEN', max_score, now(), now(),
                station_id, connector_id, evse_id, occurred_at - interval '1 hour', occurred_until, now(), now()
           from anomaly_issues where id = ?`,
        [a.id],
      );
      await refreshSessionRollups(analysis, t.tenantId, [sessionDbId]);
      // Meanwhile a member assigns the other issue.
      change = call('PUT', `/v1/anomalies/issues/${a.id}`, { key: t.key, body: { status: a.issues[0].statusName, assignedTo: alice.email } });
      await waitFor('the change to wait on a lock the analysis holds', async () => {
        const [w] = await sql(em, 'select count(*)::int as n from pg_locks where not granted', []);
        return w.n > 0 ? true : undefined;
      }, 10_000, 50);
      await analysis.commit();
    } catch (err) {
      await analysis.rollback();
      throw err;
    }
    const res = await change!;
    assert.equal(res.status, 200, res.text);
    const [rollup] = await sql(em, 'select issue_count, first_occurred_at, categories from anomaly_session_rollups where session_id = ?', [sessionDbId]);
    const [live] = await sql(
      em,
      'select count(*)::int as issue_count, min(occurred_at) as first_occurred_at, array_agg(category order by category) as categories from anomaly_issues where session_id = ?',
      [sessionDbId],
    );
    assert.deepEqual(rollup, live, 'the rollup counts what the analysis committed, the earlier occurrence included');
  });
});
