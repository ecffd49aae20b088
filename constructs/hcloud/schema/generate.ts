/**
 * Regenerates the typed cdktf bindings in `constructs/hcloud/bindings/` from
 * `hcloud-provider-schema.json`, the same way `cdktf get` does for a registry provider
 * (`@cdktf/provider-generator` 0.21, TypeScript target, no JSII step):
 *
 *   bindings/providers/hcloud/<resource>/index.ts   one namespace per resource + `provider`
 *   bindings/providers/hcloud/index.ts              `export * as server from './server'` …
 *   bindings/versions.json, bindings/constraints.json
 *
 * Usage (from the repository root):
 *   npx ts-node --transpile-only constructs/hcloud/schema/generate.ts          # rewrite bindings/
 *   npx ts-node --transpile-only constructs/hcloud/schema/generate.ts --check  # fail if stale
 *
 * The output depends only on the schema JSON, `../provider-version.ts` and the pinned generator
 * version, so running it twice gives byte-identical files. Generated files go through
 * `postProcess` below; with cdktf 0.21.0 and TypeScript 6.0.3 no type-checking fix is needed.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CodeMaker, TerraformProviderGenerator } from '@cdktf/provider-generator';
import {
  ConstructsMakerProviderTarget,
  DISPLAY_VERSION,
  Language,
  ProviderSchema,
  TerraformProviderConstraint,
} from '@cdktf/commons';
import {
  HCLOUD_PROVIDER_FQPN,
  HCLOUD_PROVIDER_SOURCE,
  HCLOUD_PROVIDER_VERSION,
  HCLOUD_SCHEMA_VERSION,
} from '../provider-version';

const SCHEMA_FILE = path.join(__dirname, 'hcloud-provider-schema.json');
const BINDINGS_DIR = path.join(__dirname, '..', 'bindings');
const PROVIDER_NAME = 'hcloud';

/** Reads the schema and checks it is the single-provider `terraform providers schema -json` shape. */
export function readSchema(file = SCHEMA_FILE): ProviderSchema {
  const schema = JSON.parse(fs.readFileSync(file, 'utf8')) as ProviderSchema;
  // Terraform >= 1.1 writes "1.0"; the cdktf 0.21 type still only lists the older "0.1"/"0.2".
  const formatVersion: string | undefined = schema.format_version;
  if (formatVersion !== '1.0') {
    throw new Error(`${file}: format_version must be "1.0", got ${JSON.stringify(formatVersion)}`);
  }
  const fqpns = Object.keys(schema.provider_schemas ?? {});
  if (fqpns.length !== 1 || fqpns[0] !== HCLOUD_PROVIDER_FQPN) {
    throw new Error(`${file}: expected exactly one provider "${HCLOUD_PROVIDER_FQPN}", got ${JSON.stringify(fqpns)}`);
  }
  return schema;
}

/**
 * Text fixes applied to every generated `.ts`/`.md` file. TypeScript 6.0.3 accepts the cdktf 0.21.0
 * output as is; the only change is cosmetic: registry doc links name the release the schema
 * transcribes instead of `latest` (see `generate` for why the generator is not told the release).
 */
function postProcess(_relativePath: string, source: string): string {
  const registry = `https://registry.terraform.io/providers/${HCLOUD_PROVIDER_SOURCE}`;
  return source.split(`${registry}/latest/docs`).join(`${registry}/${HCLOUD_SCHEMA_VERSION}/docs`);
}

/** Generates all binding files into `outDir` (which must not exist or be empty). */
export async function generate(outDir: string, schema = readSchema()): Promise<void> {
  const code = new CodeMaker();
  // `cdktf get` also passes the release it downloaded as `provider_versions`; cdktf then writes
  // that exact release, not the constraint, to `required_providers`. It is left out on purpose so
  // the synthesized `required_providers.hcloud.version` is HCLOUD_PROVIDER_VERSION.
  const generator = new TerraformProviderGenerator(code, schema);
  // The same constraint object `cdktf get` builds from `"terraformProviders": ["<source>@<version>"]`.
  const constraint = new TerraformProviderConstraint(`${HCLOUD_PROVIDER_SOURCE}@${HCLOUD_PROVIDER_VERSION}`);
  if (constraint.name !== PROVIDER_NAME) throw new Error(`unexpected provider name ${constraint.name}`);
  generator.generate(ConstructsMakerProviderTarget.from(constraint, Language.TYPESCRIPT));

  // The two bookkeeping files `cdktf get` writes next to `providers/`.
  code.openFile('versions.json');
  code.line(JSON.stringify({ [HCLOUD_PROVIDER_FQPN]: HCLOUD_SCHEMA_VERSION }, null, 2));
  code.closeFile('versions.json');
  code.openFile('constraints.json');
  code.line(JSON.stringify({ cdktf: DISPLAY_VERSION, providers: { [constraint.fqn]: constraint.version } }, null, 2));
  code.closeFile('constraints.json');

  await code.save(outDir);
  for (const file of listFiles(outDir).filter((f) => /\.(ts|md)$/.test(f))) {
    const absolute = path.join(outDir, file);
    const before = fs.readFileSync(absolute, 'utf8');
    const after = postProcess(file, before);
    if (after !== before) fs.writeFileSync(absolute, after);
  }
}

/** All files under `dir`, as sorted POSIX-style relative paths. */
export function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(child);
      else out.push(child);
    }
  };
  walk('');
  return out.sort();
}

/** Names of files that differ between two directories (missing on either side counts). */
export function diffDirs(expectedDir: string, actualDir: string): string[] {
  const names = [...new Set([...listFiles(expectedDir), ...listFiles(actualDir)])].sort();
  return names.filter((name) => {
    const a = path.join(expectedDir, name);
    const b = path.join(actualDir, name);
    return !fs.existsSync(a) || !fs.existsSync(b) || !fs.readFileSync(a).equals(fs.readFileSync(b));
  });
}

async function main(argv: string[]): Promise<number> {
  const check = argv.includes('--check');
  const unknown = argv.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    process.stderr.write(`unknown argument(s): ${unknown.join(' ')}\nusage: generate.ts [--check]\n`);
    return 2;
  }
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'hcloud-bindings-'));
  try {
    await generate(staging);
    const changed = diffDirs(staging, BINDINGS_DIR);
    if (check) {
      if (changed.length === 0) {
        process.stdout.write(`bindings are up to date (${listFiles(staging).length} files)\n`);
        return 0;
      }
      process.stderr.write(`bindings are stale, regenerate them; differing files:\n  ${changed.join('\n  ')}\n`);
      return 1;
    }
    fs.rmSync(BINDINGS_DIR, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(BINDINGS_DIR), { recursive: true });
    fs.cpSync(staging, BINDINGS_DIR, { recursive: true });
    process.stdout.write(
      `wrote ${listFiles(BINDINGS_DIR).length} files to ${path.relative(process.cwd(), BINDINGS_DIR)} ` +
        `(${changed.length} changed) for ${HCLOUD_PROVIDER_SOURCE} ${HCLOUD_PROVIDER_VERSION}\n`,
    );
    return 0;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
