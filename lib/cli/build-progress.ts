/**
 * Shows TensorRT's build progress (nested phases with step counts): a progress bar on a TTY, drawn
 * by cli-progress, and plain lines elsewhere (CI logs, pipes) so that logs stay readable.
 */
import cliProgress from 'cli-progress';
import type { BuildProgressEvent } from '../addon/types.js';

export interface ProgressRenderer {
  update(event: BuildProgressEvent): void;
  stop(): void;
}

interface OpenPhase {
  name: string;
  steps: number;
  step: number;
}

/** Keeps the stack of open phases; shared by both renderers. */
class PhaseStack {
  readonly open: OpenPhase[] = [];

  /** Applies the event; returns the phase it concerns and its nesting depth (0 = top level). */
  apply(event: BuildProgressEvent): { phase: OpenPhase; depth: number } | undefined {
    if (event.kind === 'phase-start') {
      const phase = { name: event.phase, steps: event.steps, step: 0 };
      this.open.push(phase);
      return { phase, depth: this.open.length - 1 };
    }
    const index = this.open.findLastIndex((phase) => phase.name === event.phase);
    if (index < 0) return undefined;
    const phase = this.open[index]!;
    if (event.kind === 'step') phase.step = Math.min(phase.steps, event.step + 1);
    else this.open.splice(index, 1);
    return { phase, depth: index };
  }

  /** "Building engine > Tactic selection": the path to the innermost phase. */
  path(): string {
    return this.open.map((phase) => phase.name).join(' > ');
  }
}

/** Plain lines: phase starts and ends, and every 10% of a phase's steps. */
export function createLineRenderer(write: (line: string) => void, prefix = 'build'): ProgressRenderer {
  const stack = new PhaseStack();
  const reported = new Map<OpenPhase, number>();
  return {
    update(event) {
      const applied = stack.apply(event);
      if (!applied) return;
      const { phase } = applied;
      const depth = '  '.repeat(applied.depth);
      if (event.kind === 'phase-start') write(`${prefix}: ${depth}${phase.name} (${phase.steps} steps)`);
      else if (event.kind === 'phase-finish') write(`${prefix}: ${depth}${phase.name} done`);
      else if (phase.steps >= 10) {
        const decile = Math.floor((phase.step / phase.steps) * 10);
        if (decile > (reported.get(phase) ?? 0) && decile < 10) {
          reported.set(phase, decile);
          write(`${prefix}: ${depth}${phase.name} ${decile * 10}%`);
        }
      }
    },
    stop() {},
  };
}

/** A bar for the innermost phase with its path as the label. */
export function createBarRenderer(stream: NodeJS.WritableStream): ProgressRenderer {
  const stack = new PhaseStack();
  const bar = new cliProgress.SingleBar(
    {
      stream: stream as NodeJS.WriteStream,
      format: '{bar} {percentage}% | {value}/{total} | {phase}',
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(event) {
      stack.apply(event);
      const innermost = stack.open.at(-1);
      if (!innermost) return;
      if (!started) {
        bar.start(Math.max(1, innermost.steps), innermost.step, { phase: stack.path() });
        started = true;
      }
      bar.setTotal(Math.max(1, innermost.steps));
      bar.update(innermost.step, { phase: stack.path() });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

export function createProgressRenderer(stream: NodeJS.WritableStream & { isTTY?: boolean }): ProgressRenderer {
  return stream.isTTY ? createBarRenderer(stream) : createLineRenderer((line) => stream.write(`${line}\n`));
}
