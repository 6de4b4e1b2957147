// What every benchmark measures and prints with: command-line options, percentiles, table numbers,
// and the CPU the stack's processes used (the machine is shared: wall time depends on what else
// runs, CPU time much less).
import fs from 'node:fs';
import os from 'node:os';

/** `--name value` from the command line, or the fallback. */
export const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};

/** The p-th percentile (nearest rank); NaN without samples (printed as '–'). */
export const pct = (xs: number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/** A number for the tables; '–' where there is none (a phase the API no longer logs, no samples). */
export const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || !Number.isFinite(n) ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The 1-minute load average, for the tables' notes. */
export const load = () => os.loadavg()[0].toFixed(1);

const CLOCK_TICKS = 100;

/**
 * A process's parent, name and CPU seconds from /proc: its own (all threads) and that of the
 * children it has reaped. Without the latter the sum over live processes went backwards whenever
 * a PostgreSQL backend or autovacuum worker exited (to a negative CPU per write for postgres).
 */
export function procStat(pid: number): { ppid: number; comm: string; cpu: number } {
  const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const close = text.lastIndexOf(')');
  const f = text.slice(close + 2).split(' ').map(Number); // f[0] is the state letter (NaN), unused
  return { ppid: f[1], comm: text.slice(text.indexOf('(') + 1, close), cpu: (f[11] + f[12] + f[13] + f[14]) / CLOCK_TICKS };
}

/**
 * CPU seconds used so far by this process's descendants (PostgreSQL, Temporal, worker, API), by
 * kind: on two cores, processing is bounded by the sum, not by any one process.
 */
export function cpuByKind(): Record<string, number> {
  const stats = new Map<number, { ppid: number; comm: string; cpu: number }>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      stats.set(Number(d), procStat(Number(d)));
    } catch {
      // gone
    }
  }
  const mine = (pid: number): boolean => pid === process.pid || (pid > 1 && stats.has(pid) && mine(stats.get(pid)!.ppid));
  const out: Record<string, number> = {};
  for (const [pid, s] of stats) {
    if (pid === process.pid || !mine(pid)) continue;
    const kind = s.comm.startsWith('postgres') ? 'postgres' : s.comm.startsWith('temporal') ? 'temporal' : s.comm;
    out[kind] = (out[kind] ?? 0) + s.cpu;
  }
  return out;
}
