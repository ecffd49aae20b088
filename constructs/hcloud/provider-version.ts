/**
 * The hetznercloud/hcloud Terraform provider the hand-made cdktf bindings in `./bindings` target.
 *
 * `HCLOUD_PROVIDER_VERSION` is the one place the version constraint lives: `schema/generate.ts`
 * bakes it into every generated class, so `terraform.required_providers.hcloud.version` in the
 * synthesized JSON is exactly this string. Change it here, then regenerate (see schema/README.md).
 */

/** Registry source address of the provider (`terraform.required_providers.hcloud.source`). */
export const HCLOUD_PROVIDER_SOURCE = 'hetznercloud/hcloud';

/** Fully qualified provider name, the key of `provider_schemas` in the schema JSON. */
export const HCLOUD_PROVIDER_FQPN = `registry.terraform.io/${HCLOUD_PROVIDER_SOURCE}`;

/**
 * Version constraint written to `required_providers`: any 1.58.x patch release, whose resource
 * schemas are the ones transcribed in `schema/hcloud-provider-schema.json`.
 */
export const HCLOUD_PROVIDER_VERSION = '~> 1.58.0';

/** The provider release whose schema `schema/hcloud-provider-schema.json` transcribes. */
export const HCLOUD_SCHEMA_VERSION = '1.58.0';
