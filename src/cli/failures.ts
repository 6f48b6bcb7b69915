/**
 * What the command line says on stderr when the failure mode answered, or the decision cache could not
 * be used: the cause class and the advice that fits it, once per distinct cause (never AWS's own text).
 */
import { describeCause, failureCause } from '../domain/errors';

export function reportFailures(command: string): (what: string, error: unknown) => void {
  const said = new Set<string>();
  return (what, error) => {
    const cache = what.startsWith('decision cache');
    const cause = describeCause(failureCause(error), cache ? 'the decision cache (DynamoDB)' : 'ECR');
    const subject = cache ? what : `${what.replace(/^facts of /, '')} could not be judged`;
    const outcome = cache ? '; judged from ECR instead' : '';
    const line = `ecr-admission ${command}: ${subject}: ${cause.what}${outcome}; ${cause.advice}`;
    if (said.has(line)) return;
    said.add(line);
    process.stderr.write(`${line}\n`);
  };
}
