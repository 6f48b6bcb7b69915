/**
 * The import arrows of docs/design.md's architecture, held by reading every source file's imports:
 * entry points → wiring → http / application / adapters; http → application → domain; adapters →
 * domain; everything may use contracts; the domain and the contracts import nothing of ours.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const SRC = join(ROOT, 'src');

type Layer = 'domain' | 'contracts' | 'application' | 'adapters' | 'http' | 'wiring' | 'handlers' | 'cli';

/** What each layer may import, besides itself. */
const ALLOWED: Record<Layer, readonly Layer[]> = {
  domain: [],
  contracts: [],
  application: ['domain', 'contracts'],
  adapters: ['domain', 'contracts'],
  http: ['application', 'domain', 'contracts', 'adapters'],
  wiring: ['application', 'adapters', 'http', 'domain', 'contracts'],
  handlers: ['wiring', 'http', 'adapters', 'application', 'domain', 'contracts'],
  cli: ['wiring', 'http', 'adapters', 'application', 'domain', 'contracts'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

function layerOf(file: string): Layer {
  return relative(SRC, file).split('/')[0] as Layer;
}

/** Every relative module a file imports or requires, resolved to a file path under src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gms),
    ...text.matchAll(/(?:require|import)\('([^']+)'\)/g),
  ].map((m) => m[1] as string);
  return specifiers.filter((s) => s.startsWith('.')).map((s) => resolve(dirname(file), s));
}

const files = sourceFiles(SRC);

describe('the layers of src/', () => {
  test('every folder of src/ is a known layer', () => {
    const layers = new Set(files.map(layerOf));
    expect([...layers].sort()).toEqual(Object.keys(ALLOWED).sort());
  });

  test.each(files.map((file) => ({ file: relative(ROOT, file), path: file })))(
    '$file imports only the layers its own may depend on',
    ({ path }) => {
      const own = layerOf(path);
      const wrong = importsOf(path)
        .map((target) => ({ target: relative(ROOT, target), layer: layerOf(target) }))
        .filter(({ layer }) => layer !== own && !ALLOWED[own].includes(layer));
      expect(wrong).toEqual([]);
    },
  );
});
