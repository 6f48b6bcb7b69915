/**
 * The CDK app: `npx cdk synth` / `npx cdk deploy` (docs/deploy.md). Settings come from context
 * (cdk.json, or `-c key=value`); a bad setting or policy stops synth with one line naming it.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { EcrAdmissionError } from '../src/domain/errors';
import { loadDeployedPolicy } from './policy-source';
import { settingsFromContext } from './settings';
import { EcrAdmissionStack } from './stack';

const app = new App();
try {
  const settings = settingsFromContext(app.node);
  new EcrAdmissionStack(app, 'EcrAdmission', {
    description: 'ecr-admission: Kubernetes admission webhook that admits only compliant Amazon ECR images',
    settings,
    policy: loadDeployedPolicy(settings.policyFile),
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
} catch (error) {
  if (error instanceof EcrAdmissionError) {
    process.stderr.write(`ecr-admission: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
