/**
 * The one validator of what a caller feeds a model, shared by engine runs (ExecutionContext), every
 * backend, sessions and calibration, so that one mistake gets one class, one code and one message
 * ("Expected X for NAME but received Y") whichever layer catches it:
 *
 * - feeds that are not an object, or a tensor that is not one: ArgumentTypeError ERR_INVALID_ARGUMENT;
 * - an unknown or a missing input name: ArgumentRangeError ERR_INVALID_ARGUMENT (with a did-you-mean);
 * - a wrong dtype, or data of another TypedArray: ArgumentTypeError ERR_DTYPE;
 * - a wrong rank, a changed fixed dim, a bad dim, data of another length: ArgumentRangeError ERR_SHAPE.
 *
 * What only one layer knows stays there and runs after these checks: an engine's optimization
 * profile bounds (tensorrt/validation.ts), a session's profiles and a batcher's row limit.
 */
import { checkTypedArray, type DType, type HostTensor } from './dtypes.js';
import { ArgumentRangeError, ArgumentTypeError, ErrorCode } from './errors.js';
import { setEntry, type TensorMap } from './tensors.js';
import { closestMatch, describeValue, withArticle } from './validate.js';

/** An input or output as validation sees it (a backend's TensorInfo, an engine's tensor): -1 marks a dynamic dim. */
export interface TensorSpec {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
}

/** Where feeds are named in messages: `context` prefixes names (`calibration sample 3 `), `name` is the argument (`feeds`, `inputs`). */
export interface FeedsNaming {
  context?: string;
  name?: string;
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function nameList(specs: readonly { name: string }[]): string {
  return specs.map((spec) => JSON.stringify(spec.name)).join(', ');
}

function didYouMean(name: string, specs: readonly { name: string }[]): string {
  const hint = closestMatch(
    name,
    specs.map((spec) => spec.name),
  );
  return hint ? ` (did you mean ${JSON.stringify(hint)}?)` : '';
}

/**
 * `input "x"` (with `context` before it) for messages. Feeds are checked on every request, so the
 * context-free labels are made once per spec rather than per call.
 */
const inputLabels = new WeakMap<TensorSpec, string>();
export function inputLabel(spec: TensorSpec, context = ''): string {
  if (context !== '') return `${context}input ${JSON.stringify(spec.name)}`;
  let label = inputLabels.get(spec);
  if (label === undefined) inputLabels.set(spec, (label = `input ${JSON.stringify(spec.name)}`));
  return label;
}

/** For feeds that are not an object mapping input names to tensors (an array, a TypedArray, a single Tensor). */
export function feedsTypeError(feeds: unknown, { context = '', name = 'feeds' }: FeedsNaming = {}): ArgumentTypeError {
  return new ArgumentTypeError(
    `Expected an object mapping input names to tensors for ${context}${name} but received ${describeValue(feeds)}`,
  );
}

/**
 * Checks that `feeds` is an object that names every input of the model and nothing else (an
 * input given as undefined is missing).
 */
export function checkFeedNames(
  inputs: readonly TensorSpec[],
  feeds: unknown,
  naming: FeedsNaming = {},
): asserts feeds is Record<string, unknown> {
  const { context = '', name = 'feeds' } = naming;
  if (typeof feeds !== 'object' || feeds === null || Array.isArray(feeds) || ArrayBuffer.isView(feeds))
    throw feedsTypeError(feeds, naming);
  const given = feeds as Record<string, unknown>;
  for (const key in given) if (Object.hasOwn(given, key)) checkInputName(inputs, key, `${context}${name}`);
  let missing: TensorSpec[] | undefined;
  for (const spec of inputs) if (given[spec.name] === undefined) (missing ??= []).push(spec);
  if (missing) {
    throw new ArgumentRangeError(
      `Expected a tensor for every input of the model (${nameList(inputs)}) in ${context}${name} but received none for ${nameList(missing)}`,
      ErrorCode.INVALID_ARGUMENT,
      {
        details: { missing: missing.map((spec) => spec.name), inputs: inputs.map((spec) => spec.name) },
      },
    );
  }
}

/** `received` describes what came when it is not a plain value (`a Tensor of dtype "int32"`). */
export function checkDType(spec: TensorSpec, dtype: unknown, label: string, received?: string): void {
  if (dtype !== spec.dtype)
    throw new ArgumentTypeError(
      `Expected dtype ${JSON.stringify(spec.dtype)} for ${label} but received ${received ?? describeValue(dtype)}`,
      ErrorCode.DTYPE,
    );
}

/** How a Tensor's dtype is named in messages. */
export function tensorOfDType(dtype: string): string {
  return `a Tensor of dtype ${JSON.stringify(dtype)}`;
}

/**
 * Checks `shape` against the model's: an array of non-negative integers, of the model's rank, equal
 * to the model's fixed dims. Returns its element count.
 */
export function checkShape(spec: TensorSpec, shape: unknown, label: string): number {
  if (!Array.isArray(shape))
    throw new ArgumentTypeError(
      `Expected an array of dimensions for the shape of ${label} but received ${describeValue(shape)}`,
      ErrorCode.SHAPE,
    );
  for (let axis = 0; axis < shape.length; axis++) {
    const dim: unknown = shape[axis];
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
      throw new ArgumentRangeError(
        `Expected a non-negative integer at dim ${axis} for ${label} but received ${describeValue(dim)}`,
        ErrorCode.SHAPE,
      );
    }
  }
  const dims = shape as number[];
  if (dims.length !== spec.shape.length) {
    throw new ArgumentRangeError(
      `Expected a shape of rank ${spec.shape.length} (model shape ${formatShape(spec.shape)}) for ${label} but received ${formatShape(dims)}`,
      ErrorCode.SHAPE,
    );
  }
  let count = 1;
  for (let axis = 0; axis < dims.length; axis++) {
    const fixed = spec.shape[axis]!;
    if (fixed >= 0 && dims[axis] !== fixed) {
      throw new ArgumentRangeError(
        `Expected ${fixed} at dim ${axis} (model shape ${formatShape(spec.shape)}) for ${label} but received ${formatShape(dims)}`,
        ErrorCode.SHAPE,
      );
    }
    count *= dims[axis]!;
  }
  // An empty tensor is empty whatever its other dims: [0, 2^40, 2^40] has 0 elements, not an overflow.
  if (dims.includes(0)) return 0;
  if (!Number.isSafeInteger(count))
    throw new ArgumentRangeError(`The element count of ${label} ${formatShape(dims)} overflows`, ErrorCode.SHAPE);
  return count;
}

/** What holds an input's data, for messages: a TypedArray (by its class) or a Tensor. */
export interface SuppliedData {
  /** `Float32Array`, `Tensor`, ... */
  kind: string;
  elements: number;
}

export function describeData(data: SuppliedData): string {
  return data.kind === 'Tensor'
    ? `a Tensor of ${data.elements} elements`
    : `${withArticle(data.kind)} of length ${data.elements}`;
}

/** Checks that the data holds exactly the elements `shape` needs. */
export function checkElementCount(expected: number, shape: readonly number[], data: SuppliedData, label: string): void {
  if (data.elements !== expected) {
    throw new ArgumentRangeError(
      `Expected ${expected} elements (shape ${formatShape(shape)}) for ${label} but received ${describeData(data)}`,
      ErrorCode.SHAPE,
    );
  }
}

/** Bare data (a TypedArray or a plain array) carries no shape: it is taken only for a fully static input. */
export function staticShapeFor(spec: TensorSpec, label: string, received: unknown): number[] {
  if (spec.shape.some((dim) => dim < 0)) {
    throw new ArgumentTypeError(
      `Expected a Tensor or { data, shape } for ${label}, whose model shape ${formatShape(spec.shape)} has dynamic dims, but received ${describeValue(received)} without a shape`,
      ErrorCode.SHAPE,
    );
  }
  return [...spec.shape];
}

/** Checks one host tensor ({ dtype, shape, data }) against its description; `label` names it in messages. */
export function validateTensor(spec: TensorSpec, tensor: unknown, label: string): HostTensor {
  if (typeof tensor !== 'object' || tensor === null || Array.isArray(tensor) || ArrayBuffer.isView(tensor)) {
    throw new ArgumentTypeError(`Expected a tensor ({ dtype, shape, data }) for ${label} but received ${describeValue(tensor)}`);
  }
  const { dtype, shape, data } = tensor as Partial<HostTensor>;
  checkDType(spec, dtype, label);
  const count = checkShape(spec, shape, label);
  const array = checkTypedArray(spec.dtype as DType, data, label);
  checkElementCount(count, shape!, { kind: array.constructor.name, elements: array.length }, label);
  // A Float16Array comes back as its bits (a Uint16Array view): the caller's object is left as it was.
  return array === data ? (tensor as HostTensor) : ({ dtype, shape, data: array } as HostTensor);
}

/**
 * Checks every input of the model in `feeds` (whose names are already checked) with the right dtype
 * and shape. Returns `feeds` itself, or a new map where a tensor's data had to be viewed as another
 * TypedArray (a Float16Array's bits): never writes into the caller's object.
 */
export function validateInputs(inputs: readonly TensorSpec[], feeds: Record<string, unknown>, context = ''): TensorMap {
  let viewed: Record<string, unknown> | undefined;
  for (const spec of inputs) {
    const tensor = feeds[spec.name];
    const checked = validateTensor(spec, tensor, inputLabel(spec, context));
    if (checked !== tensor) setEntry((viewed ??= { ...feeds }), spec.name, checked);
  }
  return (viewed ?? feeds) as TensorMap;
}

/**
 * Checks that `feeds` holds exactly the model's inputs with the right dtypes and shapes; `context`
 * prefixes names in messages (e.g. `calibration sample 3 `).
 */
export function validateFeeds(inputs: readonly TensorSpec[], feeds: unknown, context = ''): TensorMap {
  checkFeedNames(inputs, feeds, { context });
  return validateInputs(inputs, feeds, context);
}

function checkName(mode: 'input' | 'output', specs: readonly { name: string }[], name: string, where: string): void {
  if (specs.some((spec) => spec.name === name)) return;
  throw new ArgumentRangeError(
    `Expected only ${mode} names of the model (${nameList(specs)}) in ${where} but received ${JSON.stringify(name)}${didYouMean(name, specs)}`,
    ErrorCode.INVALID_ARGUMENT,
    {
      details: { [mode]: name, [`${mode}s`]: specs.map((spec) => spec.name) },
    },
  );
}

/** Throws unless `name` is one of `inputs`; `where` names the argument or option in messages (`feeds`, `options.shapes`). */
export function checkInputName(inputs: readonly { name: string }[], name: string, where: string): void {
  checkName('input', inputs, name, where);
}

/** Throws unless `name` is one of `outputs`; `where` names the option in messages (`options.outputs`). */
export function checkOutputName(outputs: readonly { name: string }[], name: string, where: string): void {
  checkName('output', outputs, name, where);
}

/** The default of options.outputs (every output, in model order), one frozen list per model. */
const allOutputNames = new WeakMap<readonly TensorSpec[], readonly string[]>();

/** Checks `options.outputs` and returns the names to compute (default: all, the same frozen list every call). */
export function validateOutputNames(outputs: readonly TensorSpec[], requested: unknown): readonly string[] {
  if (requested === undefined) {
    let all = allOutputNames.get(outputs);
    if (all === undefined) allOutputNames.set(outputs, (all = Object.freeze(outputs.map((spec) => spec.name))));
    return all;
  }
  if (!Array.isArray(requested))
    throw new ArgumentTypeError(`Expected an array of output names for options.outputs but received ${describeValue(requested)}`);
  if (requested.length === 0)
    throw new ArgumentRangeError('Expected at least one output name for options.outputs but received an empty array');
  const seen = new Set<string>();
  for (const name of requested) {
    if (typeof name !== 'string')
      throw new ArgumentTypeError(`Expected an output name for options.outputs but received ${describeValue(name)}`);
    checkOutputName(outputs, name, 'options.outputs');
    seen.add(name);
  }
  return [...seen];
}
