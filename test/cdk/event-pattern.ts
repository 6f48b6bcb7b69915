/**
 * A small EventBridge event-pattern matcher, for the pattern features the stack's rules use: exact
 * values (any of a list), nested objects, arrays in the event (any element matches), `exists`,
 * `prefix` and `anything-but`. No maintained npm package offers one offline; EventBridge's own
 * TestEventPattern needs AWS.
 *
 * One simplification: where a nested pattern meets an array of objects, one element must match the
 * whole nested pattern (EventBridge flattens arrays, so two keys may match in different elements).
 */
type Pattern = { readonly [key: string]: unknown };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function matchesValue(condition: unknown, value: unknown): boolean {
  if (!isRecord(condition)) return condition === value;
  if ('prefix' in condition) return typeof value === 'string' && value.startsWith(String(condition.prefix));
  if ('anything-but' in condition) {
    const excluded = condition['anything-but'];
    return !(Array.isArray(excluded) ? excluded : [excluded]).some((item) => matchesValue(item, value));
  }
  throw new Error(`unsupported pattern condition ${JSON.stringify(condition)}`);
}

function matchesField(rule: unknown, present: boolean, value: unknown): boolean {
  if (isRecord(rule)) {
    if (!present) return false;
    const elements = Array.isArray(value) ? value : [value];
    return elements.some((element) => isRecord(element) && matchesPattern(rule, element));
  }
  if (!Array.isArray(rule)) throw new Error(`a pattern leaf must be an array, got ${JSON.stringify(rule)}`);
  return rule.some((condition) => {
    if (isRecord(condition) && 'exists' in condition) return condition.exists === present;
    if (!present) return false;
    const values = Array.isArray(value) ? value : [value];
    return values.some((item) => matchesValue(condition, item));
  });
}

/** Whether `event` matches `pattern` (both as JSON objects, with the wire names: `detail-type`). */
export function matchesPattern(pattern: Pattern, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, rule]) => matchesField(rule, key in event, event[key]));
}
