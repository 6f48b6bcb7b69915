/**
 * `ecr-admission review`: one AdmissionReview from stdin, answered with the response review on stdout.
 * Always exit 0 with the answer in the response (2 for input that cannot be parsed); a failure the
 * failure mode answered is also said on stderr, with its cause.
 */
import { readFileSync } from 'node:fs';
import {
  formatAdmissionResponse,
  formatMutationResponse,
  parseAdmissionReview,
} from '../http/admission-review';
import { buildAdmissionService, type CoreOptions } from '../wiring/cli';
import { reportFailures } from './failures';

function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch {
    return '';
  }
}

export async function reviewCommand(options: CoreOptions & { mutate?: boolean }): Promise<number> {
  const service = buildAdmissionService(options, { onFailure: reportFailures('review') });
  const { apiVersion, request } = parseAdmissionReview(readStdin());
  const response = options.mutate
    ? formatMutationResponse(apiVersion, request.uid, await service.mutate(request))
    : formatAdmissionResponse(apiVersion, request.uid, await service.review(request));
  process.stdout.write(`${JSON.stringify(response)}\n`);
  return 0;
}
