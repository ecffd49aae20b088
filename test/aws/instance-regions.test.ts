import * as path from 'node:path';
import { INSTANCE_TYPES } from '../../lib/config/aws';

/*
 * The catalog's missingIn lists, re-derived from the region data that `cdk synth` itself checks
 * templates against (cfn-lint's, inside aws-cdk-lib's @aws/cloudformation-validate): when an
 * aws-cdk-lib upgrade brings new data, this test says which list to update.
 */
const REGIONS = [
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'ca-central-1', 'ca-west-1', 'mx-central-1', 'sa-east-1', 'eu-west-1', 'eu-west-2', 'eu-west-3',
  'eu-central-1', 'eu-central-2', 'eu-north-1', 'eu-south-1', 'eu-south-2', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-southeast-1',
  'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-7', 'ap-south-1', 'ap-south-2', 'ap-east-1', 'ap-east-2',
  'me-south-1', 'me-central-1', 'af-south-1', 'il-central-1',
];

interface Validator {
  CompositeEngine: new () => { validateTemplate(t: unknown, c: unknown): { diagnostics: { ruleId: string; message: string }[] } };
  TemplateContent: new (content: string) => unknown;
}

describe('instance type regions', () => {
  it('match the region data aws-cdk-lib validates templates with', () => {
    const cdkLib = path.dirname(require.resolve('aws-cdk-lib/package.json'));
    const v = require(require.resolve('@aws/cloudformation-validate', { paths: [cdkLib] })) as Validator;
    const engine = new v.CompositeEngine();
    const names = [...INSTANCE_TYPES.map((i) => i.name), 'no-such.type'];
    const Resources = Object.fromEntries(names.map((n, i) => [`I${i}`, { Type: 'AWS::EC2::Instance', Properties: { ImageId: 'ami-12345678', InstanceType: n } }]));
    const template = new v.TemplateContent(JSON.stringify({ Resources }));
    const missing: Record<string, string[]> = Object.fromEntries(names.map((n) => [n, []]));
    for (const region of REGIONS) {
      for (const d of engine.validateTemplate(template, { pseudoParameterOverrides: { region } }).diagnostics) {
        const m = d.ruleId === 'E3628' ? /'([^']+)' is not valid for region/.exec(d.message) : null;
        if (m) missing[m[1]].push(region);
      }
    }
    // The check can fail: an unknown type is missing everywhere.
    expect(missing['no-such.type']).toEqual(REGIONS);
    for (const i of INSTANCE_TYPES) expect({ [i.name]: [...i.missingIn].sort() }).toEqual({ [i.name]: missing[i.name].sort() });
  });
});
