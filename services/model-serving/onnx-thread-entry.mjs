// Worker-thread entry for a model session, ONNX or TF.js. Plain JS because a thread starts without
// the parent's TypeScript loader: register tsx here, then load the real (typed) thread code.
import { register } from 'tsx/esm/api';

register();
await import('./onnx-thread.ts');
