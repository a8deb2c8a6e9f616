import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { embeddedFiles, extractUserData, intrinsicToText, isShellScript, shellScriptsIn } from '../../scripts/ci/user-data';

describe('intrinsicToText', () => {
  it('decodes Fn::Base64 of a literal string', () => {
    // GIVEN user data that is a plain string
    const value = { 'Fn::Base64': '#!/bin/bash\necho hi\n' };
    // WHEN rendered / THEN the script text comes back unchanged
    expect(intrinsicToText(value)).toBe('#!/bin/bash\necho hi\n');
  });

  it('joins Fn::Join parts with placeholders for Ref and Fn::GetAtt', () => {
    const value = {
      'Fn::Base64': {
        'Fn::Join': ['', ['#!/bin/bash\nSECRET=', { Ref: 'TokenSecret' }, '\nROLE=', { 'Fn::GetAtt': ['Role', 'Arn'] }, '\n']],
      },
    };
    expect(intrinsicToText(value)).toBe('#!/bin/bash\nSECRET=CFN_REF_TokenSecret\nROLE=CFN_ATT_Role_Arn\n');
  });

  it('keeps escaped bash variables in Fn::Sub and substitutes the others', () => {
    const value = { 'Fn::Sub': ['echo ${!HOME} ${AWS::Region} ${Name}', { Name: { Ref: 'Fleet' } }] };
    expect(intrinsicToText(value)).toBe('echo ${HOME} CFN_SUB_AWS__Region CFN_REF_Fleet');
  });

  it('turns other intrinsics into a single shell word', () => {
    expect(intrinsicToText({ 'Fn::ImportValue': 'Shared-VpcId' })).toBe('CFN_VALUE_ImportValue');
  });
});

describe('shellScriptsIn', () => {
  it('returns the shell-script parts of a multipart MIME body', () => {
    // GIVEN a cloud-init multipart body with a cloud-config part and a shell part
    const body = [
      'Content-Type: multipart/mixed; boundary="XYZ"',
      'MIME-Version: 1.0',
      '',
      '--XYZ',
      'Content-Type: text/cloud-config; charset="utf-8"',
      '',
      '#cloud-config',
      'packages: [jq]',
      '--XYZ',
      'Content-Type: text/x-shellscript; charset="utf-8"',
      '',
      '#!/bin/bash',
      'echo part',
      '--XYZ--',
      '',
    ].join('\n');
    // WHEN split / THEN only the shell script remains
    expect(shellScriptsIn(body)).toEqual(['#!/bin/bash\necho part']);
  });

  it('skips a plain cloud-config body', () => {
    expect(shellScriptsIn('#cloud-config\npackages: [jq]\n')).toEqual([]);
  });
});

describe('extractUserData', () => {
  it('finds user data in launch templates and ignores resources without it', () => {
    const template = {
      Resources: {
        Lt: { Type: 'AWS::EC2::LaunchTemplate', Properties: { LaunchTemplateData: { UserData: { 'Fn::Base64': '#!/bin/bash\ntrue\n' } } } },
        Topic: { Type: 'AWS::SNS::Topic', Properties: {} },
      },
    };
    expect(extractUserData(template)).toEqual([
      { logicalId: 'Lt', resourceType: 'AWS::EC2::LaunchTemplate', part: 0, script: '#!/bin/bash\ntrue\n' },
    ]);
  });
});

describe('embeddedFiles', () => {
  it('decodes a gzip+base64 heredoc into the file the user data installs', () => {
    // GIVEN user data that installs a script as gzip+base64 through a quoted heredoc
    const payload = gzipSync(Buffer.from('#!/bin/bash\necho installed\n')).toString('base64');
    const script = `#!/bin/bash\nbase64 -d <<'EOF_X' | gunzip >"$ROOT/usr/local/lib/x/agent.sh"\n${payload}\nEOF_X\nchmod 0755 x\n`;
    // WHEN the embedded files are extracted
    const files = embeddedFiles(script);
    // THEN the decoded script comes back with its target path, recognised as shell
    expect(files).toEqual([{ target: '$ROOT/usr/local/lib/x/agent.sh', content: '#!/bin/bash\necho installed\n' }]);
    expect(isShellScript(files[0])).toBe(true);
  });

  it('keeps a plain heredoc as written and tells a unit file from a script', () => {
    const script = "cat >/etc/systemd/system/a.service <<'UNIT'\n[Service]\nExecStart=/bin/true\nUNIT\n";
    const [file] = embeddedFiles(script);
    expect(file).toEqual({ target: '/etc/systemd/system/a.service', content: '[Service]\nExecStart=/bin/true' });
    expect(isShellScript(file)).toBe(false);
  });
});
