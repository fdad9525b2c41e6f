/**
 * Library errors in the words of the command line. The library names its options
 * (`options.shapes`, `options.profiles`); a CLI user typed flags (`--shape x:1x3x320x320`). Errors
 * that concern an option carry `details.option` and `details.problem` (and what they are about),
 * which is enough to say the same thing with the flag that sets that option.
 */
import { formatShape } from '../core/feeds.js';
import { shapeTemplate } from '../core/shape-spec.js';
import { closestMatch } from '../core/validate.js';

interface OptionErrorDetails {
  option?: unknown;
  problem?: unknown;
  input?: unknown;
  inputs?: unknown;
  modelShape?: unknown;
  received?: unknown;
  model?: unknown;
}

const isDims = (value: unknown): value is number[] => Array.isArray(value) && value.every((dim) => typeof dim === 'number');

/**
 * `error.message` as the CLI should print it: rephrased in flags where the error's details say
 * which option it concerns, else with the library option names a command's flags set
 * (`optionFlags`) replaced by those flags.
 */
export function messageInCliTerms(
  error: { message: string; details?: Record<string, unknown> },
  optionFlags: Readonly<Record<string, string>> = {},
): string {
  const details = (error.details ?? {}) as OptionErrorDetails;
  if (typeof details.problem === 'string') {
    const rephrased =
      details.option === 'shapes' ? shapesMessage(details) : details.option === 'profiles' ? profilesMessage(details) : undefined;
    if (rephrased !== undefined) return rephrased;
  }
  return renameOptions(error.message, optionFlags);
}

/** `options.workspace` -> `--workspace`; `options.profiles.images.min` -> `the min shape of --shape images:MIN/OPT/MAX`. */
export function renameOptions(message: string, optionFlags: Readonly<Record<string, string>>): string {
  return message.replace(/\boptions\.([A-Za-z]\w*)((?:\[\d+\]|\.[\w-]+)*)/g, (whole, option: string, path: string) => {
    const flag = optionFlags[option];
    if (flag === undefined) return whole;
    if (option !== 'profiles') return flag;
    const bound = /^(?:\[\d+\])?\.([^.[]+)(?:\.(min|opt|max))?/.exec(path);
    if (!bound) return flag;
    return `${bound[2] ? `the ${bound[2]} shape of ` : ''}${flag} ${bound[1]}:MIN/OPT/MAX`;
  });
}

function shapesMessage(details: OptionErrorDetails): string | undefined {
  const input = typeof details.input === 'string' ? details.input : undefined;
  if (input === undefined) return undefined;
  if (details.problem === 'unknown-input' && Array.isArray(details.inputs)) {
    const known = details.inputs.map(String);
    const hint = closestMatch(input, known);
    return `Expected --shape for inputs of the model (${known.map((name) => JSON.stringify(name)).join(', ')}) but received ${JSON.stringify(input)}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}`;
  }
  if (!isDims(details.modelShape)) return undefined;
  const template = shapeTemplate(input, details.modelShape);
  if (details.problem === 'missing') {
    return `Expected --shape ${template} (each N a size) for input ${JSON.stringify(input)}, whose dims ${formatShape(details.modelShape)} are dynamic, but received none`;
  }
  if (details.problem === 'mismatch' && isDims(details.received)) {
    return `Expected --shape ${template} (each N a size) for input ${JSON.stringify(input)} ${formatShape(details.modelShape)} but received ${input}:${details.received.join('x')}`;
  }
  return undefined;
}

function profilesMessage(details: OptionErrorDetails): string | undefined {
  if (details.problem !== 'missing' || !Array.isArray(details.inputs)) return undefined;
  const inputs = details.inputs as { name: string; shape: number[]; dims?: string }[];
  const flags = inputs.map(({ name, shape }) => {
    const dims = shapeTemplate(name, shape).slice(name.length + 1);
    return `--shape ${name}:${dims}/${dims}/${dims}`;
  });
  const model = typeof details.model === 'string' ? `${details.model} has` : 'The model has';
  return `${model} dynamic input${inputs.length > 1 ? 's' : ''} ${inputs.map(({ name, shape, dims }) => `${JSON.stringify(name)} ${dims ?? formatShape(shape)}`).join(', ')}: give the optimization profile's min/opt/max shapes with ${flags.join(' ')} (each N a size), or one shape with --shape ${shapeTemplate(inputs[0]!.name, inputs[0]!.shape)}`;
}

/**
 * The same error with its message in the command's flags (see messageInCliTerms); class, code,
 * details and stack stay. What `tensorrt-node <command>` prints and what its command throws agree.
 */
export function inCliTerms<E extends { message: string; details?: Record<string, unknown> }>(
  error: E,
  optionFlags?: Readonly<Record<string, string>>,
): E {
  const message = messageInCliTerms(error, optionFlags);
  if (message !== error.message) error.message = message;
  return error;
}
