import { Command, InvalidArgumentError, Option } from 'commander';
import { GridlineError, isGridlineError } from '../common/errors.js';
import { createLogger } from './create-logger.js';
import { ALLOW_DIRS_ENV, OP_MODULE_DIRS_ENV, dirsOption } from './dir-options.js';
import { CoordinatorClient, defaultCoordinatorUrl } from './coordinator-client.js';
import { coordinatorCommand } from './commands/coordinator.js';
import { demoCommand } from './commands/demo.js';
import { drainCommand, undrainCommand } from './commands/drain.js';
import { dlqListCommand, dlqReplayCommand } from './commands/dlq.js';
import { gatewayCommand } from './commands/gateway.js';
import { inferCommand, type InferCommandOptions } from './commands/infer.js';
import { defaultGatewayUrl, GatewayClient } from './infer/gateway-client.js';
import { nodesCommand, revokeNodeCommand } from './commands/nodes.js';
import { credentialCommand, type CreateCredentialOptions } from './commands/access.js';
import { DEFAULT_ADMIN_KEY_FILE, resolveApiKey } from './api-key.js';
import { cancelCommand, runsCommand } from './commands/runs.js';
import { submitCommand } from './commands/submit.js';
import { upCommand } from './commands/up.js';
import { validateCommand } from './commands/validate.js';
import { workerCommand } from './commands/worker.js';
import { certsInitCommand, certsIssueCommand } from './commands/certs.js';
import type { TlsClientMaterial } from '../common/tls/tls-material.js';
import { DEFAULT_TLS_DIR } from './tls/certificate-files.js';
import { loadClientTls } from './tls/load-tls.js';
import { clientTlsOptions, serverTlsOptions } from './tls/tls-options.js';

function int(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number, got "${value}"`);
    return n;
  };
}

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  return v === undefined || v === '' ? fallback : int(name)(v);
}

/** GRIDLINE_ADMIN_KEY: an operator's static admin key (env only: a flag would show in `ps`). */
const adminKeyFromEnv = (): { adminKey?: string } => (process.env.GRIDLINE_ADMIN_KEY ? { adminKey: process.env.GRIDLINE_ADMIN_KEY } : {});
const collect = (value: string, previous: string[]): string[] => [...previous, value];
/** The CA the running command trusts for https:// (--tls-ca, --tls-dir, GRIDLINE_TLS_CA), read before its action. */
let clientTls: TlsClientMaterial | null = null;
const client = (url: string | undefined): CoordinatorClient => new CoordinatorClient(url ?? defaultCoordinatorUrl(clientTls !== null), resolveApiKey(), undefined, clientTls);
const coordinatorOption = (): Option => new Option('--coordinator-url <url>', 'coordinator HTTP API (default: GRIDLINE_COORDINATOR or http://127.0.0.1:7070)');

const program = new Command('gridline')
  .description('gridline: run AI pipelines on a fleet of GPU worker nodes')
  .showHelpAfterError();

program.command('up')
  .description('start a local cluster (Redis, coordinator, workers) and keep it running until Ctrl-C')
  .option('--workers <n>', 'worker processes to start', int('--workers'), 1)
  .option('--host <host>', 'address to listen on', process.env.GRIDLINE_HOST ?? '127.0.0.1')
  .option('--http-port <port>', 'coordinator HTTP API port (GRIDLINE_HTTP_PORT)', int('--http-port'), envInt('GRIDLINE_HTTP_PORT', 7070))
  .option('--grpc-port <port>', 'coordinator gRPC port (GRIDLINE_GRPC_PORT)', int('--grpc-port'), envInt('GRIDLINE_GRPC_PORT', 7071))
  .option('--gateway-port <port>', 'gateway HTTP port (GRIDLINE_GATEWAY_PORT)', int('--gateway-port'), envInt('GRIDLINE_GATEWAY_PORT', 8000))
  .option('--gateway-grpc-port <port>', 'gateway gRPC port (GRIDLINE_GATEWAY_GRPC_PORT)', int('--gateway-grpc-port'), envInt('GRIDLINE_GATEWAY_GRPC_PORT', 8001))
  .option('--redis-url <url>', 'use this Redis instead of a private redis-server (REDIS_URL)')
  .option('--data-dir <dir>', 'where the private Redis and logs live', '.gridline')
  .option('--gpus <spec>', 'GPUs of the local workers: auto, none, or sim:2xA100-80GB')
  .option('--allow-dir <dir>', 'a directory pipelines may read and write, repeatable (GRIDLINE_ALLOW_DIRS, separated by the path delimiter; default: the working directory only)', collect, [])
  .option('--op-module-dir <dir>', 'a folder custom op modules (`module` ops) may load from, repeatable (GRIDLINE_OP_MODULE_DIRS; default: none, such ops are refused)', collect, [])
  .action(async (o: { workers: number; host: string; httpPort: number; grpcPort: number; gatewayPort: number; gatewayGrpcPort: number; redisUrl?: string; dataDir: string; gpus?: string; allowDir: string[]; opModuleDir: string[] }) => {
    const logger = createLogger({ name: 'gridline' });
    const { allowDir, opModuleDir, ...rest } = o;
    await upCommand({ ...rest, ...adminKeyFromEnv(), redisUrl: o.redisUrl ?? (process.env.REDIS_URL || null), allowedDirs: dirsOption(allowDir, ALLOW_DIRS_ENV), opModuleDirs: dirsOption(opModuleDir, OP_MODULE_DIRS_ENV) }, logger);
  });

program.command('coordinator')
  .description('run the coordinator alone')
  .option('--host <host>', 'address to listen on', process.env.GRIDLINE_HOST ?? '127.0.0.1')
  .option('--http-port <port>', 'HTTP API port (GRIDLINE_HTTP_PORT; 0 = any free port)', int('--http-port'), envInt('GRIDLINE_HTTP_PORT', 7070))
  .option('--grpc-port <port>', 'gRPC port (GRIDLINE_GRPC_PORT; 0 = any free port)', int('--grpc-port'), envInt('GRIDLINE_GRPC_PORT', 7071))
  .option('--redis-url <url>', 'Redis (REDIS_URL)', process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
  .option('--advertise-redis-url <url>', 'Redis URL handed to workers, if they reach it at another address')
  .option('--key-prefix <prefix>', 'prefix of every Redis key (GRIDLINE_KEY_PREFIX)', process.env.GRIDLINE_KEY_PREFIX ?? 'gridline')
  .option('--join-token <token>', 'a join token that never expires, for automation (GRIDLINE_JOIN_TOKEN; default: none, a 24 h one is printed at start and `gridline token create` makes more)', process.env.GRIDLINE_JOIN_TOKEN)
  .option('--admin-key-file <file>', 'where the first admin API key is kept (made on first start unless GRIDLINE_ADMIN_KEY is set)', DEFAULT_ADMIN_KEY_FILE)
  .option('--secret-file <file>', 'the secret that seals credentials kept in Redis, made on first start (GRIDLINE_COORDINATOR_SECRET instead; share it between coordinators, keep it off workers)', '.gridline/coordinator.secret')
  .option('--heartbeat-ms <ms>', 'heartbeat interval set for nodes; the TTL is 2.5x', int('--heartbeat-ms'), envInt('GRIDLINE_HEARTBEAT_MS', 1000))
  .option('--allow-dir <dir>', 'a directory pipelines may read and write, repeatable (GRIDLINE_ALLOW_DIRS, separated by the path delimiter; default: the working directory only)', collect, [])
  .action(async (o: Parameters<typeof coordinatorCommand>[0] & { allowDir: string[] }) => {
    const { allowDir, ...rest } = o;
    await coordinatorCommand({ ...rest, ...adminKeyFromEnv(), allowedDirs: dirsOption(allowDir, ALLOW_DIRS_ENV) }, createLogger({ name: 'coordinator' }));
  });

program.command('gateway')
  .description('run an inference gateway (Open Inference Protocol, REST and gRPC) routing to the workers the coordinator knows')
  .option('--host <host>', 'address to listen on', process.env.GRIDLINE_HOST ?? '127.0.0.1')
  .option('--http-port <port>', 'REST port (GRIDLINE_GATEWAY_PORT; 0 = any free port)', int('--http-port'), envInt('GRIDLINE_GATEWAY_PORT', 8000))
  .option('--grpc-port <port>', 'gRPC port (GRIDLINE_GATEWAY_GRPC_PORT; 0 = any free port)', int('--grpc-port'), envInt('GRIDLINE_GATEWAY_GRPC_PORT', 8001))
  .addOption(coordinatorOption())
  .action(async (o: { host: string; httpPort: number; grpcPort: number; coordinatorUrl?: string }) => {
    await gatewayCommand(o, client(o.coordinatorUrl), createLogger({ name: 'gateway' }));
  });

program.command('worker')
  .description('register this machine as a worker node and run what the coordinator assigns')
  .requiredOption('--coordinator <host:port>', 'coordinator gRPC address', process.env.GRIDLINE_COORDINATOR_GRPC)
  .option('--join-token <token>', 'join token (GRIDLINE_JOIN_TOKEN)')
  .option('--node-id <id>', 'node id (default: hostname plus a random suffix)')
  .option('--gpus <spec>', 'auto (nvidia-smi), none, or simulated: sim:2xA100-80GB', 'auto')
  .option('--label <key=value>', 'node label, repeatable', collect, [])
  .option('--redis-url <url>', 'reach Redis here instead of the URL the coordinator announces')
  .option('--model-repository <dir>', 'also serve the models of this folder (<model>/<version>/model.onnx or model.json; optional <model>/config.json with "batching") over the Open Inference Protocol')
  .option('--inference-host <host>', 'address the OIP model server listens on (0.0.0.0 to take requests from gateways on other hosts)', '127.0.0.1')
  .option('--inference-port <port>', 'model server port (0 = any free port)', int('--inference-port'), 0)
  .option('--advertise-inference-host <host>', 'host gateways dial when --inference-host is 0.0.0.0 (default: this machine\'s hostname)')
  .option('--model-threads <n>', 'onnxruntime threads per model session (GRIDLINE_MODEL_THREADS; default: one per core)', int('--model-threads'), process.env.GRIDLINE_MODEL_THREADS ? Number(process.env.GRIDLINE_MODEL_THREADS) : undefined)
  .option('--model-spin-wait <on|off>', 'whether idle onnxruntime threads spin (GRIDLINE_MODEL_SPIN_WAIT; default on; off on nodes shared with a gateway or many models)', process.env.GRIDLINE_MODEL_SPIN_WAIT)
  .option('--metrics-port <port>', 'serve Prometheus /metrics and /healthz on this port (GRIDLINE_WORKER_METRICS_PORT; 0 = any free port; default: off)', int('--metrics-port'))
  .option('--metrics-host <host>', 'address /metrics and /healthz listen on', '127.0.0.1')
  .option('--allow-dir <dir>', 'a directory pipelines may read and write, repeatable (GRIDLINE_ALLOW_DIRS, separated by the path delimiter; default: the working directory only)', collect, [])
  .option('--op-module-dir <dir>', 'a folder custom op modules (`module` ops) may load from, repeatable (GRIDLINE_OP_MODULE_DIRS; default: none, such ops are refused)', collect, [])
  .action(async (o: { coordinator: string; joinToken?: string; nodeId?: string; gpus?: string; label: string[]; redisUrl?: string; modelRepository?: string; inferenceHost: string; inferencePort: number; advertiseInferenceHost?: string; modelThreads?: number; modelSpinWait?: string; metricsPort?: number; metricsHost: string; allowDir: string[]; opModuleDir: string[] }) => {
    const { allowDir, opModuleDir, ...rest } = o;
    process.exitCode = await workerCommand({ ...rest, joinToken: o.joinToken, allowedDirs: dirsOption(allowDir, ALLOW_DIRS_ENV), opModuleDirs: dirsOption(opModuleDir, OP_MODULE_DIRS_ENV) }, createLogger({ name: 'worker' }));
  });

program.command('infer')
  .argument('<model>', 'model name')
  .description('call a served model through the gateway and print its outputs')
  .option('--version <v>', 'model version (default: the newest ready one)')
  .option('--input <file.json>', 'an Open Inference Protocol request body (JSON) to send as written')
  .option('--image <file>', 'an image, resized to the model\'s 4-D input and sent as raw FP32 bytes')
  .option('--scale <how>', 'pixel scaling for --image: unit, symmetric (-1..1), imagenet or raw', 'symmetric')
  .option('--wav <file>', 'audio streamed frame by frame through a Silero VAD model; prints the speech segments')
  .option('--output <name>', 'output to return, repeatable (default: all)', collect, [])
  .option('--json', 'print the outputs as JSON')
  .option('--gateway <url>', 'gateway REST address (GRIDLINE_GATEWAY; default http://127.0.0.1:8000, https:// with a CA given)')
  .action(async (model: string, o: InferCommandOptions & { gateway?: string }) => {
    process.exitCode = await inferCommand(model, o, new GatewayClient(o.gateway ?? defaultGatewayUrl(clientTls !== null), resolveApiKey(), undefined, clientTls));
  });

program.command('nodes')
  .argument('[action]', '`revoke` to revoke a node')
  .argument('[node]', 'with revoke: the node id')
  .description('list registered worker nodes, or revoke one: gridline nodes revoke NODE (disconnected, its replicas move, its id may not join again)')
  .addOption(coordinatorOption())
  .option('--json', 'print JSON')
  .action(async (action: string | undefined, node: string | undefined, o: { coordinatorUrl?: string; json?: boolean }) => {
    if (action === undefined) return nodesCommand(client(o.coordinatorUrl), o.json === true);
    if (action !== 'revoke' || node === undefined) throw new GridlineError('INVALID_ARGUMENT', 'usage: gridline nodes [revoke NODE]');
    return revokeNodeCommand(client(o.coordinatorUrl), node);
  });

for (const [kind, what] of [['key', 'API keys (bearer tokens for the coordinator API and the gateway)'], ['token', 'join tokens (what a worker presents to register)']] as const) {
  program.command(kind)
    .argument('<action>', 'create, list or revoke')
    .argument('[id]', 'with revoke: the id (see list)')
    .description(`manage ${what}; needs an admin key${kind === 'key' ? '. Scopes: submit, read, infer, gateway, admin (all)' : ''}`)
    .option('--name <name>', 'a label to tell it by')
    .option('--ttl <duration>', `lifetime: 30m, 24h, 7d or never (default: ${kind === 'key' ? 'never' : '24h'})`)
    .option('--json', 'with list: print JSON')
    .addOption(kind === 'key' ? new Option('--scope <scopes>', 'comma-separated scopes, e.g. infer or submit,read') : new Option('--scope <scopes>').hideHelp())
    .addOption(coordinatorOption())
    .action(async (action: string, id: string | undefined, o: CreateCredentialOptions & { json?: boolean; coordinatorUrl?: string }) => {
      process.exitCode = await credentialCommand(client(o.coordinatorUrl), kind, action, id, o);
    });
}

program.command('drain')
  .argument('<node>', 'a node id (see `gridline nodes`)')
  .description('take no new replicas on a node; its replicas finish the chunks they hold and move to other nodes')
  .addOption(coordinatorOption())
  .action(async (node: string, o: { coordinatorUrl?: string }) => drainCommand(client(o.coordinatorUrl), node));

program.command('undrain')
  .argument('<node>', 'a node id')
  .description('end a drain: the node takes new replicas again')
  .addOption(coordinatorOption())
  .action(async (node: string, o: { coordinatorUrl?: string }) => undrainCommand(client(o.coordinatorUrl), node));

program.command('validate')
  .argument('<file>', 'pipeline YAML or JSON')
  .description('check a pipeline and print its stages, queues and placement plan')
  .addOption(coordinatorOption())
  .action(async (file: string, o: { coordinatorUrl?: string }) => {
    process.exitCode = await validateCommand(file, client(o.coordinatorUrl));
  });

program.command('submit')
  .argument('<file>', 'pipeline YAML or JSON')
  .description('run a pipeline')
  .option('--wait', 'follow the run with a progress bar per stage; exit 0 only if every item reached the sink')
  .addOption(coordinatorOption())
  .action(async (file: string, o: { wait?: boolean; coordinatorUrl?: string }) => {
    process.exitCode = (await submitCommand(file, o.wait === true, client(o.coordinatorUrl))).code;
  });

program.command('runs')
  .argument('[id]', 'a run id')
  .description('list runs, or show one with its per-stage counters')
  .option('--json', 'print JSON')
  .addOption(coordinatorOption())
  .action(async (id: string | undefined, o: { json?: boolean; coordinatorUrl?: string }) => runsCommand(client(o.coordinatorUrl), id, o.json === true));

program.command('cancel')
  .argument('<id>', 'a run id')
  .description('cancel a run and free its replicas')
  .addOption(coordinatorOption())
  .action(async (id: string, o: { coordinatorUrl?: string }) => cancelCommand(client(o.coordinatorUrl), id));

program.command('dlq')
  .argument('<run-or-replay>', 'a run id, or `replay` followed by a run id')
  .argument('[run]', 'with `replay`: the run whose dead letters to send again')
  .description('list a run\'s dead-lettered items (failed for good, with the error), or replay them: gridline dlq replay RUN')
  .option('--json', 'print JSON')
  .option('--wait', 'with replay: follow the new run; exit 0 only if every item reached the sink')
  .addOption(coordinatorOption())
  .action(async (first: string, second: string | undefined, o: { json?: boolean; wait?: boolean; coordinatorUrl?: string }) => {
    if (first === 'replay') {
      if (second === undefined) throw new GridlineError('INVALID_ARGUMENT', 'usage: gridline dlq replay RUN');
      process.exitCode = await dlqReplayCommand(client(o.coordinatorUrl), second, o.wait === true);
    } else {
      await dlqListCommand(client(o.coordinatorUrl), first, o.json === true);
    }
  });

program.command('demo')
  .description('start a local cluster, run pipelines/ocr.yaml on the sample image, print the text, stop (npm start)')
  .option('--data-dir <dir>', 'where the private Redis and logs live', '.gridline')
  .option('--redis-url <url>', 'use this Redis instead of a private redis-server (REDIS_URL)')
  .action(async (o: { dataDir: string; redisUrl?: string }) => {
    const logger = createLogger({ name: 'gridline', level: 'warn' });
    process.exitCode = await demoCommand({ dataDir: o.dataDir, redisUrl: o.redisUrl ?? (process.env.REDIS_URL || null), host: '127.0.0.1' }, logger);
  });

const certs = program.command('certs').description('make TLS certificates: a local CA and one per role (coordinator, gateway, worker)');
certs.command('init')
  .description('create a CA (ca.pem, ca-key.pem) and coordinator, gateway and worker certificates for localhost, this machine\'s hostname and every --host')
  .option('--dir <dir>', 'where to write them', DEFAULT_TLS_DIR)
  .option('--host <name-or-ip>', 'another DNS name or IP address the certificates are for, repeatable', collect, [])
  .option('--force', 'replace an existing CA (certificates it signed stop being trusted)')
  .action(async (o: { dir: string; host: string[]; force?: boolean }) => certsInitCommand(o));
certs.command('issue')
  .argument('<name>', 'file name and subject of the certificate, e.g. worker-gpu1')
  .description('sign one more certificate with the CA in --dir (e.g. for a worker on another machine): NAME.pem, NAME-key.pem')
  .option('--dir <dir>', 'the folder of the CA', DEFAULT_TLS_DIR)
  .option('--host <name-or-ip>', 'a DNS name or IP address the certificate is for, repeatable (localhost is always added)', collect, [])
  .option('--force', 'replace NAME\'s existing files')
  .action(async (name: string, o: { dir: string; host: string[]; force?: boolean }) => certsIssueCommand(name, o));

// TLS flags: servers take their certificate, key and CA (and --insecure); every command that calls
// the coordinator or a gateway takes the CA to trust, read once before its action runs.
const SERVER_COMMANDS = new Set(['up', 'coordinator', 'gateway', 'worker']);
for (const command of program.commands) {
  const calls = command.options.some((o) => o.long === '--coordinator-url' || o.long === '--gateway');
  if (SERVER_COMMANDS.has(command.name())) for (const option of serverTlsOptions()) command.addOption(option);
  else if (calls) for (const option of clientTlsOptions()) command.addOption(option);
  if (calls) {
    command.hook('preAction', async (_command, action) => {
      clientTls = await loadClientTls(action.opts<{ tlsDir?: string; tlsCa?: string }>());
    });
  }
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Expected failures print one clear line; anything else is a bug and keeps its stack.
  if (isGridlineError(err)) process.stderr.write(`gridline: ${err.message}\n`);
  else process.stderr.write(`gridline: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
}
