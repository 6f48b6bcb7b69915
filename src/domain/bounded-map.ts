/**
 * In-process memories bounded in entries: a Map's insertion order is its recency order when each use
 * deletes and re-inserts its key, so the first keys are the least recently used.
 */

/** Sets a key as the most recently used, then drops the least recently used beyond `max`. */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > max) {
    const oldest = map.keys().next().value;
    if (oldest === undefined) break;
    map.delete(oldest);
  }
}
