/**
 * lib/batch: resumable, sharded batch inference over JSON Lines or folders of samples, with a
 * checkpoint that makes a killed job continue where it stopped (the `batch` command).
 */
export { runBatchJob, type BatchJobOptions, type BatchJobResult } from './job.js';
export type { Shard } from './records.js';
