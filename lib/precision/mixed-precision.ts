/**
 * Accuracy-targeted mixed precision (what ModelOpt AutoCast and onnxruntime's auto mixed precision
 * do, in Node): the fewest nodes kept in float32 for which the converted model still meets an
 * accuracy target on samples, measured against the float32 model on the cpu backend.
 *
 * Why a function of its own rather than an `accuracy` option of convertToFp16: convertToFp16 is
 * pure graph tooling in tensorrt-node/onnx, synchronous and free of onnxruntime; meeting a target
 * means running the model many times, which only tensorrt-node/precision (above the backends) may
 * do. The search's result is plain convertToFp16 options (`blockNodes`), so the same model can be
 * rebuilt later without searching again. INT8 has the same search behind quantizeInt8's
 * `accuracy` option, which was async already.
 */
import type { CpuBackendOptions } from '../backends/cpu/backend.js';
import { ArgumentTypeError, withCallerStack } from '../core/errors.js';
import type { InputShapes } from '../core/shape-spec.js';
import { describeValue, expectOptions, rejectUnknownOptions } from '../core/validate.js';
import { convertToFp16, type Fp16Options, type Fp16Report } from '../onnx/fp16.js';
import { NameAllocator } from '../onnx/graph.js';
import { cloneModel, expectOnnxModel, type OnnxModel } from '../onnx/model.js';
import { DataType, type NodeProto } from '../onnx/proto.js';
import { inferElemTypes } from '../onnx/types.js';
import {
  AccuracyProbe,
  DEFAULT_SEARCH_TIME_MS,
  checkAccuracyTarget,
  meetsTarget,
  type AccuracyMeasure,
  type AccuracyTarget,
} from './accuracy.js';
import { recordAccuracyMetadata, searchKeptNodes, type SearchProgress } from './search.js';
import { nodeSensitivity } from './sensitivity.js';

export interface Fp16AccuracyOptions extends Fp16Options {
  /** The target to meet and the samples to measure it on (required). */
  accuracy: AccuracyTarget;
  /** Concrete shapes for dynamic inputs when samples are generated ({ random: N }). */
  shapes?: InputShapes;
  /** Options of the cpu backends that run the model and the candidates. */
  cpu?: CpuBackendOptions;
  signal?: AbortSignal;
  /** Called at each step of the search (it takes seconds to minutes). */
  onProgress?: (progress: SearchProgress) => void;
}

/** What the search found. */
export interface MixedPrecisionReport {
  target: { minCosine?: number; maxAbs?: number };
  /** Whether the returned model meets the target on the samples. */
  met: boolean;
  /** Accuracy of the returned model. */
  achieved: AccuracyMeasure;
  /** Accuracy with nothing kept (the full conversion or quantization). */
  full: AccuracyMeasure;
  /** Nodes the search left in the higher precision, most damaging first, with their measured sensitivity. */
  kept: { name: string; opType: string; sensitivity: number }[];
  /** Nodes the full conversion or quantization changes (the candidates). */
  candidates: number;
  samples: number;
  probes: number;
  seconds: number;
  /** The search hit maxTimeMs and returned the best result measured by then. */
  timedOut: boolean;
}

/**
 * A copy whose unnamed main-graph nodes get unique names (`<OpType>_<index>`), so that the search
 * can name the nodes it keeps (blockNodes and excludeNodes match names).
 */
export function withNodeNames(model: OnnxModel): OnnxModel {
  const named = cloneModel(model);
  const names = new NameAllocator(named.proto);
  named.proto.graph!.node.forEach((node, index) => {
    if (!node.name) node.name = names.next(`${node.opType}_${index}`);
  });
  return named;
}

/**
 * Named main-graph nodes of `original` that compute in float16 in `converted` (found by name:
 * outputs may be renamed). Constant nodes are not among them: their type follows their readers.
 */
function convertedNodes(original: OnnxModel, converted: OnnxModel): NodeProto[] {
  const before = inferElemTypes(original.proto.graph!);
  const after = inferElemTypes(converted.proto.graph!);
  const byName = new Map(converted.proto.graph!.node.map((node) => [node.name, node]));
  return original.proto.graph!.node.filter((node) => {
    if (node.opType === 'Constant') return false;
    const counterpart = node.name ? byName.get(node.name) : undefined;
    return (
      counterpart !== undefined &&
      node.output.some(
        (name, index) => before.get(name) === DataType.FLOAT && after.get(counterpart.output[index] ?? '') === DataType.FLOAT16,
      )
    );
  });
}

const fp16OptionKeys = ['keepIoTypes', 'blockOpTypes', 'blockNodes', 'keepOutOfRange'] as const;

/**
 * convertToFp16 that keeps the fewest nodes in float32 for which the model still meets
 * `options.accuracy` on its samples (see the module comment and ./search.ts). Progress goes to
 * `onProgress`; the search stops after `accuracy.maxTimeMs` with the best result so far.
 */
export async function convertToFp16WithAccuracy(
  model: OnnxModel,
  options: Fp16AccuracyOptions,
): Promise<{ model: OnnxModel; report: Fp16Report; accuracy: MixedPrecisionReport }> {
  expectOnnxModel(model);
  const opts = expectOptions<Fp16AccuracyOptions>(options);
  rejectUnknownOptions(opts, [...fp16OptionKeys, 'accuracy', 'shapes', 'cpu', 'signal', 'onProgress']);
  if (opts.accuracy === undefined)
    throw new ArgumentTypeError(
      `Expected an accuracy target ({ minCosine, maxAbs, samples }) for options.accuracy but received ${describeValue(opts.accuracy)}`,
    );
  const target = checkAccuracyTarget(opts.accuracy, 'options.accuracy', { samplesRequired: true });
  if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal))
    throw new ArgumentTypeError(`Expected an AbortSignal for options.signal but received ${describeValue(opts.signal)}`);
  if (opts.onProgress !== undefined && typeof opts.onProgress !== 'function')
    throw new ArgumentTypeError(`Expected a function for options.onProgress but received ${describeValue(opts.onProgress)}`);
  const fp16Options: Fp16Options = Object.fromEntries(
    fp16OptionKeys.filter((key) => opts[key] !== undefined).map((key) => [key, opts[key]]),
  );
  const started = Date.now();
  const named = withNodeNames(model);
  const reports = new WeakMap<OnnxModel, Fp16Report>();
  const build = (kept: readonly string[]) => {
    const result = convertToFp16(named, { ...fp16Options, blockNodes: [...(fp16Options.blockNodes ?? []), ...kept] });
    reports.set(result.model, result.report);
    return result.model;
  };
  // The full conversion first: bad conversion options and models it refuses fail before any sample is read.
  const fullModel = build([]);

  return withCallerStack(async () => {
    const deadline = started + (target.maxTimeMs ?? DEFAULT_SEARCH_TIME_MS);
    const progress = opts.onProgress ?? (() => {});
    progress({ phase: 'reference', done: 0, total: null });
    const probe = await AccuracyProbe.create(named, target.samples!, {
      shapes: opts.shapes,
      cpu: opts.cpu,
      signal: opts.signal,
      context: 'options.accuracy.samples',
    });
    progress({ phase: 'reference', done: probe.samples.length, total: probe.samples.length });
    const fullMeasure = await probe.measure(fullModel, { float16: true });
    const candidates = convertedNodes(named, fullModel);
    progress({ phase: 'full', done: 1, total: 1, kept: 0, measure: fullMeasure });

    let ranked: { name: string; opType: string; error: number }[] = [];
    if (!meetsTarget(fullMeasure, target)) {
      ranked = await nodeSensitivity(named, fullModel, candidates, probe.samples, target, {
        cpu: opts.cpu,
        float16: true,
        signal: opts.signal,
        onProgress: (done, total) => progress({ phase: 'sensitivity', done, total }),
      });
    }
    const outcome = await searchKeptNodes({
      ranked: ranked.map((node) => node.name),
      build,
      probe,
      float16: true,
      target,
      deadline,
      signal: opts.signal,
      onProgress: progress,
      full: { model: fullModel, measure: fullMeasure },
    });
    const sensitivity = new Map(ranked.map((node) => [node.name, node]));
    const kept = outcome.kept.map((name) => ({
      name,
      opType: sensitivity.get(name)?.opType ?? '',
      sensitivity: sensitivity.get(name)?.error ?? 0,
    }));
    // Every model the search returns came from `build` (options.full included), which stored its report.
    const result = { model: outcome.model, report: reports.get(outcome.model)! };
    recordAccuracyMetadata(result.model, target, outcome);
    progress({
      phase: 'done',
      done: outcome.probes,
      total: outcome.probes,
      kept: kept.length,
      measure: outcome.measure,
      met: outcome.met,
    });
    return {
      model: result.model,
      report: result.report,
      accuracy: {
        target: { minCosine: target.minCosine, maxAbs: target.maxAbs },
        met: outcome.met,
        achieved: outcome.measure,
        full: fullMeasure,
        kept,
        candidates: candidates.length,
        samples: probe.samples.length,
        probes: outcome.probes + 1,
        seconds: Number(((Date.now() - started) / 1000).toFixed(1)),
        timedOut: outcome.timedOut,
      },
    };
  });
}
