/**
 * Synthesizes the stack for the infrastructure tests. `cdkCli` runs `npx cdk synth` the way a user
 * does (cdk.json, the app, bundling with the local esbuild, cdk-nag), once, and is the only bundling
 * run; `synthesizeInProcess` builds variants (other settings and policies) without bundling.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadDeployedPolicy } from '../../cdk/policy-source';
import { settingsFromContext } from '../../cdk/settings';
import { EcrAdmissionStack } from '../../cdk/stack';

export const REPO_ROOT = resolve(__dirname, '../..');

const temporary: string[] = [];

/** A fresh directory, removed by `removeTemporaryDirectories` (call it in an afterAll). */
function temporaryDirectory(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ecr-admission-cdk-'));
  temporary.push(dir);
  return dir;
}

export function removeTemporaryDirectories(): void {
  for (const dir of temporary.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** cdk.json's context (feature flags and settings): `new App()` in a test does not read it. */
export function cdkJsonContext(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')).context;
}

export const CLI_ENV = {
  ...process.env,
  CDK_DISABLE_CLI_TELEMETRY: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

export interface CliSynth {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly outdir: string;
  readonly seconds: number;
}

/** `npx cdk synth` with extra `-c key=value` context; the cloud assembly goes to a fresh directory. */
export function cdkCli(context: Record<string, string> = {}): CliSynth {
  const outdir = temporaryDirectory();
  const started = Date.now();
  const result = spawnSync(
    'npx',
    [
      'cdk',
      'synth',
      '--quiet',
      '-o',
      outdir,
      ...Object.entries(context).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    ],
    { cwd: REPO_ROOT, env: CLI_ENV, encoding: 'utf8', timeout: 120_000 },
  );
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    outdir,
    seconds: (Date.now() - started) / 1000,
  };
}

export function templateOf(synth: CliSynth): Template {
  return Template.fromJSON(
    JSON.parse(readFileSync(join(synth.outdir, 'EcrAdmission.template.json'), 'utf8')),
  );
}

export interface InProcessOptions {
  /** Context on top of cdk.json's. */
  readonly context?: Record<string, unknown>;
  /** Policy text (YAML or JSON) written to a temporary file; default: the deployed policy file. */
  readonly policyText?: string;
}

/** Builds and synthesizes the stack without bundling, with cdk-nag: a violation throws. */
export function synthesizeInProcess(options: InProcessOptions = {}): {
  stack: EcrAdmissionStack;
  template: Template;
} {
  const app = new App({
    outdir: temporaryDirectory(),
    context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [], ...options.context },
  });
  const settings = settingsFromContext(app.node);
  const policyFile =
    options.policyText === undefined
      ? resolve(REPO_ROOT, settings.policyFile)
      : writeTemp(options.policyText);
  const stack = new EcrAdmissionStack(app, 'EcrAdmission', {
    settings,
    policy: loadDeployedPolicy(policyFile),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
  return { stack, template: Template.fromStack(stack) };
}

export function writeTemp(text: string, name = 'policy.yaml'): string {
  const file = join(temporaryDirectory(), name);
  writeFileSync(file, text);
  return file;
}
