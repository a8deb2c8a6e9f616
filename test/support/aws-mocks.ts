/**
 * The three AWS SDK clients the fleet Lambdas use, each wrapped by aws-sdk-client-mock, so no
 * test sends a request to AWS.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';

export function mockedAwsClients(region = 'eu-central-1') {
  const ec2 = new EC2Client({ region });
  const autoScaling = new AutoScalingClient({ region });
  const secrets = new SecretsManagerClient({ region });
  const ec2Mock = mockClient(ec2);
  const asgMock = mockClient(autoScaling);
  const secretsMock = mockClient(secrets);
  return {
    ec2,
    autoScaling,
    secrets,
    ec2Mock,
    asgMock,
    secretsMock,
    /** Forgets every scripted answer and recorded call. */
    resetAwsMocks(): void {
      ec2Mock.reset();
      asgMock.reset();
      secretsMock.reset();
    },
  };
}
