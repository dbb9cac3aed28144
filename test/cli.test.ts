import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gridline, waitFor, type TestProcess } from './support/processes.js';
import { authedFetch } from './support/auth.js';

const PIPELINES = fileURLToPath(new URL('../pipelines', import.meta.url));

async function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string }> {
  const p = gridline(args, env);
  const { code } = await p.exited;
  return { code, out: p.output() };
}

/** The `gridline` command as a user runs it: real processes, a private redis-server, real models. */
describe('gridline CLI', () => {
  let dir: string;
  let up: TestProcess;
  let api: string;
  let adminKey: string;
  /** `gridline ARGS` against the local cluster with its admin key. */
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => run(args, { GRIDLINE_COORDINATOR: api, GRIDLINE_API_KEY: adminKey, ...env });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gl-cli-'));
    await cp(join(PIPELINES, 'ocr.yaml'), join(dir, 'ocr.yaml'));
    await cp(join(PIPELINES, 'data'), join(dir, 'data'), { recursive: true });
    // No REDIS_URL: `up` must start its own redis-server under the data dir.
    // No static admin key either: `up` makes one, keeps it in the data dir and prints it.
    up = gridline(['up', '--workers', '1', '--http-port', '0', '--grpc-port', '0', '--gateway-port', '0', '--gateway-grpc-port', '0', '--data-dir', join(dir, 'state')], { REDIS_URL: '', GRIDLINE_ADMIN_KEY: '' });
    const banner = await waitFor('gridline up to print its endpoints', () => /coordinator API\s+(http:\/\/\S+)/.exec(up.output()), 90_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${up.output()}`);
    });
    api = banner[1]!;
    adminKey = /admin API key\s+(\S+)/.exec(up.output())?.[1] ?? '';
  });

  afterAll(async () => {
    await up?.kill('SIGINT');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('up prints the endpoints, the join token and how to add a worker', () => {
    expect(up.output()).toMatch(/join token\s+glj_[0-9a-f]{12}_\S+\s+\(valid 24 h/);
    expect(up.output()).toMatch(/gridline worker --coordinator 127\.0\.0\.1:\d+ --join-token/);
    expect(up.output()).toMatch(/redis\s+redis:\/\/127\.0\.0\.1:\d+/);
    const gateway = /gateway\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(up.output());
    expect(gateway).not.toBeNull();
  });

  it('up makes an admin key, keeps it in a file only its owner reads, and prints it', async () => {
    expect(adminKey).toMatch(/^glk_[0-9a-f]{12}_/);
    const file = join(dir, 'state', 'admin.key');
    expect((await readFile(file, 'utf8')).trim()).toBe(adminKey);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('key and token commands create, list and revoke credentials; a command without a key is told how to get one', async () => {
    const created = await cli(['key', 'create', '--scope', 'read', '--name', 'dash', '--ttl', '7d']);
    expect(created.code, created.out).toBe(0);
    const token = created.out.split('\n')[0]!;
    expect(token).toMatch(/^glk_/);
    expect(created.out).toMatch(/created API key [0-9a-f]{12} \(dash\) with scopes read, expires/);
    const id = /^glk_([0-9a-f]{12})_/.exec(token)![1]!;
    // The new key reads but may not submit.
    expect((await cli(['nodes'], { GRIDLINE_API_KEY: token })).code).toBe(0);
    const refused = await cli(['key', 'list'], { GRIDLINE_API_KEY: token });
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/lacks the "admin" scope/);
    expect((await cli(['key', 'list'])).out).toMatch(new RegExp(`${id}\\s+dash\\s+read\\s+active`));
    expect((await cli(['key', 'revoke', id])).out).toMatch(/revoked/);
    expect((await cli(['key', 'list'])).out).toMatch(new RegExp(`${id}\\s+dash\\s+read\\s+revoked`));
    const gone = await cli(['nodes'], { GRIDLINE_API_KEY: token });
    expect(gone.code).toBe(1);
    expect(gone.out).toMatch(/not valid/);
    const badScope = await cli(['key', 'create', '--scope', 'root']);
    expect(badScope.out).toMatch(/unknown scope "root"/);
    const joined = await cli(['token', 'create', '--ttl', '1h', '--name', 'rack-2']);
    expect(joined.out.split('\n')[0]).toMatch(/^glj_/);
    expect((await cli(['token', 'list'])).out).toMatch(/rack-2\s+active/);
    const none = await run(['nodes'], { GRIDLINE_COORDINATOR: api, GRIDLINE_API_KEY: '', GRIDLINE_API_KEY_FILE: join(dir, 'no-such-file') });
    expect(none.code).toBe(1);
    expect(none.out).toMatch(/needs an API key.*gridline key create/);
  });

  it('up runs an inference gateway that answers OIP health', async () => {
    const url = /gateway\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(up.output())![1]!;
    const live = await authedFetch(`${url}/v2/health/live`);
    expect(await live.json()).toEqual({ live: true });
    // No worker serves a model here, so the gateway is live but not ready.
    expect((await authedFetch(`${url}/v2/health/ready`)).status).toBe(503);
  });

  it('nodes lists the local worker as a CPU node', async () => {
    const { code, out } = await cli(['nodes']);
    expect(code).toBe(0);
    expect(out).toMatch(/local-1\s+ready/);
  });

  it('validate prints stages, queues and the placement plan', async () => {
    const { code, out } = await cli(['validate', join(dir, 'ocr.yaml')]);
    expect(code, out).toBe(0);
    expect(out).toMatch(/valid pipeline "ocr"/);
    expect(out).toMatch(/recognize\s+model-serving\s+2\s+\{<run>\.recognize\}/);
    expect(out).toMatch(/placement plan on/);
    expect(out).toMatch(/recognize\.1\s+local-1/);
  });

  it('validate reports every error with its line and exits 1', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, (await readFile(join(dir, 'ocr.yaml'), 'utf8')).replace('image.decode: {}', 'image.decodee: {}').replace('replicas: 2', 'replicas: zero'));
    const { code, out } = await cli(['validate', bad]);
    expect(code).toBe(1);
    expect(out).toMatch(/2 problems/);
    expect(out).toMatch(/bad\.yaml:\d+:\d+ +spec\.stages\[0\]\.ops\[0\].*image\.decodee/);
    expect(out).toMatch(/bad\.yaml:\d+:\d+ +spec\.stages\[3\]\.replicas/);
  });

  it('submit --wait runs the pipeline and exits 0 when every item is in the sink', async () => {
    const { code, out } = await cli(['submit', join(dir, 'ocr.yaml'), '--wait']);
    expect(code, out).toBe(0);
    expect(out).toMatch(/succeeded: 1\/1 items in .*out\/ocr\.jsonl/);
    const line = JSON.parse((await readFile(join(dir, 'out', 'ocr.jsonl'), 'utf8')).trim()) as { lines: { text: string }[] };
    expect(line.lines[0]!.text).toBe('Men may seem detestable as joint');
  });

  it('says how to reach a coordinator when none answers', async () => {
    const { code, out } = await run(['nodes'], { GRIDLINE_COORDINATOR: 'http://127.0.0.1:9' });
    expect(code).toBe(1);
    expect(out).toMatch(/cannot reach the coordinator at http:\/\/127\.0\.0\.1:9/);
  });
});
