// Work split into numbered pieces, a few running at a time: each lane takes the next piece when its
// previous one is done, so pieces start in index order whatever finishes first. Running workflows
// replay in that order (their histories schedule activities in it): keep it.

export interface LaneOptions {
  /** The first piece (a continued run resumes where the last one stopped). */
  from?: number;
  /** One past the last piece. */
  to: number;
  /** How many pieces at once (at least one). */
  lanes: number;
  /** Checked before each piece: once true, no lane starts another one. */
  stop?: () => boolean;
}

/**
 * Runs `work` on the pieces `from`…`to - 1` and resolves with the first piece not started (`to`,
 * unless stopped). A failing piece rejects at once, and no lane starts another one after it.
 */
export async function inLanes(opts: LaneOptions, work: (index: number) => Promise<void>): Promise<number> {
  let next = opts.from ?? 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < opts.to && !opts.stop?.()) {
      const index = next++;
      try {
        await work(index);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.lanes) }, lane));
  return next;
}

/** `items` in consecutive chunks of `size` (the last one shorter). */
export function chunked<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}
