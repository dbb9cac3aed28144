import cliProgress from 'cli-progress';
import type { RunView } from '../common/run-types.js';
import { FINAL_RUN_STATUSES } from '../common/run-types.js';
import type { CoordinatorClient } from './coordinator-client.js';

/**
 * Follows a run until it ends: one progress bar per stage on a terminal, a line per change
 * otherwise (CI logs). Resolves with the final view.
 */
export async function followRun(client: CoordinatorClient, runId: string, out: NodeJS.WriteStream = process.stderr, pollMs = 250): Promise<RunView> {
  const tty = out.isTTY === true;
  const bars = tty
    ? new cliProgress.MultiBar({ stream: out, format: ' {stage} |{bar}| {value}/{total} done  {active} active  {failed} failed', barsize: 30, hideCursor: true, clearOnComplete: false }, cliProgress.Presets.shades_classic)
    : null;
  const byStage = new Map<string, cliProgress.SingleBar>();
  let lastLine = '';
  let view: RunView;
  for (;;) {
    view = await client.request<RunView>('GET', `/v1/runs/${encodeURIComponent(runId)}`);
    const total = view.items.total ?? 0;
    const width = Math.max(...view.stages.map((s) => s.name.length));
    for (const stage of view.stages) {
      const c = view.counters[stage.name] ?? { queued: 0, active: 0, completed: 0, failed: 0 };
      const done = stage.kind === 'source' ? c.completed + c.failed : c.completed + c.failed;
      const payload = { stage: stage.name.padEnd(width), active: c.active, failed: c.failed };
      if (bars) {
        let bar = byStage.get(stage.name);
        if (!bar) {
          bar = bars.create(total, done, payload);
          byStage.set(stage.name, bar);
        }
        bar.setTotal(total);
        bar.update(done, payload);
      }
    }
    if (!bars) {
      const line = `${view.status}: ` + view.stages.map((s) => {
        const c = view.counters[s.name];
        return `${s.name} ${(c?.completed ?? 0) + (c?.failed ?? 0)}/${total}`;
      }).join(', ');
      if (line !== lastLine) out.write(`${line}\n`);
      lastLine = line;
    }
    if (FINAL_RUN_STATUSES.includes(view.status)) break;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  bars?.stop();
  return view;
}

/**
 * Follows a model deployment until every replica serves, it ends, or `patienceMs` passes (a
 * deployment short of nodes waits for them forever; the CLI need not): a line per change.
 * Resolves with the last view and whether every replica serves.
 */
export async function followDeployment(client: CoordinatorClient, runId: string, out: NodeJS.WritableStream = process.stderr, pollMs = 250, patienceMs = 180_000): Promise<{ view: RunView; serving: boolean }> {
  let last = '';
  const deadline = Date.now() + patienceMs;
  for (;;) {
    const view = await client.request<RunView>('GET', `/v1/runs/${encodeURIComponent(runId)}`);
    const s = view.serving;
    const line = `${view.status}: ${s ? `${s.ready}/${s.replicas} replicas ready` : ''}${view.reason ? ` (${view.reason})` : ''}`;
    if (line !== last) out.write(`${line}\n`);
    last = line;
    // `running` is set by the coordinator's next reconcile pass, a moment after the replicas report ready.
    const serving = s !== null && view.status === 'running' && s.ready >= s.replicas;
    if (serving) {
      process.stdout.write(`model ${s.model} version ${s.version} is serving on ${s.ready} replica${s.ready === 1 ? '' : 's'}\n`);
      return { view, serving };
    }
    if (FINAL_RUN_STATUSES.includes(view.status)) {
      process.stdout.write(`model deployment ${runId} ${view.status}: ${view.reason ?? 'no reason given'}\n`);
      return { view, serving };
    }
    if (Date.now() > deadline) {
      process.stdout.write(`model deployment ${runId} not fully serving after ${Math.round(patienceMs / 1000)} s (${s?.ready ?? 0}/${s?.replicas ?? '?'} ready): ${view.reason ?? ''}; it keeps trying (gridline runs ${runId})\n`);
      return { view, serving };
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
