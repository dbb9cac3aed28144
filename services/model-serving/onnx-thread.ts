import { parentPort, workerData } from 'node:worker_threads';
import { toGridlineError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { tensorFromBytes, type Tensor } from '../../common/tensor.js';
import type { ModelRuntime } from './model-runtime.js';
import { wireBuffer, type FromThread, type ThreadInit, type ToThread, type WireTensor } from './onnx-thread-protocol.js';

// Runs one model session (onnxruntime or TF.js, as the init says) off the main thread: both load
// and run models synchronously, and a 1 s inference on the main thread would stall heartbeats and
// BullMQ lock renewals (the node would look dead and its jobs stalled).

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

/**
 * The runtime the init names, imported only then: an ONNX thread never loads TF.js and a TF.js
 * thread never loads onnxruntime. TF.js state is per thread, so each TF.js thread picks its own
 * backend (tfjs-node-gpu, tfjs-node, wasm) and logs it.
 */
async function load(): Promise<ModelRuntime> {
  switch (init.kind) {
    case 'onnx': {
      const { createOnnxRuntime } = await import('./onnx-runtime.js');
      return createOnnxRuntime(init.path, {
        useGpu: init.useGpu, logger, name: init.name,
        ...(init.intraOpThreads === undefined ? {} : { intraOpThreads: init.intraOpThreads }),
        ...(init.spinWait === undefined ? {} : { spinWait: init.spinWait }),
      });
    }
    case 'tfjs': {
      const { createTfjsRuntime } = await import('./tfjs-runtime.js');
      return createTfjsRuntime(init.path, { useGpu: init.useGpu, logger, name: init.name });
    }
  }
}

function fromWire(feeds: Readonly<Record<string, WireTensor>>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, w] of Object.entries(feeds)) out[name] = tensorFromBytes(w.dtype, w.shape, new Uint8Array(w.buffer));
  return out;
}

try {
  const runtime = await load();
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
    // Decoded inside the chain: a malformed feed fails its run rather than crashing the thread.
    const running = Promise.resolve(msg.feeds).then((feeds) => runtime.run(fromWire(feeds)));
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
