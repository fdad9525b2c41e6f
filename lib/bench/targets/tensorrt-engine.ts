/**
 * The tensorrt bench target that measures trtexec's phases: the engine InferenceSession would run
 * (built through the same factory code and engine cache, or loaded from an engine file) on execution
 * contexts driven directly, each run timed with CUDA events (enqueue, H2D, GPU compute, D2H on the
 * performance.now() clock, see lib/run-timing.ts).
 *
 * `point.transfers` off is trtexec's --noDataTransfers: inputs live in device tensors filled once,
 * outputs are written to device tensors, so a run is the GPU work alone. On, inputs are copied from
 * host arrays and outputs come back as fresh host arrays, the path a service takes.
 *
 * Used for tensorrt points without the batcher (the batcher's requests go through a session).
 */
import type { BackendRequest } from '../../session/registry.js';
import type { HostTensor } from '../../core/dtypes.js';
import type { ExecutionContext, ContextRunOptions } from '../../tensorrt/execution-context.js';
import type { Engine } from '../../tensorrt/engine.js';
import { generateFeeds } from '../../precision/calibration-data.js';
import type { ContextFeeds } from '../../tensorrt/bindings.js';
import { classifyModel } from '../../session/options.js';
import { Tensor } from '../../cuda/tensor.js';
import type { InputShapes } from '../../core/shape-spec.js';
import { benchShapes, tensorrtProfiles } from '../model-shapes.js';
import type { BenchTarget, SweepPoint, TargetDescription } from '../target.js';

export interface EngineTargetOptions {
  shapes?: InputShapes;
  /** Execution contexts the requests in flight are spread over (default 1, as a session's). */
  contexts?: number;
}

/** Device copies of `feeds`, and device outputs shaped as one run with host outputs produced. */
async function deviceBindings(
  context: ExecutionContext,
  feeds: Record<string, HostTensor>,
  device: number,
): Promise<{ inputs: Record<string, Tensor>; outputs: Record<string, Tensor> }> {
  const inputs: Record<string, Tensor> = {};
  const outputs: Record<string, Tensor> = {};
  try {
    for (const [name, feed] of Object.entries(feeds))
      inputs[name] = await Tensor.fromArray(feed.data as never, {
        location: 'device',
        device,
        dtype: feed.dtype,
        shape: feed.shape,
      });
    const probe = await context.run(feeds);
    for (const [name, output] of Object.entries(probe.outputs))
      outputs[name] = Tensor.allocate(output.dtype, output.shape, { location: 'device', device });
    return { inputs, outputs };
  } catch (error) {
    for (const tensor of [...Object.values(inputs), ...Object.values(outputs)]) tensor.dispose();
    throw error;
  }
}

export async function createTensorRTEngineTarget(
  model: string,
  point: SweepPoint,
  options: EngineTargetOptions = {},
): Promise<BenchTarget> {
  const { engineForRequest } = await import('../../session/factories/tensorrt.js');
  const { capabilities } = await import('../../addon/capabilities.js');
  const device = point.device ?? 0;
  const profiles = await tensorrtProfiles(model, point, options.shapes);
  const request: BackendRequest = {
    model: classifyModel(model, undefined),
    precision: point.precision,
    calibration: point.precision === 'int8' ? { random: 8, seed: 1 } : undefined,
    profiles,
    cacheDir: undefined,
    device,
    contexts: options.contexts ?? 1,
    cudaGraph: point.cudaGraph ? 'auto' : false,
    backendOptions: undefined,
    explicit: true,
  };
  const engine: Engine = await engineForRequest(request);
  const contexts: ExecutionContext[] = [];
  const tensors: Tensor[] = [];
  const release = async () => {
    await Promise.all(contexts.map((context) => context.dispose()));
    for (const tensor of tensors) tensor.dispose();
    engine.dispose();
  };
  try {
    for (let index = 0; index < request.contexts; index++)
      contexts.push(await engine.createContext({ cudaGraph: request.cudaGraph }));
    const inputInfos = engine.inputs.map((input) => ({
      name: input.name,
      dtype: input.dtype as HostTensor['dtype'],
      shape: input.shape,
    }));
    const feeds = generateFeeds(
      inputInfos,
      { random: 1, seed: 1 },
      benchShapes(inputInfos, point.batch, options.shapes, model),
    ).next().value! as Record<string, HostTensor>;
    // Each context gets its own device bindings (runs on different contexts overlap on the GPU).
    const plans: { context: ExecutionContext; inputs: ContextFeeds; runOptions: ContextRunOptions }[] = [];
    for (const context of contexts) {
      if (point.transfers) {
        plans.push({ context, inputs: feeds, runOptions: { timing: true } });
        continue;
      }
      const bound = await deviceBindings(context, feeds, device);
      tensors.push(...Object.values(bound.inputs), ...Object.values(bound.outputs));
      plans.push({ context, inputs: bound.inputs, runOptions: { timing: true, outputTensors: bound.outputs } });
    }
    const caps = await capabilities();
    const gpu = caps.devices[device];
    const description: TargetDescription = {
      backend: 'tensorrt',
      precision: point.precision,
      batch: point.batch,
      device: gpu ? { index: device, name: gpu.name, uuid: gpu.uuid, computeCapability: gpu.computeCapability } : null,
      versions: caps.tensorrt.version ? { tensorrt: caps.tensorrt.version } : {},
      measuresPhases: true,
      notes: [
        `execution contexts driven directly (${contexts.length}), CUDA graphs ${point.cudaGraph ? 'auto' : 'off'}`,
        point.transfers
          ? 'host inputs and outputs: H2D and D2H copies in every request'
          : 'device-resident inputs and outputs: no transfers (trtexec --noDataTransfers)',
      ],
    };
    let next = 0;
    return {
      describe: () => description,
      async run() {
        const plan = plans[next]!;
        next = (next + 1) % plans.length;
        const result = await plan.context.run(plan.inputs, plan.runOptions);
        return result.timing!;
      },
      dispose: release,
    };
  } catch (error) {
    await release();
    throw error;
  }
}
