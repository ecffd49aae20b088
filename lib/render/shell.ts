/** Single-quotes a value for bash: the only quoting that needs no further escaping rules. */
export function shq(value: string | number): string {
  const s = String(value);
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A bash-sourceable file of KEY=value lines (arrays for lists), with a header comment. */
export function renderShellVars(header: string, vars: Record<string, string | number | boolean | readonly string[] | undefined>): string {
  const lines = Object.entries(vars)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => {
      if (Array.isArray(v)) return `${k}=(${v.map(shq).join(' ')})`;
      if (typeof v === 'boolean') return `${k}=${v ? 1 : 0}`;
      return `${k}=${shq(v as string | number)}`;
    });
  return `${header
    .split('\n')
    .map((l) => `# ${l}`.trimEnd())
    .join('\n')}\n${lines.join('\n')}\n`;
}
