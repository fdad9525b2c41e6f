/**
 * The parser worker: large inference bodies are bounded, parsed and decoded here, off the event
 * loop, so that health checks and small requests are answered while a client uploads megabytes of
 * JSON. Replies carry the decoded tensors' buffers as transferables: the event loop receives
 * TypedArrays, never a document to walk. Started by ./body-parser.ts.
 */
import { parentPort } from 'node:worker_threads';
import { isTensorRTNodeError } from '../core/errors.js';
import { parseInferBody, type BodyLimits } from '../protocol/body.js';

export interface ParseJob {
  id: number;
  body: Uint8Array;
  headerLength: number | null;
  limits: BodyLimits;
}

export type ParseReply =
  | { id: number; ok: true; request: ReturnType<typeof parseInferBody> }
  | { id: number; ok: false; error: { kind: 'type' | 'range' | 'generic'; code: string; message: string } };

parentPort!.on('message', (job: ParseJob) => {
  try {
    const request = parseInferBody(job.body, job.headerLength, job.limits);
    const transfer = request.inputs.flatMap((input) =>
      input.data && input.data.byteOffset === 0 && input.data.byteLength === input.data.buffer.byteLength
        ? [input.data.buffer as ArrayBuffer]
        : [],
    );
    parentPort!.postMessage({ id: job.id, ok: true, request } satisfies ParseReply, transfer);
  } catch (error) {
    const kind = error instanceof TypeError ? 'type' : error instanceof RangeError ? 'range' : 'generic';
    const code = isTensorRTNodeError(error) ? error.code : 'ERR_INTERNAL';
    parentPort!.postMessage({
      id: job.id,
      ok: false,
      error: { kind, code, message: isTensorRTNodeError(error) ? error.message : 'the body could not be parsed' },
    } satisfies ParseReply);
  }
});
