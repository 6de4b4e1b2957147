// The benchmark's workload: N sessions of exactly 96 meter values (48 one-minute samples of the
// energy register and power), deterministic, one in five with a register reset.
import type { RawMeterValue } from '../domain/analysis/types';

export interface BenchSession {
  sessionId: string;
  chargingStationId: string;
  meterValues: RawMeterValue[];
}

export const READINGS_PER_SESSION = 96;

export function benchSessions(count: number, prefix = 'bench'): BenchSession[] {
  const out: BenchSession[] = [];
  const start = Date.parse('2026-06-01T00:00:00Z');
  for (let i = 0; i < count; i++) {
    const t0 = start + (i % 10_000) * 600_000;
    const kw = 7 + (i % 5) * 3;
    const reset = i % 5 === 0 ? 30 : -1;
    const meterValues: RawMeterValue[] = [];
    let kwh = 100 + (i % 97);
    for (let k = 0; k < READINGS_PER_SESSION / 2; k++) {
      const timestamp = new Date(t0 + k * 60_000).toISOString();
      if (k === reset) kwh = 0;
      meterValues.push({ timestamp, value: Math.round(kwh * 1000) / 1000, measurand: 'Energy.Active.Import.Register', unit: 'kWh' });
      meterValues.push({ timestamp, value: kw, measurand: 'Power.Active.Import', unit: 'kW' });
      kwh += kw / 60;
    }
    out.push({ sessionId: `${prefix}-${i}`, chargingStationId: `BENCH-CP-${i % 500}`, meterValues });
  }
  return out;
}
