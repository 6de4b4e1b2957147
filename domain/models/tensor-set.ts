// Training tensors on disk, the one writer of the format that models/training/train/data.py reads:
// the base models' export (models/training/export-dataset.ts, simulated sessions) and the
// fine-tuning export (domain/models/fine-tune-data.ts, a tenant's sessions) both append here.
//
//   features.f32   per session, channel-major [F × T] float32 little-endian, concatenated
//   labels.u8      per session, [C × T] 0/1 per category (ANOMALY_CATEGORIES order)
//   soc.f32        per session, [T] SoC target (%); NaN where unknown
//   sorc.f32       per session with a SoC target, [F × T] features of the same window without its
//                  SoC readings (what serving computes for a session without SoC)
//   manifest.json  feature version and names, categories, corpus, per-session offsets
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ANOMALY_CATEGORIES } from '../analysis/types';

export interface SessionEntry {
  id: string;
  /** Offset of the session's first bucket in the concatenated per-bucket arrays. */
  offset: number;
  T: number;
  clean: boolean;
  categories: string[];
  lookalike: string | null;
  measurands: string;
  /** Offset into sorc.f32 (in buckets), or -1 when the session has no SoC target. */
  sorcOffset: number;
}

export interface Manifest<Corpus = Record<string, unknown>> {
  featureVersion: string;
  featureNames: readonly string[];
  featureCount: number;
  sorcInputChannels: number[];
  categories: string[];
  corpus: Corpus;
  totalBuckets: number;
  totalSorcBuckets: number;
  skipped: number;
  createdAt: string;
  sessions: SessionEntry[];
}

const write = (fd: number, a: Float32Array | Uint8Array) => writeSync(fd, Buffer.from(a.buffer, a.byteOffset, a.byteLength));

export class TensorSet {
  private readonly fds: Record<'features' | 'labels' | 'soc' | 'sorc', number>;
  readonly sessions: SessionEntry[] = [];
  /** Buckets written so far (all sessions), and those of SORC's inputs. */
  buckets = 0;
  private sorcBuckets = 0;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.fds = {
      features: openSync(join(dir, 'features.f32'), 'w'),
      labels: openSync(join(dir, 'labels.u8'), 'w'),
      soc: openSync(join(dir, 'soc.f32'), 'w'),
      sorc: openSync(join(dir, 'sorc.f32'), 'w'),
    };
  }

  /**
   * Appends one session: its features and labels, its SoC target (all NaN without one) and, for a
   * session with a target, SORC's input features (the same window without its SoC readings).
   */
  add(
    entry: Omit<SessionEntry, 'offset' | 'T' | 'sorcOffset'>,
    t: { features: { data: Float32Array; bucketCount: number }; labels: Uint8Array; soc?: Float32Array; sorc?: Float32Array },
  ): void {
    const T = t.features.bucketCount;
    write(this.fds.features, t.features.data);
    write(this.fds.labels, t.labels);
    write(this.fds.soc, t.soc ?? new Float32Array(T).fill(NaN));
    let sorcOffset = -1;
    if (t.sorc) {
      write(this.fds.sorc, t.sorc);
      sorcOffset = this.sorcBuckets;
      this.sorcBuckets += T;
    }
    this.sessions.push({ ...entry, offset: this.buckets, T, sorcOffset });
    this.buckets += T;
  }

  /** Closes the files and writes the manifest. */
  close<Corpus>(header: Pick<Manifest<Corpus>, 'featureVersion' | 'featureNames' | 'sorcInputChannels' | 'corpus' | 'skipped'>): Manifest<Corpus> {
    for (const fd of Object.values(this.fds)) closeSync(fd);
    const manifest: Manifest<Corpus> = {
      ...header,
      featureCount: header.featureNames.length,
      categories: [...ANOMALY_CATEGORIES],
      totalBuckets: this.buckets,
      totalSorcBuckets: this.sorcBuckets,
      createdAt: new Date().toISOString(),
      sessions: this.sessions,
    };
    writeFileSync(join(this.dir, 'manifest.json'), JSON.stringify(manifest));
    return manifest;
  }
}
