// SHADE detect() time for 10,000 station-days of 4 connectors × 1440 minutes, one thread (issue 17:
// a small part of the ≤ 60 s end-to-end budget). Usage: tsx models/training/shade/bench-detect.ts [--days 10000]
import { benchDays, timeDetect } from './evaluate-cli';

(async () => {
  const i = process.argv.indexOf('--days');
  const total = i >= 0 ? Number(process.argv[i + 1]) : 10_000;
  const days = benchDays(500, total);
  for (const rulesOnly of [true, false]) {
    const t = await timeDetect(days, rulesOnly);
    console.log(`${rulesOnly ? 'rules alone     ' : 'rules + SHADE-1 '} ${total} station-days: ${t.cpu.toFixed(2)} s CPU, ${t.wall.toFixed(2)} s wall (${((1000 * t.cpu) / total).toFixed(3)} ms CPU per day)`);
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
