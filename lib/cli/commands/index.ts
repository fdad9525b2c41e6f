/** Every CLI command, in the order `--help` lists them. */
import type { Command } from '../command.js';
import { cacheCommand } from './cache.js';
import { doctorCommand } from './doctor.js';
import { startCommand } from './start.js';

export const commands: Command<never>[] = [doctorCommand, cacheCommand, startCommand] as Command<never>[];
