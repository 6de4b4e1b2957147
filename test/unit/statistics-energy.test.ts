// Delivered and unbilled energy per session (domain/statistics/energy.ts), the basis of the revenue
// figures of GET /v1/statistics, on the crafted sessions of the detection contract.
import assert from 'node:assert/strict';
import { sessionEnergy } from '../../domain/statistics/session-energy';
import { categoryFixtures, simulate, stored, toMeterValues } from '../fixtures/sessions';

const fixture = (name: string) => stored(categoryFixtures.find((f) => f.name === name)!.values);
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 0.01, `${what}: ${a} ≠ ${b}`);

describe('session energy (statistics)', () => {
  it('a clean session delivers its register difference, all of it billed', () => {
    // 11 kW for 120 intervals of 15 s = 5.5 kWh.
    const e = sessionEnergy(stored(toMeterValues(simulate({ count: 121, power: () => 11 }))));
    close(e.deliveredKwh, 5.5, 'delivered');
    close(e.unbilledKwh, 0, 'unbilled');
  });

  it('a register reset (KWH_DECREASE) still counts the energy after it, which the register difference does not bill', () => {
    // 5.5 kWh flowed; the 15 s in which the register reset (11 kW × 15 s) cannot be read from it.
    const e = sessionEnergy(fixture('kwh-decrease'));
    const expected = 5.5 - (11 * 15) / 3600;
    close(e.deliveredKwh, expected, 'delivered');
    close(e.unbilledKwh, expected, 'unbilled: the last reading is below the first, so the difference bills nothing');
  });

  it('a pit that comes back (ENERGY_PIT) is not counted twice', () => {
    const e = sessionEnergy(fixture('energy-pit'));
    const clean = categoryFixtures.find((f) => f.name === 'energy-pit')!.values.filter((v) => v.measurand === 'Energy.Active.Import.Register');
    const difference = clean[clean.length - 1].value - clean[0].value;
    close(e.deliveredKwh, difference, 'delivered = the register difference');
    close(e.unbilledKwh, 0, 'unbilled');
  });

  it('a zero session delivers nothing; power alone is integrated', () => {
    close(sessionEnergy(fixture('zero-session')).deliveredKwh, 0, 'zero session');
    const powerOnly = stored(toMeterValues(simulate({ count: 241, power: () => 22 })).filter((v) => v.measurand === 'Power.Active.Import'));
    close(sessionEnergy(powerOnly).deliveredKwh, 22, 'one hour at 22 kW');
  });
});
