// Writes a SHADE training/validation set for models/training/shade/train_shade.py: the daily
// profiles (models/serving/shade/profile.ts, the one implementation serving uses too) of simulated
// station-days, with per-slot fault labels.
//   profiles.f32  [N, PROFILE_CHANNELS, SLOTS] float32 little-endian
//   context.f32   [N, CONTEXT_SIZE]
//   slots.u8      [N, SLOTS]  1 where an injected fault acts in the slot
//   manifest.json sizes, per-day labels, the options
// Usage: tsx models/training/shade/export-dataset.ts --seed shade-train-1 --stations 120 --days 28
//          [--history 28] [--fault-rate 0.2] [--new-share 0.15] [--held-out] --out models/datasets/shade-train
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyseDay } from '../../serving/shade/rules';
import { CONDITIONING_CHANNELS, CONTEXT_SIZE, dayProfile, OBSERVED_CHANNELS, PROFILE_CHANNELS, PROFILE_VERSION, SLOTS } from '../../serving/shade/profile';
import { simulateSet, type EvalSetOptions } from './evaluate';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

export function exportSet(o: EvalSetOptions, out: string): void {
  const days = simulateSet(o);
  const N = days.length;
  const profiles = new Float32Array(N * PROFILE_CHANNELS * SLOTS);
  const context = new Float32Array(N * CONTEXT_SIZE);
  const slots = new Uint8Array(N * SLOTS);
  const meta: { station: string; day: string; clean: boolean; types: string[] }[] = [];
  days.forEach((d, i) => {
    const p = dayProfile(d.input, analyseDay(d.input));
    profiles.set(p.x, i * PROFILE_CHANNELS * SLOTS);
    context.set(p.context, i * CONTEXT_SIZE);
    for (const l of d.labels) {
      for (let m = l.startMinute; m <= l.endMinute; m++) slots[i * SLOTS + Math.floor((m * SLOTS) / d.input.minutes)] = 1;
    }
    meta.push({ station: d.spec.id, day: d.input.day, clean: d.labels.length === 0, types: d.labels.map((l) => l.type) });
  });
  mkdirSync(out, { recursive: true });
  const buf = (a: Float32Array | Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  writeFileSync(join(out, 'profiles.f32'), buf(profiles));
  writeFileSync(join(out, 'context.f32'), buf(context));
  writeFileSync(join(out, 'slots.u8'), buf(slots));
  writeFileSync(
    join(out, 'manifest.json'),
    JSON.stringify({ profileVersion: PROFILE_VERSION, days: N, channels: PROFILE_CHANNELS, slots: SLOTS, contextSize: CONTEXT_SIZE, observed: OBSERVED_CHANNELS, conditioning: CONDITIONING_CHANNELS, options: o, meta }),
  );
  console.log(`${out}: ${N} station-days (${meta.filter((m) => m.clean).length} clean)`);
}

if (require.main === module) {
  exportSet(
    {
      seed: arg('seed', 'shade-train-1'),
      stations: Number(arg('stations', '120')),
      days: Number(arg('days', '28')),
      historyDays: Number(arg('history', '56')),
      faultRate: Number(arg('fault-rate', '0.2')),
      newStationShare: Number(arg('new-share', '0.15')),
      heldOut: process.argv.includes('--held-out'),
    },
    arg('out', 'models/datasets/shade-train'),
  );
}
