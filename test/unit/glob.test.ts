/**
 * Image exemption globs: the settled semantics (README, Policy), one example per row. The reference is
 * matched written out in full (`busybox` is `docker.io/library/busybox:latest`).
 */
import { compileImageGlobs } from '../../src/domain/glob';
import { formatReference, parseImageReference } from '../../src/domain/image-ref';

const EKS = '602401143452.dkr.ecr';

function exempts(glob: string, image: string): boolean {
  const parsed = parseImageReference(image);
  if (!parsed.ok) throw new Error(`test image ${image} is invalid: ${parsed.error}`);
  return compileImageGlobs([glob])(formatReference(parsed.ref));
}

describe('image exemption globs', () => {
  test.each([
    {
      name: 'a star in the host matches one DNS label, so every region of the EKS registry is exempt',
      glob: `${EKS}.*.amazonaws.com/*`,
      image: `${EKS}.eu-west-1.amazonaws.com/amazon-k8s-cni:v1.18.0`,
      exempt: true,
    },
    {
      name: 'a star in the host never crosses a dot',
      glob: `${EKS}.*.amazonaws.com/*`,
      image: `${EKS}.evil.s3.amazonaws.com/x:1`,
      exempt: false,
    },
    {
      name: 'the host part never matches a look-alike host hiding the pattern in its path',
      glob: `${EKS}.*.amazonaws.com/*`,
      image: `${EKS}.evil.example/x.amazonaws.com/cni:1`,
      exempt: false,
    },
    {
      name: 'a glob without a slash is a host pattern: it matches every image of that host',
      glob: `${EKS}.us-west-2.amazonaws.com`,
      image: `${EKS}.us-west-2.amazonaws.com/eks/coredns:v1.11.1`,
      exempt: true,
    },
    {
      name: 'a host pattern ending in a star does not match a longer host with more labels',
      glob: `${EKS}.us-west-2.amazonaws.com*`,
      image: `${EKS}.us-west-2.amazonaws.com.evil.example/x:1`,
      exempt: false,
    },
    {
      name: 'the host is compared case-insensitively',
      glob: 'Registry.K8S.io',
      image: 'registry.k8s.io/pause:3.9',
      exempt: true,
    },
    {
      name: 'a star in the path matches slashes',
      glob: 'registry.k8s.io/*',
      image: 'registry.k8s.io/coredns/coredns:v1.11.1',
      exempt: true,
    },
    {
      name: 'the path part is matched exactly, case included',
      glob: 'registry.k8s.io/pause:3.9',
      image: 'registry.k8s.io/pause:3.10',
      exempt: false,
    },
    {
      name: 'a Docker Hub short name is matched as written out in full',
      glob: 'docker.io/library/*',
      image: 'busybox:1.36',
      exempt: true,
    },
    {
      name: 'a host pattern does not match a short name on another registry',
      glob: 'busybox*',
      image: 'busybox:1.36',
      exempt: false,
    },
    {
      name: 'a reference with no tag is matched with the tag it resolves to',
      glob: 'docker.io/library/nginx:latest',
      image: 'nginx',
      exempt: true,
    },
  ])('$name', ({ glob, image, exempt }) => {
    expect(exempts(glob, image)).toBe(exempt);
  });
});
