// SHADE's robust-baseline rules on hand-built station-days: each type fires on its defining
// condition, stays quiet without it, and never judges against expectation with too little history.
import assert from 'node:assert/strict';
import type { HistoryDay, StationDayInput, StationDayResult } from '../../domain/shade/types';
import { loadShadeDetector } from '../../models/serving/shade';
import { affectedPeriod, analyseDay } from '../../models/serving/shade';

interface S {
  start: number;
  end: number;
  kw: number;
}

/** A connector whose sessions charge at `kw` from start to end (minutes), power reported truthfully. */
function connector(id: string, sessions: S[], n = 1440) {
  const energyWh = new Array<number>(n).fill(0);
  const powerWh: (number | null)[] = new Array<number | null>(n).fill(0);
  for (const s of sessions) {
    for (let m = s.start; m <= s.end; m++) {
      energyWh[m] += (s.kw * 1000) / 60;
      powerWh[m] = (powerWh[m] ?? 0) + (s.kw * 1000) / 60;
    }
  }
  return {
    connectorId: id,
    energyWh,
    powerWh,
    sessions: sessions.map((s) => ({ startMinute: s.start, endMinute: s.end, energyWh: (s.kw * 1000 * (s.end - s.start + 1)) / 60 })),
  };
}

/** The usual day: two connectors, sessions every two hours from 07:00 to 21:00, 11 kW for 90 min. */
function usualSessions(offset: number): S[] {
  const out: S[] = [];
  for (let h = 7; h <= 19; h += 2) out.push({ start: h * 60 + offset, end: h * 60 + offset + 89, kw: 11 });
  return out;
}

function historyOf(sessionsPerConnector: S[][], weeks: number, weekday: number): HistoryDay[] {
  const out: HistoryDay[] = [];
  for (let w = 1; w <= weeks; w++) {
    for (let d = 1; d <= 7; d++) {
      const hourlyWh = new Array<number>(24).fill(0);
      const sessionStarts = new Array<number>(24).fill(0);
      for (const ss of sessionsPerConnector) {
        for (const s of ss) {
          sessionStarts[Math.floor(s.start / 60)]++;
          for (let m = s.start; m <= s.end; m++) hourlyWh[Math.floor(m / 60)] += (s.kw * 1000) / 60;
        }
      }
      const back = (w - 1) * 7 + d;
      out.push({ day: `2026-10-${String(31 - back).padStart(2, '0')}`, weekday: (weekday - (back % 7) + 7) % 7, hourlyWh, sessionStarts });
    }
  }
  return out;
}

function day(connectors: ReturnType<typeof connector>[], history: HistoryDay[], extra: Partial<StationDayInput> = {}): StationDayInput {
  return { stationKey: 'st-1', day: '2026-11-02', weekday: 1, dayStart: '2026-11-02T00:00:00.000Z', minutes: 1440, connectors, history, ...extra };
}

const usual = [usualSessions(0), usualSessions(30)];
const fullHistory = historyOf(usual, 4, 1);

function types(r: StationDayResult): string[] {
  return (r.detectionDetails.findings ?? []).map((f) => f.anomaly_type).sort();
}

/** The rules alone (test/unit/shade-model.test.ts covers the learned model on top). */
async function run(d: StationDayInput): Promise<StationDayResult> {
  const shade = await loadShadeDetector({ rulesOnly: true });
  const [r] = await shade.detect([d]);
  return r;
}

describe('SHADE rules', () => {
  it('a usual day is clean', async () => {
    const r = await run(day([connector('1', usual[0]), connector('2', usual[1])], fullHistory));
    assert.equal(r.isAnomaly, false);
    assert.equal(r.detectionDetails.anomaly_type, null);
    assert.deepEqual(r.markers, []);
    assert.ok(r.dayScore < 0.1, `dayScore ${r.dayScore}`);
    assert.equal(r.detectionDetails.actual_energy_kwh, r.detectionDetails.expected_energy_kwh);
  });

  it('outage by expectation: no session and no energy from 09:00 on, where history expects arrivals', async () => {
    const cut = (ss: S[]) => ss.filter((s) => s.end < 9 * 60);
    const r = await run(day([connector('1', cut(usual[0])), connector('2', cut(usual[1]))], fullHistory));
    assert.ok(r.isAnomaly);
    assert.equal(r.detectionDetails.anomaly_type, 'outage');
    const f = r.detectionDetails.findings![0];
    assert.equal(f.connector_id, null);
    assert.equal(f.actual_energy_kwh, 0);
    assert.ok(f.expected_energy_kwh > 50);
    // From the last energy (09:00) to the end of the last hour the history expects arrivals in
    // (19:00–20:00); the quiet evening hours are not part of it.
    assert.deepEqual([f.start_minute, f.end_minute], [540, 1199]);
    assert.equal(r.detectionDetails.affected_period, '2026-11-02T09:00/20:00');
    assert.ok(r.markers.length === 660 && r.markers.every((m) => m.score >= 0.5 && m.startMinute >= 540 && m.startMinute <= 1199));
    // The day is also far below its usual energy, but the outage explains it: no energy_drop on top.
    assert.deepEqual(types(r), ['outage']);
  });

  it('too little history: the same silent day is no outage and no energy drop', async () => {
    const cut = (ss: S[]) => ss.filter((s) => s.end < 9 * 60);
    const twoWeeks = historyOf(usual, 2, 1);
    const r = await run(day([connector('1', cut(usual[0])), connector('2', cut(usual[1]))], twoWeeks));
    assert.equal(r.isAnomaly, false);
    const none = await run(day([connector('1', []), connector('2', [])], []));
    assert.equal(none.isAnomaly, false);
    assert.equal(none.dayScore, 0);
  });

  it('outage by plug-ins: sessions on both connectors deliver nothing, no history needed', async () => {
    const dead = (o: number): S[] => [
      { start: 600 + o, end: 610 + o, kw: 0 },
      { start: 700 + o, end: 715 + o, kw: 0 },
    ];
    const r = await run(day([connector('1', dead(0)), connector('2', dead(20))], []));
    assert.deepEqual(types(r), ['outage']);
  });

  it('stuck connector: connector 2 takes sessions and delivers nothing while connector 1 charges', async () => {
    const stuck: S[] = [
      { start: 600, end: 606, kw: 0 },
      { start: 640, end: 650, kw: 0 },
      { start: 800, end: 805, kw: 0 },
    ];
    const r = await run(day([connector('1', usual[0]), connector('2', [...usual[1].filter((s) => s.end < 600), ...stuck])], fullHistory));
    assert.equal(r.detectionDetails.anomaly_type, 'stuck_connector');
    assert.equal(r.detectionDetails.connector_id, '2');
    const f = r.detectionDetails.findings!.find((x) => x.anomaly_type === 'stuck_connector')!;
    assert.equal(f.start_minute, 600);
    assert.equal(f.end_minute, 805);
    assert.equal(f.actual_energy_kwh, 0);
    assert.ok(f.expected_energy_kwh > 40);
    // One failed plug-in is a session-level ZERO_SESSION, not a stuck connector.
    const one = await run(day([connector('1', usual[0]), connector('2', [...usual[1], { start: 1300, end: 1310, kw: 0 }])], fullHistory));
    assert.equal(one.isAnomaly, false);
  });

  it('energy drop: every session charges at a quarter of the usual power', async () => {
    const slow = usual.map((ss) => ss.map((s) => ({ ...s, kw: s.kw / 4 })));
    const r = await run(day(slow.map((ss, i) => connector(String(i + 1), ss)), fullHistory));
    assert.deepEqual(types(r), ['energy_drop']);
    const f = r.detectionDetails.findings![0];
    assert.ok(f.actual_energy_kwh < 0.3 * f.expected_energy_kwh);
    // A 30 % shortfall is an ordinary slow day.
    const lighter = usual.map((ss) => ss.map((s) => ({ ...s, kw: s.kw * 0.7 })));
    assert.equal((await run(day(lighter.map((ss, i) => connector(String(i + 1), ss)), fullHistory))).isAnomaly, false);
    // Without three same-weekday days the quarter-power day is not judged.
    const short = await run(day(slow.map((ss, i) => connector(String(i + 1), ss)), historyOf(usual, 2, 1)));
    assert.equal(short.isAnomaly, false);
  });

  it('unexplained load: energy at night on a connector with no session', async () => {
    const c1 = connector('1', usual[0]);
    for (let m = 120; m < 180; m++) c1.energyWh[m] = 40; // 2.4 kW, 2.4 kWh
    const r = await run(day([c1, connector('2', usual[1])], fullHistory));
    assert.deepEqual(types(r), ['unexplained_load']);
    const f = r.detectionDetails.findings![0];
    assert.equal(f.connector_id, '1');
    assert.deepEqual([f.start_minute, f.end_minute], [120, 179]);
    assert.equal(f.expected_energy_kwh, 0);
    assert.equal(f.actual_energy_kwh, 2.4);
    assert.equal(r.detectionDetails.affected_period, '2026-11-02T02:00/03:00');
    // A minute of register creep at a session's edge is the session's.
    const c2 = connector('1', usual[0]);
    c2.energyWh[usual[0][0].end + 1] = 30;
    assert.equal((await run(day([c2, connector('2', usual[1])], fullHistory))).isAnomaly, false);
  });

  it('meter drift: the register reads 20 % above what the reported power implies from noon on', async () => {
    const c1 = connector('1', usual[0]);
    for (let m = 720; m < 1440; m++) c1.energyWh[m] *= 1.2;
    const r = await run(day([c1, connector('2', usual[1])], fullHistory));
    assert.deepEqual(types(r), ['meter_drift']);
    const f = r.detectionDetails.findings![0];
    assert.equal(f.connector_id, '1');
    // The register is read as a 5-minute mean around each reading: the start may lead by 2 minutes.
    assert.ok(f.start_minute >= 718 && f.start_minute <= 780, `start ${f.start_minute}`);
    assert.ok(f.actual_energy_kwh > f.expected_energy_kwh * 1.15);
    // 3 % is within metering tolerance.
    const c3 = connector('1', usual[0]);
    for (let m = 0; m < 1440; m++) c3.energyWh[m] *= 1.03;
    assert.equal((await run(day([c3, connector('2', usual[1])], fullHistory))).isAnomaly, false);
    // Minutes without power readings are not evidence either way.
    const c4 = connector('1', usual[0]);
    for (let m = 0; m < 1440; m++) {
      c4.energyWh[m] *= 1.5;
      c4.powerWh[m] = null;
    }
    assert.equal((await run(day([c4, connector('2', usual[1])], fullHistory))).isAnomaly, false);
  });

  it('scores stay in 0–1 and findings are strongest first; analyseDay agrees with detect', async () => {
    const c1 = connector('1', usual[0]);
    for (let m = 120; m < 180; m++) c1.energyWh[m] = 200;
    for (let m = 720; m < 1440; m++) c1.energyWh[m] *= 1.4;
    const d = day([c1, connector('2', usual[1])], fullHistory);
    const r = await run(d);
    const fs = r.detectionDetails.findings!;
    assert.ok(fs.length >= 2);
    for (let i = 1; i < fs.length; i++) assert.ok(fs[i - 1].score >= fs[i].score);
    for (const x of [r.anomalyScore, r.dayScore, ...fs.map((f) => f.score), ...r.markers.map((m) => m.score)]) assert.ok(x >= 0 && x <= 1);
    assert.equal(r.anomalyScore, fs[0].score);
    assert.ok(r.dayScore >= r.anomalyScore);
    assert.equal(analyseDay(d).findings.length, fs.length);
  });

  it('a 25-hour DST day is judged over all its minutes', async () => {
    const n = 1500;
    const c1 = connector('1', usual[0], n);
    for (let m = 1450; m < 1480; m++) c1.energyWh[m] = 50;
    const d = day([c1, connector('2', usual[1], n)], fullHistory, { day: '2026-10-25', weekday: 0, dayStart: '2026-10-24T22:00:00.000Z', minutes: n, timeZone: 'Europe/Berlin' });
    const r = await run(d);
    assert.deepEqual(types(r), ['unexplained_load']);
    assert.equal(r.detectionDetails.affected_period, '2026-10-25T23:10/23:40');
    assert.ok(r.markers.every((m) => m.startMinute >= 1450 && m.startMinute < 1480));
  });

  it('affected periods show local clock time on DST days when the zone is given', () => {
    // Europe/Berlin, 2026-10-25 has 25 hours: local midnight is 22:00 UTC the day before.
    const d = day([], [], { day: '2026-10-25', dayStart: '2026-10-24T22:00:00.000Z', minutes: 1500, timeZone: 'Europe/Berlin' });
    assert.equal(affectedPeriod(d, 0, 1499), '2026-10-25');
    // Minute 240 is 03:00 local after the clocks went back at 03:00 → 02:00.
    assert.equal(affectedPeriod(d, 240, 299), '2026-10-25T03:00/04:00');
    assert.equal(affectedPeriod(d, 1440, 1499), '2026-10-25T23:00/24:00');
  });
});
