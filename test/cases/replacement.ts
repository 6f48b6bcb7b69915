/** Runs one case of the replacement table against a decision store: what its key holds after both writes. */
import { type DecisionStore, factsContent, lookupKey } from '../../src/domain/decision-store';
import { REPO, type ReplacementCase } from './replacement-cases';

export async function expectStoreFollows(store: DecisionStore, c: ReplacementCase): Promise<void> {
  const key = lookupKey({ ...REPO, ...c.key });
  await store.put({ facts: c.stored });
  const outcome = await store.put({ facts: c.next });
  const found = await store.getMany([{ ...REPO, ...c.key }]);

  const expected = c.outcome === 'replace' ? c.next : c.stored;
  expect(found.get(key) && factsContent(found.get(key)?.facts ?? c.stored)).toBe(factsContent(expected));
  expect(outcome.written.includes(key)).toBe(c.outcome === 'replace');
}
