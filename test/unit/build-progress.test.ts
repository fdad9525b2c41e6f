import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createBarRenderer, createLineRenderer } from '../../lib/cli/build-progress.js';
import { type BuildProgressEvent } from '../../lib/addon/types.js';

const start = (phase: string, steps: number, parentPhase = ''): BuildProgressEvent => ({
  kind: 'phase-start',
  phase,
  parentPhase,
  step: 0,
  steps,
});
const step = (phase: string, index: number): BuildProgressEvent => ({
  kind: 'step',
  phase,
  parentPhase: '',
  step: index,
  steps: 0,
});
const finish = (phase: string): BuildProgressEvent => ({ kind: 'phase-finish', phase, parentPhase: '', step: 0, steps: 0 });

describe('build progress rendering', () => {
  it('plain lines show nested phases and every tenth of the steps', () => {
    const lines: string[] = [];
    const renderer = createLineRenderer((line) => lines.push(line));
    renderer.update(start('Building engine', 2));
    renderer.update(start('Tactic selection', 20, 'Building engine'));
    for (let index = 0; index < 20; index++) renderer.update(step('Tactic selection', index));
    renderer.update(finish('Tactic selection'));
    renderer.update(step('Building engine', 0));
    renderer.update(finish('Building engine'));
    renderer.update(step('Unknown phase', 3)); // ignored: never started
    renderer.stop();
    expect(lines).toEqual([
      'build: Building engine (2 steps)',
      'build:   Tactic selection (20 steps)',
      ...[10, 20, 30, 40, 50, 60, 70, 80, 90].map((percent) => `build:   Tactic selection ${percent}%`),
      'build:   Tactic selection done',
      'build: Building engine done',
    ]);
  });

  it('a TTY gets a progress bar labelled with the phase path', () => {
    const stream = new PassThrough();
    let output = '';
    stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
    (stream as unknown as { isTTY: boolean }).isTTY = true;
    const renderer = createBarRenderer(stream);
    renderer.update(start('Building engine', 4));
    renderer.update(start('Tactic selection', 10, 'Building engine'));
    renderer.update(step('Tactic selection', 4));
    renderer.stop();
    expect(output).toContain('Building engine > Tactic selection');
    expect(output).toMatch(/50% \| 5\/10/);
  });
});
