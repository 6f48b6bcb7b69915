/**
 * Every function of the stack is built the same way: TypeScript bundled and minified by the locally
 * installed esbuild (no Docker), the AWS SDK inside the bundle, on arm64 and a current Node.js runtime,
 * logging to its own log group with a set retention.
 */
import { join, resolve } from 'node:path';
import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

export const REPO_ROOT = resolve(__dirname, '../..');

export const RUNTIME = Runtime.NODEJS_24_X;

/**
 * The esbuild options, shared with bench/bundle-size.ts so that the figure it prints is the bundle
 * that is deployed. `module` before `main` picks the SDK's ES module builds, which tree-shake to about
 * two thirds of the size and load faster.
 */
export const ESBUILD_OPTIONS = {
  minify: true,
  mainFields: ['module', 'main'],
  target: 'node24',
  format: 'cjs',
} as const;

/**
 * The credential providers the SDK's default chain imports only when the environment holds no
 * credentials, which never happens in Lambda: left to the runtime's own SDK, they keep 125 KB out of
 * the admission function's cold start (docs/performance.md). Not for code that assumes roles itself
 * (the ECR reads' `fromTemporaryCredentials` uses the nested STS client): that stays bundled.
 */
export const UNUSED_IN_LAMBDA = [
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/credential-provider-http',
  '@aws-sdk/credential-provider-login',
  '@aws-sdk/nested-clients',
  '@aws-sdk/token-providers',
];

/** What a function's own logging takes, on its own log group: no managed policy with `*`. */
export const LAMBDA_LOG_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents'] as const;

export interface BundledFunctionProps {
  /** The TypeScript file, relative to the repository root. */
  readonly entry: string;
  readonly handler: string;
  readonly description: string;
  readonly role: IRole;
  readonly environment: Record<string, string>;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly logRetention: RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  /**
   * Modules the function requires only on a rare path (`require('./ecr-sdk')` on a cache miss): each is
   * bundled as a file of its own beside `index.js`, so that it does not load at cold start.
   */
  readonly lazyModules?: readonly { readonly specifier: string; readonly entry: string }[];
  /**
   * Packages left to the Lambda runtime's own SDK: only what the function provably never loads in
   * Lambda (`UNUSED_IN_LAMBDA`), and only where its lazy modules are bundled whole (they are built
   * without these externals).
   */
  readonly leaveToRuntime?: readonly string[];
}

export function bundledFunction(scope: Construct, id: string, props: BundledFunctionProps): NodejsFunction {
  const logGroup = new LogGroup(scope, `${id}Logs`, {
    retention: props.logRetention,
    removalPolicy: props.logRemovalPolicy,
  });
  // Writing its own log group is all the logging a function needs.
  props.role.addToPrincipalPolicy(
    new PolicyStatement({
      actions: [...LAMBDA_LOG_ACTIONS],
      resources: [logGroup.logGroupArn],
    }),
  );
  const lazy = props.lazyModules ?? [];
  const fn = new NodejsFunction(scope, id, {
    entry: resolve(REPO_ROOT, props.entry),
    handler: props.handler,
    description: props.description,
    runtime: RUNTIME,
    architecture: Architecture.ARM_64,
    memorySize: props.memorySize,
    timeout: props.timeout,
    role: props.role,
    logGroup,
    environment: props.environment,
    projectRoot: REPO_ROOT,
    depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
    bundling: {
      ...ESBUILD_OPTIONS,
      mainFields: [...ESBUILD_OPTIONS.mainFields],
      format: OutputFormat.CJS,
      bundleAwsSDK: true,
      forceDockerBundling: false,
      sourceMap: false,
      externalModules: [...lazy.map((m) => m.specifier), ...(props.leaveToRuntime ?? [])],
      ...(lazy.length > 0 && {
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir: string, outputDir: string) =>
            lazy.map(
              (m) =>
                `"${inputDir}/node_modules/.bin/esbuild" "${inputDir}/${m.entry}" --bundle --platform=node ` +
                `--target=${ESBUILD_OPTIONS.target} --format=cjs --main-fields=${ESBUILD_OPTIONS.mainFields.join(',')} ` +
                `--minify --log-level=warning --outfile="${outputDir}/${m.specifier.replace(/^\.\//, '')}.js"`,
            ),
        },
      }),
    },
  });
  fn.node.addDependency(props.role);
  return fn;
}
