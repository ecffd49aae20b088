/**
 * Everything cdktf on the Hetzner side: the typed bindings for the hetznercloud/hcloud Terraform
 * provider (generated into `./bindings` by `schema/generate.ts`), the provider version they
 * target, the mirror node construct and stack, and mirrorfleet's policy aspects.
 *
 *   import { provider, server, HCLOUD_PROVIDER_VERSION } from '../constructs/hcloud';
 *   new provider.HcloudProvider(stack, 'hcloud', { token });
 *   new server.Server(stack, 'node', { name, serverType, image, location });
 *   new HcloudMirrorStack(app, hcloudStackName(config), { config });
 */
export * from './bindings/providers/hcloud';
export * from './provider-version';
export { HcloudHost, SERVER_IGNORED_CHANGES, type HcloudHostProps } from './hcloud-host';
export { HcloudMirrorNode, type HcloudMirrorNodeProps } from './mirror-node';
export { HcloudMirrorStack, hcloudStackName, refuseStacksWithErrors, type HcloudMirrorStackProps } from './mirror-stack';
export { applyMirrorPolicies, FirewallMatchesIngress, mirrorPolicies, registerIngressTable, ServersHaveIpv6, VolumesAreProtected } from './policy';
export { HcloudMaster, HCLOUD_READ_TOKEN_FILE, type HcloudMasterProps } from './master';
export { HcloudProjectStack, hcloudProjectStackName } from './project-stack';
export { HcloudRedirector, type HcloudRedirectorProps } from './redirector';
