/**
 * Where `tensorrt-node bench <model>` gets its targets: one InferenceSession per sweep point, on the
 * backend the point names ('auto' was resolved by the caller), with seeded random inputs of leading
 * dimension point.batch made once before measuring. run() is one request: `session.run(feeds)`, or
 * `batcher.run(feeds)` when point.batcher is set (the batcher may then stack the requests the harness
 * keeps in flight). Creating the session does all the expensive work (loading, converting, building),
 * so none of it is measured.
 *
 * Phase timings (H2D, compute, D2H from CUDA events) belong to the tensorrt backend; until it reports
 * them, targets measure end-to-end latency only (measuresPhases: false).
 */
import { onnxRuntimeVersion } from '../backends/onnxruntime-package.js';
import { ErrorCode, TensorRTNodeError } from '../errors.js';
import { generateFeeds } from '../onnx/calibration-data.js';
import type { TensorMap } from '../backends/backend.js';
import type { BenchTarget, BenchTargetFactory, SweepPoint, TargetDescription } from './target.js';

export interface ModelTargetOptions {
  /** Session contexts (default 1): execution contexts on tensorrt, worker threads on cpu. */
  contexts?: number;
  /** cpu backend: onnxruntime intra-op threads per context (default: the cores divided among contexts). */
  cpuThreads?: number;
}

/** Inputs of leading dim `batch`; a model with other dynamic dims cannot be benchmarked without shapes. */
function benchFeeds(inputs: readonly { name: string; shape: readonly number[]; dtype: string }[], batch: number, model: string): TensorMap {
  const shapes: Record<string, number[]> = {};
  for (const input of inputs) {
    const shape = input.shape.map((dim, axis) => (axis === 0 && dim === -1 ? batch : dim));
    if (shape.some((dim) => dim < 0)) {
      throw new TensorRTNodeError(ErrorCode.NOT_SUPPORTED, `Cannot benchmark ${model}: input "${input.name}" [${input.shape.join(', ')}] has dynamic dims beyond the batch dim, and bench has no option for their size yet`);
    }
    if (input.shape[0] !== -1 && batch !== 1) {
      throw new TensorRTNodeError(ErrorCode.NOT_SUPPORTED, `Cannot benchmark ${model} at batch ${batch}: input "${input.name}" has a fixed leading dim [${input.shape.join(', ')}]`);
    }
    shapes[input.name] = shape;
  }
  return generateFeeds(inputs as never, { random: 1, seed: 1 }, shapes).next().value!;
}

export function createModelTargetFactory(model: string, options: ModelTargetOptions = {}): BenchTargetFactory {
  return async (point: SweepPoint): Promise<BenchTarget> => {
    const { InferenceSession } = await import('../session.js');
    const contexts = options.contexts ?? 1;
    const session = await InferenceSession.create(model, {
      backend: point.backend,
      precision: point.precision,
      contexts,
      maxQueue: Math.max(1024, point.concurrency),
      ...(point.backend === 'cpu' ? (options.cpuThreads ? { cpu: { intraOpNumThreads: options.cpuThreads } } : {}) : { cudaGraph: point.cudaGraph, ...(point.device === null ? {} : { device: point.device }) }),
      ...(point.precision === 'int8' ? { calibration: { random: 8, seed: 1 } } : {}),
    });
    try {
      const feeds = benchFeeds(session.inputs, point.batch, model);
      const maxBatchSize = point.batch * point.concurrency;
      const batcher = point.batcher ? session.batcher({ maxBatchSize, maxDelayMs: 0, maxQueue: Math.max(1024, point.concurrency) }) : null;
      const description: TargetDescription = {
        backend: session.backend,
        precision: point.precision,
        batch: point.batch,
        device: null,
        versions: session.backend === 'cpu' ? { 'onnxruntime-node': onnxRuntimeVersion() ?? 'unknown' } : {},
        measuresPhases: false,
        notes: [
          `InferenceSession: ${session.backendReason}; ${contexts} context(s)`,
          batcher ? `dynamic batcher: maxBatchSize ${maxBatchSize}, maxDelayMs 0` : 'no batcher: one execution per request',
        ],
      };
      return {
        describe: () => description,
        async run() {
          await (batcher ?? session).run(feeds);
          return undefined;
        },
        dispose: () => session.dispose(),
      };
    } catch (error) {
      await session.dispose();
      throw error;
    }
  };
}
