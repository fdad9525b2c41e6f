/** Every CLI command, in the order `--help` lists them. */
import type { Command } from '../command.js';
import { batchCommand } from './batch.js';
import { benchCommand } from './bench.js';
import { buildCommand } from './build.js';
import { cacheCommand } from './cache.js';
import { compareCommand } from './compare.js';
import { convertCommand } from './convert.js';
import { doctorCommand } from './doctor.js';
import { inspectCommand } from './inspect.js';
import { quantizeCommand } from './quantize.js';
import { reportCommand } from './report.js';
import { runCommand } from './run.js';
import { startCommand } from './start.js';

export const commands: Command<never>[] = [
  doctorCommand,
  startCommand,
  inspectCommand,
  convertCommand,
  quantizeCommand,
  compareCommand,
  runCommand,
  buildCommand,
  batchCommand,
  benchCommand,
  reportCommand,
  cacheCommand,
] as Command<never>[];
