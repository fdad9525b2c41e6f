#!/usr/bin/env node
// Type-checks every ```ts and ```js block of README.md and docs/*.md against the package's own
// published types (dist/, through its "exports"), so that a sample using a renamed or removed API
// fails here instead of in a reader's editor. Needs `npm run build:ts` first.
//
// Each block becomes a module of its own: its imports stay at the top, the rest runs inside an async
// function (top-level await and `await using` work), and the free variables samples lean on (the
// user's data, an open session, ...) are declared below with the types a reader would have. The
// checker uses `strict` but not this repository's noUncheckedIndexedAccess, as most users do.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, '.tmp', 'doc-samples');

/** What samples use without defining it. Shadowed freely: a block's own declarations win. */
const context = `
import type { InferenceSession as __Session, TensorMap as __TensorMap } from 'tensorrt-node';
declare const session: __Session<{ inputs: { x: 'float32' }; outputs: { y: 'float32' } }>;
declare const signal: AbortSignal;
declare const features: Float32Array;
declare const row: Float32Array;
declare const data: Float32Array;
declare const pixels: Float32Array;
declare const rgbBytes: Uint8Array;
declare const feeds: __TensorMap;
declare const uuid: string;
declare function buildMyEngine(signal: AbortSignal | undefined): Promise<Uint8Array>;
declare function retryLater(): void;
`;

function markdownFiles() {
  const docs = join(root, 'docs');
  return [join(root, 'README.md'), ...(existsSync(docs) ? readdirSync(docs).filter((name) => name.endsWith('.md')).map((name) => join(docs, name)) : [])];
}

/** Every ```ts/```js block of `file`, with the line it starts on. */
function samplesOf(file) {
  const samples = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let index = 0; index < lines.length; index++) {
    const open = /^```(ts|js)\s*$/.exec(lines[index]);
    if (!open) continue;
    const start = index + 1;
    while (index + 1 < lines.length && lines[index + 1] !== '```') index++;
    samples.push({ file, line: start + 1, code: lines.slice(start, index + 1) });
    index++;
  }
  return samples;
}

/** The module a sample is checked as; `offset` maps its lines back to the markdown. */
function moduleOf(sample) {
  const imports = sample.code.filter((line) => /^import\s/.test(line));
  const body = sample.code.map((line) => (/^import\s/.test(line) ? '' : line));
  const head = [...imports, context, 'export async function sample(): Promise<void> {'];
  return { text: [...head, ...body, '}', ''].join('\n'), offset: head.join('\n').split('\n').length };
}

if (!existsSync(join(root, 'dist', 'index.d.ts'))) {
  console.error('check-doc-samples: dist/ is missing; run `npm run build:ts` first');
  process.exit(2);
}
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const checked = new Map();
for (const file of markdownFiles()) {
  for (const sample of samplesOf(file)) {
    const name = join(outDir, `${basename(file, '.md')}-${sample.line}.ts`);
    const { text, offset } = moduleOf(sample);
    writeFileSync(name, text);
    checked.set(name, { ...sample, offset });
  }
}

const options = {
  target: ts.ScriptTarget.ES2023,
  lib: ['lib.es2023.d.ts'],
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  types: ['node'],
  strict: true,
  noEmit: true,
  skipLibCheck: true,
};
const program = ts.createProgram([...checked.keys()], options);
let failures = 0;
for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
  const sample = diagnostic.file && checked.get(diagnostic.file.fileName);
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
  if (!sample) {
    console.error(`check-doc-samples: ${message}`);
    failures++;
    continue;
  }
  const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
  const where = line < sample.offset ? sample.line : sample.line + line - sample.offset;
  console.error(`${relative(root, sample.file)}:${where}: ${message}`);
  failures++;
}
// The generated modules are only a means: messages point at the markdown, and `eslint .` must not meet them.
rmSync(outDir, { recursive: true, force: true });
console.log(`check-doc-samples: ${checked.size} samples in ${markdownFiles().length} files, ${failures} problem(s)`);
process.exitCode = failures === 0 ? 0 : 1;
