/**
 * Workers pick the runtime by the model file (`.onnx`: onnxruntime, `.json`: a TF.js graph
 * model), so a document whose `runtime` names the other one is refused rather than silently run
 * by the runtime the file calls for. Uris with neither extension are left to the worker.
 */
export function runtimeMismatch(runtime: 'onnx' | 'tfjs', uri: string): string | null {
  const path = uri.toLowerCase().split(/[?#]/)[0] ?? '';
  if (runtime === 'tfjs' && path.endsWith('.onnx')) return `runtime is tfjs, but ${uri} is an ONNX model: set runtime: onnx`;
  if (runtime === 'onnx' && path.endsWith('.json')) return `runtime is onnx, but ${uri} is a TF.js graph model (model.json): set runtime: tfjs`;
  return null;
}
