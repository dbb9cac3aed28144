import { describe, expect, it } from 'vitest';
import type { ModelRouteView, RoutesSnapshot } from '../../common/model-routes.js';
import { RoutePublisher } from './route-publisher.js';

const route = (ready: boolean): ModelRouteView => ({ model: 'cls', version: '1', replicas: [{ id: 'a', address: '127.0.0.1:1', ready }] });

describe('RoutePublisher', () => {
  it('bumps the revision and notifies subscribers only when the table changes', () => {
    let models: ModelRouteView[] = [];
    const publisher = new RoutePublisher(() => models);
    const seen: RoutesSnapshot[] = [];
    const unsubscribe = publisher.subscribe((s) => seen.push(s));
    expect(publisher.current()).toEqual({ revision: 1, models: [] });
    publisher.refresh();
    expect(seen).toHaveLength(0);
    models = [route(false)];
    publisher.refresh();
    models = [route(true)];
    publisher.refresh();
    publisher.refresh();
    expect(seen.map((s) => s.revision)).toEqual([2, 3]);
    expect(seen[1]!.models).toEqual([route(true)]);
    unsubscribe();
    models = [];
    expect(publisher.current().revision).toBe(4);
    expect(seen).toHaveLength(2);
  });
});
