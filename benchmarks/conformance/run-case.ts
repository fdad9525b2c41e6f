/**
 * One conformance case: the original model in onnxruntime on the case's own inputs (the case counts
 * only when onnxruntime can run it), then `inspect`, `convertToFp16` (default options) and
 * `quantizeInt8` (random calibration), each output loaded and run in onnxruntime and compared with
 * the expected outputs. Every step ends in one class:
 *
 * - ok: the output loads, runs, and meets the thresholds below;
 * - refused: a typed ERR_ONNX error (the converter said which node and why; nothing was written);
 * - broken: anything else: a model onnxruntime will not load or run, or an untyped exception;
 * - inaccurate: it runs but misses the thresholds;
 * - not-applicable: nothing to do (no float32 to convert, no node to quantize).
 */
import ort from 'onnxruntime-node';
import type { HostTensor } from '../../lib/core/dtypes.js';
import { isTensorRTNodeError } from '../../lib/core/errors.js';
import type { TensorMap } from '../../lib/core/tensors.js';
import { convertToFp16, type Fp16Report } from '../../lib/onnx/fp16.js';
import { emulateFloat16Storage } from '../../lib/onnx/fp16-emulation.js';
import { forEachNode, valueInfoElemType } from '../../lib/onnx/graph.js';
import { inspect } from '../../lib/onnx/inspect.js';
import { parseModel, serializeModel, type OnnxModel } from '../../lib/onnx/model.js';
import type { TensorProto } from '../../lib/onnx/proto.js';
import { DEFAULT_QUANTIZED_OPS, planQuantization } from '../../lib/onnx/quantize-plan.js';
import { createRandom } from '../../lib/onnx/random.js';
import { quantizeInt8 } from '../../lib/precision/quantize.js';
import { missingFiles, protoToTensorParts, readDataSets, type CorpusCase, type DataSet } from './corpus.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The thresholds a converted model must meet against the expected outputs. */
export const THRESHOLDS = {
  fp16: {
    /** Cosine similarity of every float output (over all data sets). */
    minCosine: 0.999,
    /** Per element: |actual - expected| <= atol * max(1, max|expected|) + rtol * |expected|. */
    rtol: 1e-2,
    atol: 1e-3,
    /** Integer, bool and string outputs: exact. */
  },
  /** FP16 accuracy is measured with every float16 activation rounded (lib/onnx/fp16-emulation.ts), not as onnxruntime's CPU provider computes by default. */
  fp16Emulation: 'float16 storage of every activation',
  int8: { minCosine: 0.98 },
  /** Random calibration samples per case (float inputs uniform in the case's own input range). */
  calibrationSamples: 4,
} as const;

export type StepClass = 'ok' | 'refused' | 'broken' | 'inaccurate' | 'not-applicable';

export interface OutputMetrics {
  name: string;
  dtype: string;
  cosine: number | null;
  maxAbsError: number;
  mismatches: number;
  elements: number;
}

export interface StepResult {
  class: StepClass;
  reason?: string;
  /** The worst output by cosine (float outputs) or mismatches. */
  worst?: OutputMetrics;
}

export interface Fp16Step extends StepResult {
  nodesConverted?: number;
  nodesKept?: number;
  casts?: number;
  castsAtIo?: number;
}

export interface Int8Step extends StepResult {
  quantizedNodes?: number;
}

export interface CaseRecord {
  id: string;
  /** run: counted; unavailable: files missing from the snapshot; skipped: onnxruntime cannot run the original. */
  status: 'run' | 'unavailable' | 'skipped';
  reason?: string;
  nodes?: number;
  opset?: number;
  /** What outputs were compared with: the files' expected outputs, or onnxruntime's FP32 run where it disagrees with them. */
  reference?: 'expected' | 'onnxruntime';
  inspect?: StepResult;
  fp16?: Fp16Step;
  int8?: Int8Step;
  seconds?: number;
}

type Session = ort.InferenceSession;
type Parts = NonNullable<ReturnType<typeof protoToTensorParts>>;

const sessionOptions: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  logSeverityLevel: 3,
  graphOptimizationLevel: 'basic',
};

function message(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > 600 ? `${text.slice(0, 600)}...` : text;
}

function toOrt(parts: Parts): ort.Tensor {
  return new ort.Tensor(parts.type as never, parts.data as never, parts.dims);
}

function feedsOf(session: Session, set: DataSet): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  session.inputNames.forEach((name, index) => {
    const parts = protoToTensorParts(set.inputs[index]!);
    if (!parts) throw new Error(`input ${index} has an element type onnxruntime-node cannot take`);
    feeds[name] = toOrt(parts);
  });
  return feeds;
}

async function runAll(session: Session, sets: DataSet[]): Promise<Parts[][]> {
  const results: Parts[][] = [];
  for (const set of sets) {
    const outputs = await session.run(feedsOf(session, set));
    results.push(
      session.outputNames.map((name) => ({
        type: outputs[name]!.type,
        data: outputs[name]!.data as Parts['data'],
        dims: [...outputs[name]!.dims],
      })),
    );
  }
  return results;
}

function asNumbers(parts: Parts): Float64Array | null {
  if (parts.type === 'string') return null;
  const data = parts.data as ArrayLike<number | bigint>;
  const values = new Float64Array(data.length);
  if (parts.type === 'float16') {
    for (let index = 0; index < values.length; index++) values[index] = halfToFloat(data[index] as number);
  } else {
    for (let index = 0; index < values.length; index++) values[index] = Number(data[index]!);
  }
  return values;
}

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const isFloatType = (type: string) => type === 'float32' || type === 'float16' || type === 'float64';

/** Metrics of one output over every data set; `tolerant` applies the FP16 element tolerance (else exact for non-float). */
export function measure(name: string, expected: Parts[], actual: Parts[]): OutputMetrics {
  const dtype = expected[0]!.type;
  let dot = 0;
  let expectedNorm = 0;
  let actualNorm = 0;
  let maxAbsError = 0;
  let mismatches = 0;
  let elements = 0;
  const { rtol, atol } = THRESHOLDS.fp16;
  for (let set = 0; set < expected.length; set++) {
    const want = expected[set]!;
    const got = actual[set]!;
    if (want.dims.length !== got.dims.length || want.dims.some((dim, axis) => dim !== got.dims[axis])) {
      const count = want.data.length;
      elements += count;
      mismatches += count;
      continue;
    }
    if (dtype === 'string' || got.type === 'string') {
      const a = want.data as string[];
      const b = got.data as string[];
      elements += a.length;
      for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) mismatches++;
      continue;
    }
    const a = asNumbers(want)!;
    const b = asNumbers(got)!;
    elements += a.length;
    let scale = 1;
    for (const value of a) if (Number.isFinite(value)) scale = Math.max(scale, Math.abs(value));
    for (let index = 0; index < a.length; index++) {
      const e = a[index]!;
      const g = b[index]!;
      if (!Number.isFinite(e) || !Number.isFinite(g)) {
        if (!((Number.isNaN(e) && Number.isNaN(g)) || e === g)) mismatches++;
        continue;
      }
      const difference = Math.abs(g - e);
      maxAbsError = Math.max(maxAbsError, difference);
      if (isFloatType(dtype) ? difference > atol * scale + rtol * Math.abs(e) : difference !== 0) mismatches++;
      dot += e * g;
      expectedNorm += e * e;
      actualNorm += g * g;
    }
  }
  let cosine: number | null = null;
  if (isFloatType(dtype)) {
    if (expectedNorm === 0 && actualNorm === 0) cosine = 1;
    else if (expectedNorm > 0 && actualNorm > 0) cosine = dot / (Math.sqrt(expectedNorm) * Math.sqrt(actualNorm));
    else cosine = 0;
  }
  return { name, dtype, cosine, maxAbsError, mismatches, elements };
}

function judge(names: string[], expected: Parts[][], actual: Parts[][], mode: 'fp16' | 'int8'): StepResult {
  const metrics = names.map((name, index) =>
    measure(
      name,
      expected.map((set) => set[index]!),
      actual.map((set) => set[index]!),
    ),
  );
  const failing = metrics.filter((item) => {
    if (mode === 'int8') return item.cosine !== null && item.cosine < THRESHOLDS.int8.minCosine;
    if (item.cosine !== null && item.cosine < THRESHOLDS.fp16.minCosine) return true;
    return item.mismatches > 0;
  });
  const worst = [...(failing.length ? failing : metrics)].sort(
    (a, b) => (a.cosine ?? 2) - (b.cosine ?? 2) || b.mismatches - a.mismatches,
  )[0];
  if (failing.length === 0) return { class: 'ok', worst };
  const item = failing[0]!;
  const reason = `output ${JSON.stringify(item.name)} (${item.dtype}): ${item.cosine === null ? '' : `cosine ${item.cosine.toFixed(5)}, `}max abs error ${item.maxAbsError.toPrecision(3)}, ${item.mismatches} of ${item.elements} elements outside tolerance`;
  return { class: 'inaccurate', reason, worst: item };
}

/** A typed refusal from the toolkit, or a broken step (untyped exception). */
function failure(error: unknown, step: string): StepResult {
  if (isTensorRTNodeError(error) && error.code === 'ERR_ONNX') return { class: 'refused', reason: message(error) };
  return { class: 'broken', reason: `${step} threw ${isTensorRTNodeError(error) ? `${error.code} ` : ''}${message(error)}` };
}

async function loadAndRun(
  model: OnnxModel,
  sets: DataSet[],
  step: string,
  options: ort.InferenceSession.SessionOptions = sessionOptions,
): Promise<{ outputs: Parts[][] } | StepResult> {
  let session: Session;
  try {
    session = await ort.InferenceSession.create(serializeModel(model), options);
  } catch (error) {
    return { class: 'broken', reason: `onnxruntime refused the ${step} model: ${message(error)}` };
  }
  try {
    return { outputs: await runAll(session, sets) };
  } catch (error) {
    return { class: 'broken', reason: `onnxruntime failed to run the ${step} model: ${message(error)}` };
  } finally {
    await session.release();
  }
}

/** A graph input or output that is a sequence, optional or map (onnxruntime-node cannot feed or return one), or null. */
function nonTensorIo(bytes: Uint8Array): string | null {
  try {
    const graph = parseModel(bytes, { check: false }).proto.graph!;
    for (const info of [...graph.input, ...graph.output]) {
      const kind = info.type?.value.case;
      if (kind && kind !== 'tensorType') return `${JSON.stringify(info.name)} is a ${kind.replace('Type', '')}`;
    }
  } catch {
    return null; // onnxruntime will say what is wrong with the file
  }
  return null;
}

function countNodes(model: OnnxModel): number {
  let count = 0;
  forEachNode(model.proto.graph!, () => count++);
  return count;
}

/** Calibration feeds for quantizeInt8: float inputs uniform in the case's own range, other inputs (indices, flags) the case's values. */
function calibrationFeeds(model: OnnxModel, sets: DataSet[]): TensorMap[] | string {
  const graph = model.proto.graph!;
  const initializers = new Set(graph.initializer.map((tensor) => tensor.name));
  const inputs = graph.input.filter((input) => !initializers.has(input.name));
  let low = Infinity;
  let high = -Infinity;
  for (const set of sets) {
    for (const tensor of set.inputs) {
      const parts = protoToTensorParts(tensor);
      if (!parts || !isFloatType(parts.type)) continue;
      for (const value of asNumbers(parts)!) {
        if (!Number.isFinite(value)) continue;
        low = Math.min(low, value);
        high = Math.max(high, value);
      }
    }
  }
  if (!(high > low)) [low, high] = [-1, 1];
  const random = createRandom(1);
  const feeds: TensorMap[] = [];
  for (let sample = 0; sample < THRESHOLDS.calibrationSamples; sample++) {
    const feed: TensorMap = {};
    for (const [index, input] of inputs.entries()) {
      const tensor: TensorProto | undefined = sets[0]!.inputs[index];
      const parts = tensor ? protoToTensorParts(tensor) : null;
      const type = valueInfoElemType(input);
      if (!parts || type === undefined) return `input ${JSON.stringify(input.name)} is not a tensor the cpu backend takes`;
      const dtype = parts.type === 'float64' ? 'float64' : parts.type;
      if (!['float32', 'float64', 'float16', 'int8', 'uint8', 'int32', 'int64', 'bool'].includes(dtype))
        return `input ${JSON.stringify(input.name)} has type ${dtype}, which the cpu backend does not take`;
      let data = parts.data;
      if (dtype === 'float32' || dtype === 'float64') {
        const values = dtype === 'float32' ? new Float32Array(parts.data.length) : new Float64Array(parts.data.length);
        for (let element = 0; element < values.length; element++) values[element] = random.uniform(low, high);
        data = values;
      }
      feed[input.name] = { dtype, shape: parts.dims, data } as unknown as HostTensor;
    }
    feeds.push(feed);
  }
  return feeds;
}

/** Runs one case; never throws (every failure is recorded in the result). */
export async function runCase(testCase: CorpusCase, onPhase: (phase: string) => void = () => {}): Promise<CaseRecord> {
  const started = performance.now();
  const record: CaseRecord = { id: testCase.id, status: 'run' };
  const done = () => ({ ...record, seconds: Number(((performance.now() - started) / 1000).toFixed(3)) });
  const missing = missingFiles(testCase);
  if (missing.length > 0)
    return { id: testCase.id, status: 'unavailable', reason: `missing from the snapshot: ${missing.join(', ')}` };

  // 1. The original in onnxruntime: only cases it can run count.
  onPhase('baseline');
  const bytes = readFileSync(join(testCase.dir, 'model.onnx'));
  const nonTensor = nonTensorIo(bytes);
  if (nonTensor)
    return { id: testCase.id, status: 'skipped', reason: `onnxruntime-node takes and returns tensors only; ${nonTensor}` };
  let sets: DataSet[];
  let session: Session;
  try {
    sets = readDataSets(testCase);
    session = await ort.InferenceSession.create(bytes, sessionOptions);
  } catch (error) {
    return { id: testCase.id, status: 'skipped', reason: `onnxruntime cannot load the original: ${message(error)}` };
  }
  let baseline: Parts[][];
  let outputNames: string[];
  try {
    if (
      sets.some((set) => set.inputs.length !== session.inputNames.length || set.outputs.length !== session.outputNames.length)
    ) {
      return {
        id: testCase.id,
        status: 'skipped',
        reason: 'the data sets do not match the model inputs/outputs (optional inputs left out)',
      };
    }
    for (const set of sets)
      for (const tensor of [...set.inputs, ...set.outputs])
        if (!protoToTensorParts(tensor)) {
          return {
            id: testCase.id,
            status: 'skipped',
            reason: `a data file holds a value onnxruntime-node cannot take (element type ${tensor.dataType}, or a sequence/optional)`,
          };
        }
    baseline = await runAll(session, sets);
    outputNames = [...session.outputNames];
  } catch (error) {
    return { id: testCase.id, status: 'skipped', reason: `onnxruntime cannot run the original: ${message(error)}` };
  } finally {
    await session.release();
  }
  const expectedFiles = sets.map((set) => set.outputs.map((tensor) => protoToTensorParts(tensor)!));
  // Where onnxruntime's own FP32 result misses the expected outputs (an onnxruntime deviation), compare with what it computes.
  const baselineCheck = judge(outputNames, expectedFiles, baseline, 'fp16');
  record.reference = baselineCheck.class === 'ok' ? 'expected' : 'onnxruntime';
  const expected = record.reference === 'expected' ? expectedFiles : baseline;

  // 2. Our reader and inspect.
  onPhase('inspect');
  let model: OnnxModel;
  try {
    model = parseModel(bytes, { source: testCase.id });
    record.nodes = countNodes(model);
    record.opset = Number(
      model.proto.opsetImport.find((entry) => entry.domain === '' || entry.domain === 'ai.onnx')?.version ?? 0,
    );
    await inspect(model);
    record.inspect = { class: 'ok' };
  } catch (error) {
    record.inspect = failure(error, 'inspect');
    return done();
  }

  // 3. FP16 with default options.
  onPhase('fp16');
  let fp16: { model: OnnxModel; report: Fp16Report } | undefined;
  try {
    fp16 = convertToFp16(model);
  } catch (error) {
    record.fp16 = failure(error, 'convertToFp16');
  }
  if (fp16) {
    const { report } = fp16;
    const counts = {
      nodesConverted: report.nodesConverted,
      nodesKept: report.nodesKept.length,
      casts: report.castsInserted,
      castsAtIo: report.castsAtIo,
    };
    if (
      report.nodesConverted === 0 &&
      report.nodesKept.length === 0 &&
      report.castsInserted === 0 &&
      report.tensorsConverted === 0
    ) {
      record.fp16 = { class: 'not-applicable', reason: 'no float32 computation', ...counts };
    } else {
      // The converted model itself must load and run; its accuracy is judged with float16 activations
      // rounded as a float16 engine rounds them (onnxruntime's CPU provider would skip that: see fp16-emulation.ts).
      const run = await loadAndRun(fp16.model, sets, 'FP16');
      if (!('outputs' in run)) record.fp16 = { ...run, ...counts };
      else {
        const emulated = await loadAndRun(emulateFloat16Storage(fp16.model), sets, 'FP16 (float16 storage emulated)', {
          ...sessionOptions,
          graphOptimizationLevel: 'disabled',
        });
        record.fp16 = {
          ...('outputs' in emulated ? judge(outputNames, expected, emulated.outputs, 'fp16') : emulated),
          ...counts,
        };
      }
    }
  }

  // 4. INT8 with random calibration.
  onPhase('int8');
  const plan = planQuantization(model.proto.graph!, new Set(DEFAULT_QUANTIZED_OPS), new Set());
  if (plan.nodes.length === 0) {
    record.int8 = { class: 'not-applicable', reason: 'no Conv/ConvTranspose/Gemm/MatMul with float32 inputs' };
  } else {
    const feeds = calibrationFeeds(model, sets);
    if (typeof feeds === 'string') {
      record.int8 = { class: 'not-applicable', reason: `random calibration: ${feeds}` };
    } else {
      try {
        const { model: int8, report } = await quantizeInt8(model, { calibration: feeds, cpu: { intraOpNumThreads: 1 } });
        const quantizedNodes = Object.values(report.quantized).reduce((sum, count) => sum + count, 0);
        const run = await loadAndRun(int8, sets, 'INT8');
        record.int8 = { ...('outputs' in run ? judge(outputNames, expected, run.outputs, 'int8') : run), quantizedNodes };
      } catch (error) {
        record.int8 = failure(error, 'quantizeInt8');
      }
    }
  }
  return done();
}
