/** Every CLI command, in the order `--help` lists them. */
import type { Command } from '../command.js';
import { benchCommand } from './bench.js';
import { cacheCommand } from './cache.js';
import { doctorCommand } from './doctor.js';
import { reportCommand } from './report.js';
import { startCommand } from './start.js';

export const commands: Command<never>[] = [doctorCommand, benchCommand, reportCommand, cacheCommand, startCommand] as Command<never>[];
