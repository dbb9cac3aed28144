/**
 * The baseline server of bench/inference-gateway-rate.ts, run as a process of its own: a bare
 * node:http server that does what the gateway's REST door does to a request, less the hop to a
 * worker: reads the body, decodes it as an OIP request (common/oip, JSON or binary), answers the
 * input as the output (an identity model), encoded the same way. Prints `{"port":N}` on stdout.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeRestRequest, encodeRestResponse, INFERENCE_HEADER_CONTENT_LENGTH, restBinaryOutputs } from '../common/oip/rest-codec.js';

const PATH = /^\/v2\/models\/([^/]+)\/infer$/;

const server = createServer((req, res) => {
  const match = PATH.exec(req.url ?? '');
  if (req.method !== 'POST' || match === null) {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no such endpoint"}');
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    try {
      const header = req.headers[INFERENCE_HEADER_CONTENT_LENGTH.toLowerCase()];
      const request = decodeRestRequest(Buffer.concat(chunks), typeof header === 'string' ? Number(header) : null);
      const encoded = encodeRestResponse({
        modelName: match[1] ?? '',
        id: request.id,
        outputs: request.inputs.map((input) => ({ name: 'y', tensor: input.tensor })),
      }, { binaryOutputs: restBinaryOutputs(request) });
      const headers: Record<string, string> = { 'content-type': encoded.contentType };
      if (encoded.headerLength !== null) headers[INFERENCE_HEADER_CONTENT_LENGTH] = String(encoded.headerLength);
      res.writeHead(200, headers).end(encoded.body);
    } catch (err) {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: (err as Error).message }));
    }
  });
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
