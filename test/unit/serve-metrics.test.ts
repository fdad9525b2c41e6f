/**
 * /metrics: the same counters under tensorrt_node_* and Triton's nv_* names (with model and version
 * labels), Triton's failure reasons, GPU series from nvidia-smi where it answers and none where it
 * does not, and the server's own connection and refusal counters.
 */
import { describe, expect, it } from 'vitest';
import { GpuSampler, parseNvidiaSmi } from '../../lib/serve/gpu-metrics.js';
import { formatServerMetrics, tritonFailureReason } from '../../lib/serve/metrics.js';
import { SessionMetrics } from '../../lib/session/metrics.js';

function snapshot() {
  const metrics = new SessionMetrics();
  const start = performance.now() - 4;
  metrics.recordQueue(1.5);
  metrics.recordQueue(0.5);
  metrics.recordExecution(6, 2.25);
  metrics.recordRequest(start, undefined);
  metrics.recordRequest(start, Object.assign(new Error('full'), { code: 'ERR_QUEUE_FULL' }));
  metrics.recordRequest(start, Object.assign(new Error('shape'), { code: 'ERR_SHAPE' }));
  return metrics.snapshot('det', 'tensorrt', 3, 1);
}

describe('server metrics', () => {
  it('exposes each quantity under both names, Triton durations as cumulative microseconds', () => {
    const text = formatServerMetrics([{ model: 'det', version: '2', snapshot: snapshot() }], [], {
      connections: { api: 4 },
      responses: { '200': 7 },
      refused: { 'connection-cap': 1 },
    });
    const value = (series: string) => new RegExp(`^${series.replace(/[{}()]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1];
    expect(value('tensorrt_node_request_success_total{model="det",version="2",backend="tensorrt"}')).toBe('1');
    expect(value('tensorrt_node_request_failure_total{model="det",version="2",backend="tensorrt",code="ERR_QUEUE_FULL"}')).toBe(
      '1',
    );
    expect(value('nv_inference_request_success{model="det",version="2"}')).toBe('1');
    expect(value('nv_inference_request_failure{model="det",version="2",reason="REJECTED"}')).toBe('1');
    expect(value('nv_inference_request_failure{model="det",version="2",reason="OTHER"}')).toBe('1');
    expect(value('nv_inference_count{model="det",version="2"}')).toBe('6');
    expect(value('nv_inference_exec_count{model="det",version="2"}')).toBe('1');
    expect(value('nv_inference_queue_duration_us{model="det",version="2"}')).toBe('2000');
    expect(value('nv_inference_compute_infer_duration_us{model="det",version="2"}')).toBe('2250');
    expect(Number(value('nv_inference_request_duration_us{model="det",version="2"}'))).toBeGreaterThanOrEqual(12_000);
    expect(value('nv_inference_pending_request_count{model="det",version="2"}')).toBe('3');
    expect(value('tensorrt_node_server_connections{listener="api"}')).toBe('4');
    expect(value('tensorrt_node_server_refused_total{reason="connection-cap"}')).toBe('1');
    expect(text).toContain('# TYPE nv_inference_queue_duration_us counter\n');
    expect(text).toContain('# TYPE tensorrt_node_queue_duration_seconds histogram\n');
    expect(text).not.toContain('nv_gpu_');
    expect(tritonFailureReason('ERR_ABORTED')).toBe('CANCELED');
    expect(tritonFailureReason('ERR_CUDA')).toBe('BACKEND');
  });

  it('GPU series from nvidia-smi, with Triton names; a host without it stops asking after one try', async () => {
    const csv = '0, GPU-1111, 37, 1024, 24576, 61.5\n1, GPU-2222, [N/A], 0, 0, [N/A]\n';
    expect(parseNvidiaSmi(csv)).toEqual([
      {
        index: 0,
        uuid: 'GPU-1111',
        utilization: 0.37,
        memoryUsedBytes: 1024 * 2 ** 20,
        memoryTotalBytes: 24576 * 2 ** 20,
        powerWatts: 61.5,
      },
    ]);
    let calls = 0;
    const sampler = new GpuSampler(10, async () => {
      calls++;
      return csv;
    });
    await sampler.sample();
    const text = formatServerMetrics([], sampler.latest(), { connections: {}, responses: {}, refused: {} });
    expect(text).toContain('nv_gpu_utilization{gpu_uuid="GPU-1111"} 0.37\n');
    expect(text).toContain(`nv_gpu_memory_used_bytes{gpu_uuid="GPU-1111"} ${1024 * 2 ** 20}\n`);
    expect(text).toContain('nv_gpu_power_usage{gpu_uuid="GPU-1111"} 61.5\n');
    expect(calls).toBe(1);
    const missing = new GpuSampler(10, async () => {
      calls++;
      throw Object.assign(new Error('spawn nvidia-smi ENOENT'), { code: 'ENOENT' });
    });
    await missing.sample();
    await missing.sample();
    expect(calls).toBe(2);
    expect(missing.latest()).toEqual([]);
  });
});
