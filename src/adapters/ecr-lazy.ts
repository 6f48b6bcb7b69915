/**
 * ECR's reads through the SDK, loaded on the first call. ECR is read only on a cache miss, so its SDK
 * client (and STS, for registry roles) loads on first use instead of at cold start. The admission
 * Lambda ships `./ecr-sdk` as a second file next to its bundle, loaded by this `require`
 * (docs/performance.md); everywhere else it is an ordinary lazy require.
 */
import type { EcrCatalog } from '../domain/facts';
import type { EcrReads } from './ecr-facts';
import type { EcrSdkOptions, EcrSdkReads } from './ecr-sdk';

function loadEcrSdk(): typeof import('./ecr-sdk') {
  return require('./ecr-sdk');
}

export class LazyEcrReads implements EcrReads, EcrCatalog {
  private reads: EcrSdkReads | undefined;

  constructor(private readonly options: EcrSdkOptions) {}

  private get sdk(): EcrSdkReads {
    this.reads ??= new (loadEcrSdk().EcrSdkReads)(this.options);
    return this.reads;
  }

  describeRepository: EcrReads['describeRepository'] = (...args) => this.sdk.describeRepository(...args);
  describeImage: EcrReads['describeImage'] = (...args) => this.sdk.describeImage(...args);
  registryScanning: EcrReads['registryScanning'] = (...args) => this.sdk.registryScanning(...args);
  repositoryScanning: EcrReads['repositoryScanning'] = (...args) => this.sdk.repositoryScanning(...args);
  imageManifest: EcrReads['imageManifest'] = (...args) => this.sdk.imageManifest(...args);
  scanFindings: EcrReads['scanFindings'] = (...args) => this.sdk.scanFindings(...args);
  pullThroughCacheRules: EcrReads['pullThroughCacheRules'] = (...args) =>
    this.sdk.pullThroughCacheRules(...args);
  repositoryCreationTemplates: EcrReads['repositoryCreationTemplates'] = (...args) =>
    this.sdk.repositoryCreationTemplates(...args);
  listRepositories: EcrCatalog['listRepositories'] = (...args) => this.sdk.listRepositories(...args);
  listImages: EcrCatalog['listImages'] = (...args) => this.sdk.listImages(...args);
}
