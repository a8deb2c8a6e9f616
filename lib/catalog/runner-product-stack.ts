/**
 * Base of the catalog's product stacks: a ProductStack that can fingerprint its own template, so
 * a product version is named after exactly what it deploys.
 */
import { createHash } from 'node:crypto';
import * as servicecatalog from 'aws-cdk-lib/aws-servicecatalog';

export abstract class RunnerProductStack extends servicecatalog.ProductStack {
  /** sha256 (hex, 12 characters) of the product's CloudFormation template; changes exactly when the template does. */
  public templateFingerprint(): string {
    return createHash('sha256').update(JSON.stringify(this._toCloudFormation())).digest('hex').slice(0, 12);
  }
}
