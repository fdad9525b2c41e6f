/**
 * INT8 post-training quantization: calibrate the float32 model (or reuse a calibration table), then
 * write explicit QuantizeLinear/DequantizeLinear nodes where TensorRT 10 and 11 fuse them into INT8
 * kernels (placement rules in ./quantize-plan.ts). The model is upgraded to opset 13 first, the
 * first opset with per-channel DequantizeLinear.
 */
import { create } from '@bufbuild/protobuf';
import { ArgumentRangeError, ArgumentTypeError, ErrorCode, OnnxError, withCallerStack } from '../core/errors.js';
import { expectBoolean, expectNumber, expectOneOf, expectOptions, rejectUnknownOptions } from '../core/validate.js';
import { AccuracyProbe, DEFAULT_SEARCH_TIME_MS, checkAccuracyTarget, meetsTarget, type AccuracyTarget } from './accuracy.js';
import { calibrate, calibrateOptionKeys, stringArray, type CalibrateOptions } from './calibrate.js';
import { withNodeNames, type MixedPrecisionReport } from './mixed-precision.js';
import { recordAccuracyMetadata, searchKeptNodes, type SearchProgress } from './search.js';
import { nodeSensitivity } from './sensitivity.js';
import { checkCalibrationSource, type CalibrationSource } from './calibration-data.js';
import { loadCalibrationTable, parseCalibrationTable, type CalibrationTable } from '../onnx/calibration-table.js';
import { defaultOpset } from '../onnx/check.js';
import { NameAllocator, forEachNode, getAttribute, intAttribute, makeNode } from '../onnx/graph.js';
import { cloneModel, expectOnnxModel, type OnnxModel } from '../onnx/model.js';
import { upgradeOpset } from '../onnx/opset.js';
import { StringStringEntryProtoSchema, type GraphProto, type NodeProto, type TensorProto } from '../onnx/proto.js';
import { DEFAULT_QUANTIZED_OPS, hasQdq, planQuantization, type NodePlan } from '../onnx/quantize-plan.js';
import { createTensor, tensorDims, tensorFloat32Values } from '../onnx/tensor-data.js';

/** Options of {@link quantizeInt8}: calibration data or a table, what to quantize, and the calibration's own options. */
export interface QuantizeOptions extends Omit<CalibrateOptions, 'tensors'> {
  /** Calibration samples: feeds (iterable or async iterable), a folder of .npy/.json, or { random: N }. */
  calibration?: CalibrationSource;
  /** A calibration table (object or JSON path) to use instead of calibrating. */
  calibrationTable?: CalibrationTable | string;
  /** Op types to quantize (default Conv, ConvTranspose, Gemm, MatMul). */
  opTypes?: readonly string[];
  /** Node names to leave in float. */
  excludeNodes?: readonly string[];
  /** Quantize weights per output channel (default true; needs opset 13, to which the model is upgraded). */
  perChannel?: boolean;
  /**
   * An accuracy target: quantize everything, then leave the most sensitive nodes in float until
   * the model meets it on `accuracy.samples` (default: the calibration data).
   */
  accuracy?: AccuracyTarget;
}

/** What {@link quantizeInt8} did. */
export interface QuantizeReport {
  opset: { from: number; to: number };
  /** Quantized nodes by op type. */
  quantized: Record<string, number>;
  /** Nodes of the listed op types that were left in float, and why. */
  skipped: { name: string; opType: string; reason: string }[];
  /** Activation tensors that got a Q/DQ pair. */
  activationQdq: number;
  /** Weights stored as INT8 (with per-channel scales where `perChannel`). */
  weightsQuantized: number;
  perChannel: boolean;
}

const INT8_MAX = 127;

/** INT8 values, scales and zero points of a weight, per channel along `axis` (null: per tensor). */
function quantizeWeight(
  values: Float32Array,
  dims: number[],
  axis: number | null,
): { quantized: Int8Array; scales: Float32Array } {
  const channels = axis === null ? 1 : dims[axis]!;
  const inner = axis === null ? values.length : dims.slice(axis + 1).reduce((product, dim) => product * dim, 1);
  const amax = new Float32Array(channels);
  for (let index = 0; index < values.length; index++) {
    const channel = axis === null ? 0 : Math.floor(index / inner) % channels;
    const magnitude = Math.abs(values[index]!);
    if (magnitude > amax[channel]!) amax[channel] = magnitude;
  }
  // An all-zero channel still needs a positive scale; its values quantize to 0 whatever it is.
  const scales = amax.map((value) => (value > 0 ? value / INT8_MAX : 1));
  const quantized = new Int8Array(values.length);
  for (let index = 0; index < values.length; index++) {
    const channel = axis === null ? 0 : Math.floor(index / inner) % channels;
    const scaled = values[index]! / scales[channel]!;
    // Round half to even, as QuantizeLinear does.
    let rounded = Math.round(scaled);
    if (Math.abs(scaled % 1) === 0.5 && rounded % 2 !== 0) rounded -= 1;
    quantized[index] = Math.max(-INT8_MAX, Math.min(INT8_MAX, rounded));
  }
  return { quantized, scales };
}

class QdqWriter {
  readonly #names: NameAllocator;
  readonly #before = new Map<NodeProto | null, NodeProto[]>();
  readonly #activations = new Map<string, string>();
  readonly #weights = new Map<string, string>();
  readonly #constants: Map<string, TensorProto>;
  readonly #producers = new Map<string, NodeProto>();
  readonly #replacedWeights = new Set<string>();
  activationQdq = 0;
  weightsQuantized = 0;

  constructor(
    readonly graph: GraphProto,
    names: NameAllocator,
  ) {
    this.#names = names;
    this.#constants = new Map(graph.initializer.map((tensor) => [tensor.name, tensor]));
    for (const node of graph.node) {
      for (const output of node.output) this.#producers.set(output, node);
      const value = node.opType === 'Constant' ? getAttribute(node, 'value')?.t : undefined;
      if (value && node.output[0]) this.#constants.set(node.output[0], value);
    }
  }

  #insertAfter(producer: NodeProto | null, nodes: NodeProto[]): void {
    if (!this.#before.has(producer)) this.#before.set(producer, []);
    this.#before.get(producer)!.push(...nodes);
  }

  /** The dequantized form of activation `name` with scale amax / 127 (one Q/DQ pair per tensor). */
  activation(name: string, amax: number): string {
    const existing = this.#activations.get(name);
    if (existing) return existing;
    const scale = this.#names.next(`${name}_scale`);
    const zeroPoint = this.#names.next(`${name}_zero_point`);
    this.graph.initializer.push(createTensor(scale, 'float32', [], Float32Array.of(amax > 0 ? amax / INT8_MAX : 1 / INT8_MAX)));
    this.graph.initializer.push(createTensor(zeroPoint, 'int8', [], Int8Array.of(0)));
    const quantized = this.#names.next(`${name}_quantized`);
    const dequantized = this.#names.next(`${name}_dequantized`);
    this.#insertAfter(this.#producers.get(name) ?? null, [
      makeNode('QuantizeLinear', [name, scale, zeroPoint], [quantized], this.#names.next(`${name}_QuantizeLinear`)),
      makeNode('DequantizeLinear', [quantized, scale, zeroPoint], [dequantized], this.#names.next(`${name}_DequantizeLinear`)),
    ]);
    this.#activations.set(name, dequantized);
    this.activationQdq++;
    return dequantized;
  }

  /** The dequantized form of constant weight `name`, stored as INT8 with per-channel (or per-tensor) scales. */
  weight(name: string, axis: number | null): string {
    const key = `${axis}:${name}`;
    const existing = this.#weights.get(key);
    if (existing) return existing;
    const tensor = this.#constants.get(name)!;
    const dims = tensorDims(tensor);
    const { quantized, scales } = quantizeWeight(tensorFloat32Values(tensor), dims, axis);
    const weight = this.#names.next(`${name}_quantized`);
    const scale = this.#names.next(`${name}_scale`);
    const zeroPoint = this.#names.next(`${name}_zero_point`);
    const perTensor = axis === null;
    this.graph.initializer.push(createTensor(weight, 'int8', dims, quantized));
    this.graph.initializer.push(createTensor(scale, 'float32', perTensor ? [] : [scales.length], scales));
    this.graph.initializer.push(createTensor(zeroPoint, 'int8', perTensor ? [] : [scales.length], new Int8Array(scales.length)));
    const dequantized = this.#names.next(`${name}_dequantized`);
    this.#insertAfter(null, [
      makeNode(
        'DequantizeLinear',
        [weight, scale, zeroPoint],
        [dequantized],
        this.#names.next(`${name}_DequantizeLinear`),
        perTensor ? [] : [intAttribute('axis', axis)],
      ),
    ]);
    this.#weights.set(key, dequantized);
    this.#replacedWeights.add(name);
    this.weightsQuantized++;
    return dequantized;
  }

  /** Places the new nodes (graph-input and weight ones first, others right after their producer) and drops float weights nothing reads any more. */
  finish(): void {
    const nodes = [...(this.#before.get(null) ?? [])];
    for (const node of this.graph.node) nodes.push(node, ...(this.#before.get(node) ?? []));
    this.graph.node = nodes;
    const used = new Set<string>(this.graph.output.map((output) => output.name));
    for (const input of this.graph.input) used.add(input.name);
    forEachNode(this.graph, (node) => node.input.forEach((input) => used.add(input)));
    const dead = (name: string) => this.#replacedWeights.has(name) && !used.has(name);
    this.graph.initializer = this.graph.initializer.filter((tensor) => !dead(tensor.name));
    this.graph.node = this.graph.node.filter(
      (node) => !(node.opType === 'Constant' && node.output.length === 1 && dead(node.output[0]!)),
    );
  }
}

function quantizeNode(writer: QdqWriter, plan: NodePlan, table: CalibrationTable, perChannel: boolean): void {
  const { node } = plan;
  for (const slot of plan.activationSlots) {
    const name = node.input[slot]!;
    node.input[slot] = writer.activation(name, table.tensors[name]!.amax);
  }
  if (plan.weight)
    node.input[plan.weight.slot] = writer.weight(node.input[plan.weight.slot]!, perChannel ? plan.weight.axis : null);
}

/** Writes Q/DQ into a copy of `model` for the nodes `opTypes` selects, minus `excludeNodes` (synchronous: the table is known). */
function applyQdq(
  model: OnnxModel,
  table: CalibrationTable,
  opTypes: ReadonlySet<string>,
  excludeNodes: ReadonlySet<string>,
  perChannel: boolean,
  opset: number,
): { model: OnnxModel; report: QuantizeReport } {
  const result = cloneModel(model);
  // QuantizeLinear needs opset 10 and per-channel DequantizeLinear 13.
  const opsetChange = upgradeOpset(result, perChannel ? 13 : Math.max(opset, 10));
  const graph = result.proto.graph!;
  // Plan again on the copy: the same nodes, now the copy's objects (the upgrade keeps node names and order of these ops).
  const copyPlan = planQuantization(graph, opTypes, excludeNodes);
  const uncalibrated = copyPlan.activations.filter((name) => table.tensors[name] === undefined);
  if (uncalibrated.length > 0)
    throw new OnnxError(ErrorCode.INTERNAL, `No amax for ${uncalibrated.join(', ')} after the opset upgrade`);
  const writer = new QdqWriter(graph, new NameAllocator(result.proto));
  const quantized: Record<string, number> = {};
  for (const nodePlan of copyPlan.nodes) {
    quantizeNode(writer, nodePlan, table, perChannel);
    quantized[nodePlan.node.opType] = (quantized[nodePlan.node.opType] ?? 0) + 1;
  }
  writer.finish();
  result.proto.metadataProps.push(
    create(StringStringEntryProtoSchema, {
      key: 'tensorrt_node.transform',
      value: `int8 qdq method=${table.method} samples=${table.samples} perChannel=${perChannel} ops=${[...opTypes].join(',')}`,
    }),
  );
  return {
    model: result,
    report: {
      opset: opsetChange,
      quantized,
      skipped: copyPlan.skipped,
      activationQdq: writer.activationQdq,
      weightsQuantized: writer.weightsQuantized,
      perChannel,
    },
  };
}

/**
 * Quantizes `model` to INT8 (Q/DQ), calibrating on `options.calibration` unless a table is given.
 * Returns the new model, a report and the calibration table used (save it with saveCalibrationTable).
 *
 * With `options.accuracy` ({ minCosine, maxAbs, samples, maxTimeMs }), everything is quantized
 * first, then the most sensitive quantized nodes are left in float until the target holds on the
 * samples (the calibration data when none are given); `accuracy` in the result says what was kept
 * and what was achieved. See ./mixed-precision.ts and ./search.ts.
 */
export async function quantizeInt8(
  model: OnnxModel,
  options?: QuantizeOptions,
): Promise<{ model: OnnxModel; report: QuantizeReport; table: CalibrationTable; accuracy?: MixedPrecisionReport }> {
  const opts = expectOptions<QuantizeOptions>(options);
  rejectUnknownOptions(opts, [
    ...calibrateOptionKeys.filter((key) => key !== 'tensors'),
    'calibration',
    'calibrationTable',
    'excludeNodes',
    'perChannel',
    'accuracy',
  ]);
  expectOnnxModel(model);
  const opTypes = new Set(opts.opTypes === undefined ? DEFAULT_QUANTIZED_OPS : stringArray(opts.opTypes, 'options.opTypes'));
  const excludeNodes = new Set(opts.excludeNodes === undefined ? [] : stringArray(opts.excludeNodes, 'options.excludeNodes'));
  const perChannel = opts.perChannel === undefined ? true : expectBoolean(opts.perChannel, 'options.perChannel');
  if (opts.method !== undefined) expectOneOf(opts.method, 'options.method', ['max', 'percentile', 'entropy', 'mse'] as const);
  if (opts.percentile !== undefined) expectNumber(opts.percentile, 'options.percentile', { min: 50, max: 100 });
  if (opts.calibration === undefined && opts.calibrationTable === undefined) {
    throw new ArgumentTypeError(
      'Expected calibration data (options.calibration) or a calibration table (options.calibrationTable) for quantizeInt8 but received neither',
    );
  }
  if (opts.calibration !== undefined) checkCalibrationSource(opts.calibration, 'options.calibration');
  const target =
    opts.accuracy === undefined
      ? undefined
      : checkAccuracyTarget(opts.accuracy, 'options.accuracy', { samplesRequired: opts.calibration === undefined });
  if (hasQdq(model.proto.graph!))
    throw new OnnxError(
      ErrorCode.ONNX,
      `Expected a float model for quantizeInt8 but received ${model.source}, which already has QuantizeLinear/DequantizeLinear nodes`,
    );
  const opset = defaultOpset(model.proto) ?? 13;

  return withCallerStack(async () => {
    const started = Date.now();
    // The search names the nodes it leaves in float: unnamed nodes get names first.
    const source = target ? withNodeNames(model) : model;
    const plan = planQuantization(source.proto.graph!, opTypes, excludeNodes);
    if (plan.nodes.length === 0)
      throw new OnnxError(
        ErrorCode.ONNX,
        `Expected nodes of types ${[...opTypes].join(', ')} to quantize in ${model.source} but received none${plan.skipped.length ? ` (skipped: ${plan.skipped.map((item) => `${item.name}: ${item.reason}`).join('; ')})` : ''}`,
      );
    let table: CalibrationTable;
    if (opts.calibrationTable !== undefined) {
      table =
        typeof opts.calibrationTable === 'string'
          ? await loadCalibrationTable(opts.calibrationTable)
          : parseCalibrationTable(opts.calibrationTable, 'options.calibrationTable');
      const missing = plan.activations.filter((name) => table.tensors[name] === undefined);
      if (missing.length > 0) {
        throw new ArgumentRangeError(
          `Expected an amax for every activation to quantize in options.calibrationTable but received none for ${missing
            .slice(0, 5)
            .map((name) => JSON.stringify(name))
            .join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`,
        );
      }
    } else {
      table = await calibrate(source, opts.calibration!, {
        method: opts.method,
        percentile: opts.percentile,
        tensors: plan.activations,
        shapes: opts.shapes,
        cpu: opts.cpu,
        signal: opts.signal,
        onProgress: opts.onProgress,
      });
    }
    const full = applyQdq(source, table, opTypes, excludeNodes, perChannel, opset);
    if (!target) {
      opts.onProgress?.({ phase: 'quantize', done: 1, total: 1 });
      return { ...full, table };
    }

    // Accuracy-targeted: leave the most sensitive quantized nodes in float until the target holds.
    const progress = (search: SearchProgress) =>
      opts.onProgress?.({ phase: 'accuracy', done: search.done, total: search.total, search });
    const deadline = started + (target.maxTimeMs ?? DEFAULT_SEARCH_TIME_MS);
    const reports = new WeakMap<OnnxModel, QuantizeReport>([[full.model, full.report]]);
    const build = (kept: readonly string[]) => {
      const result = applyQdq(source, table, opTypes, new Set([...excludeNodes, ...kept]), perChannel, opset);
      reports.set(result.model, result.report);
      return result.model;
    };
    progress({ phase: 'reference', done: 0, total: null });
    const probe = await AccuracyProbe.create(source, target.samples ?? opts.calibration!, {
      shapes: opts.shapes,
      cpu: opts.cpu,
      signal: opts.signal,
      context: 'options.accuracy.samples',
    });
    const fullMeasure = await probe.measure(full.model);
    progress({ phase: 'full', done: 1, total: 1, kept: 0, measure: fullMeasure });
    let ranked: { name: string; opType: string; error: number }[] = [];
    if (!meetsTarget(fullMeasure, target)) {
      ranked = await nodeSensitivity(
        source,
        full.model,
        plan.nodes.map((nodePlan) => nodePlan.node),
        probe.samples,
        target,
        {
          cpu: opts.cpu,
          signal: opts.signal,
          onProgress: (done, total) => progress({ phase: 'sensitivity', done, total }),
        },
      );
    }
    const outcome = await searchKeptNodes({
      ranked: ranked.map((node) => node.name),
      build,
      probe,
      target,
      deadline,
      signal: opts.signal,
      onProgress: progress,
      full: { model: full.model, measure: fullMeasure },
    });
    const sensitivity = new Map(ranked.map((node) => [node.name, node]));
    // Every model the search returns is `full.model` or came from `build`: both stored their reports.
    const report = reports.get(outcome.model)!;
    recordAccuracyMetadata(outcome.model, target, outcome);
    progress({
      phase: 'done',
      done: outcome.probes,
      total: outcome.probes,
      kept: outcome.kept.length,
      measure: outcome.measure,
      met: outcome.met,
    });
    opts.onProgress?.({ phase: 'quantize', done: 1, total: 1 });
    return {
      model: outcome.model,
      report,
      table,
      accuracy: {
        target: { minCosine: target.minCosine, maxAbs: target.maxAbs },
        met: outcome.met,
        achieved: outcome.measure,
        full: fullMeasure,
        kept: outcome.kept.map((name) => ({
          name,
          opType: sensitivity.get(name)?.opType ?? '',
          sensitivity: sensitivity.get(name)?.error ?? 0,
        })),
        candidates: plan.nodes.length,
        samples: probe.samples.length,
        probes: outcome.probes + 1,
        seconds: Number(((Date.now() - started) / 1000).toFixed(1)),
        timedOut: outcome.timedOut,
      },
    };
  });
}
