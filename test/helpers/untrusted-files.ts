/**
 * Corpora of hostile files, generated at test time (nothing binary is committed): ONNX models that
 * are empty, truncated, random, bit-flipped, huge in declared sizes, cyclic, with duplicated names
 * or with external data pointing out of their folder; engine files; calibration sample folders;
 * bench results and trtexec files. Each entry says what a reader must do with it.
 *
 * Files that must never be read sit outside the folders the readers are allowed into, under a
 * unique name (`secretName`), so that a system-call trace can prove they were never opened.
 */
import { create } from '@bufbuild/protobuf';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeNpy } from '../../lib/onnx/npy.js';
import { serializeModel, type OnnxModel } from '../../lib/onnx/model.js';
import { DataLocation, StringStringEntryProtoSchema, type TensorProto } from '../../lib/onnx/proto.js';
import { createRandom } from '../../lib/onnx/random.js';
import { makeNode } from '../../lib/onnx/graph.js';
import { packageRoot } from '../../lib/addon/loader.js';
import { mlpModel } from './onnx-fixtures.js';

export interface CorpusEntry {
  name: string;
  path: string;
  /** 'read': a valid file that must read fine; otherwise the error code every reader must fail with (or one of several). */
  expect: 'read' | string | readonly string[];
  /** A message every reader's error must match, when the failure is specific. */
  message?: RegExp;
}

/** Deterministic bit flips: `count` bits of `bytes` picked by `seed`. */
export function flipBits(bytes: Uint8Array, seed: number, count = 1): Uint8Array {
  const random = createRandom(seed);
  const copy = new Uint8Array(bytes); // a copy even of a Buffer, whose slice() is a view
  for (let flip = 0; flip < count; flip++) {
    const index = Math.floor(random.next() * copy.length);
    copy[index] = copy[index]! ^ (1 << Math.floor(random.next() * 8));
  }
  return copy;
}

export function randomBytes(length: number, seed: number): Uint8Array {
  const random = createRandom(seed);
  return Uint8Array.from({ length }, () => Math.floor(random.next() * 256));
}

function withWeight(change: (weight: TensorProto, model: OnnxModel) => void): Uint8Array {
  const model = mlpModel();
  change(model.proto.graph!.initializer[0]!, model);
  return serializeModel(model);
}

function external(weight: TensorProto, location: string, extra: Record<string, string> = {}): void {
  weight.rawData = new Uint8Array(0);
  weight.dataLocation = DataLocation.EXTERNAL;
  weight.externalData = [
    create(StringStringEntryProtoSchema, { key: 'location', value: location }),
    ...Object.entries(extra).map(([key, value]) => create(StringStringEntryProtoSchema, { key, value })),
  ];
}

function modelWith(change: (model: OnnxModel) => void): Uint8Array {
  const model = mlpModel();
  change(model);
  return serializeModel(model);
}

/** The unique name of the file outside the model folder that no reader may open. */
export const secretName = `outside-secret-${process.pid}-${Date.now().toString(36)}.bin`;

/**
 * Writes the ONNX corpus into `root`: models in `root/models/<entry>/model.onnx` (one folder each,
 * so every model's folder is its own), the secret next to `root/models`.
 */
export function writeModelCorpus(root: string): { entries: CorpusEntry[]; secret: string } {
  mkdirSync(root, { recursive: true });
  const secret = join(root, secretName);
  writeFileSync(secret, new Uint8Array(32 * 16 * 4).fill(0x5a));
  const valid = serializeModel(mlpModel());
  const entries: CorpusEntry[] = [];
  const add = (
    name: string,
    bytes: Uint8Array | null,
    expect: CorpusEntry['expect'],
    message?: RegExp,
    prepare?: (folder: string) => void,
  ) => {
    const folder = join(root, 'models', name);
    mkdirSync(folder, { recursive: true });
    const path = join(folder, 'model.onnx');
    if (bytes) writeFileSync(path, bytes);
    prepare?.(folder);
    entries.push({ name, path, expect, ...(message ? { message } : {}) });
  };
  const escape = /^Expected an external data location inside the model's folder /;

  add('valid', valid, 'read');
  add('empty', new Uint8Array(0), 'ERR_ONNX', /received a protobuf message with no graph$/);
  add('one byte', Uint8Array.of(0x08), 'ERR_ONNX');
  for (const fraction of [0.05, 0.25, 0.5, 0.75, 0.99])
    add(`truncated at ${fraction * 100}%`, valid.subarray(0, Math.floor(valid.length * fraction)), ['ERR_ONNX']);
  for (const [length, seed] of [
    [16, 1],
    [1024, 2],
    [65536, 3],
  ] as const)
    add(`${length} random bytes`, randomBytes(length, seed), 'ERR_ONNX');
  // Bit flips land anywhere: most break the protobuf or the graph, some only change a weight (still a valid model).
  for (let seed = 1; seed <= 12; seed++)
    add(`bit flips, seed ${seed}`, flipBits(valid, seed, 1 + (seed % 4)), ['read', 'ERR_ONNX']);
  add(
    'negative initializer dim',
    withWeight((weight) => void (weight.dims = [-1n, 16n])),
    'ERR_ONNX',
    /^Expected non-negative dims for tensor "fc1\.weight" but received \[-1, 16\]$/,
  );
  add(
    'initializer of 2^80 elements',
    withWeight((weight) => void (weight.dims = [1n << 40n, 1n << 40n])),
    'ERR_ONNX',
    /^Expected dims with an element count below 2\^53 for tensor "fc1\.weight"/,
  );
  add(
    'initializer of 2^40 elements without data',
    withWeight((weight) => {
      weight.dims = [1n << 20n, 1n << 20n];
      weight.rawData = new Uint8Array(0);
    }),
    ['read', 'ERR_ONNX'],
  );
  add(
    'external data at an absolute path',
    withWeight((weight) => external(weight, secret)),
    'ERR_ONNX',
    escape,
  );
  add(
    'external data escaping with ..',
    withWeight((weight) => external(weight, `../../${secretName}`)),
    'ERR_ONNX',
    escape,
  );
  add(
    'external data escaping with a backslash ..',
    withWeight((weight) => external(weight, `..\\..\\${secretName}`)),
    'ERR_ONNX',
    escape,
  );
  add(
    'external data through a symlink that leads out',
    withWeight((weight) => external(weight, 'weights.bin')),
    'ERR_ONNX',
    /a symlink leads out to /,
    (folder) => symlinkSync(secret, join(folder, 'weights.bin')),
  );
  add(
    'external data through a symlinked folder',
    withWeight((weight) => external(weight, `sub/${secretName}`)),
    'ERR_ONNX',
    /a symlink leads out to /,
    (folder) => symlinkSync(root, join(folder, 'sub')),
  );
  add(
    'external data in a FIFO',
    withWeight((weight) => external(weight, 'pipe.bin')),
    'ERR_ONNX',
    /it is not a regular file/,
    (folder) => execFileSync('mkfifo', [join(folder, 'pipe.bin')]),
  );
  add(
    'external data that is a folder',
    withWeight((weight) => external(weight, 'data')),
    'ERR_ONNX',
    /it is not a regular file/,
    (folder) => mkdirSync(join(folder, 'data')),
  );
  add(
    'external data with a NUL byte',
    withWeight((weight) => external(weight, 'w.bin\0/../../x')),
    'ERR_ONNX',
    /it contains a NUL byte/,
  );
  add(
    'external data offset past the end',
    withWeight((weight) => external(weight, 'w.bin', { offset: '1000000' })),
    'ERR_ONNX',
    /past its end$/,
    (folder) => writeFileSync(join(folder, 'w.bin'), new Uint8Array(2048)),
  );
  add(
    'external data length of 2^60',
    withWeight((weight) => external(weight, 'w.bin', { length: String(2n ** 60n) })),
    'ERR_ONNX',
    /^Expected a non-negative integer for external data "length"|which end at byte/,
    (folder) => writeFileSync(join(folder, 'w.bin'), new Uint8Array(2048)),
  );
  add(
    'external data with a negative offset',
    withWeight((weight) => external(weight, 'w.bin', { offset: '-4' })),
    'ERR_ONNX',
    /^Expected a non-negative integer for external data "offset"/,
    (folder) => writeFileSync(join(folder, 'w.bin'), new Uint8Array(2048)),
  );
  add(
    'external data without a location',
    withWeight((weight) => external(weight, '')),
    'ERR_ONNX',
    /"location" entry/,
  );
  add(
    'a cycle between two nodes',
    modelWith((model) => {
      const graph = model.proto.graph!;
      graph.node.splice(
        0,
        graph.node.length,
        makeNode('Relu', ['b'], ['a'], 'first'),
        makeNode('Relu', ['a'], ['b'], 'second'),
        makeNode('Identity', ['b'], ['y'], 'out'),
      );
    }),
    'ERR_ONNX',
    /which a later node produces \(the graph is not topologically sorted\)$/,
  );
  add(
    'a node reading its own output',
    modelWith((model) => {
      const graph = model.proto.graph!;
      graph.node.splice(
        0,
        graph.node.length,
        makeNode('Add', ['x', 'loop'], ['loop'], 'self'),
        makeNode('Identity', ['loop'], ['y'], 'out'),
      );
    }),
    'ERR_ONNX',
    /"loop"/,
  );
  add(
    'two nodes writing one tensor',
    modelWith((model) => {
      const graph = model.proto.graph!;
      graph.node.push(makeNode('Identity', ['x'], ['y'], 'again'));
    }),
    'ERR_ONNX',
    /^Expected each tensor to be defined once in .* but received "y" again/,
  );
  add(
    'a node output shadowing an initializer',
    modelWith((model) => {
      const graph = model.proto.graph!;
      graph.node.unshift(makeNode('Identity', ['x'], ['fc1.bias'], 'shadow'));
    }),
    'ERR_ONNX',
    /^Expected each tensor to be defined once/,
  );
  // Duplicated initializer and input names are legal protobuf; readers must stay typed whatever they decide.
  add(
    'two initializers with one name',
    modelWith((model) => {
      const graph = model.proto.graph!;
      graph.initializer.push(graph.initializer[0]!);
    }),
    ['read', 'ERR_ONNX'],
  );
  add(
    'two graph inputs with one name',
    modelWith((model) => {
      const graph = model.proto.graph!;
      graph.input.push(graph.input[0]!);
    }),
    ['read', 'ERR_ONNX'],
  );
  add(
    'IR version 0',
    modelWith((model) => void (model.proto.irVersion = 0n)),
    'ERR_ONNX',
    /IR version/,
  );
  add(
    'opset 10000',
    modelWith((model) => void (model.proto.opsetImport[0]!.version = 10000n)),
    'ERR_ONNX',
    /opset/,
  );
  add('a model file that is a FIFO', null, 'ERR_ONNX', /special file/, (folder) =>
    execFileSync('mkfifo', [join(folder, 'model.onnx')]),
  );
  add('a model file that is a folder', null, 'ERR_ONNX', /directory/, (folder) => mkdirSync(join(folder, 'model.onnx')));
  add('a model file of 3 GiB (sparse)', null, 'ERR_ONNX', /^Expected an ONNX model file under 2 GiB/, (folder) => {
    writeFileSync(join(folder, 'model.onnx'), '');
    truncateSync(join(folder, 'model.onnx'), 3 * 1024 ** 3);
  });
  return { entries, secret };
}

/** The escaping entries: those whose refusal proves confinement. */
export function escapingEntries(entries: readonly CorpusEntry[]): CorpusEntry[] {
  return entries.filter(
    (entry) =>
      entry.name.startsWith('external data at') ||
      entry.name.startsWith('external data escaping') ||
      entry.name.startsWith('external data through'),
  );
}

/** Engine files Engine.load must refuse cleanly. `beforeTensorRT` entries fail in the checks that run before TensorRT is looked for. */
export function writeEngineCorpus(root: string): (CorpusEntry & { beforeTensorRT: boolean })[] {
  mkdirSync(root, { recursive: true });
  const entries: (CorpusEntry & { beforeTensorRT: boolean })[] = [];
  const add = (
    name: string,
    make: (path: string) => void,
    beforeTensorRT: boolean,
    expect: CorpusEntry['expect'],
    message?: RegExp,
  ) => {
    const path = join(root, `${name.replace(/[^\w]+/g, '-')}.engine`);
    make(path);
    entries.push({ name, path, beforeTensorRT, expect, ...(message ? { message } : {}) });
  };
  // What a plan looks like at the start (TensorRT's "ftrt" magic), to get past a naive magic check.
  const planLike = Uint8Array.from([...Buffer.from('ftrt'), ...randomBytes(4092, 7)]);
  const afterChecks = [
    'ERR_TENSORRT_NOT_FOUND',
    'ERR_TENSORRT_VERSION',
    'ERR_TENSORRT_LOAD',
    'ERR_TENSORRT_SYMBOL',
    'ERR_NOT_SUPPORTED',
    'ERR_TENSORRT',
    'ERR_ENGINE_INCOMPATIBLE',
    'ERR_NO_CUDA_DEVICE',
    'ERR_CUDA_DRIVER',
  ];
  add(
    'an empty file',
    (path) => writeFileSync(path, ''),
    true,
    'ERR_INVALID_ARGUMENT',
    /^Expected a non-empty engine file for the engine but received /,
  );
  add('a folder', (path) => mkdirSync(path), true, 'ERR_IO', /: it is a directory$/);
  add('a FIFO', (path) => execFileSync('mkfifo', [path]), true, 'ERR_IO', /: it is not a regular file$/);
  add('a symlink to /dev/zero', (path) => symlinkSync('/dev/zero', path), true, 'ERR_IO', /: it is not a regular file$/);
  add('a dangling symlink', (path) => symlinkSync(join(root, 'nowhere'), path), true, 'ERR_IO', /: it does not exist$/);
  add('one byte', (path) => writeFileSync(path, Uint8Array.of(1)), false, afterChecks);
  add('4 KiB of random bytes', (path) => writeFileSync(path, randomBytes(4096, 3)), false, afterChecks);
  add('a plan-like header with random bytes', (path) => writeFileSync(path, planLike), false, afterChecks);
  add('a truncated plan-like file', (path) => writeFileSync(path, planLike.subarray(0, 9)), false, afterChecks);
  add('a bit-flipped plan-like file', (path) => writeFileSync(path, flipBits(planLike, 5, 8)), false, afterChecks);
  add('an ONNX model named .engine', (path) => writeFileSync(path, serializeModel(mlpModel())), false, afterChecks);
  add(
    'a sparse 1 TiB file',
    (path) => {
      writeFileSync(path, '');
      truncateSync(path, 1024 ** 4);
    },
    false,
    [...afterChecks, 'ERR_OUT_OF_MEMORY'],
  );
  return entries;
}

/** Sample folders for calibration and `run --input`; each must be refused with ERR_IO (or ERR_SHAPE for impossible shapes). */
export function writeSampleFolderCorpus(root: string, secret: string): CorpusEntry[] {
  const entries: CorpusEntry[] = [];
  const validNpy = encodeNpy({ dtype: 'float32', shape: [1, 16], data: new Float32Array(16) });
  const add = (
    name: string,
    files: Record<string, Uint8Array | string | ((path: string) => void)>,
    expect: CorpusEntry['expect'],
    message?: RegExp,
  ) => {
    const folder = join(root, name.replace(/[^\w]+/g, '-'));
    mkdirSync(folder, { recursive: true });
    for (const [file, content] of Object.entries(files)) {
      const path = join(folder, file);
      mkdirSync(join(path, '..'), { recursive: true });
      if (typeof content === 'function') content(path);
      else writeFileSync(path, content);
    }
    entries.push({ name, path: folder, expect, ...(message ? { message } : {}) });
  };
  const npyHeader = (header: string, major = 1) => {
    const text = Buffer.from(header);
    const prefix =
      major === 1
        ? Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, text.length & 0xff, text.length >> 8])
        : Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0, text.length & 0xff, text.length >> 8, 0, 0]);
    return new Uint8Array(Buffer.concat([prefix, text]));
  };
  add('valid', { 'a.npy': validNpy }, 'read');
  add('an empty folder', {}, 'ERR_INVALID_ARGUMENT', /^Expected at least one calibration sample but received an empty set/);
  add('an empty .npy', { 'a.npy': '' }, 'ERR_IO', /without the \\x93NUMPY magic$/);
  add('a truncated .npy', { 'a.npy': validNpy.subarray(0, 40) }, 'ERR_IO');
  add(
    'a .npy cut inside its data',
    { 'a.npy': validNpy.subarray(0, validNpy.length - 3) },
    'ERR_IO',
    /data bytes where shape \[1, 16\] of float32 needs 64$/,
  );
  add('a version-2 .npy of 10 bytes', { 'a.npy': npyHeader('', 2).subarray(0, 10) }, 'ERR_IO', /a truncated header$/);
  add(
    'a .npy whose header claims 4 GiB',
    { 'a.npy': Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0, 0xff, 0xff, 0xff, 0xff]) },
    'ERR_IO',
    /a truncated header$/,
  );
  add(
    'a .npy of shape 1e10 x 1e10',
    { 'a.npy': npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (10000000000, 10000000000), }") },
    'ERR_SHAPE',
    /overflows$/,
  );
  add(
    'a .npy with a negative dim',
    { 'a.npy': npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 16), }") },
    'ERR_SHAPE',
  );
  add(
    'a complex .npy',
    { 'a.npy': npyHeader("{'descr': '<c8', 'fortran_order': False, 'shape': (1, 16), }") },
    'ERR_IO',
    /dtype <c8/,
  );
  add(
    'a Fortran-ordered .npy',
    { 'a.npy': npyHeader("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 16), }") },
    'ERR_IO',
    /Fortran-ordered/,
  );
  add('random bytes named .npy', { 'a.npy': randomBytes(300, 9) }, 'ERR_IO');
  add('JSON that is not JSON', { 'a.json': '{"x": ' }, 'ERR_IO', /text that does not parse/);
  add(
    'JSON with int64 text that is not a number',
    { 'a.json': JSON.stringify({ x: { dtype: 'int64', shape: [1], data: ['1; rm -rf /'] } }) },
    'ERR_IO',
    /which is not an integer$/,
  );
  add(
    'JSON of shape 2^31 x 2^31 x 2^31',
    { 'a.json': JSON.stringify({ x: { dtype: 'float32', shape: [2 ** 31, 2 ** 31, 2 ** 31], data: [] } }) },
    'ERR_SHAPE',
    /overflows$/,
  );
  add(
    'a symlink out of the folder',
    { 'a.npy': (path) => symlinkSync(secret, path) },
    'ERR_IO',
    /a symlink that leads out of the folder/,
  );
  add(
    'a sample subfolder linking out',
    { 'one/x.npy': (path) => symlinkSync(secret, path) },
    'ERR_IO',
    /a symlink that leads out of the folder/,
  );
  add(
    'a symlinked sample folder leading out',
    { link: (path) => symlinkSync(join(secret, '..'), path) },
    'ERR_IO',
    /a symlink that leads out of the folder/,
  );
  add('a FIFO named .npy', { 'a.npy': (path) => execFileSync('mkfifo', [path]) }, 'ERR_IO', /a special file/);
  return entries;
}

/** A valid bench results file from the repository, and damaged versions of it. */
export function writeResultsCorpus(root: string): CorpusEntry[] {
  mkdirSync(root, { recursive: true });
  const valid = readFileSync(join(packageRoot, 'benchmarks', 'results', 'harness-self-test.json'));
  const entries: CorpusEntry[] = [];
  const add = (name: string, content: Uint8Array | string, expect: CorpusEntry['expect'], message?: RegExp) => {
    const path = join(root, `${name.replace(/[^\w]+/g, '-')}.json`);
    writeFileSync(path, content);
    entries.push({ name, path, expect, ...(message ? { message } : {}) });
  };
  add('valid', valid, 'read');
  add('empty', '', 'ERR_RESULTS_SCHEMA', /it is not valid JSON/);
  for (const fraction of [0.01, 0.3, 0.6, 0.999])
    add(
      `truncated at ${fraction * 100}%`,
      valid.subarray(0, Math.floor(valid.length * fraction)),
      'ERR_RESULTS_SCHEMA',
      /the file may be truncated or corrupted$/,
    );
  for (let seed = 1; seed <= 8; seed++) add(`bit flips, seed ${seed}`, flipBits(valid, seed, 3), ['read', 'ERR_RESULTS_SCHEMA']);
  add('random bytes', randomBytes(4096, 11), 'ERR_RESULTS_SCHEMA');
  add('100000 nested arrays', '['.repeat(100_000) + ']'.repeat(100_000), 'ERR_RESULTS_SCHEMA');
  const document = JSON.parse(valid.toString('utf8')) as Record<string, unknown>;
  add('schema version 999', JSON.stringify({ ...document, schemaVersion: 999 }), 'ERR_RESULTS_SCHEMA', /schema version 999/);
  add(
    'runs that are not an array',
    JSON.stringify({ ...document, runs: { length: 1e9 } }),
    'ERR_RESULTS_SCHEMA',
    /does not match results schema/,
  );
  add(
    'a number beyond float64',
    valid.toString('utf8').replace(/"schemaVersion": (\d+)/, '"schemaVersion": 1e400'),
    'ERR_RESULTS_SCHEMA',
  );
  add(
    'a __proto__ key',
    JSON.stringify({ ...document, ['__proto__']: { polluted: true } }).replace(
      '"schema"',
      '"__proto__": {"polluted": true}, "schema"',
    ),
    ['read', 'ERR_RESULTS_SCHEMA'],
  );
  return entries;
}

/** trtexec --exportTimes files and logs to import; each must import or fail typed. */
export function writeTrtexecCorpus(root: string): CorpusEntry[] {
  mkdirSync(root, { recursive: true });
  const valid = readFileSync(join(packageRoot, 'test', 'fixtures', 'trtexec', 'exportTimes-10.json'));
  const log = readFileSync(join(packageRoot, 'test', 'fixtures', 'trtexec', 'trtexec-10.log'));
  const entries: CorpusEntry[] = [];
  const add = (name: string, file: string, content: Uint8Array | string, expect: CorpusEntry['expect']) => {
    const path = join(root, file);
    writeFileSync(path, content);
    entries.push({ name, path, expect });
  };
  const typed = ['ERR_RESULTS_SCHEMA', 'ERR_INVALID_ARGUMENT', 'ERR_IO'];
  add('valid exportTimes', 'times.json', valid, 'read');
  add('empty exportTimes', 'empty.json', '', typed);
  add('truncated exportTimes', 'truncated.json', valid.subarray(0, Math.floor(valid.length / 2)), typed);
  add('exportTimes with strings for numbers', 'strings.json', '[{"startEnqMs": "1", "endEnqMs": "2"}]', typed);
  add('an empty array', 'array.json', '[]', typed);
  add('random bytes as a log', 'random.log', randomBytes(2048, 13), typed);
  add('a truncated log', 'truncated.log', log.subarray(0, Math.floor(log.length / 3)), ['read', ...typed]);
  for (let seed = 1; seed <= 4; seed++)
    add(`bit-flipped exportTimes, seed ${seed}`, `flipped-${seed}.json`, flipBits(valid, seed, 4), ['read', ...typed]);
  return entries;
}
