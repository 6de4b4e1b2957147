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
  /**
   * Once a piece has failed, no lane starts another (default). Off only where recorded histories
   * were made by lanes that went on: the workflow fails or is cancelled with the failure anyway,
   * but a piece another lane started in that same activation is a command the replay expects.
   */
  stopOnFailure?: boolean;
}

/**
 * Runs `work` on the pieces `from`…`to - 1` and resolves with the first piece not started (`to`,
 * unless stopped). A failing piece rejects at once.
 */
export async function inLanes(opts: LaneOptions, work: (index: number) => Promise<void>): Promise<number> {
  let next = opts.from ?? 0;
  let failed = false;
  const lane = async () => {
    while (!(failed && opts.stopOnFailure !== false) && next < opts.to && !opts.stop?.()) {
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
