/**
 * Figure 4, a proxy for the admission Lambda's cold start: the admission handler bundled by the local
 * esbuild as the CDK stack bundles it (platform node, target node22, CommonJS, `module` before `main`,
 * minified, the AWS SDK inside), its size, and its load time as a ratio: the best of 15
 * `node -e "require('<bundle>')"` runs over the best of 15 `node -e 0` runs, interleaved.
 *
 * The ECR client is needed only on a cache miss: `./ecr-sdk` is left out of the bundle and built as a
 * second file next to it, which src/adapters/ecr-lazy.ts requires on the first miss (docs/performance.md).
 * The figure is the size of the file that loads at cold start; the check below proves that the
 * second file is not loaded then, and is loaded (and works) on a miss.
 *
 * Run alone: `npx tsx bench/cold-start.ts`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type BuildOptions, build } from 'esbuild';
import { parse as parseYaml } from 'yaml';
import { ADMISSION_LAZY_MODULES } from '../cdk/constructs/admission-endpoint';
import { UNUSED_IN_LAMBDA } from '../cdk/constructs/bundled-function';
import { assertBench, type Figure, figure, formatTable } from './lib/figures';
import { POLICY_FILE, REPO_ROOT } from './lib/workloads';

const OUT_DIR = join(REPO_ROOT, 'bench/results/cold-start');
export const BUNDLE = join(OUT_DIR, 'index.js');
/** The second file: what live.ts requires as `./ecr-sdk`, next to the bundle. */
export const ECR_CHUNK = join(OUT_DIR, 'ecr-sdk.js');
const RUNS = 15;

/** The options of cdk/constructs/bundled-function.ts (NodejsFunction with local esbuild). */
export const CDK_ESBUILD_OPTIONS: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  mainFields: ['module', 'main'],
  minify: true,
  sourcemap: false,
  logLevel: 'warning',
};

/** Bundles the handler and the lazily loaded ECR reads; returns the bytes of each. */
export async function bundleAdmissionHandler(): Promise<{ bundle: number; ecrChunk: number }> {
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
  return { bundle: statSync(BUNDLE).size, ecrChunk: statSync(ECR_CHUNK).size };
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

/** Best of RUNS, interleaved: `node -e 0` and `node -e "require(bundle)"`, in milliseconds. */
export function bestLoadTimes(env: NodeJS.ProcessEnv): { bare: number; loaded: number } {
  const requireBundle = `require(${JSON.stringify(BUNDLE)})`;
  let bare = Number.POSITIVE_INFINITY;
  let loaded = Number.POSITIVE_INFINITY;
  for (let i = 0; i < RUNS; i++) {
    bare = Math.min(bare, wallMs('0', env));
    loaded = Math.min(loaded, wallMs(requireBundle, env));
  }
  return { bare, loaded };
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
  const env = lambdaEnvironment();
  checkLazyLoading(env);
  const { bare, loaded } = bestLoadTimes(env);
  return [
    figure(
      'cold start: admission bundle loaded at cold start (minified)',
      sizes.bundle / 1000,
      'KB',
      '<= 400',
    ),
    figure('cold start: best load time, node -e require(bundle) / node -e 0', loaded / bare, 'x', '<= 1.8'),
  ];
}

if (require.main === module) {
  (async () => {
    const figures = await coldStartFigures();
    process.stdout.write(`${formatTable(figures)}\n`);
    const env = lambdaEnvironment();
    const clean = lambdaEnvironment(true);
    const here = bestLoadTimes(env);
    const bare = bestLoadTimes(clean);
    const kb = (file: string) => `${(statSync(file).size / 1000).toFixed(0)} KB`;
    process.stdout.write(
      `bundle ${kb(BUNDLE)}; second file, loaded on the first cache miss: ${kb(ECR_CHUNK)}\n` +
        `this environment: node -e 0 ${here.bare.toFixed(1)} ms, require(bundle) ${here.loaded.toFixed(1)} ms\n` +
        `clean environment (PATH only): node -e 0 ${bare.bare.toFixed(1)} ms, require(bundle) ` +
        `${bare.loaded.toFixed(1)} ms, ratio ${(bare.loaded / bare.bare).toFixed(2)}\n`,
    );
  })().catch((error) => {
    process.stderr.write(`${(error as Error).stack}\n`);
    process.exitCode = 1;
  });
}
