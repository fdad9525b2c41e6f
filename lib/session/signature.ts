/**
 * A session's signature as a value: `{ inputs: { x: 'float32' }, outputs: { y: 'float32' } }`.
 * A type parameter alone (`create<Signature>()`) vanishes at run time, so nothing could check it
 * against the model, and a wrong one typed `result.y` as a tensor that was undefined. Given as
 * `options.signature`, the same object types feeds and results (InferenceSession.create infers it)
 * and is checked against the model's real inputs and outputs when the session is created.
 */
import { dtypes, type DType } from '../core/dtypes.js';
import { ArgumentRangeError, ErrorCode } from '../core/errors.js';
import { formatShape } from '../core/feeds.js';
import type { TensorInfo } from '../core/tensors.js';
import { closestMatch, expectOneOf, expectOptions, invalidType, rejectUnknownOptions } from '../core/validate.js';
import type { ModelSignature } from './types.js';

/** Checks the form of `options.signature` (names to dtypes); the model is checked later by {@link checkSignature}. */
export function validateSignature(value: unknown): ModelSignature | undefined {
  if (value === undefined) return undefined;
  const signature = expectOptions<ModelSignature>(value, 'options.signature');
  rejectUnknownOptions(signature, ['inputs', 'outputs'], 'options.signature');
  const side = (key: 'inputs' | 'outputs'): Record<string, DType> => {
    const names = signature[key];
    if (typeof names !== 'object' || names === null || Array.isArray(names))
      throw invalidType('an object mapping names to dtypes', `options.signature.${key}`, names);
    for (const [name, dtype] of Object.entries(names)) expectOneOf(dtype, `options.signature.${key}.${name}`, dtypes);
    return names as Record<string, DType>;
  };
  return { inputs: side('inputs'), outputs: side('outputs') };
}

function describeTensors(tensors: readonly TensorInfo[]): string {
  return tensors.map((tensor) => `${tensor.name} ${tensor.dtype} ${formatShape(tensor.shape)}`).join(', ') || 'none';
}

/**
 * Compares a signature with the model: every input of the model, with its dtype (feeds are typed
 * from the signature, so it must name them all), and each output it names, with its dtype (the
 * outputs it leaves out are still computed, just not typed). Throws one error listing every
 * mismatch and the model's real inputs and outputs.
 */
export function checkSignature(
  signature: ModelSignature,
  inputs: readonly TensorInfo[],
  outputs: readonly TensorInfo[],
  model: string,
): void {
  const problems: string[] = [];
  let onlyDtypes = true;
  const compare = (mode: 'input' | 'output', declared: Record<string, DType>, actual: readonly TensorInfo[]) => {
    for (const [name, dtype] of Object.entries(declared)) {
      const tensor = actual.find((candidate) => candidate.name === name);
      if (!tensor) {
        onlyDtypes = false;
        const hint = closestMatch(
          name,
          actual.map((candidate) => candidate.name),
        );
        problems.push(
          `${mode} ${JSON.stringify(name)} is not an ${mode} of the model${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}`,
        );
      } else if (tensor.dtype !== dtype) {
        problems.push(`${mode} ${JSON.stringify(name)} is ${tensor.dtype} in the model, not ${dtype}`);
      }
    }
  };
  compare('input', signature.inputs, inputs);
  for (const input of inputs) {
    if (Object.hasOwn(signature.inputs, input.name)) continue;
    onlyDtypes = false;
    problems.push(`input ${JSON.stringify(input.name)} (${input.dtype}) is missing`);
  }
  compare('output', signature.outputs, outputs);
  if (problems.length === 0) return;
  throw new ArgumentRangeError(
    `Expected a signature matching ${model} (inputs: ${describeTensors(inputs)}; outputs: ${describeTensors(outputs)}) for options.signature but received one where ${problems.join('; ')}`,
    onlyDtypes ? ErrorCode.DTYPE : ErrorCode.INVALID_ARGUMENT,
    {
      details: {
        problems,
        inputs: inputs.map(({ name, dtype, shape }) => ({ name, dtype, shape: [...shape] })),
        outputs: outputs.map(({ name, dtype, shape }) => ({ name, dtype, shape: [...shape] })),
      },
    },
  );
}
