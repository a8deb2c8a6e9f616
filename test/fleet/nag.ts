/**
 * Runs the cdk-nag AwsSolutions pack over a construct tree and lists unacknowledged findings
 * as `rule at path`, for tests that require a construct to be nag-clean.
 */
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

export function awsSolutionsFindings(scope: IConstruct): string[] {
  const report = new AwsSolutionsChecks().validateScope(scope);
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
}
