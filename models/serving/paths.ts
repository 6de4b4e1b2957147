// Where the committed artifacts live. Kept apart from onnx-detector.ts so that reading the model
// cards (the registry, GET /v1/models) does not load the onnxruntime native module.
import { join } from 'node:path';

export const ARTIFACTS_DIR = join(__dirname, '..', 'artifacts');
