/*
 * A monthly bill as lines of arithmetic: what `mirrorfleet cost` prints, what the docs' cost
 * tables show and what the tests hold against hand-computed figures. Amounts stay unrounded;
 * only the text rounds, to cents.
 */

export interface BillLine {
  /** What is paid for: "c6gn.large", "Data volume, gp3 90 GB". */
  readonly item: string;
  /** How the amount is computed, with the table's prices: "0.0864 × 730 h". */
  readonly arithmetic: string;
  readonly amount: number;
  /** Which column of the side-by-side table the line belongs to. */
  readonly kind: 'server' | 'storage' | 'addresses' | 'traffic' | 'monitoring';
}

export interface Bill {
  readonly cloud: 'aws' | 'hcloud';
  /** "AWS us-east-1", "Hetzner fsn1". */
  readonly title: string;
  readonly currency: 'USD' | 'EUR';
  readonly lines: readonly BillLine[];
  /** Caveats: a price borrowed from another region, an uncertain figure, a type without a price. */
  readonly notes: readonly string[];
}

export const total = (b: Bill) => b.lines.reduce((s, l) => s + l.amount, 0);
export const kindTotal = (b: Bill, kind: BillLine['kind']) => b.lines.filter((l) => l.kind === kind).reduce((s, l) => s + l.amount, 0);

/** 1234.5 → "1,234.50". */
export const money = (x: number) => x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
/** 10240 → "10,240"; keeps up to 2 decimals when the number has them. */
export const num = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 2 });
export const symbol = (b: Pick<Bill, 'currency'>) => (b.currency === 'USD' ? '$' : '€');
