/**
 * The policy file, as deployed: validated at synth with the very parser the functions use (a bad
 * policy fails `cdk synth` with the file and the key's path), then handed to the functions as JSON
 * text in the `POLICY` environment variable.
 */
import { parsePolicyText, readPolicyFile } from '../src/adapters/files';
import { PolicySourceError } from '../src/domain/errors';
import { type Policy, policyHash } from '../src/domain/policy';

/**
 * Lambda allows 4 KB for all of a function's environment variables together; the other variables
 * take well under 512 bytes.
 */
export const MAX_POLICY_JSON_BYTES = 3_500;

export interface DeployedPolicy {
  readonly file: string;
  readonly policy: Policy;
  /** The document as written (defaults left implicit), as compact JSON: what `POLICY` carries. */
  readonly json: string;
  /** Changes whenever the policy's content does (the same hash the workflow stores with verdicts). */
  readonly hash: string;
}

export function loadDeployedPolicy(file: string): DeployedPolicy {
  const { document, policy } = readPolicyFile(file);
  const json = JSON.stringify(document ?? {});
  // What the functions will parse is the JSON text, not the YAML: check it says the same.
  const reparsed = parsePolicyText(json, `${file} (as JSON)`);
  const hash = policyHash(policy);
  if (policyHash(reparsed) !== hash) {
    throw new PolicySourceError(`${file}: the policy does not survive conversion to JSON; write it in JSON`);
  }
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_POLICY_JSON_BYTES) {
    throw new PolicySourceError(
      `${file}: the policy is ${bytes} bytes as JSON; Lambda environment variables allow about ` +
        `${MAX_POLICY_JSON_BYTES} for it (shorten reasons, or merge exemptions into globs)`,
    );
  }
  return { file, policy, json, hash };
}
