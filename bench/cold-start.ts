/**
 * Figure 4, a proxy for the admission Lambda's cold start, measured so that it cannot flatter (issue 17):
 * the admission handler bundled as the CDK stack bundles it (ESBUILD_OPTIONS of
 * cdk/constructs/bundled-function.ts: the deployed runtime's target, CommonJS, `module` before `main`,
 * minified, the AWS SDK inside, the lazy modules left out), against a baseline bundled the same way: a
 * bare DynamoDB client that sends one BatchGetItem, the least an admission from the cache can load. Each
 * is loaded by `node -e "require('<bundle>')"` in a clean environment (PATH and the function's own
 * variables only: nothing such as NODE_EXTRA_CA_CERTS that changes what `node` loads), best of 15,
 * interleaved with `node -e 0`; the figures are the bundle's load time over the baseline's and the
 * milliseconds it adds. Node here is the machine's (20); the functions deploy on Node 24.
 *
 * The ECR and EventBridge clients are needed only on rare paths: left out of the bundle and built as
 * files next to it (ADMISSION_LAZY_MODULES; docs/performance.md). The check below proves that the ECR
 * file is not loaded at cold start, and is loaded (and works) on a miss.
 *
 * Run alone: `npx tsx bench/cold-start.ts`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type BuildOptions, build } from 'esbuild';
import { parse as parseYaml } from 'yaml';
import { ADMISSION_LAZY_MODULES } from '../cdk/constructs/admission-endpoint';
import { ESBUILD_OPTIONS, UNUSED_IN_LAMBDA } from '../cdk/constructs/bundled-function';
import { assertBench, type Figure, figure, formatTable, reference } from './lib/figures';
import { POLICY_FILE, REPO_ROOT } from './lib/workloads';

const OUT_DIR = join(REPO_ROOT, 'bench/results/cold-start');
export const BUNDLE = join(OUT_DIR, 'index.js');
/** The second file: what live.ts requires as `./ecr-sdk`, next to the bundle. */
export const ECR_CHUNK = join(OUT_DIR, 'ecr-sdk.js');
const RUNS = 15;

/** The options of cdk/constructs/bundled-function.ts (NodejsFunction with local esbuild). */
export const CDK_ESBUILD_OPTIONS: BuildOptions = {
  ...ESBUILD_OPTIONS,
  mainFields: [...ESBUILD_OPTIONS.mainFields],
  bundle: true,
  platform: 'node',
  sourcemap: false,
  logLevel: 'warning',
};

/** The baseline: what any function answering from DynamoDB loads, bundled the same way. */
export const BASELINE = join(OUT_DIR, 'baseline.js');
const BASELINE_SOURCE = `
const { DynamoDBClient, BatchGetItemCommand } = require('@aws-sdk/client-dynamodb');
const client = new DynamoDBClient({});
exports.handler = () => client.send(new BatchGetItemCommand({ RequestItems: {} }));
`;

/** Bundles the handler, the lazily loaded ECR reads and the baseline; returns the bytes of each. */
export async function bundleAdmissionHandler(): Promise<{
  bundle: number;
  ecrChunk: number;
  baseline: number;
}> {
  rmSync(OUT_DIR, { recursive: true, force: true });
  mkdirSync(OUT_DIR, { recursive: true });
  await build({
    ...CDK_ESBUILD_OPTIONS,
    entryPoints: [join(REPO_ROOT, 'src/handlers/admission.ts')],
    outfile: BUNDLE,
    external: [...ADMISSION_LAZY_MODULES.map((m) => m.specifier), ...UNUSED_IN_LAMBDA],
  });
  await build({
    ...CDK_ESBUILD_OPTIONS,
    entryPoints: [join(REPO_ROOT, 'src/adapters/ecr-sdk.ts')],
    outfile: ECR_CHUNK,
  });
  await build({
    ...CDK_ESBUILD_OPTIONS,
    stdin: { contents: BASELINE_SOURCE, resolveDir: REPO_ROOT, sourcefile: 'baseline.js' },
    outfile: BASELINE,
    external: [...UNUSED_IN_LAMBDA],
  });
  return {
    bundle: statSync(BUNDLE).size,
    ecrChunk: statSync(ECR_CHUNK).size,
    baseline: statSync(BASELINE).size,
  };
}

/**
 * The deployed function's variables (the example policy as JSON text in `POLICY`, as the stack passes
 * it) on top of the environment the command runs in, as `node -e` typed on this machine would see it
 * (the parent's own AWS_* and npm_* variables left out). `clean` keeps only PATH: on this machine the
 * environment sets NODE_EXTRA_CA_CERTS, which makes every Node process load the system CA bundle.
 */
function lambdaEnvironment(clean = false): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_') && !key.startsWith('npm_')),
  );
  return {
    ...(clean ? { PATH: process.env.PATH } : inherited),
    TABLE_NAME: 'ecr-admission-decisions',
    POLICY: JSON.stringify(parseYaml(readFileSync(POLICY_FILE, 'utf8'))),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
    AWS_SECRET_ACCESS_KEY: 'local',
    // Lambda's Node.js 22 prints no Node-version warning; Node 20 here would.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  };
}

/** Best of RUNS, interleaved: `node -e 0`, require(baseline) and require(bundle), in milliseconds. */
export function bestLoadTimes(env: NodeJS.ProcessEnv): { bare: number; baseline: number; loaded: number } {
  const load = (file: string) => `require(${JSON.stringify(file)})`;
  let bare = Number.POSITIVE_INFINITY;
  let baseline = Number.POSITIVE_INFINITY;
  let loaded = Number.POSITIVE_INFINITY;
  for (let i = 0; i < RUNS; i++) {
    bare = Math.min(bare, wallMs('0', env));
    baseline = Math.min(baseline, wallMs(load(BASELINE), env));
    loaded = Math.min(loaded, wallMs(load(BUNDLE), env));
  }
  return { bare, baseline, loaded };
}

function wallMs(script: string, env: NodeJS.ProcessEnv): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, ['-e', script], { env, stdio: 'ignore' });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  assertBench(result.status === 0, `node -e ${script} exited ${result.status}`);
  return elapsed;
}

/**
 * Loads the bundle in a fresh process and judges one review whose image is not cached, with DynamoDB
 * and ECR unreachable: the failure mode answers, and on the way the ECR reads must have been loaded
 * from the second file, which must not have been loaded at cold start.
 */
function checkLazyLoading(env: NodeJS.ProcessEnv): void {
  const script = `
    const loaded = () => Object.keys(require.cache).some((f) => f.endsWith('ecr-sdk.js'));
    const { handler } = require(${JSON.stringify(BUNDLE)});
    const atColdStart = loaded();
    const review = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: {
      uid: 'u', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', namespace: 'shop',
      object: { metadata: { name: 'p' }, spec: { containers: [{ name: 'a',
        image: '111122223333.dkr.ecr.us-east-1.amazonaws.com/team/api:1.4.2' }] } } } };
    handler({ httpMethod: 'POST', path: '/validate', body: JSON.stringify(review) },
      { functionName: 'bench', awsRequestId: 'r', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:bench' }).then((reply) => {
      const response = JSON.parse(reply.body).response;
      process.stdout.write('\\nLAZY ' + JSON.stringify({ atColdStart, onMiss: loaded(), allowed: response.allowed,
        message: response.status && response.status.message }));
    });`;
  const out = execFileSync(process.execPath, ['-e', script], {
    env: {
      ...env,
      DEADLINE_MS: '300',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9',
      AWS_ENDPOINT_URL_ECR: 'http://127.0.0.1:9',
      AWS_MAX_ATTEMPTS: '1',
    },
    encoding: 'utf8',
  });
  const seen = JSON.parse(out.slice(out.lastIndexOf('\nLAZY ') + 6)) as {
    atColdStart: boolean;
    onMiss: boolean;
    allowed: boolean;
    message?: string;
  };
  assertBench(!seen.atColdStart, 'the ECR reads were loaded at cold start');
  assertBench(seen.onMiss, 'a cache miss did not load the ECR reads from the second file');
  assertBench(
    !seen.allowed && seen.message?.includes('could not be verified (ECR could not be reached)'),
    `unexpected answer with ECR unreachable: ${out}`,
  );
}

export async function coldStartFigures(): Promise<Figure[]> {
  const sizes = await bundleAdmissionHandler();
  const env = lambdaEnvironment(true);
  checkLazyLoading(env);
  const { baseline, loaded } = bestLoadTimes(env);
  return [
    figure(
      'cold start: admission bundle loaded at cold start (minified)',
      sizes.bundle / 1000,
      'KB',
      '<= 400',
    ),
    figure(
      'cold start, clean environment: require(bundle) / require(bare DynamoDB-client bundle)',
      loaded / baseline,
      'x',
      '<= 1.5',
    ),
    reference(
      'cold start, clean environment: ms the bundle adds over the bare DynamoDB-client bundle',
      loaded - baseline,
      'ms',
    ),
  ];
}

if (require.main === module) {
  (async () => {
    const figures = await coldStartFigures();
    process.stdout.write(`${formatTable(figures)}\n`);
    const here = bestLoadTimes(lambdaEnvironment());
    const clean = bestLoadTimes(lambdaEnvironment(true));
    const kb = (file: string) => `${(statSync(file).size / 1000).toFixed(0)} KB`;
    const line = (what: string, t: ReturnType<typeof bestLoadTimes>) =>
      `${what}: node -e 0 ${t.bare.toFixed(1)} ms, require(baseline) ${t.baseline.toFixed(1)} ms, ` +
      `require(bundle) ${t.loaded.toFixed(1)} ms\n`;
    process.stdout.write(
      `bundle ${kb(BUNDLE)}; baseline ${kb(BASELINE)}; second file, loaded on the first cache miss: ${kb(ECR_CHUNK)}\n` +
        line("clean environment (PATH and the function's variables)", clean) +
        line("this shell's environment (for comparison only)", here),
    );
  })().catch((error) => {
    process.stderr.write(`${(error as Error).stack}\n`);
    process.exitCode = 1;
  });
}
