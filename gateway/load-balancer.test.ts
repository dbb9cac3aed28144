import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { GridlineError } from '../common/errors.js';
import { grpcCodeOf, httpStatusFor, UpstreamError } from './gateway-errors.js';
import { LoadBalancer } from './load-balancer.js';
import type { Attempt } from './load-balancer.js';
import { RoutingTable } from './routing-table.js';

/** A small deterministic PRNG (mulberry32). */
function seeded(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let x = Math.imul(t ^ (t >>> 15), 1 | t);
    x ^= x + Math.imul(x ^ (x >>> 7), 61 | x);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function tableOf(n: number, model = 'm'): RoutingTable {
  return new RoutingTable([{
    model, version: '1',
    replicas: Array.from({ length: n }, (_, i) => ({ id: `r${i}`, address: `127.0.0.1:${1000 + i}`, ready: true })),
  }]);
}

const FAR = Date.now() + 3_600_000;
const upstream = (code: status) => new UpstreamError(code, `code ${code}`);

describe('LoadBalancer', () => {
  it('is deterministic for a given random source and spreads load', async () => {
    const run = async (seed: number) => {
      const lb = new LoadBalancer(tableOf(3), { random: seeded(seed) });
      const picks: string[] = [];
      for (let i = 0; i < 30; i++) picks.push(await lb.call('m', '', FAR, async (a) => a.replica.id));
      return picks;
    };
    const a = await run(7);
    expect(await run(7)).toEqual(a);
    for (const id of ['r0', 'r1', 'r2']) expect(a.filter((x) => x === id).length).toBeGreaterThan(3);
  });

  it('sends to the less loaded of two choices', async () => {
    const lb = new LoadBalancer(tableOf(2), { random: seeded(1) });
    const hold: (() => void)[] = [];
    const picks: string[] = [];
    const pending = Array.from({ length: 10 }, () => lb.call('m', '', FAR, (a) => {
      picks.push(a.replica.id);
      return new Promise<void>((resolve) => hold.push(resolve));
    }));
    // With two replicas both are always compared: outstanding stays within one of each other.
    expect(picks.filter((x) => x === 'r0')).toHaveLength(5);
    for (const release of hold) release();
    await Promise.all(pending);
  });

  it('retries UNAVAILABLE once on another replica', async () => {
    const lb = new LoadBalancer(tableOf(3), { random: seeded(3) });
    const tried: string[] = [];
    const answer = await lb.call('m', '', FAR, async (a) => {
      tried.push(a.replica.id);
      if (tried.length === 1) throw upstream(status.UNAVAILABLE);
      return a.replica.id;
    });
    expect(tried).toHaveLength(2);
    expect(tried[0]).not.toBe(tried[1]);
    expect(answer).toBe(tried[1]);
    // Twice UNAVAILABLE: the error, no third try.
    let calls = 0;
    await expect(lb.call('m', '', FAR, async () => {
      calls++;
      throw upstream(status.UNAVAILABLE);
    })).rejects.toMatchObject({ grpcCode: status.UNAVAILABLE });
    expect(calls).toBe(2);
  });

  it('does not retry a client error', async () => {
    const lb = new LoadBalancer(tableOf(2));
    let calls = 0;
    await expect(lb.call('m', '', FAR, async () => {
      calls++;
      throw upstream(status.INVALID_ARGUMENT);
    })).rejects.toMatchObject({ grpcCode: status.INVALID_ARGUMENT });
    expect(calls).toBe(1);
  });

  it('answers RESOURCE_EXHAUSTED at once when every replica is full', async () => {
    const lb = new LoadBalancer(tableOf(3));
    const tried = new Set<string>();
    const err = await lb.call('m', '', FAR, async (a) => {
      tried.add(a.replica.id);
      throw upstream(status.RESOURCE_EXHAUSTED);
    }).catch((e: unknown) => e);
    expect(grpcCodeOf(err)).toBe(status.RESOURCE_EXHAUSTED);
    expect(tried.size).toBe(3);
    // One full, another fine: served.
    const answer = await lb.call('m', '', FAR, async (a) => {
      if (a.replica.id === 'r0') throw upstream(status.RESOURCE_EXHAUSTED);
      return a.replica.id;
    });
    expect(answer).not.toBe('r0');
  });

  it("does not take a message over a size limit for a full queue", async () => {
    const lb = new LoadBalancer(tableOf(3));
    let calls = 0;
    const err = await lb.call('m', '', FAR, async () => {
      calls++;
      throw new UpstreamError(status.RESOURCE_EXHAUSTED, 'Received message larger than max (5000 vs. 4000)');
    }).catch((e: unknown) => e);
    expect(calls).toBe(1);
    expect(httpStatusFor(err)).toBe(413);
  });

  it('answers RESOURCE_EXHAUSTED when the in-flight cap is reached on every replica', async () => {
    const lb = new LoadBalancer(tableOf(2), { maxInflightPerReplica: 1 });
    const hold: (() => void)[] = [];
    const busy = [0, 1].map(() => lb.call('m', '', FAR, () => new Promise<void>((resolve) => hold.push(resolve))));
    const err = await lb.call('m', '', FAR, async () => 'never').catch((e: unknown) => e);
    expect(grpcCodeOf(err)).toBe(status.RESOURCE_EXHAUSTED);
    for (const release of hold) release();
    await Promise.all(busy);
    expect(await lb.call('m', '', FAR, async () => 'ok')).toBe('ok');
  });

  it('ejects a replica after consecutive failures, probes it after the period, and restores it', async () => {
    let now = 1_000_000;
    const ejected: string[] = [];
    const lb = new LoadBalancer(tableOf(2), {
      now: () => now, random: seeded(9), ejectAfterFailures: 3, ejectionMs: 1_000,
      onEject: (_route, replica) => ejected.push(replica.id),
    });
    let broken = true;
    const attempt = async (a: Attempt) => {
      if (a.replica.id === 'r0' && broken) throw upstream(status.INTERNAL);
      return a.replica.id;
    };
    const settle = (p: Promise<string>) => p.catch(() => 'error');
    for (let i = 0; i < 20 && ejected.length === 0; i++) await settle(lb.call('m', '', now + 60_000, attempt));
    expect(ejected).toEqual(['r0']);
    expect(lb.loads().find((l) => l.id === 'r0')?.ejected).toBe(true);
    for (let i = 0; i < 20; i++) expect(await lb.call('m', '', now + 60_000, attempt)).toBe('r1');
    // Period over: r0 is picked again; one failure ejects it anew (for twice as long).
    now += 1_001;
    for (let i = 0; i < 20 && ejected.length === 1; i++) await settle(lb.call('m', '', now + 60_000, attempt));
    expect(ejected).toEqual(['r0', 'r0']);
    now += 1_500;
    expect(lb.loads().find((l) => l.id === 'r0')?.ejected).toBe(true);
    now += 600;
    broken = false;
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) seen.add(await lb.call('m', '', now + 60_000, attempt));
    expect(seen).toEqual(new Set(['r0', 'r1']));
    expect(lb.loads().find((l) => l.id === 'r0')).toMatchObject({ ejected: false, consecutiveFailures: 0 });
  });

  it('uses ejected replicas when every ready one is ejected', async () => {
    const lb = new LoadBalancer(tableOf(1), { ejectAfterFailures: 1 });
    await expect(lb.call('m', '', FAR, async () => { throw upstream(status.INTERNAL); })).rejects.toBeInstanceOf(UpstreamError);
    expect(lb.loads()[0]?.ejected).toBe(true);
    expect(await lb.call('m', '', FAR, async () => 'ok')).toBe('ok');
  });

  it('NOT_FOUND for an unknown model, UNAVAILABLE without a ready replica, DEADLINE_EXCEEDED past the deadline', async () => {
    const table = new RoutingTable([{ model: 'm', version: '1', replicas: [{ id: 'a', address: '127.0.0.1:1', ready: false }] }]);
    const lb = new LoadBalancer(table);
    const code = async (p: Promise<unknown>) => (await p.catch((e: unknown) => e) as GridlineError).code;
    expect(await code(lb.call('nope', '', FAR, async () => 1))).toBe('NOT_FOUND');
    expect(await code(lb.call('m', '2', FAR, async () => 1))).toBe('NOT_FOUND');
    expect(await code(lb.call('m', '', FAR, async () => 1))).toBe('UNAVAILABLE');
    expect(await code(lb.call('m', '', Date.now() - 1, async () => 1))).toBe('DEADLINE_EXCEEDED');
  });
});
