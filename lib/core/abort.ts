/**
 * The one ERR_ABORTED of tensorrt-node, whatever was aborted (a run queued or executing, a cache
 * wait, an engine load or build, a calibration): "<what> was aborted[ <when>][ (<reason>)]", with the
 * signal's reason as `cause`. The reason is shown when the caller gave one (`controller.abort(why)`);
 * the default "This operation was aborted" adds nothing to "was aborted" and is left out.
 */
import { ErrorCode, TensorRTNodeError } from './errors.js';

const defaultReasonMessage = (AbortSignal.abort().reason as Error).message;

function reasonText(reason: unknown): string | undefined {
  if (reason === undefined) return undefined;
  if (reason instanceof Error) return reason.name === 'AbortError' && reason.message === defaultReasonMessage ? undefined : reason.message;
  return String(reason);
}

/**
 * `what` names the operation ("The run", "Engine.load"); `when` says at which point it stopped where
 * that matters to the caller ("after it had started: ...").
 */
export function abortError(what: string, signal?: AbortSignal, when?: string): TensorRTNodeError {
  const reason = reasonText(signal?.reason);
  const message = `${what} was aborted${when ? ` ${when}` : ''}${reason === undefined ? '' : ` (${reason})`}`;
  return new TensorRTNodeError(ErrorCode.ABORTED, message, signal?.reason === undefined ? {} : { cause: signal.reason });
}
