/**
 * Typed cdktf bindings for the hetznercloud/hcloud Terraform provider (generated into
 * `./bindings` by `schema/generate.ts`) and the provider version they target.
 *
 *   import { provider, server, HCLOUD_PROVIDER_VERSION } from '../constructs/hcloud';
 *   new provider.HcloudProvider(stack, 'hcloud', { token });
 *   new server.Server(stack, 'node', { name, serverType, image, location });
 */
export * from './bindings/providers/hcloud';
export * from './provider-version';
