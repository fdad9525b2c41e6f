/** The ERR_ABORTED error every backend rejects with when a run's AbortSignal fires. */
import { ErrorCode, createError, type TensorRTNodeError } from './errors.js';

export function abortError(signal: AbortSignal): TensorRTNodeError {
  const reason = signal.reason instanceof Error ? signal.reason.message : signal.reason === undefined ? 'no reason given' : String(signal.reason);
  return createError(ErrorCode.ABORTED, `The run was aborted (${reason})`, 'generic', { cause: signal.reason }) as TensorRTNodeError;
}
