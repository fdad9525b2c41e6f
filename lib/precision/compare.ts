/**
 * compare(): runs the same inputs through two runners (ONNX models on the cpu backend, TensorRT
 * engines later, or any async function) and measures how far the candidate's outputs are from the
 * reference's: max/mean absolute error, relative error, cosine similarity, NaN/Inf, argmax
 * agreement where the output holds class scores, and pass/fail by
 * `|candidate - reference| <= atol + rtol * |reference|` per element, with a one-line verdict.
 */
import { bfloat16BitsToFloat32, float16BitsToFloat32, type HostTensor } from '../core/dtypes.js';
import { ArgumentRangeError, ArgumentTypeError, ErrorCode, createError, withCallerStack } from '../core/errors.js';
import { describeValue, expectNumber, expectOptions, rejectUnknownOptions } from '../core/validate.js';
import { runWith, type Backend, type Runner } from '../backends/backend.js';
import { type TensorMap } from '../core/tensors.js';
import { createCpuBackend, type CpuBackendOptions } from '../backends/cpu/backend.js';
import type { OnnxModel } from '../onnx/model.js';

/** Options of {@link compare}: tolerances, which outputs, and the cpu backend's settings. */
export interface CompareOptions {
  /** Absolute tolerance (default 1e-3). */
  atol?: number;
  /** Relative tolerance (default 1e-3). */
  rtol?: number;
  /** Outputs to compare (default: every output of the reference). */
  outputs?: readonly string[];
  /** Options for cpu backends created for models given as paths or OnnxModels. */
  cpu?: CpuBackendOptions;
}

/** NaN and infinite values found in one side's output. */
export interface NonFiniteCounts {
  nan: number;
  inf: number;
}

/** How one output of the candidate compares with the reference, over every sample. */
export interface OutputComparison {
  name: string;
  shape: number[];
  /** Elements compared over all samples. */
  elements: number;
  maxAbsError: number;
  meanAbsError: number;
  /** Largest |candidate - reference| / |reference| over elements with |reference| >= 1e-6. */
  maxRelError: number;
  /** ||candidate - reference|| / ||reference|| over all elements. */
  relativeL2Error: number;
  /** Cosine similarity of the flattened outputs (1 when both are all zeros). */
  cosine: number;
  /**
   * Share of rows whose argmax over the last axis agrees, where the reference looks like class
   * scores: every row of the last axis (2 to 65536 values) a probability distribution (values in
   * [0, 1] summing to 1). null elsewhere: the argmax of a feature map or a box means nothing.
   */
  argmaxAgreement: number | null;
  reference: NonFiniteCounts;
  candidate: NonFiniteCounts;
  /** Elements outside atol + rtol * |reference| (NaN/Inf where the reference is finite included). */
  mismatches: number;
  pass: boolean;
}

/** The result of {@link compare}: per-output errors and the verdict (`pass` when every output is within tolerance). */
export interface CompareReport {
  pass: boolean;
  /** The result in one line: pass or fail, and why (the worst output's figures). */
  verdict: string;
  samples: number;
  atol: number;
  rtol: number;
  outputs: OutputComparison[];
}

/** What compare() accepts as a side: a runner, a loaded model, or a model path. */
export type CompareSide = Runner | OnnxModel | string | Uint8Array;

/** A tensor's values as float64 (float16 and bfloat16 decoded, int64 converted). */
export function toFloat64(tensor: HostTensor): Float64Array {
  const values = new Float64Array(tensor.data.length);
  const data = tensor.data;
  if (tensor.dtype === 'float16')
    for (let index = 0; index < values.length; index++) values[index] = float16BitsToFloat32((data as Uint16Array)[index]!);
  else if (tensor.dtype === 'bfloat16')
    for (let index = 0; index < values.length; index++) values[index] = bfloat16BitsToFloat32((data as Uint16Array)[index]!);
  else if (data instanceof BigInt64Array)
    for (let index = 0; index < values.length; index++) values[index] = Number(data[index]!);
  else values.set(data as ArrayLike<number>);
  return values;
}

/** Class scores have at most this many classes per row (PP-OCR recognition has 6,625 characters). */
const MAX_CLASSES = 65536;
const SCORE_SLACK = 1e-3;
const SUM_SLACK = 1e-2;

class Accumulator {
  elements = 0;
  maxAbs = 0;
  sumAbs = 0;
  maxRel = 0;
  dot = 0;
  referenceNorm = 0;
  candidateNorm = 0;
  differenceNorm = 0;
  rows = 0;
  agreeingRows = 0;
  argmaxApplies = true;
  mismatches = 0;
  reference: NonFiniteCounts = { nan: 0, inf: 0 };
  candidate: NonFiniteCounts = { nan: 0, inf: 0 };
  shape: number[] = [];

  add(name: string, reference: HostTensor, candidate: HostTensor, atol: number, rtol: number): void {
    if (reference.shape.length !== candidate.shape.length || reference.shape.some((dim, axis) => dim !== candidate.shape[axis])) {
      throw createError(
        ErrorCode.SHAPE,
        `Expected output "${name}" of the candidate to have the reference's shape [${reference.shape.join(', ')}] but received [${candidate.shape.join(', ')}]`,
        'range',
      );
    }
    this.shape = [...reference.shape];
    const expected = toFloat64(reference);
    const actual = toFloat64(candidate);
    for (let index = 0; index < expected.length; index++) {
      const want = expected[index]!;
      const got = actual[index]!;
      if (Number.isNaN(want)) this.reference.nan++;
      else if (!Number.isFinite(want)) this.reference.inf++;
      if (Number.isNaN(got)) this.candidate.nan++;
      else if (!Number.isFinite(got)) this.candidate.inf++;
      if (!Number.isFinite(want) || !Number.isFinite(got)) {
        const same = (Number.isNaN(want) && Number.isNaN(got)) || want === got;
        if (!same) this.mismatches++;
        continue;
      }
      const difference = Math.abs(got - want);
      this.maxAbs = Math.max(this.maxAbs, difference);
      this.sumAbs += difference;
      if (Math.abs(want) >= 1e-6) this.maxRel = Math.max(this.maxRel, difference / Math.abs(want));
      if (difference > atol + rtol * Math.abs(want)) this.mismatches++;
      this.dot += got * want;
      this.referenceNorm += want * want;
      this.candidateNorm += got * got;
      this.differenceNorm += difference * difference;
    }
    this.elements += expected.length;
    const last = reference.shape.at(-1) ?? 0;
    const isFloat = reference.dtype.startsWith('float') || reference.dtype === 'bfloat16';
    if (!isFloat || last < 2 || last > MAX_CLASSES || !this.argmaxApplies) {
      this.argmaxApplies = false;
      return;
    }
    let agreeing = 0;
    let rows = 0;
    for (let row = 0; row + last <= expected.length; row += last) {
      let bestExpected = row;
      let bestActual = row;
      let sum = 0;
      for (let index = row; index < row + last; index++) {
        const value = expected[index]!;
        // Class scores: every row a probability distribution; anything else has no meaningful argmax.
        if (!(value >= -SCORE_SLACK && value <= 1 + SCORE_SLACK)) {
          this.argmaxApplies = false;
          return;
        }
        sum += value;
        if (value > expected[bestExpected]!) bestExpected = index;
        if (actual[index]! > actual[bestActual]!) bestActual = index;
      }
      if (Math.abs(sum - 1) > SUM_SLACK) {
        this.argmaxApplies = false;
        return;
      }
      rows++;
      if (bestExpected === bestActual) agreeing++;
    }
    this.rows += rows;
    this.agreeingRows += agreeing;
  }

  result(name: string): OutputComparison {
    const norms = Math.sqrt(this.referenceNorm) * Math.sqrt(this.candidateNorm);
    const cosine = norms === 0 ? (this.referenceNorm === this.candidateNorm ? 1 : 0) : this.dot / norms;
    return {
      name,
      shape: this.shape,
      elements: this.elements,
      maxAbsError: this.maxAbs,
      meanAbsError: this.elements ? this.sumAbs / this.elements : 0,
      maxRelError: this.maxRel,
      relativeL2Error:
        this.referenceNorm === 0 ? Math.sqrt(this.differenceNorm) : Math.sqrt(this.differenceNorm / this.referenceNorm),
      cosine,
      argmaxAgreement: this.argmaxApplies && this.rows > 0 ? this.agreeingRows / this.rows : null,
      reference: this.reference,
      candidate: this.candidate,
      mismatches: this.mismatches,
      pass: this.mismatches === 0,
    };
  }
}

function isRunner(value: unknown): value is Runner {
  return (
    typeof value === 'function' || (typeof value === 'object' && value !== null && typeof (value as Backend).run === 'function')
  );
}

async function openSide(
  side: CompareSide,
  name: string,
  cpu: CpuBackendOptions | undefined,
): Promise<{ runner: Runner; owned: Backend | null }> {
  if (isRunner(side)) return { runner: side, owned: null };
  if (typeof side === 'string' || side instanceof Uint8Array || (typeof side === 'object' && side !== null && 'proto' in side)) {
    const backend = await createCpuBackend(side as string, cpu);
    return { runner: backend, owned: backend };
  }
  throw new ArgumentTypeError(
    `Expected a model path, bytes, an OnnxModel, a backend or an async function for ${name} but received ${describeValue(side)}`,
  );
}

async function* samplesOf(inputs: unknown): AsyncGenerator<TensorMap> {
  if (typeof inputs !== 'object' || inputs === null)
    throw new ArgumentTypeError(
      `Expected feeds, an array of feeds or an (async) iterable of feeds for inputs but received ${describeValue(inputs)}`,
    );
  if (Symbol.asyncIterator in inputs || Symbol.iterator in inputs) {
    yield* inputs as AsyncIterable<TensorMap>;
    return;
  }
  yield inputs as TensorMap;
}

function count(value: number): string {
  return value.toLocaleString('en-US');
}

/** One line: PASS or FAIL, the tolerance, and the figures of the output that decided it. */
function verdictOf(pass: boolean, outputs: readonly OutputComparison[], samples: number, atol: number, rtol: number): string {
  const tolerance = `|b - a| <= ${atol} + ${rtol}*|a|`;
  const worst = [...outputs].sort(
    (a, b) => b.mismatches / Math.max(1, b.elements) - a.mismatches / Math.max(1, a.elements) || a.cosine - b.cosine,
  )[0];
  const argmax = (output: OutputComparison) =>
    output.argmaxAgreement === null ? '' : `, argmax agrees on ${(output.argmaxAgreement * 100).toFixed(2)}% of rows`;
  if (!worst) return `${pass ? 'PASS' : 'FAIL'}: no outputs compared`;
  const figures = `max abs error ${worst.maxAbsError.toExponential(2)}, cosine ${worst.cosine.toFixed(6)}${argmax(worst)}`;
  if (pass)
    return `PASS: every element of ${outputs.length} output(s) within ${tolerance} over ${samples} sample(s); closest to the limit: "${worst.name}" (${figures})`;
  const nonFinite = worst.candidate.nan + worst.candidate.inf - worst.reference.nan - worst.reference.inf;
  return `FAIL: ${count(worst.mismatches)} of ${count(worst.elements)} elements of "${worst.name}" outside ${tolerance}${nonFinite > 0 ? ` (${count(nonFinite)} NaN/Inf the reference does not have)` : ''}; ${figures}`;
}

/** Compares `candidate` against `reference` on `inputs` (one feeds object or an iterable of them). */
export async function compare(
  reference: CompareSide,
  candidate: CompareSide,
  inputs: TensorMap | Iterable<TensorMap> | AsyncIterable<TensorMap>,
  options?: CompareOptions,
): Promise<CompareReport> {
  const opts = expectOptions<CompareOptions>(options);
  rejectUnknownOptions(opts, ['atol', 'rtol', 'outputs', 'cpu']);
  const atol = opts.atol === undefined ? 1e-3 : expectNumber(opts.atol, 'options.atol', { min: 0 });
  const rtol = opts.rtol === undefined ? 1e-3 : expectNumber(opts.rtol, 'options.rtol', { min: 0 });
  return withCallerStack(async () => {
    const referenceSide = await openSide(reference, 'reference', opts.cpu);
    let candidateSide: { runner: Runner; owned: Backend | null } | null = null;
    try {
      candidateSide = await openSide(candidate, 'candidate', opts.cpu);
      const accumulators = new Map<string, Accumulator>();
      let samples = 0;
      for await (const feeds of samplesOf(inputs)) {
        const expected = await runWith(referenceSide.runner, feeds, opts.outputs ? { outputs: opts.outputs } : undefined);
        const actual = await runWith(candidateSide.runner, feeds, opts.outputs ? { outputs: opts.outputs } : undefined);
        for (const name of opts.outputs ?? Object.keys(expected)) {
          const want = expected[name];
          const got = actual[name];
          if (!want)
            throw new ArgumentRangeError(
              `Expected output ${JSON.stringify(name)} from the reference but received outputs ${JSON.stringify(Object.keys(expected))}`,
            );
          if (!got)
            throw new ArgumentRangeError(
              `Expected output ${JSON.stringify(name)} from the candidate but received outputs ${JSON.stringify(Object.keys(actual))}`,
            );
          if (!accumulators.has(name)) accumulators.set(name, new Accumulator());
          accumulators.get(name)!.add(name, want, got, atol, rtol);
        }
        samples++;
      }
      if (samples === 0) throw new ArgumentRangeError('Expected at least one sample for inputs but received an empty set');
      const outputs = [...accumulators].map(([name, accumulator]) => accumulator.result(name));
      const pass = outputs.every((output) => output.pass);
      return { pass, verdict: verdictOf(pass, outputs, samples, atol, rtol), samples, atol, rtol, outputs };
    } finally {
      await referenceSide.owned?.dispose();
      await candidateSide?.owned?.dispose();
    }
  });
}
