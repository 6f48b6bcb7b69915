/**
 * CEL as the kube-apiserver runs it for admission (@marcbachmann/cel-js): `object` and `oldObject`
 * untyped, `request` typed as Kubernetes declares it (kubernetes.AdmissionRequest), so that an
 * expression that would not compile there fails `check` here. At run time every variable is the plain
 * JSON the server converts it from, so a field left out (`request.subResource` when empty, a list
 * `omitempty` drops) is a "no such key" error, as it is there.
 */
type Cel = typeof import('@marcbachmann/cel-js', { with: { 'resolution-mode': 'import' }});
// The package ships ES modules only: jest compiles it to CommonJS (jest.config.js), so it is required.
const { Environment } = require('@marcbachmann/cel-js') as Cel;
type CelEnvironment = InstanceType<Cel['Environment']>;

const GROUP_VERSION_KIND = { group: 'string', version: 'string', kind: 'string' };
const GROUP_VERSION_RESOURCE = { group: 'string', version: 'string', resource: 'string' };

/** The fields of kubernetes.AdmissionRequest, as the apiserver declares `request`. */
const ADMISSION_REQUEST = {
  uid: 'string',
  kind: GROUP_VERSION_KIND,
  resource: GROUP_VERSION_RESOURCE,
  subResource: 'string',
  requestKind: GROUP_VERSION_KIND,
  requestResource: GROUP_VERSION_RESOURCE,
  requestSubResource: 'string',
  name: 'string',
  namespace: 'string',
  operation: 'string',
  userInfo: { username: 'string', uid: 'string', groups: 'list<string>', extra: 'map<string, list<string>>' },
  dryRun: 'bool',
  options: 'dyn',
};

function admissionEnvironment(untyped: readonly string[]): CelEnvironment {
  const env = new Environment();
  for (const name of untyped) env.registerVariable(name, 'dyn');
  return env.registerVariable({ name: 'request', schema: ADMISSION_REQUEST });
}

/** A webhook's matchConditions: `object`, `oldObject`, `request` (and `authorizer`, unused here). */
export const MATCH_CONDITIONS = admissionEnvironment(['object', 'oldObject']);
/** A ValidatingAdmissionPolicy's validations: also `params` and `namespaceObject`. */
export const POLICY_VALIDATIONS = admissionEnvironment(['object', 'oldObject', 'params', 'namespaceObject']);

/** The type `check` infers, or the reason the expression does not compile. */
export function compile(env: CelEnvironment, expression: string): { type: string } | { error: string } {
  const result = env.check(expression);
  return result.valid ? { type: String(result.type) } : { error: String(result.error?.message) };
}

export type Outcome = { readonly value: unknown } | { readonly error: string };

/**
 * The expression's value for an AdmissionReview's `request`, bound as the apiserver binds it
 * (`oldObject` null on CREATE), or the error it raises.
 */
export function evaluateOnRequest(
  env: CelEnvironment,
  expression: string,
  request: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Outcome {
  const { object = null, oldObject = null, ...rest } = request;
  try {
    return { value: env.evaluate(expression, { request: rest, object, oldObject, ...extra }) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}
