/**
 * One small, normalised snapshot per example of what the Hetzner stack creates: the resources
 * with their arguments (user data replaced by its line count, checked on its own in
 * mirror-stack.test.ts) and the outputs. Paired with explicit assertions; never updated blindly
 * (CI runs jest --ci, which does not write snapshots).
 */
import { EXAMPLES, exampleConfig } from '../support/fixtures';
import { synthStack } from './helpers';

function view(json: any) {
  const resources = Object.fromEntries(Object.entries(json.resource).flatMap(([type, byName]) =>
    Object.entries(byName as Record<string, Record<string, unknown>>).map(([name, b]) => {
      const { ['//']: _metadata, labels: _labels, ...rest } = b;
      if (typeof rest.user_data === 'string') rest.user_data = '<user data: see mirror-stack.test.ts>';
      return [`${type}.${name}`, rest];
    })));
  const outputs = Object.fromEntries(Object.entries(json.output).map(([k, v]) => [k, k === 'user_data_sha256' ? '<sha256>' : (v as { value: unknown }).value]));
  return { backend: json.terraform.backend, resources, outputs };
}

describe.each(EXAMPLES)('examples/%s.yaml on Hetzner Cloud', (example) => {
  const config = exampleConfig(example);
  const { json } = synthStack(config, 'snapshot');
  const v = view(json);

  it('creates one server, one protected volume, two protected addresses with reverse DNS and one firewall', () => {
    expect(Object.keys(v.resources).filter((k) => k.startsWith('hcloud_server.'))).toHaveLength(1);
    expect(v.resources['hcloud_volume.mirror_data']).toMatchObject({ size: config.storage.sizeGiB, delete_protection: true, lifecycle: { prevent_destroy: true } });
    expect(Object.keys(v.resources).filter((k) => k.startsWith('hcloud_rdns.'))).toEqual(['hcloud_rdns.mirror_ipv4', 'hcloud_rdns.mirror_ipv6']);
  });

  it('matches the reviewed snapshot', () => {
    expect(v).toMatchSnapshot();
  });
});
