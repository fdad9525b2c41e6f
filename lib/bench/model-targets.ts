/**
 * Where `tensorrt-node bench <model>` gets its targets: the one place InferenceSession-backed
 * targets plug in. Until the InferenceSession and its backends land, no backend can run a model, and
 * this says so instead of pretending.
 *
 * To connect it: return a BenchTargetFactory that, for each SweepPoint, resolves point.backend
 * ('auto' -> 'tensorrt' when capabilities().backends.tensorrt.available, else 'cpu'), creates a
 * session for `model` with point.precision / point.device / point.cudaGraph / point.transfers /
 * point.batcher, fills inputs of leading dimension point.batch once, and returns a BenchTarget
 * whose run() is one `session.run(feeds)` (plus PhaseTimings from CUDA events on tensorrt), whose
 * describe() reports what actually ran, and whose dispose() disposes the session.
 */
import { ErrorCode, TensorRTNodeError } from '../errors.js';
import type { BenchTargetFactory } from './target.js';

export function createModelTargetFactory(model: string): BenchTargetFactory {
  throw new TensorRTNodeError(
    ErrorCode.NOT_SUPPORTED,
    `Cannot benchmark ${model}: no backend available yet (InferenceSession and its cpu and tensorrt backends have not landed in this build). Import a trtexec run meanwhile with \`tensorrt-node bench --trtexec <exportTimes.json or log>\`.`,
    { details: { model } },
  );
}
