import { parentPort, workerData } from 'node:worker_threads';
import { toGridlineError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { tensorFromBytes, type Tensor } from '../../common/tensor.js';
import { createOnnxRuntime } from './onnx-runtime.js';
import { wireBuffer, type FromThread, type ThreadInit, type ToThread, type WireTensor } from './onnx-thread-protocol.js';

// Runs one onnxruntime session off the main thread: onnxruntime-node loads and runs models
// synchronously, and a 1 s inference on the main thread would stall heartbeats and BullMQ lock
// renewals (the node would look dead and its jobs stalled).

const port = parentPort!;
const init = workerData as ThreadInit;
const post = (msg: FromThread, transfer: ArrayBuffer[] = []): void => port.postMessage(msg, transfer);

const logger: Logger = {
  debug: (obj, msg) => post({ type: 'log', level: 'debug', obj: typeof obj === 'string' ? {} : obj, msg: typeof obj === 'string' ? obj : msg ?? '' }),
  info: (obj, msg) => post({ type: 'log', level: 'info', obj: typeof obj === 'string' ? {} : obj, msg: typeof obj === 'string' ? obj : msg ?? '' }),
  warn: (obj, msg) => post({ type: 'log', level: 'warn', obj: typeof obj === 'string' ? {} : obj, msg: typeof obj === 'string' ? obj : msg ?? '' }),
  error: (obj, msg) => post({ type: 'log', level: 'error', obj: typeof obj === 'string' ? {} : obj, msg: typeof obj === 'string' ? obj : msg ?? '' }),
  child: () => logger,
};

function toWire(t: Tensor): [WireTensor, ArrayBuffer] {
  const buffer = wireBuffer(t);
  return [{ dtype: t.dtype, shape: t.shape, buffer }, buffer];
}

try {
  const runtime = await createOnnxRuntime(init.path, {
    useGpu: init.useGpu, logger, name: init.name,
    ...(init.intraOpThreads === undefined ? {} : { intraOpThreads: init.intraOpThreads }),
  });
  post({ type: 'ready', inputs: runtime.inputs, outputs: runtime.outputs });
  const inFlight = new Set<Promise<unknown>>();
  port.on('message', (msg: ToThread) => {
    if (msg.type === 'close') {
      // Let runs already started finish before the session is released under them.
      void Promise.allSettled([...inFlight]).then(() => runtime.close()).finally(() => {
        post({ type: 'closed' });
        port.close();
      });
      return;
    }
    const feeds: Record<string, Tensor> = {};
    for (const [name, w] of Object.entries(msg.feeds)) feeds[name] = tensorFromBytes(w.dtype, w.shape, new Uint8Array(w.buffer));
    const running = runtime.run(feeds);
    inFlight.add(running);
    void running.finally(() => inFlight.delete(running)).catch(() => undefined);
    running.then((outputs) => {
      const wire: Record<string, WireTensor> = {};
      const transfer: ArrayBuffer[] = [];
      for (const [name, t] of Object.entries(outputs)) {
        const [w, buf] = toWire(t);
        wire[name] = w;
        transfer.push(buf);
      }
      post({ type: 'result', id: msg.id, outputs: wire }, transfer);
    }, (err: unknown) => {
      const e = toGridlineError(err, 'MODEL_ERROR');
      post({ type: 'error', id: msg.id, code: e.code, message: e.message });
    });
  });
} catch (err) {
  const e = toGridlineError(err, 'MODEL_LOAD_FAILED');
  post({ type: 'load-failed', code: e.code, message: e.message });
}
