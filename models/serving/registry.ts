// The base models as GET /v1/models lists them (seeds/002 shapes), read from the committed model
// cards: the lead seeds the registry table from `baseModels()` (one row per card, keyed by id), so
// the endpoint shows the metrics the evaluation measured, never hand-typed ones.
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { ModelRecord } from '../../domain/models/registry';
import { ARTIFACTS_DIR } from './paths';


const CARDS = ['csar-2', 'csar-c-2', 'sorc', 'shade-1'];

export function baseModels(dir = ARTIFACTS_DIR): ModelRecord[] {
  return CARDS.map((name) => {
    const card = JSON.parse(readFileSync(join(dir, `${name}.card.json`), 'utf8')) as Record<string, any>;
    return {
      id: card.id,
      name: card.name,
      type: card.type,
      version: card.version,
      isBase: true,
      baseModel: null,
      metrics: card.metrics ?? null,
      status: 'active',
      createdAt: card.trainedAt,
      s3Path: relative(join(__dirname, '..', '..'), join(dir, card.artifact.file)),
      description: card.description ?? null,
      featureVersion: card.featureVersion,
    };
  });
}

/** The committed base models, or none when the artifacts are not there (a checkout without models). */
export function committedBaseModels(): ModelRecord[] {
  if (!existsSync(ARTIFACTS_DIR)) return [];
  try {
    return baseModels();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
