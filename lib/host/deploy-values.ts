/*
 * Deploy-time values (a volume id, a bucket, a region) are unknown while lib/ renders: the
 * renderers get plain-word stand-ins, so quoting and layout come out exactly as with the real
 * (alphanumeric) values, and the cloud's construct then swaps each stand-in for its token.
 * One technique for both clouds: CloudFormation joins the parts with Fn::Join, Terraform as a string.
 */

export type Part<T> = { readonly literal: string } | { readonly value: T };

/** Splits `text` at every stand-in, giving the literal text between them and the matching value. */
export function fillStandIns<K extends string, T>(text: string, standIns: Readonly<Record<K, string>>, values: Readonly<Record<K, T>>): Part<T>[] {
  const byStandIn = new Map<string, T>(Object.entries(standIns).map(([k, s]) => [s as string, values[k as K]]));
  for (const s of byStandIn.keys()) {
    if (!/^[A-Za-z0-9_]+$/.test(s)) throw new Error(`stand-in ${JSON.stringify(s)} must be a plain word, so it renders as the real value would`);
  }
  const pattern = new RegExp(`(${[...byStandIn.keys()].join('|')})`);
  return text
    .split(pattern)
    .filter((p) => p !== '')
    .map((p) => (byStandIn.has(p) ? { value: byStandIn.get(p)! } : { literal: p }));
}
