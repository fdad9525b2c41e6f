/**
 * `npm run bench:graph-pass`: the ONNX graph passes scale with the model, not with names x
 * subgraphs (issue 19 #3). Models with N scalar initializers and K If nodes (two one-node branches
 * each reading an outer initializer; test/helpers/onnx-fixtures.ts subgraphHeavyModel) at three
 * sizes, N and K growing together by 3x and 3.3x: `inspect` (decode, structural check, report) and
 * FP16 autocast, median of --repeats runs each. A linear pass costs the same per name at every
 * size; the pass that copied its outer scope per subgraph grew ~10x per 3x (112 s for 100k x 3,000).
 *
 * Options: --sizes 10000x300,30000x900,100000x3000  --repeats 3  --out <file> (default
 * benchmarks/results/graph-pass.json; "-" prints only).
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../lib/addon/loader.js';
import { convertToFp16 } from '../lib/onnx/fp16.js';
import { inspect } from '../lib/onnx/inspect.js';
import { parseModel, serializeModel } from '../lib/onnx/model.js';
import { subgraphHeavyModel } from '../test/helpers/onnx-fixtures.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000x300,30000x900,100000x3000' },
    repeats: { type: 'string', default: '3' },
    out: { type: 'string', default: join(packageRoot, 'benchmarks', 'results', 'graph-pass.json') },
  },
});
const sizes = values.sizes.split(',').map((size) => {
  const [names, subgraphs] = size.split('x').map(Number);
  if (!Number.isSafeInteger(names) || !Number.isSafeInteger(subgraphs))
    throw new Error(`--sizes: expected NAMESxSUBGRAPHS, got ${size}`);
  return { names: names!, subgraphs: subgraphs! };
});
const repeats = Number(values.repeats);

async function medianMs(action: () => unknown): Promise<number> {
  const times: number[] = [];
  for (let run = 0; run < repeats; run++) {
    const started = performance.now();
    await action();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

const rows = [];
for (const { names, subgraphs } of sizes) {
  const bytes = serializeModel(subgraphHeavyModel({ names, subgraphs }));
  const inspectMs = await medianMs(() => inspect(bytes));
  const model = parseModel(bytes);
  const fp16Ms = await medianMs(() => convertToFp16(model));
  // What a linear pass is linear in: every name and node, in every graph.
  const items = names + subgraphs * 5;
  rows.push({
    names,
    subgraphs,
    modelBytes: bytes.byteLength,
    items,
    inspectMs: Math.round(inspectMs),
    fp16Ms: Math.round(fp16Ms),
    inspectUsPerItem: Number(((inspectMs * 1000) / items).toFixed(2)),
    fp16UsPerItem: Number(((fp16Ms * 1000) / items).toFixed(2)),
  });
  process.stderr.write(
    `${names} names x ${subgraphs} subgraphs (${bytes.byteLength} bytes): inspect ${inspectMs.toFixed(0)} ms, fp16 ${fp16Ms.toFixed(0)} ms\n`,
  );
}
const first = rows[0]!;
const last = rows.at(-1)!;
const summary = {
  suite: 'graph-pass',
  date: new Date().toISOString(),
  command: `npm run bench:graph-pass -- --sizes ${values.sizes} --repeats ${repeats}`,
  model:
    'test/helpers/onnx-fixtures.ts subgraphHeavyModel({ names, subgraphs }): names scalar initializers, subgraphs If nodes with two one-node branches',
  rows,
  growth: {
    items: Number((last.items / first.items).toFixed(2)),
    inspect: Number((last.inspectMs / Math.max(first.inspectMs, 1)).toFixed(2)),
    fp16: Number((last.fp16Ms / Math.max(first.fp16Ms, 1)).toFixed(2)),
    namesTimesSubgraphs: Number(((last.names * last.subgraphs) / (first.names * first.subgraphs)).toFixed(1)),
  },
  environment: {
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      kernel: release(),
      loadAverage: loadavg().map((load) => Number(load.toFixed(2))),
    },
    node: process.version,
  },
};
if (values.out !== '-') writeFileSync(values.out, `${JSON.stringify(summary, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(summary.growth)}\n`);
