/**
 * The one grammar of `--shape`, for every command: `NAME:DIMS`, repeatable, one input each, where
 * DIMS is one concrete shape (`x:1x3x320x320`) or the min/opt/max bounds of an optimization
 * profile (`x:1x3x320x320/4x3x640x640/8x3x960x960`, what `build` needs for a dynamic input). A
 * concrete shape given to `build` is a profile of one shape; commands that run one shape (bench,
 * run, compare, quantize) refuse bounds.
 */
import { ArgumentRangeError, ArgumentTypeError, ErrorCode } from './errors.js';

/** Concrete shapes for inputs with dynamic dims, by input name (`--shape`, calibration and bench shapes). */
export type InputShapes = Readonly<Record<string, readonly number[]>>;

/** One input's optimization-profile bounds, as `--shape NAME:MIN/OPT/MAX` gives them. */
export interface ShapeBounds {
  min: number[];
  opt: number[];
  max: number[];
}

/** What `--shape` values say: a concrete shape per input (the opt shape of bounds) and, per input, its profile bounds. */
export interface ShapeFlags {
  shapes: InputShapes;
  bounds: Record<string, ShapeBounds>;
}

const DIMS = String.raw`\d+(?:x\d+)*`;
const single = new RegExp(`^(.+):(${DIMS})$`);
const ranged = new RegExp(`^(.+):(${DIMS})/(${DIMS})/(${DIMS})$`);
const dims = (text: string) => text.split('x').map(Number);

/** `--shape` values to their shapes and bounds; `allowBounds` false refuses MIN/OPT/MAX (commands that run one shape). */
export function parseShapeFlags(
  values: readonly string[] | undefined,
  { allowBounds = true, flag = '--shape' } = {},
): ShapeFlags | undefined {
  if (!values?.length) return undefined;
  const shapes: Record<string, number[]> = {};
  const bounds: Record<string, ShapeBounds> = {};
  for (const value of values) {
    const one = single.exec(value);
    const three = one || !allowBounds ? null : ranged.exec(value);
    if (!one && !three) {
      const grammar = allowBounds
        ? 'NAME:DIMxDIM... or NAME:MIN/OPT/MAX (e.g. x:1x3x320x320, or x:1x3x320x320/4x3x640x640/8x3x960x960)'
        : 'NAME:DIMxDIM... (e.g. x:1x3x320x320)';
      const hint =
        !allowBounds && value.includes('/')
          ? '; MIN/OPT/MAX bounds are for `tensorrt-node build`, this command runs one shape'
          : '';
      throw new ArgumentTypeError(
        `Expected ${grammar} for ${flag} but received ${JSON.stringify(value)}${hint}`,
        ErrorCode.INVALID_ARGUMENT,
        { details: { flag, value } },
      );
    }
    const name = (one ?? three)![1]!;
    if (name in shapes)
      throw new ArgumentRangeError(
        `Expected one ${flag} per input but received two for ${JSON.stringify(name)}`,
        ErrorCode.INVALID_ARGUMENT,
        { details: { flag, input: name } },
      );
    if (one) {
      shapes[name] = dims(one[2]!);
      bounds[name] = { min: dims(one[2]!), opt: dims(one[2]!), max: dims(one[2]!) };
    } else {
      bounds[name] = { min: dims(three![2]!), opt: dims(three![3]!), max: dims(three![4]!) };
      shapes[name] = [...bounds[name].opt];
    }
  }
  return { shapes, bounds };
}

/** `--shape name:1x3x320x320` (repeatable) to { name: [1, 3, 320, 320] }, for commands that run one shape. */
export function parseShapes(values: readonly string[] | undefined): InputShapes | undefined {
  return parseShapeFlags(values, { allowBounds: false })?.shapes;
}

/** How a model's dims read as a `--shape` value: `x:Nx3xNxN`, N where a dim is dynamic. */
export function shapeTemplate(name: string, modelShape: readonly number[]): string {
  return `${name}:${modelShape.map((dim) => (dim >= 0 ? String(dim) : 'N')).join('x')}`;
}
