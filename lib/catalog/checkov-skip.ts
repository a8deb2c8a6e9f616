/**
 * checkov reads skips from a resource's `Metadata.checkov.skip` in CloudFormation templates. Used
 * for the few resources of the catalog whose finding is deliberate, each with its reason; the
 * project-wide skips stay in .checkov.yaml.
 */
import type { CfnResource } from 'aws-cdk-lib';

export function skipCheckov(resource: CfnResource, id: string, comment: string): void {
  const metadata = (resource.getMetadata('checkov') as { skip?: Array<{ id: string; comment: string }> } | undefined) ?? {};
  resource.addMetadata('checkov', { ...metadata, skip: [...(metadata.skip ?? []), { id, comment }] });
}
