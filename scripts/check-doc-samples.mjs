#!/usr/bin/env node
// Type-checks every ```ts and ```js block of README.md and docs/*.md, and every ```ts block of the
// TSDoc comments in lib/ (the API reference's examples), against the package's own published types
// (dist/, through its "exports"), so that a sample using a renamed or removed API fails here instead
// of in a reader's editor. Needs `npm run build:ts` first.
//
// Each block becomes a module of its own: its imports stay at the top, the rest runs inside an async
// function (top-level await and `await using` work), and the free variables samples lean on (the
// user's data, an open session, ...) are declared below with the types a reader would have. Markdown
// samples must import what they use, as a reader copies them; TSDoc examples get every public name.
// The checker uses `strict` but not this repository's noUncheckedIndexedAccess, as most users do.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
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
declare const stream: import('tensorrt-node').CudaStream;
declare function use(value: unknown): void;
declare function buildMyEngine(signal: AbortSignal | undefined): Promise<Uint8Array>;
declare function retryLater(): void;
`;

function markdownFiles() {
  const docs = join(root, 'docs');
  return [
    join(root, 'README.md'),
    ...(existsSync(docs)
      ? readdirSync(docs)
          .filter((name) => name.endsWith('.md'))
          .map((name) => join(docs, name))
      : []),
  ];
}

function libFiles(folder = join(root, 'lib')) {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return libFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/**
 * Every ```ts/```js block of `file`, with the line it starts on. In TypeScript sources only blocks
 * inside doc comments count, without their leading ` * `.
 */
function samplesOf(file) {
  const inComment = file.endsWith('.ts');
  const prefix = inComment ? /^\s*\* ?/ : /^/;
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => (inComment && !prefix.test(line) ? null : line.replace(prefix, '')));
  const samples = [];
  for (let index = 0; index < lines.length; index++) {
    if (lines[index] === null || !/^```(ts|js)\s*$/.test(lines[index])) continue;
    const start = index + 1;
    while (index + 1 < lines.length && lines[index + 1] !== null && lines[index + 1] !== '```') index++;
    samples.push({ file, line: start + 1, code: lines.slice(start, index + 1), importAll: inComment });
    index++;
  }
  return samples;
}

/** One import line per entry point with every public name (the first entry to export a name wins). */
function publicImports() {
  const entries = {
    'tensorrt-node': 'index.d.ts',
    'tensorrt-node/onnx': 'onnx/index.d.ts',
    'tensorrt-node/precision': 'precision/index.d.ts',
    'tensorrt-node/bench': 'bench/index.d.ts',
  };
  const program = ts.createProgram(
    Object.values(entries).map((file) => join(root, 'dist', file)),
    { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, noEmit: true },
  );
  const checker = program.getTypeChecker();
  const seen = new Set();
  return Object.entries(entries).map(([specifier, file]) => {
    const source = program.getSourceFile(join(root, 'dist', file));
    const names = checker
      .getExportsOfModule(checker.getSymbolAtLocation(source))
      .map((symbol) => symbol.name)
      .filter((name) => !seen.has(name));
    for (const name of names) seen.add(name);
    return `import { ${names.join(', ')} } from '${specifier}';`;
  });
}

/** The module a sample is checked as; `offset` maps its lines back to the markdown. */
function moduleOf(sample, everything) {
  const imports = [...sample.code.filter((line) => /^import\s/.test(line)), ...(sample.importAll ? everything : [])];
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
const everything = publicImports();
const sources = [...markdownFiles(), ...libFiles()];
for (const file of sources) {
  for (const sample of samplesOf(file)) {
    const name = join(outDir, `${relative(root, file).replace(/[/.]/g, '-')}-${sample.line}.ts`);
    const { text, offset } = moduleOf(sample, everything);
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
console.log(
  `check-doc-samples: ${checked.size} samples in ${new Set([...checked.values()].map((sample) => sample.file)).size} files, ${failures} problem(s)`,
);
process.exitCode = failures === 0 ? 0 : 1;
