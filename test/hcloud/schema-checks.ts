/**
 * Checks of synthesized cdktf JSON against the hand-written hcloud provider schema
 * (constructs/hcloud/schema/hcloud-provider-schema.json). Used by bindings.test.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HCLOUD_PROVIDER_FQPN } from '../../constructs/hcloud/provider-version';

export type TfType = string | [string, TfType];
export interface SchemaAttribute {
  type: TfType;
  required?: boolean;
  optional?: boolean;
  computed?: boolean;
  sensitive?: boolean;
  deprecated?: boolean;
}
export interface SchemaBlock {
  attributes?: Record<string, SchemaAttribute>;
  block_types?: Record<string, { nesting_mode: string; min_items?: number; max_items?: number; block: SchemaBlock }>;
}
export interface ProviderSchemaJson {
  provider: { block: SchemaBlock };
  resource_schemas: Record<string, { block: SchemaBlock }>;
  data_source_schemas: Record<string, { block: SchemaBlock }>;
}

export const SCHEMA_PATH = path.join(__dirname, '../../constructs/hcloud/schema/hcloud-provider-schema.json');

export function loadSchema(): ProviderSchemaJson {
  const json = JSON.parse(fs.readFileSync(SCHEMA_PATH, 'utf8'));
  return json.provider_schemas[HCLOUD_PROVIDER_FQPN];
}

/** Arguments a configuration must set: required attributes and blocks with `min_items` > 0. */
export function requiredArguments(block: SchemaBlock): string[] {
  const attrs = Object.entries(block.attributes ?? {}).filter(([, a]) => a.required).map(([n]) => n);
  const blocks = Object.entries(block.block_types ?? {}).filter(([, b]) => (b.min_items ?? 0) > 0).map(([n]) => n);
  return [...attrs, ...blocks].sort();
}

/** A literal of the given Terraform type, for building minimal configurations. */
export function sampleValue(type: TfType): unknown {
  if (type === 'string') return 'sample';
  if (type === 'number') return 7;
  if (type === 'bool') return true;
  if (Array.isArray(type) && (type[0] === 'list' || type[0] === 'set')) return [sampleValue(type[1])];
  if (Array.isArray(type) && type[0] === 'map') return { key: sampleValue(type[1]) };
  throw new Error(`no sample for type ${JSON.stringify(type)}`);
}

/** `server_type` -> `serverType`, the property name cdktf bindings use. */
export function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

const TOKEN = /^\$\{.+\}$/s;
const META_ARGUMENTS = new Set(['count', 'for_each', 'depends_on', 'provider', 'lifecycle', 'provisioner', 'connection']);

function valueProblems(type: TfType, value: unknown, where: string): string[] {
  if (typeof value === 'string' && TOKEN.test(value)) return []; // a reference: Terraform converts it
  const fail = [`${where}: ${JSON.stringify(value)} is not a ${JSON.stringify(type)}`];
  if (type === 'string') return typeof value === 'string' ? [] : fail;
  if (type === 'number') return typeof value === 'number' ? [] : fail;
  if (type === 'bool') return typeof value === 'boolean' ? [] : fail;
  const [kind, element] = type as [string, TfType];
  if (kind === 'list' || kind === 'set') {
    return Array.isArray(value) ? value.flatMap((v, i) => valueProblems(element, v, `${where}[${i}]`)) : fail;
  }
  if (kind === 'map') {
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.entries(value).flatMap(([k, v]) => valueProblems(element, v, `${where}.${k}`))
      : fail;
  }
  return [`${where}: unsupported schema type ${JSON.stringify(type)}`];
}

/**
 * Every key of a synthesized body must be an argument the schema declares (not computed-only),
 * every literal must have the schema's type, and every required argument must be present.
 */
export function bodyProblems(block: SchemaBlock, body: Record<string, unknown>, where: string, topLevel = true): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(body)) {
    const at = `${where}.${key}`;
    const attribute = block.attributes?.[key];
    const nested = block.block_types?.[key];
    if (attribute) {
      if (!attribute.required && !attribute.optional) problems.push(`${at}: computed-only attribute set`);
      problems.push(...valueProblems(attribute.type, value, at));
    } else if (nested) {
      const items = nested.nesting_mode === 'single' ? [value] : value;
      if (!Array.isArray(items)) problems.push(`${at}: ${nested.nesting_mode} block must be an array`);
      else items.forEach((item, i) => problems.push(...bodyProblems(nested.block, item as Record<string, unknown>, `${at}[${i}]`, false)));
    } else if (!(topLevel && META_ARGUMENTS.has(key))) {
      problems.push(`${at}: not in the schema`);
    }
  }
  for (const name of requiredArguments(block)) if (!(name in body)) problems.push(`${where}: missing required ${name}`);
  return problems;
}

/** All `${...}` expressions found anywhere in a synthesized document. */
export function expressions(doc: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') for (const m of v.matchAll(/\$\{([^}]*)\}/g)) out.push(m[1]);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(doc);
  return out;
}

/** References `hcloud_x.name.attr` / `var.name` inside expressions that do not resolve. */
export function unresolvedReferences(doc: any, schema: ProviderSchemaJson): string[] {
  const problems: string[] = [];
  for (const expression of expressions(doc)) {
    for (const [ref] of expression.matchAll(/\b(?:hcloud_[a-z_]+|var)\.[A-Za-z0-9_-]+(?:\.[a-z0-9_]+)?/g)) {
      const [type, name, attr] = ref.split('.');
      if (type === 'var') {
        if (!doc.variable?.[name]) problems.push(`${ref}: no variable "${name}"`);
      } else if (!doc.resource?.[type]?.[name]) {
        problems.push(`${ref}: no resource ${type}.${name}`);
      } else if (!attr || !schema.resource_schemas[type]?.block.attributes?.[attr]) {
        problems.push(`${ref}: ${type} has no attribute "${attr}"`);
      }
    }
  }
  return problems;
}

/** The text of `resource "<type>" "<name>" { ... }` in cdktf's HCL rendering. */
export function hclResourceBlock(hcl: string, type: string, name: string): string {
  const start = hcl.indexOf(`resource "${type}" "${name}" {`);
  if (start < 0) throw new Error(`resource "${type}" "${name}" not rendered in HCL`);
  const next = hcl.indexOf('\nresource "', start + 1);
  return hcl.slice(start, next < 0 ? undefined : next);
}
