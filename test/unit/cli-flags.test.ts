/**
 * The command line speaks in flags: one --shape grammar for every command, a "did you mean" for
 * spellings from other tools and commands (not only typos), and library errors about options
 * (options.shapes, options.profiles, options.workspace) rephrased with the flags that set them.
 */
import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../lib/cli/args.js';
import { messageInCliTerms, renameOptions } from '../../lib/cli/cli-terms.js';
import type { Command } from '../../lib/cli/command.js';
import { didYouMean, suggestFlag } from '../../lib/cli/flag-hints.js';
import { ArgumentRangeError, ArgumentTypeError, ErrorCode } from '../../lib/core/errors.js';
import { parseShapeFlags, parseShapes } from '../../lib/core/shape-spec.js';
import { generateFeeds } from '../../lib/precision/calibration-data.js';
import { expectErrorSync } from '../helpers/expect-error.js';

const build: Command = {
  name: 'build',
  usage: 'build <model.onnx> -o <engine.plan>',
  options: {
    output: { type: 'string', short: 'o' },
    precision: { type: 'string' },
    shape: { type: 'string', multiple: true },
    workspace: { type: 'string' },
  },
  positionals: true,
  run: async () => 0,
};
const start: Command = {
  name: 'start',
  usage: 'start [--out dir]',
  options: { out: { type: 'string' }, duration: { type: 'string' } },
  run: async () => 0,
};

describe('one --shape grammar', () => {
  it('NAME:DIMS is one shape (a profile of one shape for build); NAME:MIN/OPT/MAX gives bounds, opt as the shape', () => {
    expect(parseShapeFlags(['x:1x3x320x320'])).toEqual({
      shapes: { x: [1, 3, 320, 320] },
      bounds: { x: { min: [1, 3, 320, 320], opt: [1, 3, 320, 320], max: [1, 3, 320, 320] } },
    });
    expect(parseShapeFlags(['images:1x3x320x320/4x3x640x640/8x3x960x960', 'input:0:1x8'])).toEqual({
      shapes: { images: [4, 3, 640, 640], 'input:0': [1, 8] },
      bounds: {
        images: { min: [1, 3, 320, 320], opt: [4, 3, 640, 640], max: [8, 3, 960, 960] },
        'input:0': { min: [1, 8], opt: [1, 8], max: [1, 8] },
      },
    });
    expect(parseShapes(['x:2x16'])).toEqual({ x: [2, 16] });
  });

  it('BAD CALL - malformed values, bounds where one shape runs, one input twice', () => {
    expectErrorSync(
      () => parseShapeFlags(['x:1x16/4x16']),
      ArgumentTypeError,
      ErrorCode.INVALID_ARGUMENT,
      'Expected NAME:DIMxDIM... or NAME:MIN/OPT/MAX (e.g. x:1x3x320x320, or x:1x3x320x320/4x3x640x640/8x3x960x960) for --shape but received "x:1x16/4x16"',
    );
    expectErrorSync(
      () => parseShapes(['x:1x16/2x16/4x16']),
      ArgumentTypeError,
      ErrorCode.INVALID_ARGUMENT,
      'Expected NAME:DIMxDIM... (e.g. x:1x3x320x320) for --shape but received "x:1x16/2x16/4x16"; MIN/OPT/MAX bounds are for `tensorrt-node build`, this command runs one shape',
    );
    expectErrorSync(
      () => parseShapes(['x:1x16', 'x:2x16']),
      ArgumentRangeError,
      ErrorCode.INVALID_ARGUMENT,
      'Expected one --shape per input but received two for "x"',
    );
  });
});

describe('did you mean, for every flag', () => {
  it("--profile, --shapes and trtexec's --minShapes point at --shape, with its grammar", () => {
    expect(didYouMean(suggestFlag('profile', ['output', 'shape']))).toBe(
      ' (did you mean --shape? --shape takes NAME:DIMxDIM..., or NAME:MIN/OPT/MAX for optimization profile bounds, in every command)',
    );
    expect(suggestFlag('shapes', ['shape'])).toEqual({
      usage: '--shape',
      note: '--shapes was renamed: --shape takes NAME:DIMxDIM..., or NAME:MIN/OPT/MAX for optimization profile bounds, in every command',
    });
    expect(suggestFlag('minShapes', ['shape'])?.usage).toBe('--shape NAME:MIN/OPT/MAX');
  });

  it('spellings that imply a value say it; aliases only suggest flags the command has', () => {
    expect(suggestFlag('fp16', ['precision'])).toEqual({ usage: '--precision fp16' });
    expect(suggestFlag('saveEngine', ['output'])).toEqual({ usage: '--output' });
    expect(suggestFlag('out', ['output-dir', 'json'])).toEqual({ usage: '--output-dir' });
    expect(suggestFlag('fp16', ['json'])).toBeUndefined();
  });

  it('typos, camelCase and unique prefixes', () => {
    expect(suggestFlag('duraton', ['duration'])).toEqual({ usage: '--duration' });
    expect(suggestFlag('cudaGraph', ['cuda-graph'])).toEqual({ usage: '--cuda-graph' });
    expect(suggestFlag('prec', ['precision', 'percentile'])).toEqual({ usage: '--precision' });
  });

  it('BAD CALL - --port is not --out: no suggestion beats a wrong one', () => {
    expectErrorSync(
      () => parseCommandLine(start, ['--port', '8080']),
      ArgumentRangeError,
      ErrorCode.UNKNOWN_OPTION,
      'Unknown option --port for `tensorrt-node start`. Usage: tensorrt-node start [--out dir]',
    );
    expectErrorSync(
      () => parseCommandLine(build, ['m.onnx', '--fp16']),
      ArgumentRangeError,
      ErrorCode.UNKNOWN_OPTION,
      'Unknown option --fp16 for `tensorrt-node build` (did you mean --precision fp16?). Usage: tensorrt-node build <model.onnx> -o <engine.plan>',
    );
  });
});

describe('library errors in flags', () => {
  const mlpInputs = [{ name: 'x', dtype: 'float32' as const, shape: [-1, 16] }];
  const caught = (action: () => unknown) => {
    try {
      action();
    } catch (error) {
      return error as Error & { details?: Record<string, unknown> };
    }
    throw new Error('expected an error');
  };

  it('a missing, mismatched or unknown shape carries details the CLI rephrases with --shape', () => {
    const missing = caught(() => generateFeeds(mlpInputs, { random: 1 }).next());
    expect(missing.message).toBe(
      'Expected a concrete shape for input "x" in options.shapes (its dims are [-1, 16]) but received none; pass options.shapes: { "x": [...] }',
    );
    expect(missing.details).toEqual({ option: 'shapes', problem: 'missing', input: 'x', modelShape: [-1, 16] });
    expect(messageInCliTerms(missing)).toBe(
      'Expected --shape x:Nx16 (each N a size) for input "x", whose dims [-1, 16] are dynamic, but received none',
    );
    const mismatch = caught(() => generateFeeds(mlpInputs, { random: 1 }, { x: [1, 15] }).next());
    expect(messageInCliTerms(mismatch)).toBe(
      'Expected --shape x:Nx16 (each N a size) for input "x" [-1, 16] but received x:1x15',
    );
    const unknown = caught(() => generateFeeds(mlpInputs, { random: 1 }, { xx: [1, 16] }).next());
    expect(unknown.message).toBe(
      'Expected only input names of the model ("x") in options.shapes but received "xx" (did you mean "x"?)',
    );
    expect(messageInCliTerms(unknown)).toBe(
      'Expected --shape for inputs of the model ("x") but received "xx" (did you mean "x"?)',
    );
  });

  it("option names a command's flags set are renamed; others are left alone", () => {
    const flags = { workspace: '--workspace', profiles: '--shape' };
    expect(renameOptions('Expected a byte size for options.workspace but received "2XB"', flags)).toBe(
      'Expected a byte size for --workspace but received "2XB"',
    );
    expect(renameOptions('Expected dimension 1 of options.profiles.images.min to be 3', flags)).toBe(
      'Expected dimension 1 of the min shape of --shape images:MIN/OPT/MAX to be 3',
    );
    expect(renameOptions('Expected x for options.signal', flags)).toBe('Expected x for options.signal');
  });
});
