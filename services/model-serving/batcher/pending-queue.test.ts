import { describe, expect, it } from 'vitest';
import { PendingQueue } from './pending-queue.js';

const item = (id: string, priority: number, key = 'k') => ({ id, priority, key });

describe('PendingQueue', () => {
  it('heads with the oldest of the highest level, and lists a key by priority then age', () => {
    const q = new PendingQueue<ReturnType<typeof item>>(3);
    const a = item('a', 2);
    const b = item('b', 1, 'other');
    const c = item('c', 1);
    const d = item('d', 0);
    const e = item('e', 2);
    for (const x of [a, b, c, d, e]) q.add(x);
    expect(q.size).toBe(5);
    expect(q.head()).toBe(d);
    expect([...q.withKey('k')].map((x) => x.id)).toEqual(['d', 'c', 'a', 'e']);
    expect(q.delete(d)).toBe(true);
    expect(q.delete(d)).toBe(false);
    expect(q.head()).toBe(b);
    expect([...q.withKey('missing')]).toEqual([]);
    expect(q.drain().map((x) => x.id)).toEqual(['b', 'c', 'a', 'e']);
    expect(q.size).toBe(0);
    expect(q.head()).toBeUndefined();
  });

  it('allows deleting while iterating a key', () => {
    const q = new PendingQueue<ReturnType<typeof item>>(1);
    const xs = ['a', 'b', 'c'].map((id) => item(id, 0));
    for (const x of xs) q.add(x);
    const seen: string[] = [];
    for (const x of q.withKey('k')) {
      seen.push(x.id);
      q.delete(x);
    }
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(q.size).toBe(0);
  });

  it('refuses a priority outside its levels', () => {
    expect(() => new PendingQueue(2).add(item('a', 2))).toThrow(RangeError);
  });
});
