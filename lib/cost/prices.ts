/*
 * The one dated price table: every price mirrorfleet computes with, and where it comes from.
 * Compiled from /work/shared/reference/pricing.md (2026-11-22), which cites a source and a date
 * for each figure; nothing here was read from a live price page, so `mirrorfleet cost` prints
 * the dates and a figure marked uncertain says so. Pure data, no imports: lib/config reads the
 * instance and server prices from here, lib/cost does the arithmetic (docs/adr/0051).
 *
 * Units: AWS in USD, Hetzner in EUR, net of VAT. A month is 730 hours. Traffic is counted in
 * GB of 2^30 bytes and TB of 1,024 GB, as both providers bill it (pricing.md §1.4, §2.3).
 */

export const HOURS_PER_MONTH = 730;
export const GB_PER_TB = 1024;

export interface PriceSource {
  readonly what: string;
  readonly source: string;
  /** The date the source states, or "undated". */
  readonly date: string;
  readonly uncertain?: true;
}

export interface EgressTier {
  /** Cumulative upper bound of the tier in GB (Infinity for the last). */
  readonly upToGB: number;
  readonly usdPerGB: number;
}

export interface AwsRegionPrices {
  /** On-demand Linux. A type missing here is priced at us-east-1's rate, and the output says so. */
  readonly instanceUsdPerHour: Readonly<Record<string, number>>;
  readonly ebsUsdPerGBMonth: { readonly gp3: number; readonly st1: number };
  /** gp3 throughput provisioned above the included 125 MiB/s. */
  readonly gp3ThroughputUsdPerMiBpsMonth: number;
  readonly publicIpv4UsdPerHour: number;
  /** Data transfer out to the internet; the free allowance counts against the first tier. */
  readonly egress: { readonly freeGB: number; readonly tiers: readonly EgressTier[] };
  readonly cloudWatch: { readonly metricUsdPerMonth: number; readonly alarmUsdPerMonth: number };
  /** Figures of this region taken from weak or second-hand sources. */
  readonly uncertain: readonly string[];
}

/** AWS's "US East" egress table (pricing.md §1.4): first 100 GB free, 10 TB at $0.09, 40 TB at $0.085, 100 TB at $0.07, the rest at $0.05. */
const US_EAST_EGRESS = {
  freeGB: 100,
  tiers: [
    { upToGB: 10 * GB_PER_TB, usdPerGB: 0.09 },
    { upToGB: 50 * GB_PER_TB, usdPerGB: 0.085 },
    { upToGB: 150 * GB_PER_TB, usdPerGB: 0.07 },
    { upToGB: Infinity, usdPerGB: 0.05 },
  ],
} as const;

export const AWS_PRICES = {
  asOf: '2026-11-22',
  regions: {
    'us-east-1': {
      // pricing.md §1.1: aws/karpenter-provider-aws zz_generated.pricing_aws.go, "generated at 2026-01-19" from the Price List API.
      instanceUsdPerHour: {
        't4g.medium': 0.0336, 't4g.large': 0.0672, 'm6g.large': 0.077, 'c7g.large': 0.0725, 'm7g.large': 0.0816,
        'c6gn.large': 0.0864, 'c7gn.large': 0.1248, 'c6g.xlarge': 0.136, 'c7g.xlarge': 0.145, 'm6g.xlarge': 0.154,
        'm7g.xlarge': 0.1632, 'c6gn.xlarge': 0.1728, 'c7gn.xlarge': 0.2496, 'm7g.2xlarge': 0.3264,
        't3.medium': 0.0416, 't3.large': 0.0832, 'c7i.large': 0.08925, 'm7i.large': 0.1008, 'c6in.large': 0.1134, 'm7i.xlarge': 0.2016,
      },
      // §1.3: gp3 $0.08 (AWS price-list files via ChiefGyk3D wiki, 2026-10-16); st1 $0.045 (study notes, uncertain).
      ebsUsdPerGBMonth: { gp3: 0.08, st1: 0.045 },
      gp3ThroughputUsdPerMiBpsMonth: 0.04,
      // §1.5: $0.005 per public IPv4 address-hour since 2024-02-01.
      publicIpv4UsdPerHour: 0.005,
      egress: US_EAST_EGRESS,
      // §1.6: custom metric $0.30 (signoz, 2026-02-15); alarm $0.10 (weak source); no free tier assumed.
      cloudWatch: { metricUsdPerMonth: 0.3, alarmUsdPerMonth: 0.1 },
      uncertain: ['st1 price (study notes, region not stated)', 'gp3 throughput above 125 MiB/s (secondary source)', 'CloudWatch alarm price and free tier'],
    },
    'eu-central-1': {
      // §1.1: only these types have a Frankfurt price, from weak sources (a fallback price table; t3.medium derived as t3.large / 2).
      instanceUsdPerHour: { 't3.medium': 0.048, 't3.large': 0.096, 't4g.large': 0.0768 },
      // §1.3: gp3 $0.0952 (weak source); st1 not found for Frankfurt, us-east-1's used.
      ebsUsdPerGBMonth: { gp3: 0.0952, st1: 0.045 },
      gp3ThroughputUsdPerMiBpsMonth: 0.04,
      publicIpv4UsdPerHour: 0.005,
      // §1.4: the Frankfurt tiers were not verified; secondary sources say US and EU regions cost the same.
      egress: US_EAST_EGRESS,
      cloudWatch: { metricUsdPerMonth: 0.3, alarmUsdPerMonth: 0.1 },
      uncertain: ['every Frankfurt figure (weak or second-hand sources)', 'egress tiers (taken as us-east-1\'s)'],
    },
  } satisfies Record<string, AwsRegionPrices>,
  sources: [
    { what: 'EC2 on-demand, us-east-1', source: 'aws/karpenter-provider-aws pkg/providers/pricing/zz_generated.pricing_aws.go (AWS Price List API)', date: '2026-01-19' },
    { what: 'EBS gp3 storage', source: 'ChiefGyk3D/Clouds-Against-Humanity wiki "Provider AWS Cost Lesson" (AWS price-list files)', date: '2026-10-16' },
    { what: 'EBS st1, gp3 throughput', source: 'study notes; taourl.com/read-2670558.html', date: '2025-05', uncertain: true },
    { what: 'Public IPv4', source: 'aws.amazon.com/vpc/pricing via cmbuckley.github.io post', date: '2024-01-29' },
    { what: 'Egress tiers (US East)', source: 'cloud-cost-557.pages.dev/blog/estimate-aws-data-transfer-bill; atonementlicensing.com/blog/aws-egress-negotiation', date: '2026-06-10' },
    { what: 'CloudWatch metrics and alarms', source: 'signoz.io/guides/cloudwatch-pricing', date: '2026-02-15', uncertain: true },
    { what: 'eu-central-1 figures', source: 'public fallback price tables (pricing.md §1.1, §1.3)', date: 'undated', uncertain: true },
  ] satisfies readonly PriceSource[],
} as const;

export type AwsPricedRegion = keyof typeof AWS_PRICES.regions;

export interface HcloudTraffic {
  /** Outgoing traffic included per server and month. */
  readonly includedTB: number;
  readonly eurPerExtraTB: number;
}

export const HCLOUD_PRICES = {
  asOf: '2026-11-22',
  /** Net €/month for servers ordered after 2026-06-15, EU locations, without the primary IPv4 (pricing.md §2.2). */
  serverEurPerMonth: {
    cx23: 5.49, cx33: 8.49, cx43: 15.99, cx53: 29.49,
    cax11: 5.99, cax21: 10.49, cax31: 20.99, cax41: 40.99,
    cpx12: 11.49, cpx22: 19.49, cpx32: 35.49, cpx42: 69.49, cpx52: 100.49, cpx62: 129.99,
    ccx13: 42.99, ccx23: 85.99, ccx33: 138.49, ccx43: 275.99, ccx53: 533.49,
  } as Readonly<Record<string, number>>,
  /** §2.4: €0.0572 per GB-month (Hetzner pricing API, fsn1, 2026-05-27). */
  volumeEurPerGBMonth: 0.0572,
  /** §2.5: primary IPv4 €0.50 a month, IPv6 free. */
  primaryIpv4EurPerMonth: 0.5,
  primaryIpv6EurPerMonth: 0,
  /** §2.3: 20 TB included in the EU at €1.00 per further TB; about 1 TB in the US and Singapore (uncertain for 2026 types). */
  traffic: {
    fsn1: { includedTB: 20, eurPerExtraTB: 1.0 },
    nbg1: { includedTB: 20, eurPerExtraTB: 1.0 },
    hel1: { includedTB: 20, eurPerExtraTB: 1.0 },
    ash: { includedTB: 1, eurPerExtraTB: 1.0 },
    hil: { includedTB: 1, eurPerExtraTB: 1.0 },
    sin: { includedTB: 1, eurPerExtraTB: 7.4 },
  } satisfies Record<string, HcloudTraffic>,
  uncertain: ['server prices for ash, hil and sin (EU prices used)', 'included traffic outside the EU', 'CPX32 to CPX62 and CCX43 (a weak price snapshot)'],
  sources: [
    { what: 'Server prices for new orders', source: 'robhunter/agentdeals PR #1324 (docs.hetzner.com price-adjustment page); moveinfra/eu-cloud-prices', date: '2026-10-28' },
    { what: 'Volumes, traffic, IPv4', source: 'Hetzner pricing API GET /v1/pricing (fsn1), quoted in devantler-tech/platform commit cb791c6', date: '2026-05-27' },
    { what: 'Primary IPs', source: 'docs.hetzner.com/cloud/servers/primary-ips/overview', date: '2022-08-10' },
    { what: 'Traffic outside the EU', source: 'a Hetzner API server-type dump (pre-October 2025)', date: 'undated', uncertain: true },
  ] satisfies readonly PriceSource[],
} as const;

export type HcloudPricedLocation = keyof typeof HCLOUD_PRICES.traffic;
