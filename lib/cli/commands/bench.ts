import { capabilities } from '../../addon/capabilities.js';
import { ArgumentRangeError } from '../../core/errors.js';
import { runBench } from '../../bench/bench-run.js';
import { parseBenchOptions, type BenchOptionValues } from '../../bench/options.js';
import { parseRemoteBenchOptions, REMOTE_ONLY_OPTIONS, type RemoteBenchValues } from '../../bench/load/options.js';
import type { Command } from '../command.js';

const HELP = `  <model>                       an .onnx model or a serialized engine (.engine, .plan, .trt)
  --backend auto|tensorrt|cpu   backends to run, comma-separated (default auto: tensorrt where usable, else cpu)
  --precision fp32,fp16,int8    precisions to sweep (default fp32)
  --batch 1,8,32                batch sizes to sweep (default 1)
  --concurrency 1,4,16          requests in flight to sweep (default 1)
  --device 0|all|0,1            CUDA devices to run on, one after the other (default 0; ignored by cpu)
  --warmup 200ms                warm-up before each run (default 200ms, at most 1m; e.g. 500ms, 1.5s)
  --duration 3s                 measure at least this long (default 3s, at most 1h; 0 with --iterations bounds by count)
  --iterations N                measure at least N requests (default 10; alone, exactly N requests)
  --percentile 90,95,99,99.9    latency percentiles to report, nearest rank as trtexec (default 90,95,99,99.9)
  --cuda-graph on|off           tensorrt: replay CUDA graphs (default on)
  --transfers on|off            tensorrt: include host<->device copies (default on: the path a service takes)
  --batcher                     send requests through the dynamic batcher
  --shape x:1x3x320x320         shape of an input with dynamic dims (repeatable); its leading dim follows --batch
  --json out.json               write the results (rewritten after every run, so partial results survive)
  --export-times dir            write each run's iterations as trtexec --exportTimes JSON into dir
  --trtexec file                import a trtexec run (its --exportTimes JSON or its log); repeatable

Every combination of the sweep options runs in turn. Without a model, --trtexec files are imported alone.

Against a running Open Inference Protocol server (tensorrt-node serve, Triton, KServe), instead of a model file:
  --url http://host:8000        the server (REST; host:8001 with --protocol grpc)
  --model name                  the served model (--model-version v for one version)
  --protocol rest|grpc          default rest; --binary: REST with the binary tensor data extension
  --request-rate 100,500,1000   open loop: requests per second, sent on schedule whatever the server does;
                                latency counts from the intended send time (no coordinated omission)
  --arrival poisson|constant    arrivals of the open loop (default poisson)
  --concurrency 1,4,16          closed loop instead: requests in flight (default 1)
  --batch N                     dim 0 of inputs whose dim 0 is dynamic (default 1); --shape for other dims
  --duration 10s --warmup 1s    per rate or concurrency (defaults 10s and 1s)
  --metrics-url url|off         the server's Prometheus metrics for its queue/compute split
                                (default <url>/metrics for REST; Triton: http://host:8002/metrics)
  --api-key key                 Authorization: Bearer <key> (or TENSORRT_NODE_API_KEY)
  --timeout 30s  --connections 256  --seed 1
Example against Triton: tensorrt-node bench --url localhost:8001 --protocol grpc --model resnet50 \\
  --request-rate 100,200,400 --metrics-url http://localhost:8002/metrics --json triton.json`;

export const benchCommand: Command<BenchOptionValues & RemoteBenchValues> = {
  name: 'bench',
  usage:
    'bench <model> [--backend auto|tensorrt|cpu] [--precision fp32,fp16,int8] [--batch 1,8,32] [--concurrency 1,4,16] [--device 0|all] [--warmup 200ms] [--duration 3s] [--iterations N] [--percentile 90,95,99,99.9] [--cuda-graph on|off] [--transfers on|off] [--batcher] [--shape x:1x3x320x320] [--json out.json] [--export-times dir] [--trtexec file] | tensorrt-node bench --url http://host:8000 --model name [--protocol rest|grpc] [--binary] [--request-rate 100,500 | --concurrency 1,4] [--duration 10s] [--json out.json]',
  help: HELP,
  positionals: true,
  options: {
    backend: { type: 'string' },
    precision: { type: 'string' },
    batch: { type: 'string' },
    concurrency: { type: 'string' },
    device: { type: 'string' },
    warmup: { type: 'string' },
    duration: { type: 'string' },
    iterations: { type: 'string' },
    percentile: { type: 'string' },
    'cuda-graph': { type: 'string' },
    transfers: { type: 'string' },
    batcher: { type: 'boolean' },
    shape: { type: 'string', multiple: true },
    json: { type: 'string' },
    'export-times': { type: 'string' },
    trtexec: { type: 'string', multiple: true },
    url: { type: 'string' },
    model: { type: 'string' },
    'model-version': { type: 'string' },
    protocol: { type: 'string' },
    binary: { type: 'boolean' },
    'request-rate': { type: 'string' },
    arrival: { type: 'string' },
    'metrics-url': { type: 'string' },
    'api-key': { type: 'string' },
    timeout: { type: 'string' },
    connections: { type: 'string' },
    seed: { type: 'string' },
  },
  async run(values, positionals, { stdout }) {
    if (values.url !== undefined) {
      const { runRemoteBench } = await import('../../bench/load/remote-bench.js');
      const remote = parseRemoteBenchOptions(values as RemoteBenchValues & Record<string, unknown>, positionals);
      const outcome = await runRemoteBench(remote, {
        capabilities: await capabilities(),
        write: (text) => stdout.write(text),
        command: ['bench', ...process.argv.slice(3)],
      });
      return outcome.allSucceeded ? 0 : 1;
    }
    const remoteOnly = REMOTE_ONLY_OPTIONS.find((name) => values[name] !== undefined);
    if (remoteOnly)
      throw new ArgumentRangeError(
        `Expected --${remoteOnly} with --url only (it applies to a remote server) but received it without --url`,
      );
    const options = parseBenchOptions(values, positionals);
    const outcome = await runBench(options, {
      capabilities: await capabilities(),
      write: (text) => stdout.write(text),
      command: ['bench', ...process.argv.slice(3)],
    });
    return outcome.allSucceeded ? 0 : 1;
  },
};
