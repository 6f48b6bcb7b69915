/**
 * Prints the admission function's bundle size and how long Node takes to load it (the part of a cold
 * start the code controls), for the bundle the stack deploys (cdk/constructs/bundled-function.ts's
 * esbuild options) against esbuild's default main fields. A figure, not a test:
 *
 *   npm run bench:bundle            (RUNS=15 for more load samples)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { ADMISSION_LAZY_MODULES } from '../cdk/constructs/admission-endpoint';
import { ESBUILD_OPTIONS, UNUSED_IN_LAMBDA } from '../cdk/constructs/bundled-function';

const ROOT = resolve(__dirname, '..');
const ENTRY = join(ROOT, 'src/handlers/admission.ts');
const RUNS = Number(process.env.RUNS ?? 9);

interface Variant {
  readonly name: string;
  readonly mainFields: string[];
}

const VARIANTS: Variant[] = [
  { name: 'deployed (module, main)', mainFields: [...ESBUILD_OPTIONS.mainFields] },
  { name: 'esbuild default (main, module)', mainFields: ['main', 'module'] },
];

/** Bytes of output per npm package, largest first. */
function byPackage(metafile: Metafile, output: string): [string, number][] {
  const sizes = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(metafile.outputs[output]?.inputs ?? {})) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
    const name = match?.[1] ?? '(this project)';
    sizes.set(name, (sizes.get(name) ?? 0) + bytesInOutput);
  }
  return [...sizes].sort((a, b) => b[1] - a[1]);
}

/** Milliseconds to `require` the bundle in a fresh Node process, as the Lambda runtime does at init. */
function loadTimeMs(file: string): number {
  const script = `const t = process.hrtime.bigint(); require(${JSON.stringify(file)}); process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));`;
  const result = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      TABLE_NAME: 'decisions',
      AWS_REGION: 'us-east-1',
      OWN_ACCOUNT_ID: '111122223333',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  if (result.status !== 0) throw new Error(`loading ${file} failed: ${result.stderr}`);
  return Number(result.stdout);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function main(): Promise<void> {
  const outdir = mkdtempSync(join(tmpdir(), 'ecr-admission-bundle-'));
  const results: { name: string; kib: number; ms: number }[] = [];
  for (const [index, variant] of VARIANTS.entries()) {
    const outfile = join(outdir, `admission-${index}.js`);
    const { metafile } = await build({
      entryPoints: [ENTRY],
      outfile,
      bundle: true,
      platform: 'node',
      target: ESBUILD_OPTIONS.target,
      format: ESBUILD_OPTIONS.format,
      minify: ESBUILD_OPTIONS.minify,
      mainFields: variant.mainFields,
      // As deployed: the ECR reads in a second file, loaded on the first miss; the credential providers
      // a Lambda never calls left to the runtime.
      external: [...ADMISSION_LAZY_MODULES.map((m) => m.specifier), ...UNUSED_IN_LAMBDA],
      metafile: true,
      logLevel: 'error',
    });
    loadTimeMs(outfile); // warm the file system cache
    const ms = median(Array.from({ length: RUNS }, () => loadTimeMs(outfile)));
    const kib = statSync(outfile).size / 1024;
    results.push({ name: variant.name, kib, ms });
    if (index === 0) {
      const output = Object.keys(metafile.outputs)[0] ?? '';
      console.log('largest parts of the deployed bundle:');
      for (const [name, bytes] of byPackage(metafile, output).slice(0, 8)) {
        console.log(`  ${(bytes / 1024).toFixed(0).padStart(6)} KiB  ${name}`);
      }
    }
  }
  console.log(
    `\nadmission bundle (src/handlers/admission.ts, minified, AWS SDK inside; median of ${RUNS} loads):`,
  );
  for (const r of results) {
    console.log(
      `  ${r.name.padEnd(32)} ${r.kib.toFixed(0).padStart(6)} KiB   load ${r.ms.toFixed(1).padStart(6)} ms`,
    );
  }
  const [deployed, fallback] = results;
  if (deployed && fallback) {
    console.log(
      `  ratio deployed/default: size ${(deployed.kib / fallback.kib).toFixed(2)}, load time ${(deployed.ms / fallback.ms).toFixed(2)}`,
    );
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
