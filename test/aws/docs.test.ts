import { AWS_DEFAULTS, AUTO_INSTANCE_TYPES } from '../../lib/config/aws';
import { THRESHOLDS as ALARMS } from '../../lib/host/metrics';
import { docSection } from '../support/fixtures';

/* docs/aws.md stays true to the code. */
const doc = docSection('docs/aws.md', 'Deploy on AWS');
const row = (key: string) => doc.split('\n').find((l) => l.startsWith(`| \`${key}\``))?.split('|').map((c) => c.trim());

describe('docs/aws.md: Deploy on AWS', () => {
  it('gives the bootstrap and deploy commands', () => {
    expect(doc).toContain('npx cdk bootstrap');
    expect(doc).toContain('npx cdk deploy -c config=mirror.yaml');
    expect(doc).toContain('aws ssm start-session --target');
  });

  it.each([
    ['aws.instanceType', `\`${AWS_DEFAULTS.instanceType}\``],
    ['aws.volumeType', `\`${AWS_DEFAULTS.volumeType}\``],
    ['aws.sshCidrs', '`[]`'],
    ['aws.hostedZone', 'none'],
  ])('the defaults table gives %s as %s', (key, expected) => {
    expect(row(key)?.[2]).toBe(expected);
  });

  it('names the automatic instance types in their order and the alarm thresholds', () => {
    const flat = doc.replace(/\s+/g, ' ');
    expect(flat).toContain(AUTO_INSTANCE_TYPES.join(', '));
    expect(flat).toContain(`${ALARMS.dataDiskWarningPercent} % and ${ALARMS.dataDiskCriticalPercent} % full`);
    expect(flat).toContain(`certificate < ${ALARMS.certDaysLeft} days`);
  });
});
