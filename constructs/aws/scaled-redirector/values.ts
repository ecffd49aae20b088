import { Fn } from 'aws-cdk-lib';
import { REDIS_ADDRESS } from '../../../lib/roles/redirector/scaled/files';

/** `text` with ElastiCache's primary endpoint (a deploy-time value) in place of its stand-in. */
export function withRedis(text: string, address: string): string {
  const parts = text.split(REDIS_ADDRESS);
  if (parts.length === 1) return text;
  return Fn.join('', parts.flatMap((p, i) => (i === 0 ? [p] : [address, p])));
}
