/**
 * Reading the files the commands take (policy, snapshot, manifests): each failure is a FileError that
 * names the file and what is wrong with it, in one line.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Document, isNode, LineCounter, parseAllDocuments, parse as parseYaml } from 'yaml';
import { FileError, PolicyError, SnapshotError } from '../domain/errors';
import { type Policy, parsePolicy } from '../domain/policy';
import { SnapshotReads } from './snapshot';

export function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : 'cannot be read';
    throw new FileError(file, why, { cause: error });
  }
}

/** A YAML or JSON document (JSON is YAML). */
function parseDocument(file: string, text: string): unknown {
  try {
    return parseYaml(text, { prettyErrors: false });
  } catch (error) {
    throw new FileError(file, `not valid YAML or JSON (${(error as Error).message})`, {
      cause: error,
    });
  }
}

export function parsePolicyText(text: string, source: string): Policy {
  return parsePolicyDocument(parseDocument(source, text), source);
}

/** A policy file's document as written (YAML or JSON), with the policy it holds, read and parsed once. */
export function readPolicyFile(file: string): { readonly document: unknown; readonly policy: Policy } {
  const document = parseDocument(file, readText(file));
  return { document, policy: parsePolicyDocument(document, file) };
}

function parsePolicyDocument(document: unknown, source: string): Policy {
  try {
    return parsePolicy(document);
  } catch (error) {
    if (error instanceof PolicyError)
      throw new FileError(source, `invalid policy: ${error.message}`, { cause: error });
    throw error;
  }
}

export function loadPolicyFile(file: string): Policy {
  return parsePolicyText(readText(file), file);
}

export function loadSnapshotFile(file: string): SnapshotReads {
  const text = readText(file);
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new FileError(file, `not valid JSON (${(error as Error).message})`, { cause: error });
  }
  try {
    return new SnapshotReads(document);
  } catch (error) {
    if (error instanceof SnapshotError)
      throw new FileError(file, `invalid registry snapshot: ${error.message}`);
    throw error;
  }
}

export interface ManifestObject {
  readonly file: string;
  /** 1-based document number in the file, for messages. */
  readonly document: number;
  readonly object: Record<string, unknown>;
  /** 1-based line where the object starts. */
  readonly line?: number;
  /** 1-based line of a field of the object, by its path (`spec.containers[0].image`), when known. */
  readonly lineOf?: (path: string) => number | undefined;
}

/** How stdin is named in messages and reports (`-f -`). */
export const STDIN_NAME = '<stdin>';

/** `spec.containers[0].image` as the keys of a YAML path: ['spec', 'containers', 0, 'image']. */
function pathKeys(path: string): (string | number)[] {
  return [...path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) =>
    m[2] !== undefined ? Number(m[2]) : (m[1] ?? ''),
  );
}

const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json'];

/**
 * The objects of a manifest file, or of every manifest file (`.yaml`, `.yml`, `.json`) in a directory,
 * as `kubectl apply -f DIR` takes them (not recursive).
 */
export function loadManifests(path: string): ManifestObject[] {
  if (path === '-') return parseManifests(STDIN_NAME, readStdinText());
  let entries: string[];
  try {
    if (!statSync(path).isDirectory()) return loadManifestFile(path);
    entries = readdirSync(path).sort();
  } catch (error) {
    if (error instanceof FileError) throw error;
    throw new FileError(path, 'no such file or directory', { cause: error });
  }
  return entries
    .filter((name) => MANIFEST_EXTENSIONS.some((ext) => name.endsWith(ext)))
    .flatMap((name) => loadManifestFile(join(path, name)));
}

function readStdinText(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch (error) {
    throw new FileError(STDIN_NAME, 'cannot be read', { cause: error });
  }
}

/** Every object in multi-document Kubernetes YAML; `kind: List` is opened into its items. */
export function loadManifestFile(file: string): ManifestObject[] {
  return parseManifests(file, readText(file));
}

export function parseManifests(file: string, text: string): ManifestObject[] {
  const objects: ManifestObject[] = [];
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { prettyErrors: false, lineCounter });
  if (!Array.isArray(documents)) {
    throw new FileError(file, 'not valid YAML');
  }
  const lineAt = (offset: number | undefined) =>
    offset === undefined ? undefined : lineCounter.linePos(offset).line;
  const locator =
    (doc: Document.Parsed, prefix: (string | number)[]) =>
    (path: string): number | undefined => {
      const node = doc.getIn([...prefix, ...pathKeys(path)], true);
      return isNode(node) ? lineAt(node.range?.[0]) : undefined;
    };
  documents.forEach((doc, index) => {
    const where = `document ${index + 1}`;
    const [error] = doc.errors;
    if (error) {
      const at = lineCounter.linePos(error.pos[0]);
      const message = error.message.replace(/ at line \d+, column \d+.*$/s, '');
      throw new FileError(file, `line ${at.line}, column ${at.col}: ${where} is not valid YAML (${message})`);
    }
    const line = lineAt(doc.contents?.range?.[0]);
    let value: unknown;
    try {
      value = doc.toJS();
    } catch (error) {
      // An alias to nothing, or one that expands without bound.
      throw new FileError(file, `${where} cannot be read (${(error as Error).message})`, { cause: error });
    }
    if (value === null || value === undefined) return;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new FileError(file, `${where} is not a Kubernetes object`);
    }
    const object = value as Record<string, unknown>;
    if (typeof object.kind !== 'string' || typeof object.apiVersion !== 'string') {
      throw new FileError(file, `${where} has no kind or apiVersion`);
    }
    if (object.kind === 'List' || object.kind.endsWith('List')) {
      if (!Array.isArray(object.items))
        throw new FileError(file, `${where} is a ${object.kind} without items`);
      object.items.forEach((item: unknown, at: number) => {
        if (
          typeof item === 'object' &&
          item !== null &&
          typeof (item as { kind?: unknown }).kind === 'string'
        ) {
          const lineOf = locator(doc, ['items', at]);
          objects.push({
            file,
            document: index + 1,
            object: item as Record<string, unknown>,
            ...optionalLine(lineOf('kind')),
            lineOf,
          });
        }
      });
      return;
    }
    objects.push({ file, document: index + 1, object, ...optionalLine(line), lineOf: locator(doc, []) });
  });
  return objects;
}

function optionalLine(line: number | undefined): { line?: number } {
  return line === undefined ? {} : { line };
}
