import { renderUserData } from '../../lib/host/user-data';
import { loadProjectFile } from '../../lib/project/project';
import { NODE_LAYOUT } from '../../lib/render/layout';
import { masterHost } from '../../lib/roles/master/role';
import { redirectorHost } from '../../lib/roles/redirector/role';
import { mirrorNodeFiles, renderNodeUserData } from '../../lib/roles/mirror-node/role';
import { hostFiles } from '../../lib/host/host';
import { EXAMPLES, exampleConfig } from '../support/fixtures';
import { describeGolden } from '../support/golden';

/* Golden copies of every rendered file of every example host (test/support/golden.ts). */
describe.each(EXAMPLES)('golden files for examples/%s.yaml', (example) => {
  const config = exampleConfig(example);
  describeGolden(example, mirrorNodeFiles(config, NODE_LAYOUT), renderNodeUserData(config));
});

describe('golden files for the master of examples/project.yaml', () => {
  const host = masterHost(loadProjectFile('examples/project.yaml'));
  describeGolden('project-master', hostFiles(host, NODE_LAYOUT), renderUserData(host));
});

describe('golden files for the redirector of examples/project.yaml', () => {
  const host = redirectorHost(loadProjectFile('examples/project.yaml'));
  describeGolden('project-redirector', hostFiles(host, NODE_LAYOUT), renderUserData(host));
});
