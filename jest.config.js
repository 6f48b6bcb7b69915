/**
 * Five tiers, all run by `npm test`: fast unit tests, integration and end-to-end tests, the fault tier
 * (faults injected into local ECR and DynamoDB), the infrastructure tests (the CDK app, cdk-nag, the
 * webhook configuration), and the contract tests that hold the synthesized stack to AWS's own
 * references (IAM simulation, CloudFormation schemas, documented events, the metrics the alarms read).
 */
// Powertools' handler decorators are TypeScript's (legacy) decorators, as tsc and esbuild compile them.
const swc = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true },
  },
};
// @marcbachmann/cel-js (the CEL evaluator the webhook's matchConditions are tested with) ships ES
// modules only: compiled to CommonJS like the sources.
const transform = {
  '^.+\\.ts$': ['@swc/jest', swc],
  '/node_modules/@marcbachmann/cel-js/.+\\.js$': ['@swc/jest', { module: { type: 'commonjs' } }],
};
const transformIgnorePatterns = ['/node_modules/(?!@marcbachmann/cel-js/)'];
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
      transform,
      transformIgnorePatterns,
      testEnvironment: 'node',
    },
    {
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts', '<rootDir>/test/e2e/**/*.test.ts'],
      transform,
      transformIgnorePatterns,
      testEnvironment: 'node',
    },
    {
      displayName: 'fault',
      testMatch: ['<rootDir>/test/fault/**/*.test.ts'],
      transform,
      transformIgnorePatterns,
      testEnvironment: 'node',
    },
    {
      displayName: 'cdk',
      testMatch: ['<rootDir>/test/cdk/**/*.test.ts'],
      transform,
      transformIgnorePatterns,
      testEnvironment: 'node',
    },
    {
      displayName: 'contract',
      testMatch: ['<rootDir>/test/contract/**/*.test.ts'],
      transform,
      transformIgnorePatterns,
      testEnvironment: 'node',
    },
  ],
};
