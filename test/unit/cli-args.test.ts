import { describe, expect, it } from 'vitest';
import { ArgumentRangeError, ArgumentTypeError } from '../../lib/core/errors.js';
import { parseCommandLine } from '../../lib/cli/args.js';
import type { Command } from '../../lib/cli/command.js';
import { expectErrorSync } from '../helpers/expect-error.js';

const command: Command = {
  name: 'bench',
  usage: 'bench <model> [--json <file>] [--duration <time>]',
  options: { json: { type: 'string' }, duration: { type: 'string' }, verbose: { type: 'boolean' } },
  positionals: true,
  run: async () => 0,
};

describe('CLI argument parsing', () => {
  it('parses values, booleans, negations and positionals', () => {
    expect(parseCommandLine(command, ['model.onnx', '--json', 'out.json', '--verbose'])).toEqual({
      values: { json: 'out.json', verbose: true },
      positionals: ['model.onnx'],
    });
    expect(parseCommandLine(command, ['--no-verbose']).values).toEqual({ verbose: false });
    expect(parseCommandLine(command, ['--duration=3s']).values).toEqual({ duration: '3s' });
  });

  it('BAD CALL - a misspelled option gets a suggestion', () => {
    expectErrorSync(
      () => parseCommandLine(command, ['--duraton', '3s']),
      ArgumentRangeError,
      'ERR_UNKNOWN_OPTION',
      'Unknown option --duraton for `tensorrt-node bench` (did you mean --duration?). Usage: tensorrt-node bench <model> [--json <file>] [--duration <time>]',
    );
  });

  it('BAD CALL - an option missing its value', () => {
    expectErrorSync(
      () => parseCommandLine(command, ['--json']),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      /Option '--json <value>' argument missing\. Usage: tensorrt-node bench/,
    );
  });

  it('BAD CALL - positionals where the command takes none', () => {
    expectErrorSync(
      () => parseCommandLine({ ...command, positionals: false }, ['x']),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      /Unexpected argument 'x'/,
    );
  });
});
