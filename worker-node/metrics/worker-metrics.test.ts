import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import type { GpuInfo } from '../gpu/gpu-info.js';
import { createNvidiaSmiStats } from '../gpu/gpu-stats.js';
import type { NvidiaSmi } from '../gpu/nvidia-smi.js';
import { parseSimGpus } from '../gpu/sim-gpus.js';
import { createModelServerMetrics } from '../model-server/model-server-metrics.js';
import { startWorkerMetrics, type WorkerMetrics } from './worker-metrics.js';

const realGpu: GpuInfo = { index: 0, uuid: 'GPU-aaaa', model: 'NVIDIA L4', memory: 23034 * 1024 ** 2, simulated: false };

function scrape(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    }).on('error', reject).end();
  });
}

const started: WorkerMetrics[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((m) => m.stop()));
});

describe('startWorkerMetrics', () => {
  it('serves the model server, GPU and process series together', async () => {
    const model = createModelServerMetrics();
    model.request({ model: 'det', version: '1' }, 'success', 0.01);
    let runs = 0;
    const smi: NvidiaSmi = {
      run: () => {
        runs += 1;
        return Promise.resolve({ ok: true, stdout: '0, GPU-aaaa, 42, 1024, 23034, 50\n' });
      },
    };
    const metrics = await startWorkerMetrics({
      host: '127.0.0.1', port: 0, gpus: [realGpu], modelServer: model.registry, logger: silentLogger,
      gpuStats: createNvidiaSmiStats(smi), gpuStatsIntervalMs: 60_000,
    });
    started.push(metrics);
    expect(metrics.address).toBe(`127.0.0.1:${metrics.port}`);
    // The first sample starts with the sampler; wait for it without assuming how long it takes.
    let text = await scrape(metrics.port);
    while (!text.includes('gridline_gpu_utilization_ratio{')) {
      await new Promise((resolve) => setImmediate(resolve));
      text = await scrape(metrics.port);
    }
    expect(runs).toBe(1);
    expect(text).toContain('gridline_inference_requests_total{model="det",version="1",outcome="success"} 1');
    expect(text).toContain('gridline_gpu_utilization_ratio{gpu="0",uuid="GPU-aaaa"} 0.42');
    expect(text).toContain(`gridline_gpu_memory_total_bytes{gpu="0",uuid="GPU-aaaa"} ${23034 * 1024 ** 2}`);
    expect(text).toMatch(/^gridline_worker_process_resident_memory_bytes \d/m);
  });

  it('exports no GPU series for simulated GPUs, and never runs nvidia-smi for them', async () => {
    const untouchable: NvidiaSmi = { run: () => Promise.reject(new Error('must not run')) };
    const metrics = await startWorkerMetrics({
      host: '127.0.0.1', port: 0, gpus: parseSimGpus('2xA100-80GB'), logger: silentLogger, gpuStats: createNvidiaSmiStats(untouchable),
    });
    started.push(metrics);
    const text = await scrape(metrics.port);
    expect(text).not.toContain('gridline_gpu_');
    expect(text).not.toContain('gridline_inference_');
    expect(text).toContain('gridline_worker_process_cpu_seconds_total');
  });

  it('stops the GPU sampler when the port cannot be had', async () => {
    let runs = 0;
    const smi: NvidiaSmi = {
      run: () => {
        runs += 1;
        return Promise.resolve({ ok: true, stdout: '' });
      },
    };
    await expect(startWorkerMetrics({
      host: '127.0.0.1', port: 99_999, gpus: [realGpu], logger: silentLogger, gpuStats: createNvidiaSmiStats(smi), gpuStatsIntervalMs: 0,
    })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const after = runs;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(runs).toBe(after);
  });
});
