import { buildEngine, type BuildEngineOptions } from '../../builder/build-engine.js';
import { precisions } from '../../core/precision.js';
import { createProgressRenderer } from '../build-progress.js';
import { writeFileAtomic } from '../../core/atomic-write.js';
import { ArgumentTypeError, ErrorCode, TensorRTNodeError } from '../../core/errors.js';
import { formatBytes, formatDuration } from '../../core/units.js';
import { expectOneOf } from '../../core/validate.js';
import type { Command } from '../command.js';
import { progressLine } from '../progress.js';
import { RANDOM_CALIBRATION_WARNING, parseCalibration, parseCount, parseRange } from '../tensor-args.js';
import { parseShapeFlags } from '../../core/shape-spec.js';

interface BuildValues {
  output?: string;
  precision?: string;
  calibration?: string;
  table?: string;
  method?: string;
  shape?: string[];
  workspace?: string;
  'opt-level'?: string;
  'timing-cache'?: string;
  'cache-dir'?: string;
  cache?: boolean;
  device?: string;
  'hardware-compatibility'?: string;
  'version-compatible'?: boolean;
  json?: boolean;
}

const usage =
  'build <model.onnx> -o <engine.plan> [--precision fp16|int8] [--calibration <dir|random:N>] [--shape input:min/opt/max ...] [--workspace 2GiB] [--opt-level N] [--timing-cache file] [--json]';

/** `tensorrt-node build`: an ONNX model to a TensorRT engine, through the engine cache. */
export const buildCommand: Command<BuildValues> = {
  name: 'build',
  usage,
  help: [
    '  -o, --output <file>         where to write the engine (written atomically)',
    '  --precision <p>             fp32 (default) | fp16 | int8',
    '  --calibration <dir|random:N>  INT8 calibration samples (a folder of .npy/.json, or N generated ones)',
    '  --table <t.json>            INT8: a saved calibration table instead of calibrating',
    '  --method <m>                INT8 calibration: max | percentile | entropy | mse (default percentile)',
    '  --shape <in:min/opt/max>    optimization profile bounds of a dynamic input, e.g. images:1x3x640x640/8x3x640x640/32x3x640x640,',
    '                              or one shape (images:1x3x640x640) for a profile of that shape (repeatable, one per input);',
    '                              INT8 with random:N calibrates at the opt shape',
    '  --workspace <size>          workspace memory limit, e.g. 2GiB',
    '  --opt-level <0-5>           builder optimization level (TensorRT default 3)',
    '  --hardware-compatibility <l>  none | ampere+ | same-compute-capability',
    '  --version-compatible        build an engine later TensorRT versions can run',
    "  --timing-cache <file>       read and update this timing cache (default: the engine cache's own)",
    '  --cache-dir <dir>, --no-cache  engine cache folder, or no cache',
    '  --device <n>                CUDA device (default 0)',
    '  --json                      print the build report as JSON',
  ].join('\n'),
  options: {
    output: { type: 'string', short: 'o' },
    precision: { type: 'string' },
    calibration: { type: 'string' },
    table: { type: 'string' },
    method: { type: 'string' },
    shape: { type: 'string', multiple: true },
    workspace: { type: 'string' },
    'opt-level': { type: 'string' },
    'hardware-compatibility': { type: 'string' },
    'version-compatible': { type: 'boolean' },
    'timing-cache': { type: 'string' },
    'cache-dir': { type: 'string' },
    cache: { type: 'boolean' },
    device: { type: 'string' },
    json: { type: 'boolean' },
  },
  optionFlags: {
    precision: '--precision',
    calibration: '--calibration',
    calibrationTable: '--table',
    profiles: '--shape',
    shapes: '--shape',
    workspace: '--workspace',
    optimizationLevel: '--opt-level',
    hardwareCompatibility: '--hardware-compatibility',
    versionCompatible: '--version-compatible',
    timingCache: '--timing-cache',
    cacheDir: '--cache-dir',
    device: '--device',
  },
  positionals: true,
  async run(values, positionals, { stdout, stderr }) {
    if (positionals.length !== 1)
      throw new ArgumentTypeError(
        `Expected one ONNX model for \`tensorrt-node build\` but received ${positionals.length}. Usage: tensorrt-node ${usage}`,
      );
    if (!values.output)
      throw new ArgumentTypeError(
        `Expected an output path (-o <engine.plan>) for \`tensorrt-node build\` but received none. Usage: tensorrt-node ${usage}`,
      );
    const precision = expectOneOf(values.precision ?? 'fp32', '--precision', precisions);
    const options: BuildEngineOptions = { precision };
    if (values.calibration) options.calibration = parseCalibration(values.calibration, 1, parseRange(undefined, [-1, 1]));
    if (values.table) options.calibrationTable = values.table;
    // One --shape grammar for every command: bounds (or one shape) per input make the profile; INT8 calibrates at the opt shapes.
    const shapes = parseShapeFlags(values.shape);
    if (precision === 'int8')
      options.int8 = {
        method: expectOneOf(values.method ?? 'percentile', '--method', ['max', 'percentile', 'entropy', 'mse'] as const),
        shapes: shapes?.shapes,
      };
    if (shapes) options.profiles = shapes.bounds;
    if (values.workspace) options.workspace = values.workspace;
    if (values['opt-level'] !== undefined) options.optimizationLevel = parseCount(values['opt-level'], 'opt-level');
    if (values['hardware-compatibility'])
      options.hardwareCompatibility = values['hardware-compatibility'] as BuildEngineOptions['hardwareCompatibility'];
    if (values['version-compatible']) options.versionCompatible = true;
    if (values['timing-cache']) options.timingCache = values['timing-cache'];
    if (values.cache === false) options.cacheDir = false;
    else if (values['cache-dir']) options.cacheDir = values['cache-dir'];
    if (values.device !== undefined) options.device = parseCount(values.device, 'device');

    const renderer = createProgressRenderer(stderr);
    const calibrationProgress = progressLine(stderr, 'calibrate');
    let calibrated = 0;
    options.onProgress = (event) => renderer.update(event);
    options.onCalibrationProgress = (progress) => {
      calibrated = progress.done;
      calibrationProgress.update(progress.done, progress.total);
    };
    let result;
    try {
      result = await buildEngine(positionals[0]!, options);
    } finally {
      renderer.stop();
      if (calibrated > 0) calibrationProgress.finish(`${calibrated} samples`);
    }
    if (calibrated > 0 && typeof options.calibration === 'object') stderr.write(`warning: ${RANDOM_CALIBRATION_WARNING}\n`);
    try {
      await writeFileAtomic(values.output, result.plan, { description: 'the engine' });
    } catch (error) {
      if (!result.cacheKey) throw error;
      // The engine stays in the cache: a second try after freeing space is fast.
      const failure = error as TensorRTNodeError;
      throw new TensorRTNodeError(
        ErrorCode.IO,
        `${failure.message} (it is in the engine cache under key ${result.cacheKey.slice(0, 12)})`,
        { cause: failure.cause, details: failure.details },
      );
    }
    const { plan: _plan, ...report } = result;
    if (values.json) {
      stdout.write(`${JSON.stringify({ output: values.output, bytes: result.plan.byteLength, ...report }, null, 2)}\n`);
    } else {
      stdout.write(
        `${result.fromCache ? 'Engine from the cache' : `Built in ${formatDuration(result.buildTimeMs)}`}: ${values.output} (${formatBytes(result.plan.byteLength)}), ${precision}, TensorRT ${result.tensorrtVersion}, ${result.gpu.name} (compute ${result.gpu.computeCapability})\n` +
          `Layers: ${result.layers.layers} (fp32 ${result.layers.fp32}, fp16 ${result.layers.fp16}, int8 ${result.layers.int8})\n` +
          result.warnings.map((warning) => `warning: ${warning}\n`).join(''),
      );
    }
    return 0;
  },
};
