/**
 * Node sensitivity: how much error each converted (or quantized) node adds by itself. Both the
 * float32 model and the full candidate run on the cpu backend with the nodes' inputs and outputs
 * exposed as extra outputs; a node adds the error of its output minus the largest error already on
 * its inputs, measured the way the target is: relative L2 error against a cosine target (cosine
 * ~ 1 - e^2/2, so the budget is sqrt(2 (1 - minCosine))) and largest absolute difference against a
 * maxAbs target. The score is the added error over the budget (the larger of the two when both are
 * set). Ranking by it puts first the nodes whose precision damages the result, not those that
 * merely pass on damage done before them.
 */
import { createCpuBackend, type CpuBackendOptions } from '../backends/cpu/backend.js';
import type { TensorMap } from '../core/tensors.js';
import { exposeTensors } from '../onnx/expose.js';
import { emulateFloat16Storage } from '../onnx/fp16-emulation.js';
import type { OnnxModel } from '../onnx/model.js';
import { DataType, type NodeProto } from '../onnx/proto.js';
import { inferElemTypes } from '../onnx/types.js';
import type { AccuracyTarget } from './accuracy.js';
import { toFloat64 } from './compare.js';

export interface NodeSensitivity {
  name: string;
  opType: string;
  /** The added error over the target's budget (see the module comment); ranks the nodes. */
  error: number;
  /** Relative L2 error the node adds (its output's minus its inputs' worst). */
  relative: number;
  /** Largest absolute difference the node adds. */
  absolute: number;
}

interface TensorError {
  relative: number;
  absolute: number;
}

/** Tensors exposed per run, so that a large model's activations never all sit in memory at once. */
const EXPOSED_PER_RUN = 96;

/** Relative L2 errors of `chunk` (candidate against reference) over `samples`, in one run of each model per sample. */
async function tensorErrors(
  reference: OnnxModel,
  candidate: OnnxModel,
  chunk: readonly string[],
  samples: readonly TensorMap[],
  cpu: CpuBackendOptions | undefined,
  float16: boolean,
  signal?: AbortSignal,
): Promise<Map<string, TensorError>> {
  const errors = new Map<string, TensorError>();
  const referenceBackend = await createCpuBackend(exposeTensors(reference, chunk), cpu);
  const exposed = exposeTensors(candidate, chunk);
  const candidateBackend = await createCpuBackend(
    float16 ? emulateFloat16Storage(exposed) : exposed,
    float16 ? { ...cpu, graphOptimizationLevel: 'disabled' } : cpu,
  ).catch(async (error: unknown) => {
    await referenceBackend.dispose();
    throw error;
  });
  try {
    const sums = new Map(chunk.map((name) => [name, { difference: 0, norm: 0, max: 0, nonFinite: false }]));
    for (const feeds of samples) {
      signal?.throwIfAborted();
      const expected = await referenceBackend.run(feeds, { outputs: chunk, signal });
      const actual = await candidateBackend.run(feeds, { outputs: chunk, signal });
      for (const name of chunk) {
        const want = toFloat64(expected[name]!);
        const got = toFloat64(actual[name]!);
        const sum = sums.get(name)!;
        for (let index = 0; index < want.length; index++) {
          const difference = got[index]! - want[index]!;
          if (!Number.isFinite(difference)) {
            if (Number.isFinite(want[index]!)) sum.nonFinite = true;
            continue;
          }
          sum.difference += difference * difference;
          sum.norm += want[index]! * want[index]!;
          if (Math.abs(difference) > sum.max) sum.max = Math.abs(difference);
        }
      }
    }
    for (const [name, sum] of sums) {
      const relative = sum.nonFinite ? Infinity : sum.norm > 0 ? Math.sqrt(sum.difference / sum.norm) : Math.sqrt(sum.difference);
      errors.set(name, { relative, absolute: sum.nonFinite ? Infinity : sum.max });
    }
  } finally {
    await referenceBackend.dispose();
    await candidateBackend.dispose();
  }
  return errors;
}

/**
 * The sensitivity of each of `nodes` (nodes of `reference`'s main graph, found in `candidate` by
 * their output names), most damaging first.
 */
export async function nodeSensitivity(
  reference: OnnxModel,
  candidate: OnnxModel,
  nodes: readonly NodeProto[],
  samples: readonly TensorMap[],
  target: Pick<AccuracyTarget, 'minCosine' | 'maxAbs'>,
  options: {
    cpu?: CpuBackendOptions;
    signal?: AbortSignal;
    onProgress?: (done: number, total: number) => void;
    float16?: boolean;
  } = {},
): Promise<NodeSensitivity[]> {
  const referenceTypes = inferElemTypes(reference.proto.graph!);
  const candidateTypes = inferElemTypes(candidate.proto.graph!);
  const constants = new Set(reference.proto.graph!.initializer.map((tensor) => tensor.name));
  for (const node of reference.proto.graph!.node)
    if (node.opType === 'Constant') for (const output of node.output) constants.add(output);
  const graphInputs = new Set(reference.proto.graph!.input.map((input) => input.name));
  const isFloat = (type: number | undefined) => type === DataType.FLOAT || type === DataType.FLOAT16;
  // Measurable: float in both models, computed (not a constant or a model input, whose error is 0).
  const measurable = (name: string) =>
    name !== '' &&
    !constants.has(name) &&
    !graphInputs.has(name) &&
    isFloat(referenceTypes.get(name)) &&
    isFloat(candidateTypes.get(name));
  const names = [...new Set(nodes.flatMap((node) => [...node.input, ...node.output]).filter(measurable))];
  const errors = new Map<string, TensorError>();
  const chunks = Math.ceil(names.length / EXPOSED_PER_RUN);
  for (let chunk = 0; chunk < chunks; chunk++) {
    const part = names.slice(chunk * EXPOSED_PER_RUN, (chunk + 1) * EXPOSED_PER_RUN);
    for (const [name, error] of await tensorErrors(
      reference,
      candidate,
      part,
      samples,
      options.cpu,
      options.float16 ?? false,
      options.signal,
    ))
      errors.set(name, error);
    options.onProgress?.(chunk + 1, chunks);
  }
  const added = (node: NodeProto, kind: keyof TensorError) => {
    const errorOf = (name: string) => errors.get(name)?.[kind] ?? 0;
    const incoming = Math.max(0, ...node.input.map(errorOf));
    const outgoing = Math.max(0, ...node.output.map(errorOf));
    return outgoing === Infinity ? (incoming === Infinity ? 0 : Infinity) : Math.max(0, outgoing - incoming);
  };
  const relativeBudget =
    target.minCosine === undefined ? undefined : Math.max(1e-6, Math.sqrt(2 * Math.max(0, 1 - target.minCosine)));
  return nodes
    .map((node) => {
      const relative = added(node, 'relative');
      const absolute = added(node, 'absolute');
      const scores = [
        relativeBudget === undefined ? 0 : relative / relativeBudget,
        target.maxAbs === undefined ? 0 : absolute / Math.max(target.maxAbs, 1e-12),
      ];
      return { name: node.name, opType: node.opType, error: Math.max(...scores), relative, absolute };
    })
    .sort((a, b) => b.error - a.error);
}
