/**
 * The search behind accuracy-targeted mixed precision: given the candidate nodes ranked most
 * damaging first, find the fewest to leave in float32 (or unquantized) that meet the target.
 *
 * 1. Galloping then bisection over "keep the k most damaging": k = 1, 2, 4, ... until the target
 *    holds, then bisect between the last failing and the first passing k.
 * 2. Pruning: chunks of the kept nodes (halves, then quarters, ... down to single nodes, least
 *    damaging first) are tried back in reduced precision; a chunk stays converted when the target
 *    still holds. Rankings are estimates, and where one is poor the passing prefix is long: chunks
 *    shrink it in about m log2(k) probes for m nodes truly needed out of k, not k probes.
 * Every probe builds a model and measures it on the samples; the search stops at its deadline with
 * the best result measured so far (everything kept, the original precision, if nothing met it).
 */
import { create } from '@bufbuild/protobuf';
import { abortError } from '../core/abort.js';
import type { OnnxModel } from '../onnx/model.js';
import { StringStringEntryProtoSchema } from '../onnx/proto.js';
import { meetsTarget, type AccuracyMeasure, type AccuracyProbe, type AccuracyTarget } from './accuracy.js';

/** One step of an accuracy-targeted search, as `onProgress` receives it. */
export interface SearchProgress {
  phase: 'reference' | 'full' | 'sensitivity' | 'search' | 'prune' | 'done';
  /** Probes (or sensitivity runs) done so far in this phase. */
  done: number;
  total: number | null;
  /** Nodes kept by the probe just measured. */
  kept?: number;
  measure?: AccuracyMeasure;
  met?: boolean;
}

export interface SearchOutcome {
  /** The nodes left in the higher precision, most damaging first. */
  kept: string[];
  model: OnnxModel;
  measure: AccuracyMeasure;
  met: boolean;
  probes: number;
  timedOut: boolean;
}

export interface SearchOptions {
  ranked: readonly string[];
  build(kept: readonly string[]): OnnxModel | Promise<OnnxModel>;
  probe: AccuracyProbe;
  /** Candidates compute in float16: measure them with float16 activations rounded (onnx/fp16-emulation.ts). */
  float16?: boolean;
  target: AccuracyTarget;
  deadline: number;
  signal?: AbortSignal;
  onProgress?: (progress: SearchProgress) => void;
  /** The measure of build([]) when already known. */
  full?: { model: OnnxModel; measure: AccuracyMeasure };
}

class Deadline extends Error {}

/**
 * Records what a search found in `model`'s metadata (key `tensorrt_node.accuracy`): the target, the
 * measure it reached and the nodes it kept, so that the model says how it was made.
 */
export function recordAccuracyMetadata(
  model: OnnxModel,
  target: Pick<AccuracyTarget, 'minCosine' | 'maxAbs'>,
  outcome: SearchOutcome,
): void {
  model.proto.metadataProps.push(
    create(StringStringEntryProtoSchema, {
      key: 'tensorrt_node.accuracy',
      value: JSON.stringify({
        target: { minCosine: target.minCosine, maxAbs: target.maxAbs },
        cosine: outcome.measure.cosine,
        maxAbs: outcome.measure.maxAbs,
        kept: outcome.kept,
      }),
    }),
  );
}

export async function searchKeptNodes(options: SearchOptions): Promise<SearchOutcome> {
  const { ranked, target, probe, signal } = options;
  let probes = 0;
  let best: { kept: string[]; model: OnnxModel; measure: AccuracyMeasure } | null = null;
  const tried = new Map<string, { model: OnnxModel; measure: AccuracyMeasure; met: boolean }>();
  const measure = async (kept: string[], phase: SearchProgress['phase'], total: number | null) => {
    const key = [...kept].sort().join('\n');
    const cached = tried.get(key);
    if (cached) return cached;
    if (signal?.aborted) throw abortError('The mixed-precision search', signal);
    if (Date.now() > options.deadline) throw new Deadline();
    const model = await options.build(kept);
    const result = { model, measure: await probe.measure(model, { float16: options.float16 }), met: false };
    result.met = meetsTarget(result.measure, target);
    probes++;
    tried.set(key, result);
    if (result.met && (!best || kept.length < best.kept.length)) best = { kept, model, measure: result.measure };
    options.onProgress?.({ phase, done: probes, total, kept: kept.length, measure: result.measure, met: result.met });
    return result;
  };
  const finish = async (timedOut: boolean): Promise<SearchOutcome> => {
    if (best) return { ...best, met: true, probes, timedOut };
    // Nothing met the target (or there was no time to find out): everything stays in the higher precision.
    const model = await options.build(ranked);
    const everything = await probe.measure(model, { float16: options.float16 });
    probes++;
    return { kept: [...ranked], model, measure: everything, met: meetsTarget(everything, target), probes, timedOut };
  };

  try {
    if (options.full) {
      tried.set('', { ...options.full, met: meetsTarget(options.full.measure, target) });
      if (meetsTarget(options.full.measure, target)) best = { kept: [], ...options.full };
    }
    if ((await measure([], 'search', null)).met || ranked.length === 0) return await finish(false);
    // Galloping: 1, 2, 4, ... most damaging nodes kept.
    let failing = 0;
    let passing = -1;
    for (let count = 1; ; count = Math.min(count * 2, ranked.length)) {
      if ((await measure(ranked.slice(0, count), 'search', null)).met) {
        passing = count;
        break;
      }
      failing = count;
      if (count === ranked.length) break;
    }
    if (passing < 0) return await finish(false);
    while (passing - failing > 1) {
      const middle = Math.floor((failing + passing) / 2);
      if ((await measure(ranked.slice(0, middle), 'search', null)).met) passing = middle;
      else failing = middle;
    }
    // Pruning in chunks, least damaging end first.
    let kept = ranked.slice(0, passing);
    for (let size = Math.ceil(kept.length / 2); size >= 1 && kept.length > 0; size = size === 1 ? 0 : Math.ceil(size / 2)) {
      for (let end = kept.length; end > 0; end -= size) {
        const start = Math.max(0, end - size);
        const without = [...kept.slice(0, start), ...kept.slice(end)];
        if ((await measure(without, 'prune', passing)).met) kept = without;
      }
    }
    return await finish(false);
  } catch (error) {
    if (error instanceof Deadline) return await finish(true);
    throw error;
  }
}
