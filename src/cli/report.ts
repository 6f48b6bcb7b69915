/**
 * `check`'s results for CI: SARIF 2.1.0 (code-scanning tools: one result per violation or warning, at
 * the manifest's file and line) and JUnit XML (test reports: one test case per workload).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import junit from 'junit-report-builder';
import type { CheckResult } from './check';

const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
const INFORMATION_URI = 'https://github.com/ecr-admission/ecr-admission';

/** Every code a result can carry, with what it means: SARIF's `tool.driver.rules`. */
export const RULES: Readonly<Record<string, string>> = {
  NOT_ECR: 'The image comes from a private Amazon ECR registry',
  REGISTRY_NOT_ALLOWED: "The image's ECR registry is one the policy allows",
  INVALID_REFERENCE: 'The image reference can be parsed',
  INVALID_OBJECT: 'The pod spec is well formed',
  REPOSITORY_NOT_FOUND: "The image's repository exists",
  IMAGE_NOT_FOUND: 'The image exists in its repository',
  IMAGE_ARCHIVED: 'The image is active in ECR (not archived), so nodes can pull it',
  TAG_MUTABLE: "The image's tag cannot be moved (immutable tag or digest reference)",
  SCAN_ON_PUSH_DISABLED: "The image's repository scans images on push",
  SCAN_ON_PUSH_UNVERIFIED: "Scan on push can be confirmed for the image's repository",
  UNSCANNED: 'The image has a completed vulnerability scan',
  SEVERITY_LIMIT_EXCEEDED: "The image's findings are within the policy's severity limits",
  SCAN_TOO_OLD: "The image's last scan is recent enough",
  NOT_VERIFIED: 'The image could be verified (ECR answered in time)',
  EXCEPTION_EXPIRING: 'A finding exception of the policy expires soon',
};

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return '0.0.0';
  }
}

function location(result: CheckResult, line: number | undefined, path: string) {
  return {
    physicalLocation: {
      artifactLocation: { uri: result.file.replace(/\\/g, '/') },
      ...(line !== undefined && { region: { startLine: line } }),
    },
    logicalLocations: [
      {
        fullyQualifiedName: `${result.kind}/${result.namespace}/${result.name}${path ? `/${path}` : ''}`,
        kind: 'object',
      },
    ],
  };
}

export function formatSarif(results: readonly CheckResult[]): Record<string, unknown> {
  const ruleIds = Object.keys(RULES);
  const sarifResults = results.flatMap((result) => {
    const violations = result.violations.map((v) => ({
      ruleId: v.code,
      ruleIndex: ruleIds.indexOf(v.code),
      level: result.allowed ? 'warning' : 'error',
      message: { text: `${result.kind} ${result.namespace}/${result.name}: "${v.image}": ${v.message}` },
      locations: [location(result, v.line ?? result.line, v.path)],
    }));
    // Warnings that are not violations (unscanned under warn, exceptions expiring): `[CODE] image: clause`.
    const warnings = result.warnings
      .map((text) => ({ text, code: /^\[([A-Z_]+)\]/.exec(text)?.[1] }))
      .filter(({ code }) => code && !result.violations.some((v) => v.code === code))
      .map(({ text, code }) => ({
        ruleId: code,
        ruleIndex: ruleIds.indexOf(code ?? ''),
        level: 'warning',
        message: { text: `${result.kind} ${result.namespace}/${result.name}: ${text}` },
        locations: [location(result, result.line, '')],
      }));
    return [...violations, ...warnings];
  });
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'ecr-admission',
            version: version(),
            informationUri: INFORMATION_URI,
            rules: ruleIds.map((id) => ({
              id,
              shortDescription: { text: RULES[id] },
              defaultConfiguration: { level: 'error' },
            })),
          },
        },
        results: sarifResults,
      },
    ],
  };
}

/** One test suite per file, one test case per workload: denied fails, unverified errs, exempt is skipped. */
export function formatJunit(results: readonly CheckResult[]): string {
  const builder = junit.newBuilder();
  const suites = new Map<string, ReturnType<typeof builder.testSuite>>();
  for (const result of results) {
    let suite = suites.get(result.file);
    if (!suite) {
      suite = builder.testSuite().name(result.file);
      suites.set(result.file, suite);
    }
    const testCase = suite
      .testCase()
      .className(result.file)
      .name(`${result.kind} ${result.namespace}/${result.name}`)
      .file(result.file);
    const lines = result.violations.map((v) => `${v.path} "${v.image}": [${v.code}] ${v.message}`);
    if (result.result === 'denied') {
      testCase.failure(lines.join('\n'), [...new Set(result.violations.map((v) => v.code))].join(','));
    } else if (result.result === 'unverified') {
      testCase.error(lines.join('\n') || 'could not be judged', 'NOT_VERIFIED');
    } else if (result.result === 'exempt') {
      testCase.skipped();
    }
    const said = [...result.warnings, ...result.notes.map((n) => `note: ${n}`)];
    if (result.exempt) said.unshift(`exempt: ${result.exempt}`);
    if (said.length > 0) testCase.standardOutput(said.join('\n'));
  }
  if (results.length === 0) builder.testSuite().name('ecr-admission check');
  return builder.build();
}
