import type { Command } from '../command.js';
import { doctorCommand } from './doctor.js';

/** `npm start`: the main job. Until the benchmark harness lands it prints the doctor report. */
export const startCommand: Command = {
  name: 'start',
  summary: 'The main job behind `npm start`: report the machine, then run the default model',
  usage: 'start',
  options: {},
  async run(_values, _positionals, context) {
    return doctorCommand.run({}, [], context);
  },
};
