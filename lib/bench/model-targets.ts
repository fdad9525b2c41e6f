/**
 * Where `tensorrt-node bench <model>` gets its targets: one InferenceSession per sweep point, on the
 * backend the point names ('auto' was resolved by the caller), with seeded random inputs of leading
 * dimension point.batch made once before measuring. run() is one request: `session.run(feeds)`, or
 * `batcher.run(feeds)` when point.batcher is set (the batcher may then stack the requests the harness
 * keeps in flight). Creating the session does all the expensive work (loading, converting, building),
 * so none of it is measured.
 *
 * tensorrt points without the batcher drive the session's engine on execution contexts directly
 * (./targets/tensorrt-engine.ts), which is what reports trtexec's phases (enqueue, H2D, GPU compute,
 * D2H from CUDA events) and honours --transfers off; the others measure end-to-end latency only.
 */
import { onnxRuntimeVersion } from '../addon/system/onnxruntime-package.js';
import { generateFeeds } from '../precision/calibration-data.js';
import type { InputShapes } from '../core/shape-spec.js';
import { benchShapes, tensorrtProfiles } from './model-shapes.js';
import type { BenchTarget, BenchTargetFactory, SweepPoint, TargetDescription } from './target.js';

/** Options of {@link createModelTargetFactory}. */
export interface ModelTargetOptions {
  /** Session contexts (default 1): execution contexts on tensorrt, worker threads on cpu. */
  contexts?: number;
  /** cpu backend: onnxruntime intra-op threads per context (default: the cores divided among contexts). */
  cpuThreads?: number;
  /** Shapes of inputs with dynamic dims beyond the batch dim (`--shape`); their leading dim follows the point's batch. */
  shapes?: InputShapes;
  /**
   * Why a backend runs when the caller chose it (`--backend auto` resolved before the sweep), by
   * backend; recorded in place of the session's own reason, which would say "asked for by name".
   */
  chosenBy?: Partial<Record<'cpu' | 'tensorrt', string>>;
}

/**
 * The targets `tensorrt-node bench` measures: for each sweep point, `model` (an ONNX file or engine)
 * loaded on the point's backend and precision with random inputs of the point's batch. tensorrt
 * points without the batcher drive the engine's execution contexts directly (so they measure
 * trtexec's enqueue/H2D/compute/D2H phases); the others run through an InferenceSession.
 */
export function createModelTargetFactory(model: string, options: ModelTargetOptions = {}): BenchTargetFactory {
  return async (point: SweepPoint): Promise<BenchTarget> => {
    if (point.backend === 'tensorrt' && !point.batcher) {
      const { createTensorRTEngineTarget } = await import('./targets/tensorrt-engine.js');
      return createTensorRTEngineTarget(model, point, {
        ...(options.shapes ? { shapes: options.shapes } : {}),
        ...(options.contexts ? { contexts: options.contexts } : {}),
      });
    }
    const { InferenceSession } = await import('../session/inference-session.js');
    const contexts = options.contexts ?? 1;
    const profiles = point.backend === 'tensorrt' ? await tensorrtProfiles(model, point, options.shapes) : undefined;
    const session = await InferenceSession.create(model, {
      ...(profiles ? { profiles } : {}),
      backend: point.backend,
      precision: point.precision,
      contexts,
      maxQueue: Math.max(1024, point.concurrency),
      ...(point.backend === 'cpu'
        ? options.cpuThreads
          ? { cpu: { intraOpNumThreads: options.cpuThreads } }
          : {}
        : { cudaGraph: point.cudaGraph, ...(point.device === null ? {} : { device: point.device }) }),
      ...(point.precision === 'int8' ? { calibration: { random: 8, seed: 1 } } : {}),
    });
    try {
      const feeds = generateFeeds(
        session.inputs,
        { random: 1, seed: 1 },
        benchShapes(session.inputs, point.batch, options.shapes, model),
      ).next().value!;
      const maxBatchSize = point.batch * point.concurrency;
      const batcher = point.batcher
        ? session.batcher({ maxBatchSize, maxDelayMs: 0, maxQueue: Math.max(1024, point.concurrency) })
        : null;
      const description: TargetDescription = {
        backend: session.backend,
        precision: point.precision,
        batch: point.batch,
        device: null,
        versions: session.backend === 'cpu' ? { 'onnxruntime-node': onnxRuntimeVersion() ?? 'unknown' } : {},
        measuresPhases: false,
        notes: [
          `InferenceSession: ${options.chosenBy?.[session.backend] ?? session.backendReason}; ${contexts} context(s)`,
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
