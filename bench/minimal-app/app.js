#!/usr/bin/env node
/**
 * The floor `npm run bench` compares our synth with: the smallest app any aws-cdk-lib user
 * writes for a runner group, one stack holding one Auto Scaling group with a launch template,
 * on CDK defaults (built-in validation included). Plain JavaScript, so nothing is compiled.
 */
const { App, Stack } = require('aws-cdk-lib');
const autoscaling = require('aws-cdk-lib/aws-autoscaling');
const ec2 = require('aws-cdk-lib/aws-ec2');

const app = new App();
const stack = new Stack(app, 'MinimalAsg');
const vpc = new ec2.Vpc(stack, 'Vpc', {
  maxAzs: 2,
  natGateways: 0,
  subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }],
});
const launchTemplate = new ec2.LaunchTemplate(stack, 'LaunchTemplate', {
  instanceType: new ec2.InstanceType('m7g.large'),
  machineImage: ec2.MachineImage.latestAmazonLinux2023({ cpuType: ec2.AmazonLinuxCpuType.ARM_64 }),
  requireImdsv2: true,
});
new autoscaling.AutoScalingGroup(stack, 'Group', { vpc, launchTemplate, minCapacity: 0, maxCapacity: 2 });
app.synth();
