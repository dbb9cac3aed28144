import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GridlineError } from '../../common/errors.js';
import { createNvidiaSmi } from './nvidia-smi.js';
import type { NvidiaSmi } from './nvidia-smi.js';
import { createNvidiaSmiProbe, parseNvidiaSmiGpus } from './nvidia-smi-probe.js';

const MIB = 1024 ** 2;

// nvidia-smi output as an H100 SXM box prints it (first 4 of 8 GPUs; uuids made up, same format).
const H100_OUTPUT = [
  '0, GPU-3b4f1c2d-8e7a-4a51-9f0e-2d6c5b1a7e90, NVIDIA H100 80GB HBM3, 81559',
  '1, GPU-9c0e5a7b-1d2f-4e3a-8b6c-7f1e0d9a2b34, NVIDIA H100 80GB HBM3, 81559',
  '2, GPU-5e8d2b1a-3c4f-4d7e-9a0b-6c2e1f8d7a55, NVIDIA H100 80GB HBM3, 81559',
  '3, GPU-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c66, NVIDIA H100 80GB HBM3, 81559',
  '',
].join('\n');

describe('parseNvidiaSmiGpus', () => {
  it('reads index, uuid, model and memory (MiB to bytes)', () => {
    const gpus = parseNvidiaSmiGpus(H100_OUTPUT);
    expect(gpus).toHaveLength(4);
    expect(gpus[0]).toEqual({
      index: 0,
      uuid: 'GPU-3b4f1c2d-8e7a-4a51-9f0e-2d6c5b1a7e90',
      model: 'NVIDIA H100 80GB HBM3',
      memory: 81559 * MIB,
      simulated: false,
    });
    expect(gpus.map((g) => g.index)).toEqual([0, 1, 2, 3]);
  });

  it('handles CRLF, blank lines and mixed models', () => {
    const out = '0, GPU-aaaa, Tesla T4, 15360\r\n\r\n1, GPU-bbbb, NVIDIA L4, 23034\r\n';
    expect(parseNvidiaSmiGpus(out).map((g) => [g.model, g.memory])).toEqual([
      ['Tesla T4', 15360 * MIB],
      ['NVIDIA L4', 23034 * MIB],
    ]);
  });

  it('keeps a model name that contains a comma whole', () => {
    expect(parseNvidiaSmiGpus('0, GPU-aaaa, Odd, Name, 1024')[0]?.model).toBe('Odd, Name');
  });

  it('returns no GPUs for empty output', () => {
    expect(parseNvidiaSmiGpus('\n')).toEqual([]);
  });

  it.each([
    ['0, GPU-aaaa, NVIDIA L4'],
    ['x, GPU-aaaa, NVIDIA L4, 23034'],
    ['0, GPU-aaaa, NVIDIA L4, [N/A]'],
    ['0, , NVIDIA L4, 23034'],
  ])('rejects %j with a GridlineError', (line) => {
    expect(() => parseNvidiaSmiGpus(line)).toThrow(GridlineError);
  });
});

describe('createNvidiaSmiProbe', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gridline-nvidia-smi-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function fakeNvidiaSmi(name: string, body: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, `#!/bin/sh\n${body}\n`);
    await chmod(path, 0o755);
    return path;
  }

  it('runs the query and reports the GPUs it found', async () => {
    const argsFile = join(dir, 'args.txt');
    const binary = await fakeNvidiaSmi(
      'ok.sh',
      `echo "$@" > '${argsFile}'\ncat <<'OUT'\n${H100_OUTPUT}OUT`,
    );
    const { gpus, note } = await createNvidiaSmiProbe(createNvidiaSmi({ binary })).probe();
    expect(gpus).toHaveLength(4);
    expect(note).toBe('nvidia-smi found 4x NVIDIA H100 80GB HBM3 (79.6 GiB)');
    expect((await readFile(argsFile, 'utf8')).trim()).toBe(
      '--query-gpu=index,uuid,name,memory.total --format=csv,noheader,nounits',
    );
  });

  it('is a CPU node when nvidia-smi is missing', async () => {
    const { gpus, note } = await createNvidiaSmiProbe(createNvidiaSmi({ binary: join(dir, 'no-such-nvidia-smi') })).probe();
    expect(gpus).toEqual([]);
    expect(note).toMatch(/^nvidia-smi \(.*no-such-nvidia-smi\) not found: running as a CPU node$/);
  });

  it('says "nvidia-smi not found" when it is not on the PATH', async () => {
    const missing = createNvidiaSmi({ env: { PATH: dir } });
    expect(await createNvidiaSmiProbe(missing).probe()).toEqual({
      gpus: [],
      note: 'nvidia-smi not found: running as a CPU node',
    });
  });

  it('passes on the driver message when nvidia-smi fails', async () => {
    const binary = await fakeNvidiaSmi(
      'no-driver.sh',
      `echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running."\nexit 9`,
    );
    const { gpus, note } = await createNvidiaSmiProbe(createNvidiaSmi({ binary })).probe();
    expect(gpus).toEqual([]);
    expect(note).toContain('failed (exit 9): NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver');
    expect(note).toMatch(/running as a CPU node$/);
  });

  it('gives up on a hung nvidia-smi after the timeout', async () => {
    const binary = await fakeNvidiaSmi('hang.sh', 'exec sleep 30');
    const { gpus, note } = await createNvidiaSmiProbe(createNvidiaSmi({ binary, timeoutMs: 200 })).probe();
    expect(gpus).toEqual([]);
    expect(note).toContain('did not answer within 200 ms');
  });

  it('reports unreadable output instead of throwing', async () => {
    const garbage: NvidiaSmi = { run: () => Promise.resolve({ ok: true, stdout: 'hello\n' }) };
    const { gpus, note } = await createNvidiaSmiProbe(garbage).probe();
    expect(gpus).toEqual([]);
    expect(note).toMatch(/^unexpected nvidia-smi output "hello".*running as a CPU node$/);
  });

  it('says so when nvidia-smi lists nothing', async () => {
    const empty: NvidiaSmi = { run: () => Promise.resolve({ ok: true, stdout: '' }) };
    expect(await createNvidiaSmiProbe(empty).probe()).toEqual({
      gpus: [],
      note: 'nvidia-smi lists no GPUs: running as a CPU node',
    });
  });
});
