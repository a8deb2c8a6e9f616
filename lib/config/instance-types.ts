/**
 * Instance type names and the CPU architecture they imply.
 *
 * Pure: no AWS SDK. The architecture is read off the instance family name, which is how
 * AWS names Graviton families ("m7g", "c7gn", "r8gd", "t4g", "im4gn", "a1"), so a
 * config is checked without a DescribeInstanceTypes call and without credentials.
 */

export type Architecture = 'arm64' | 'x86_64';

export const ARCHITECTURES: readonly Architecture[] = ['arm64', 'x86_64'];

const INSTANCE_TYPE_PATTERN =
  /^(?<family>(?<series>[a-z]+)(?<generation>\d+)(?<attributes>[a-z-]*))\.(?<size>nano|micro|small|medium|large|metal|\d*xlarge|metal-\d+xl)$/;

/** The parts of an EC2 instance type name such as `m7g.large`. */
export interface InstanceTypeName {
  readonly name: string;
  /** `m7g` */
  readonly family: string;
  /** `m` */
  readonly series: string;
  /** `7` */
  readonly generation: number;
  /** `g`, `gd`, `gn`, `i`, `a`, ... */
  readonly attributes: string;
  /** `large`, `xlarge`, `2xlarge`, ... */
  readonly size: string;
}

/** Parses an instance type name; returns undefined when it is not shaped like one. */
export function parseInstanceType(name: string): InstanceTypeName | undefined {
  const match = INSTANCE_TYPE_PATTERN.exec(name);
  if (!match?.groups) return undefined;
  const { family, series, generation, attributes, size } = match.groups;
  return { name, family, series, generation: Number(generation), attributes, size };
}

/**
 * The CPU architecture of an instance type, or undefined for names we cannot classify
 * (Mac instances, malformed names).
 *
 * Graviton families carry a `g` as the first attribute after the generation (m6g, c7gn,
 * r8gd, t4g, x2gd, im4gn, is4gen); `a1` is the first-generation Graviton. Everything else
 * in the families this tool supports is x86_64. GPU families such as g5 are x86_64 because
 * their `g` is the series, not an attribute; g5g is arm64 by the same rule.
 */
export function architectureOf(name: string): Architecture | undefined {
  const parsed = parseInstanceType(name);
  if (!parsed) return undefined;
  if (parsed.series === 'mac') return undefined;
  if (parsed.series === 'a' && parsed.generation === 1) return 'arm64';
  return parsed.attributes.startsWith('g') ? 'arm64' : 'x86_64';
}
