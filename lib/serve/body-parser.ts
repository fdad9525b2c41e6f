/**
 * Parses inference bodies without starving the event loop. A small body (the common case: a few
 * KiB) is parsed inline, where a worker hop would cost more than the parse; a large one goes to a
 * pool of parser workers (./body-worker.ts). Either way it is bounded first (nesting, elements,
 * empty containers; see lib/protocol/json-limits.ts), so a hostile body is refused after one linear
 * pass, and a worker that runs out of memory on one costs that request alone (a 413), never the
 * process.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { createError, type ErrorCode } from '../core/errors.js';
import { spawnModuleWorker } from '../backends/cpu/worker-exec-argv.js';
import { parseInferBody, type BodyLimits } from '../protocol/body.js';
import type { InferRequest } from '../protocol/request.js';
import type { ParseJob, ParseReply } from './body-worker.js';
import { ServeError } from './errors.js';

export interface BodyParserOptions {
  limits: BodyLimits;
  /** Bodies up to this many bytes are parsed on the event loop (default 64 KiB). */
  inlineBytes?: number;
  /** Parser workers (default: cores - 1, between 1 and 4). */
  workers?: number;
  /** Heap limit of each worker in MB (default 1024): a body whose parse needs more is a 413. */
  workerHeapMb?: number;
}

interface Job {
  resolve: (request: InferRequest) => void;
  reject: (error: unknown) => void;
}

interface ParserWorker {
  worker: Worker;
  jobs: Map<number, Job>;
}

export class BodyParser {
  readonly #limits: BodyLimits;
  readonly #inlineBytes: number;
  readonly #size: number;
  readonly #heapMb: number;
  readonly #workers: ParserWorker[] = [];
  #nextId = 0;
  #closed = false;

  constructor(options: BodyParserOptions) {
    this.#limits = options.limits;
    this.#inlineBytes = options.inlineBytes ?? 64 * 1024;
    this.#size = options.workers ?? Math.min(4, Math.max(1, availableParallelism() - 1));
    this.#heapMb = options.workerHeapMb ?? 1024;
  }

  /** Decodes `body` (JSON, or with headerLength the binary extension's JSON header + raw bytes). */
  parse(body: Uint8Array, headerLength: number | null): Promise<InferRequest> {
    // The JSON part decides the cost: a binary body with a small header parses inline whatever its size.
    const jsonBytes = headerLength ?? body.byteLength;
    if (jsonBytes <= this.#inlineBytes || this.#closed) {
      try {
        return Promise.resolve(parseInferBody(body, headerLength, this.#limits));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#inWorker(body, headerLength);
  }

  #inWorker(body: Uint8Array, headerLength: number | null): Promise<InferRequest> {
    const target = this.#pickWorker();
    const id = this.#nextId++;
    // A body that owns its whole buffer moves to the worker without a copy.
    const owned = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? body : body.slice();
    return new Promise<InferRequest>((resolve, reject) => {
      target.jobs.set(id, { resolve, reject });
      if (target.jobs.size === 1) target.worker.ref();
      target.worker.postMessage({ id, body: owned, headerLength, limits: this.#limits } satisfies ParseJob, [
        owned.buffer as ArrayBuffer,
      ]);
    });
  }

  /** The least busy worker, starting one while fewer than the pool size run. */
  #pickWorker(): ParserWorker {
    const idle = this.#workers.find((entry) => entry.jobs.size === 0);
    if (idle) return idle;
    if (this.#workers.length < this.#size) return this.#startWorker();
    return this.#workers.reduce((best, entry) => (entry.jobs.size < best.jobs.size ? entry : best));
  }

  #startWorker(): ParserWorker {
    const worker = spawnModuleWorker(import.meta.url, 'body-worker', {
      resourceLimits: { maxOldGenerationSizeMb: this.#heapMb },
    });
    const entry: ParserWorker = { worker, jobs: new Map() };
    worker.unref();
    worker.on('message', (reply: ParseReply) => {
      const job = entry.jobs.get(reply.id);
      if (!job) return;
      entry.jobs.delete(reply.id);
      if (entry.jobs.size === 0) worker.unref();
      if (reply.ok) job.resolve(reply.request);
      else job.reject(createError(reply.error.code as ErrorCode, reply.error.message, reply.error.kind));
    });
    const fail = (error: unknown) => {
      this.#workers.splice(this.#workers.indexOf(entry), 1);
      const outOfMemory = (error as { code?: string } | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY';
      for (const job of entry.jobs.values()) {
        job.reject(
          outOfMemory
            ? new ServeError(
                413,
                'The request body needs more memory to parse than the server allows; send less data per request or use the binary tensor data extension',
                { code: 'ERR_BODY_TOO_LARGE' },
              )
            : error,
        );
      }
      entry.jobs.clear();
    };
    worker.once('error', fail);
    worker.once('exit', (code) => {
      if (this.#workers.includes(entry)) fail(new Error(`the body parser worker exited with code ${code}`));
    });
    this.#workers.push(entry);
    return entry;
  }

  /** Stops the workers (pending jobs reject); later parses run inline. */
  async close(): Promise<void> {
    this.#closed = true;
    const workers = this.#workers.splice(0);
    await Promise.all(workers.map((entry) => entry.worker.terminate()));
  }
}
