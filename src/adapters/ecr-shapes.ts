/**
 * ECR's own API output shapes (the parts this project reads), as schemas. The live SDK adapter and the
 * registry snapshot file are both parsed with these, so one parser serves a live lookup and a file.
 * Unknown keys are kept out of the way (recorded API output carries many), missing optional keys are fine.
 */
import * as z from 'zod';

/** ISO string, epoch seconds (as recorded by the CLI) or a Date (as the SDK returns): always an ISO string. */
export const timestamp = z.union([z.string(), z.number(), z.date()]).transform((value, ctx) => {
  const date =
    value instanceof Date ? value : typeof value === 'number' ? new Date(value * 1000) : new Date(value);
  if (Number.isNaN(date.getTime())) {
    ctx.addIssue({
      code: 'custom',
      message: `expected an ISO time or epoch seconds, got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  return date.toISOString();
});

const filter = z.looseObject({ filter: z.string(), filterType: z.string().optional() });

export const registryScanningShape = z.looseObject({
  scanType: z.string(),
  rules: z
    .array(
      z.looseObject({
        scanFrequency: z.string(),
        repositoryFilters: z.array(filter).default([]),
      }),
    )
    .default([]),
});

export const repositoryShape = z.looseObject({
  repositoryName: z.string().min(1),
  registryId: z.string().optional(),
  imageTagMutability: z
    .enum(['MUTABLE', 'IMMUTABLE', 'IMMUTABLE_WITH_EXCLUSION', 'MUTABLE_WITH_EXCLUSION'])
    .default('MUTABLE'),
  imageTagMutabilityExclusionFilters: z.array(filter).nullish(),
  imageScanningConfiguration: z.looseObject({ scanOnPush: z.boolean().optional() }).nullish(),
});

export const repositoryScanningShape = z.looseObject({
  repositoryName: z.string().optional(),
  scanOnPush: z.boolean().default(false),
  scanFrequency: z.string().optional(),
});

export const imageDetailShape = z.looseObject({
  imageDigest: z.string().regex(/^[a-z0-9]+:[a-zA-Z0-9=_-]+$/, 'expected a digest such as sha256:...'),
  imageTags: z.array(z.string()).nullish(),
  imageManifestMediaType: z.string().optional(),
  artifactMediaType: z.string().optional(),
  imagePushedAt: timestamp.optional(),
  /** `ACTIVE`, `ARCHIVED` (cannot be pulled) or `ACTIVATING` (being restored); absent from older answers. */
  imageStatus: z.string().optional(),
});

/** An entry of `DescribePullThroughCacheRules`. */
export const pullThroughCacheRuleShape = z.looseObject({
  ecrRepositoryPrefix: z.string().min(1),
  upstreamRegistryUrl: z.string().min(1),
  upstreamRegistry: z.string().optional(),
  upstreamRepositoryPrefix: z.string().optional(),
});

/** An entry of `DescribeRepositoryCreationTemplates`. */
export const creationTemplateShape = z.looseObject({
  prefix: z.string().min(1),
  appliedFor: z.array(z.string()).default([]),
  // ECR's default for a repository it creates without a setting.
  imageTagMutability: repositoryShape.shape.imageTagMutability,
  imageTagMutabilityExclusionFilters: z.array(filter).nullish(),
});

const severityCounts = z.record(z.string(), z.number().int().nonnegative());

export const scanShape = z.looseObject({
  imageScanStatus: z.looseObject({ status: z.string(), description: z.string().nullish() }).nullish(),
  imageScanFindings: z
    .looseObject({
      imageScanCompletedAt: timestamp.nullish(),
      vulnerabilitySourceUpdatedAt: timestamp.nullish(),
      findingSeverityCounts: severityCounts.nullish(),
      findings: z
        .array(
          z.looseObject({
            name: z.string().optional(),
            severity: z.string().optional(),
            attributes: z.array(z.looseObject({ key: z.string(), value: z.string().nullish() })).nullish(),
          }),
        )
        .nullish(),
      enhancedFindings: z
        .array(
          z.looseObject({
            title: z.string().optional(),
            severity: z.string().optional(),
            status: z.string().optional(),
            score: z.number().nullish(),
            fixAvailable: z.string().nullish(),
            exploitAvailable: z.string().nullish(),
            firstObservedAt: timestamp.nullish(),
            packageVulnerabilityDetails: z
              .looseObject({
                vulnerabilityId: z.string().optional(),
                vulnerablePackages: z
                  .array(
                    z.looseObject({
                      name: z.string().nullish(),
                      version: z.string().nullish(),
                      fixedInVersion: z.string().nullish(),
                    }),
                  )
                  .nullish(),
              })
              .nullish(),
          }),
        )
        .nullish(),
    })
    .nullish(),
});

export type RegistryScanningShape = z.output<typeof registryScanningShape>;
export type RepositoryShape = z.output<typeof repositoryShape>;
export type RepositoryScanningShape = z.output<typeof repositoryScanningShape>;
export type ImageDetailShape = z.output<typeof imageDetailShape>;
export type ScanShape = z.output<typeof scanShape>;
export type PullThroughCacheRuleShape = z.output<typeof pullThroughCacheRuleShape>;
export type CreationTemplateShape = z.output<typeof creationTemplateShape>;
