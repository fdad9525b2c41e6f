/**
 * The one grammar for shapes given as text (the CLI's `--shape` flags, the bench's shape options):
 * `NAME:DIMxDIM...`, e.g. `x:1x3x320x320`, repeatable, one input each.
 */
import { ArgumentTypeError } from './errors.js';

/** Concrete shapes for inputs with dynamic dims, by input name (`--shape`, calibration and bench shapes). */
export type InputShapes = Readonly<Record<string, readonly number[]>>;

/** `--shape name:1x3x320x320` (repeatable) to { name: [1, 3, 320, 320] }. */
export function parseShapes(values: readonly string[] | undefined): InputShapes | undefined {
  if (!values?.length) return undefined;
  const shapes: Record<string, number[]> = {};
  for (const value of values) {
    const match = /^(.+):(\d+(?:x\d+)*)$/.exec(value);
    if (!match) throw new ArgumentTypeError(`Expected NAME:DIMxDIM... (e.g. x:1x3x320x320) for --shape but received ${JSON.stringify(value)}`);
    shapes[match[1]!] = match[2]!.split('x').map(Number);
  }
  return shapes;
}
