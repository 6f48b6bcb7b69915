import { REGION_SOURCE } from './aws-names';
/**
 * Image references as a Pod carries them, parsed the way the container runtime resolves them
 * (the grammar of distribution/reference), and private Amazon ECR registries recognised by an exact,
 * anchored host match.
 */
import { isAwsRegion } from './regions';

export interface EcrRegistry {
  /** The 12-digit AWS account that owns the registry. */
  readonly accountId: string;
  readonly region: string;
  readonly fips: boolean;
  readonly dualStack: boolean;
}

export interface ImageReference {
  /** The reference exactly as written in the object. */
  readonly raw: string;
  /** Registry host (with port when one is written); `docker.io` for Docker Hub short forms. */
  readonly registry: string;
  /** Repository path inside the registry (`library/nginx` for `nginx`). */
  readonly repository: string;
  /** The tag as written, or `latest` when neither a tag nor a digest is written. */
  readonly tag?: string;
  readonly digest?: string;
  /** Set when the registry host is a private Amazon ECR registry. */
  readonly ecr?: EcrRegistry;
}

export type ParsedReference = { ok: true; ref: ImageReference } | { ok: false; error: string };

const MAX_REFERENCE_LENGTH = 4096;
const MAX_REPOSITORY_LENGTH = 255;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const HOST_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const IPV6_HOST = /^\[[a-fA-F0-9:]+\]$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const SHA256 = /^sha256:[a-f0-9]{64}$/;

const REGION = `(${REGION_SOURCE})`;
const ECR_HOSTS = [
  new RegExp(`^(\\d{12})\\.dkr\\.ecr(-fips)?\\.${REGION}\\.amazonaws\\.com(?:\\.cn)?$`),
  new RegExp(`^(\\d{12})\\.dkr-ecr(-fips)?\\.${REGION}\\.on\\.aws$`),
];

export const PUBLIC_ECR_HOST = 'public.ecr.aws';

/** Recognises a private ECR registry host; anything not matching exactly (look-alikes, ports) is not ECR. */
export function parseEcrHost(host: string): EcrRegistry | undefined {
  for (const [index, pattern] of ECR_HOSTS.entries()) {
    const match = pattern.exec(host);
    if (match?.[1] && match[3]) {
      const region = match[3];
      // Only a region of an AWS partition: a made-up one is no registry (and no client, no cache key).
      if (!isAwsRegion(region)) return undefined;
      // China regions live under amazonaws.com.cn and nowhere else.
      if (index === 0 && region.startsWith('cn-') !== host.endsWith('.cn')) return undefined;
      return { accountId: match[1], region, fips: match[2] !== undefined, dualStack: index === 1 };
    }
  }
  return undefined;
}

function looksLikeHost(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost';
}

function validHost(host: string): boolean {
  const colon = host.startsWith('[') ? host.indexOf(']:') + 1 : host.lastIndexOf(':');
  const name = colon > 0 ? host.slice(0, colon) : host;
  const port = colon > 0 ? host.slice(colon + 1) : undefined;
  if (port !== undefined && !/^\d{1,5}$/.test(port)) return false;
  if (IPV6_HOST.test(name)) return true;
  return name.split('.').every((part) => HOST_COMPONENT.test(part));
}

/**
 * References repeat across requests (every Pod of a Deployment names the same images), so each string
 * is parsed once; the results are frozen, since callers share them. Bounded for a long-running server.
 */
const parsedReferences = new Map<string, ParsedReference>();
const MAX_PARSED_REFERENCES = 10_000;
const MAX_REMEMBERED_LENGTH = 512;

/** Parses a reference; never throws. The error names what is wrong in words a developer can act on. */
export function parseImageReference(input: unknown): ParsedReference {
  if (typeof input !== 'string' || input.length > MAX_REMEMBERED_LENGTH) return parseReference(input);
  let parsed = parsedReferences.get(input);
  if (!parsed) {
    parsed = parseReference(input);
    if (parsed.ok) {
      if (parsed.ref.ecr) Object.freeze(parsed.ref.ecr);
      Object.freeze(parsed.ref);
    }
    Object.freeze(parsed);
    if (parsedReferences.size >= MAX_PARSED_REFERENCES) parsedReferences.clear();
    parsedReferences.set(input, parsed);
  }
  return parsed;
}

function parseReference(input: unknown): ParsedReference {
  if (typeof input !== 'string') return { ok: false, error: 'the image is not a string' };
  const raw = input;
  if (raw.length === 0) return { ok: false, error: 'the image is empty' };
  if (raw.length > MAX_REFERENCE_LENGTH) return { ok: false, error: 'the image reference is too long' };
  if (raw.trim() !== raw || /\s/.test(raw))
    return { ok: false, error: 'the image reference contains whitespace' };

  let rest = raw;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return { ok: false, error: `"${digest}" is not a valid digest` };
    if (digest.startsWith('sha256:') && !SHA256.test(digest)) {
      return { ok: false, error: 'a sha256 digest must be 64 lowercase hexadecimal characters' };
    }
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return { ok: false, error: `"${tag}" is not a valid tag` };
  }

  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  let registry = 'docker.io';
  let repository = rest;
  if (slash >= 0 && looksLikeHost(first)) {
    registry = first;
    repository = rest.slice(slash + 1);
    if (!validHost(registry)) return { ok: false, error: `"${registry}" is not a valid registry host` };
  }
  // Checked before Docker Hub's `library/` prefix, which would otherwise hide an empty name.
  if (repository.length === 0) return { ok: false, error: 'the image has no repository name' };
  // Host names are DNS names: matched case-insensitively (the rest of the reference keeps its exact rules).
  const host = registry.toLowerCase();
  if (host === 'docker.io' || host === 'index.docker.io') {
    registry = 'docker.io';
    if (!repository.includes('/')) repository = `library/${repository}`;
  }
  if (repository.length > MAX_REPOSITORY_LENGTH)
    return { ok: false, error: 'the repository name is too long' };
  for (const component of repository.split('/')) {
    if (!PATH_COMPONENT.test(component)) {
      return {
        ok: false,
        error: `"${repository}" is not a valid repository name (lowercase letters, digits and separators only)`,
      };
    }
  }
  if (tag === undefined && digest === undefined) tag = 'latest';

  const ecr = parseEcrHost(host);
  const ref: ImageReference = {
    raw,
    registry,
    repository,
    ...(tag !== undefined && { tag }),
    ...(digest !== undefined && { digest }),
    ...(ecr && { ecr }),
  };
  return { ok: true, ref };
}

/** `registry/repository:tag@digest` with what was resolved, for messages. */
export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** The reference by digest of an image in a private ECR registry (standard endpoint of its partition). */
export function ecrDigestReference(
  registryId: string,
  region: string,
  repository: string,
  digest: string,
): ImageReference {
  const registry = `${registryId}.dkr.ecr.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
  return {
    raw: `${registry}/${repository}@${digest}`,
    registry,
    repository,
    digest,
    ecr: { accountId: registryId, region, fips: false, dualStack: false },
  };
}
