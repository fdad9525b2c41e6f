/**
 * Every CLI command, in the order `--help` lists them. Only the name and summary live here: a
 * command's module (and the libraries it needs: protobuf, ajv, onnxruntime...) is imported
 * when that command runs, so `--help`, `--version` and every command start without loading the others.
 */
import type { Command } from '../command.js';

export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command<never>>;
}

export const commandEntries: readonly CommandEntry[] = [
  {
    name: 'doctor',
    summary:
      'Report what this machine and install can do (addon, CUDA, TensorRT, devices, backends) and how to fix what is missing',
    load: async () => (await import('./doctor.js')).doctorCommand as Command<never>,
  },
  {
    name: 'start',
    summary: 'The main job behind `npm start`: benchmark the default model on the best backend here and write an HTML report',
    load: async () => (await import('./start.js')).startCommand as Command<never>,
  },
  {
    name: 'inspect',
    summary: 'Describe an ONNX model: I/O, opsets, op histogram, parameters, external data, TensorRT compatibility',
    load: async () => (await import('./inspect.js')).inspectCommand as Command<never>,
  },
  {
    name: 'convert',
    summary: 'Convert an ONNX model to FP16 (float16 weights and compute, Casts at the edges, sensitive ops kept in FP32)',
    load: async () => (await import('./convert.js')).convertCommand as Command<never>,
  },
  {
    name: 'quantize',
    summary: 'INT8 post-training quantization: calibrate on the cpu backend, write Q/DQ where TensorRT fuses INT8 kernels',
    load: async () => (await import('./quantize.js')).quantizeCommand as Command<never>,
  },
  {
    name: 'compare',
    summary: 'Run two ONNX models on the same inputs (cpu backend) and report errors, cosine similarity and pass/fail',
    load: async () => (await import('./compare.js')).compareCommand as Command<never>,
  },
  {
    name: 'run',
    summary: 'Run an ONNX model once on the cpu backend (inputs from files or generated) and print or save the outputs',
    load: async () => (await import('./run.js')).runCommand as Command<never>,
  },
  {
    name: 'build',
    summary: 'Build a TensorRT engine from ONNX (FP16/INT8 written into the graph, verified after the build, cached)',
    load: async () => (await import('./build.js')).buildCommand as Command<never>,
  },
  {
    name: 'batch',
    summary: 'Run a model over every record of a .jsonl file or folder (in order, resumable, shardable)',
    load: async () => (await import('./batch.js')).batchCommand as Command<never>,
  },
  {
    name: 'bench',
    summary: 'Benchmark a model like trtexec (latency percentiles, throughput, event-loop delay) over a sweep of options',
    load: async () => (await import('./bench.js')).benchCommand as Command<never>,
  },
  {
    name: 'serve',
    summary: 'Serve a model repository over the Open Inference Protocol (KServe v2 REST and gRPC) with Triton-compatible metrics',
    load: async () => (await import('./serve.js')).serveCommand as Command<never>,
  },
  {
    name: 'report',
    summary: 'Merge bench results (devices, hosts, precisions, backends) into comparison tables and charts (HTML, Markdown)',
    load: async () => (await import('./report.js')).reportCommand as Command<never>,
  },
  {
    name: 'cache',
    summary: 'List, prune or clear the engine cache (built TensorRT engines and timing caches)',
    load: async () => (await import('./cache.js')).cacheCommand as Command<never>,
  },
];

/** Every command loaded (tests walk their options). */
export async function loadCommands(): Promise<(Command<never> & { summary: string })[]> {
  return Promise.all(commandEntries.map(async (entry) => Object.assign(await entry.load(), { summary: entry.summary })));
}
