// The charging simulator: one implementation of synthetic sessions for training, tests,
// evaluation, demo data and benchmarks.
export { generateSession, normaliseCategories, DEFAULT_START_RANGE, type SessionOptions } from './session';
export { generateCorpus, iterateCorpus, summariseCorpus, compatible, type CorpusOptions, type CorpusSummary } from './corpus';
export { truthWindow, truthBuckets, type TruthWindow, type TruthBuckets } from './truth';
export { Rng, hashSeed, type Seed } from './rng';
export { loadVehicles, EV_DATA_PATH } from './ev-data';
export { parseEvData, type Vehicle } from './vehicle';
export { drawStation, type Station } from './station';
export { formatTimestamp } from './encode';
export * from './types';
export { SLICE_KEYS, sessionSlices, heldOutParts, heldOutVehicleIds, HOLDOUT, type SliceKey, type HeldOutPart } from './slices';
export { FAILURE_CLASSES, generateScenario, scenarioExpectation, type FailureClass } from './scenarios';
