/** dtype encode/decode, element counts, units parsing, shape/profile/feed validation and CLI parsing. */
import fc from 'fast-check';
import { parseShapeFlags, resolveProfiles } from '../../../lib/builder/profiles.js';
import { parseBenchOptions, type BenchOptionValues } from '../../../lib/bench/options.js';
import { parseCommandLine } from '../../../lib/cli/args.js';
import { loadCommands } from '../../../lib/cli/commands/index.js';
import { parseCalibration, parseCount, parseList, parseNumber, parseRange } from '../../../lib/cli/tensor-args.js';
import { parseShapes } from '../../../lib/core/shape-spec.js';
import {
  allocateTypedArray,
  bfloat16BitsToFloat32,
  checkTypedArray,
  dtypes,
  elementCount,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
  fromFloat16Array,
  toFloat16Array,
  type DType,
} from '../../../lib/core/dtypes.js';
import type { EngineMetadata } from '../../../lib/addon/types.js';
import { checkFeeds, type FeedDescription } from '../../../lib/tensorrt/validation.js';
import { parseByteSize, parseDuration } from '../../../lib/core/units.js';
import { returnsOrThrowsTyped, type FuzzProperty } from '../harness.js';

const commands = await loadCommands();

const typedArrays = [
  Float32Array,
  Float64Array,
  Int8Array,
  Uint8Array,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  BigInt64Array,
  BigUint64Array,
  Uint8ClampedArray,
] as const;
const typedArray = fc
  .tuple(fc.constantFrom(...typedArrays), fc.nat({ max: 8 }))
  .map(([constructor, length]) => new constructor(length));
const dtypeLike = fc.oneof(fc.constantFrom(...dtypes), fc.string(), fc.constantFrom('float', 'FLOAT32', 'int4', 'fp8', ''));
const dim = fc.oneof(
  fc.nat({ max: 64 }),
  fc.integer(),
  fc.double(),
  fc.constantFrom(NaN, Infinity, -Infinity, -0, 2 ** 53, 2 ** 31, -1),
  fc.string(),
  fc.constant(null),
);
const shapeLike = fc.oneof(fc.array(dim, { maxLength: 6 }), fc.anything());

/** Units as people write them, to check exact values (IEC, SI and single-letter units). */
const byteUnits: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};
const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Tokens a command line is made of: known options, their misspellings, values and separators. */
function argvArbitrary(known: string[]): fc.Arbitrary<string[]> {
  const option = known.length ? fc.constantFrom(...known) : fc.constant('json');
  const misspelled = fc
    .tuple(option, fc.nat(), fc.string({ minLength: 1, maxLength: 1 }))
    .map(([name, at, letter]) => name.slice(0, at % (name.length + 1)) + letter + name.slice((at % (name.length + 1)) + 1));
  const token = fc.oneof(
    option.map((name) => `--${name}`),
    option.map((name) => `--no-${name}`),
    fc.tuple(option, fc.string()).map(([name, value]) => `--${name}=${value}`),
    misspelled.map((name) => `--${name}`),
    fc.constantFrom(
      '-o',
      '-h',
      '--',
      '-',
      '---',
      '--=',
      '--=x',
      '-xyz',
      'random:0',
      'random:-1',
      'x:1x3',
      '1,2',
      'NaN',
      '1e400',
      '0x10',
      '\0',
    ),
    fc.string(),
  );
  return fc.array(token, { maxLength: 8 });
}

function metadataArbitrary(): fc.Arbitrary<EngineMetadata> {
  const tensor = fc.record({
    name: fc.constantFrom('a', 'b', 'images', ''),
    mode: fc.constantFrom('input' as const, 'output' as const),
    dtype: fc.constantFrom('float32', 'float16', 'int32'),
    shape: fc.array(fc.integer({ min: -1, max: 8 }), { maxLength: 4 }),
  });
  return fc
    .record({
      tensors: fc.array(tensor, { maxLength: 3 }),
      bounds: fc.array(fc.array(fc.nat({ max: 8 }), { maxLength: 4 }), { maxLength: 3 }),
    })
    .map(({ tensors, bounds }) => {
      const unique = tensors.filter((tensor, index) => tensors.findIndex((other) => other.name === tensor.name) === index);
      const inputs = unique.filter((tensor) => tensor.mode === 'input');
      const profile = {
        index: 0,
        inputs: Object.fromEntries(
          inputs.map((input, index) => {
            const min = input.shape.map((dimension, axis) => (dimension >= 0 ? dimension : (bounds[index]?.[axis] ?? 1)));
            const max = min.map((value, axis) =>
              input.shape[axis]! >= 0 ? value : value + (bounds[(index + 1) % 3]?.[axis] ?? 2),
            );
            return [input.name, { min, opt: min, max }];
          }),
        ),
      };
      return {
        name: 'fuzz',
        layerCount: 1,
        deviceMemoryBytes: 0,
        auxStreamCount: 0,
        hardwareCompatibility: 'none',
        tensors: unique.map((tensor) => ({ ...tensor, format: 'linear', location: 'device', isShapeTensor: false })),
        profiles: inputs.length ? [profile] : [],
      } as unknown as EngineMetadata;
    });
}

export const coreProperties: FuzzProperty[] = [
  {
    name: 'dtypes: every float16 bit pattern decodes and re-encodes to itself (NaN stays NaN)',
    weight: 8,
    property: () =>
      fc.property(fc.integer({ min: 0, max: 0xffff }), (bits) => {
        const value = float16BitsToFloat32(bits);
        const again = float32ToFloat16Bits(value);
        if (Number.isNaN(value) ? !Number.isNaN(float16BitsToFloat32(again)) : again !== bits)
          throw new Error(`0x${bits.toString(16)} -> ${value} -> 0x${again.toString(16)}`);
      }),
  },
  {
    name: 'dtypes: float32 -> float16 rounds to the nearest float16 (ties to even), monotonic, and bfloat16 round-trips',
    weight: 8,
    property: () =>
      fc.property(fc.float({ noNaN: true }), fc.float({ noNaN: true }), fc.integer({ min: 0, max: 0xffff }), (a, b, bfBits) => {
        for (const value of [a, b]) {
          const rounded = float16BitsToFloat32(float32ToFloat16Bits(value));
          if (Math.abs(value) < 65520) {
            // No float16 value is closer to `value` than the one chosen.
            const bits = float32ToFloat16Bits(value);
            for (const neighbour of [bits - 1, bits + 1]) {
              if (neighbour < 0 || neighbour > 0xffff || ((neighbour >> 10) & 0x1f) === 0x1f) continue;
              const other = float16BitsToFloat32(neighbour);
              if (Math.abs(other - value) < Math.abs(rounded - value))
                throw new Error(`${value} became ${rounded}, but ${other} is closer`);
            }
          } else if (Math.abs(rounded) !== Infinity) throw new Error(`${value} is beyond float16 but became ${rounded}`);
        }
        const [low, high] = a <= b ? [a, b] : [b, a];
        if (float16BitsToFloat32(float32ToFloat16Bits(low)) > float16BitsToFloat32(float32ToFloat16Bits(high)))
          throw new Error(`not monotonic at ${low}, ${high}`);
        const bf = bfloat16BitsToFloat32(bfBits);
        if (!Number.isNaN(bf) && float32ToBfloat16Bits(bf) !== bfBits)
          throw new Error(`bfloat16 0x${bfBits.toString(16)} does not round-trip`);
        const array = Float32Array.of(a, b);
        const decoded = fromFloat16Array(toFloat16Array(array));
        if (decoded[0] !== float16BitsToFloat32(float32ToFloat16Bits(a)))
          throw new Error('array conversion differs from the scalar one');
      }),
  },
  {
    name: 'dtypes: elementCount, checkTypedArray and allocateTypedArray accept exactly what is valid and fail typed otherwise',
    weight: 8,
    property: () =>
      fc.asyncProperty(
        shapeLike,
        dtypeLike,
        typedArray,
        fc.oneof(fc.nat({ max: 4096 }), fc.integer({ min: -4096, max: -1 }), fc.double(), fc.constantFrom(2 ** 53, 2 ** 60)),
        async (shape, dtype, array, count) => {
          const counted = await returnsOrThrowsTyped(() => elementCount(shape as number[]));
          const valid =
            Array.isArray(shape) &&
            shape.every((item) => typeof item === 'number' && Number.isSafeInteger(item) && item >= 0) &&
            Number.isSafeInteger((shape as number[]).reduce((product, item) => product * item, 1));
          if (counted.ok !== valid)
            throw new Error(`elementCount(${JSON.stringify(shape)}) ${counted.ok ? 'accepted' : 'refused'} it`);
          if (counted.ok && counted.value !== (shape as number[]).reduce((product, item) => product * item, 1))
            throw new Error('wrong element count');
          const checked = await returnsOrThrowsTyped(() => checkTypedArray(dtype as DType, array, 'x'));
          if (checked.ok && (typeof dtype !== 'string' || !(dtypes as readonly string[]).includes(dtype)))
            throw new Error(`checkTypedArray accepted dtype ${String(dtype)}`);
          const allocated = await returnsOrThrowsTyped(() => allocateTypedArray(dtype as DType, count));
          if (allocated.ok && (allocated.value as ArrayLike<unknown>).length !== count)
            throw new Error('allocated the wrong length');
        },
      ),
  },
  {
    name: 'units: byte sizes and durations parse exactly or fail typed',
    weight: 8,
    property: () =>
      fc.asyncProperty(
        fc.string(),
        fc.anything(),
        fc.nat({ max: 1_000_000 }),
        fc.constantFrom(...Object.keys(byteUnits)),
        fc.array(fc.tuple(fc.nat({ max: 999 }), fc.constantFrom(...Object.keys(durationUnits))), { minLength: 1, maxLength: 4 }),
        async (text, anything, amount, unit, parts) => {
          await returnsOrThrowsTyped(() => parseByteSize(text, '--size'));
          await returnsOrThrowsTyped(() => parseDuration(text, '--older-than'));
          await returnsOrThrowsTyped(() => parseByteSize(anything, '--size'));
          await returnsOrThrowsTyped(() => parseDuration(anything, '--older-than'));
          const sized = await returnsOrThrowsTyped(() => parseByteSize(`${amount}${unit.toUpperCase()}`, '--size'));
          const exact = amount * byteUnits[unit]!;
          if (sized.ok !== Number.isSafeInteger(exact) || (sized.ok && sized.value !== exact))
            throw new Error(`${amount}${unit} gave ${JSON.stringify(sized)}, expected ${exact}`);
          const text2 = parts.map(([value, name]) => `${value}${name}`).join('');
          const expected = parts.reduce((sum, [value, name]) => sum + value * durationUnits[name]!, 0);
          if (parseDuration(text2, '--older-than') !== expected)
            throw new Error(`${text2} parsed as ${parseDuration(text2, '--older-than')}, expected ${expected}`);
        },
      ),
  },
  {
    name: 'profiles: resolveProfiles and --shapes accept only bounds that fit the model, min <= opt <= max',
    weight: 6,
    property: () =>
      fc.asyncProperty(
        fc.array(
          fc.record({
            name: fc.constantFrom('x', 'y', 'images'),
            shape: fc.oneof(
              fc.constant(null),
              fc.array(fc.oneof(fc.integer({ min: -1, max: 8 }), fc.constant(null), fc.constantFrom('batch', 'n')), {
                maxLength: 4,
              }),
            ),
          }),
          { maxLength: 3 },
        ),
        fc.oneof(
          fc.anything(),
          fc.dictionary(fc.constantFrom('x', 'y', 'images', 'z'), fc.record({ min: shapeLike, opt: shapeLike, max: shapeLike })),
        ),
        fc.array(fc.string(), { maxLength: 3 }),
        async (rawInputs, profiles, flags) => {
          const inputs = rawInputs
            .filter((input, index) => rawInputs.findIndex((other) => other.name === input.name) === index)
            .map((input) => ({ ...input, dtype: 'float32' }));
          const resolved = await returnsOrThrowsTyped(() => resolveProfiles(profiles, inputs as never, 'model.onnx'));
          if (resolved.ok) {
            for (const profile of resolved.value as { input: string; min: number[]; opt: number[]; max: number[] }[][]) {
              for (const bounds of profile) {
                const model = inputs.find((input) => input.name === bounds.input)!;
                bounds.min.forEach((low, axis) => {
                  if (!(low <= bounds.opt[axis]! && bounds.opt[axis]! <= bounds.max[axis]!))
                    throw new Error(`accepted min/opt/max out of order: ${JSON.stringify(bounds)}`);
                  const fixed = model.shape?.[axis];
                  if (typeof fixed === 'number' && fixed >= 0 && (low !== fixed || bounds.max[axis] !== fixed))
                    throw new Error(`accepted a profile that changes fixed dim ${axis}: ${JSON.stringify(bounds)}`);
                });
                if (model.shape && bounds.min.length !== model.shape.length)
                  throw new Error('accepted a profile of the wrong rank');
              }
            }
          }
          const parsed = await returnsOrThrowsTyped(() => parseShapeFlags(flags));
          if (parsed.ok)
            for (const bounds of Object.values(parsed.value as Record<string, { min: number[] }>))
              if (!bounds.min.every((value) => Number.isSafeInteger(value) && value >= 0))
                throw new Error(`--shapes gave ${JSON.stringify(bounds)}`);
        },
      ),
  },
  {
    name: 'feeds: checkFeeds accepts only feeds of the engine inputs, dtypes and profile bounds',
    weight: 6,
    property: () =>
      fc.asyncProperty(
        metadataArbitrary(),
        fc.oneof(fc.nat({ max: 2 }), fc.integer(), fc.double()),
        fc.dictionary(
          fc.constantFrom('a', 'b', 'images', 'c'),
          fc.record({
            dtype: fc.constantFrom('float32', 'float16', 'int32', 'bool'),
            shape: shapeLike,
            data: fc.option(fc.record({ kind: fc.constantFrom('Float32Array', 'Tensor'), elements: fc.nat({ max: 512 }) }), {
              nil: undefined,
            }),
          }),
        ),
        async (metadata, profileIndex, feeds) => {
          const checked = await returnsOrThrowsTyped(() =>
            checkFeeds(metadata, profileIndex, feeds as Record<string, FeedDescription>),
          );
          if (!checked.ok) return;
          const inputs = metadata.tensors.filter((tensor) => tensor.mode === 'input');
          if (
            Object.keys(feeds).sort().join() !==
            inputs
              .map((input) => input.name)
              .sort()
              .join()
          )
            throw new Error('accepted feeds that are not exactly the inputs');
          for (const input of inputs) {
            const feed = feeds[input.name]!;
            if (feed.dtype !== input.dtype) throw new Error('accepted a wrong dtype');
            const bounds = metadata.profiles[profileIndex]?.inputs[input.name];
            (feed.shape as number[]).forEach((value, axis) => {
              if (bounds && (value < bounds.min[axis]! || value > bounds.max[axis]!))
                throw new Error(`accepted dim ${value} outside [${bounds.min[axis]}, ${bounds.max[axis]}]`);
            });
          }
        },
      ),
  },
  {
    name: 'cli: every command parses or refuses any command line with a typed error; the shared value parsers too',
    weight: 12,
    property: () =>
      fc.asyncProperty(
        fc
          .nat({ max: commands.length - 1 })
          .chain((which) => fc.tuple(fc.constant(which), argvArbitrary(Object.keys(commands[which]!.options)))),
        fc.array(fc.string(), { maxLength: 4 }),
        fc.string(),
        async ([which, argv], extra, value) => {
          const command = commands[which]!;
          const parsed = await returnsOrThrowsTyped(() => parseCommandLine(command, [...argv, ...extra]));
          if (parsed.ok && command.name === 'bench')
            await returnsOrThrowsTyped(() =>
              parseBenchOptions(
                (parsed.value as { values: BenchOptionValues }).values,
                (parsed.value as { positionals: string[] }).positionals,
              ),
            );
          for (const parse of [
            () => parseShapes([value]),
            () => parseCalibration(value, 1, [-1, 1]),
            () => parseRange(value, [-1, 1]),
            () => parseList(value),
            () => parseNumber(value, 'atol'),
            () => parseCount(value, 'threads'),
          ])
            await returnsOrThrowsTyped(parse);
          const count = await returnsOrThrowsTyped(() => parseCount(value, 'threads'));
          if (count.ok && count.value !== undefined && !(Number.isSafeInteger(count.value) && (count.value as number) >= 1))
            throw new Error(`--threads ${value} gave ${String(count.value)}`);
        },
      ),
  },
];
