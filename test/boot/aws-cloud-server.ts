/**
 * The AWS side of the test world, as its own process (so the harness's synchronous calls never
 * stall it): an S3 stand-in on the world's address, port 443, answering S3's host names, and an
 * IMDS stand-in that the host's DNAT puts at 169.254.169.254:80 for the node.
 *
 *   node -r ts-node/register/transpile-only aws-cloud-server.ts CONFIG.json
 *
 * The config (AwsCloudConfig) is read again on every request, so the harness changes the
 * objects and the user data by rewriting it (an in-place update). Every request is appended
 * to the log as one JSON line (AwsCloudRequest).
 *
 * S3: GET and HEAD of objects, virtual-hosted ("bucket.s3.REGION.amazonaws.com/key") or path
 * style ("s3.amazonaws.com/bucket/key"). A private object is served only to a request signed
 * (AWS Signature Version 4, verified here) with the credentials the IMDS stand-in hands out,
 * session token included; anything else gets S3's 403 AccessDenied, a missing key 404 NoSuchKey.
 * IMDS: PUT /latest/api/token (IMDSv2), then the user data, region, instance identity and the
 * role's credentials. With `requireToken` (the template's HttpTokens: required) a request
 * without a valid token gets 401, as EC2 answers IMDSv1 on such an instance.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';

export interface AwsCloudConfig {
  readonly tls: { readonly cert: string; readonly key: string };
  readonly s3: { readonly host: string; readonly port: number };
  readonly imds: { readonly host: string; readonly port: number };
  readonly region: string;
  readonly accountId: string;
  readonly instanceId: string;
  readonly roleName: string;
  readonly credentials: { readonly AccessKeyId: string; readonly SecretAccessKey: string; readonly Token: string };
  readonly requireToken: boolean;
  /** A file holding the instance's user data (what IMDS serves at /latest/user-data). */
  readonly userDataFile: string;
  readonly objects: readonly { readonly bucket: string; readonly key: string; readonly file: string; readonly public: boolean }[];
  readonly log: string;
}

export interface AwsCloudRequest {
  readonly service: 's3' | 'imds';
  readonly time: string;
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly status: number;
  /** S3: "sigv4 <access key id>", "anonymous" or why the signature was refused; IMDS: "token", "no token", "bad token". */
  readonly auth: string;
}

const configFile = process.argv[2];
const config = (): AwsCloudConfig => JSON.parse(fs.readFileSync(configFile, 'utf8')) as AwsCloudConfig;
const log = (entry: Omit<AwsCloudRequest, 'time'>) => fs.appendFileSync(config().log, `${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);

const s3Xml = (code: string, message: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>mirrorfleet-boot-test</RequestId></Error>\n`;

function s3(req: http.IncomingMessage, res: http.ServerResponse): void {
  const c = config();
  const host = (req.headers.host ?? '').replace(/:\d+$/, '');
  const url = new URL(req.url ?? '/', `https://${host}`);
  const hostMatch = /^(?:([a-z0-9.-]+)\.)?s3(?:[.-]([a-z0-9-]+))?\.amazonaws\.com$/.exec(host);
  let bucket = hostMatch?.[1];
  let key = decodeURIComponent(url.pathname.slice(1));
  if (hostMatch && !bucket) [bucket, key] = [key.split('/')[0], key.split('/').slice(1).join('/')];
  const reply = (status: number, auth: string, headers: Record<string, string | number>, body: Buffer | string = '') => {
    log({ service: 's3', method: req.method ?? '', host, path: url.pathname, status, auth });
    res.writeHead(status, { 'x-amz-request-id': 'mirrorfleet-boot-test', ...headers });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  const object = c.objects.find((o) => o.bucket === bucket && o.key === key);
  if (!hostMatch || (req.method !== 'GET' && req.method !== 'HEAD')) {
    reply(400, 'n/a', { 'content-type': 'application/xml' }, s3Xml('InvalidRequest', 'the S3 stand-in serves GET and HEAD of objects'));
    return;
  }
  const auth = object?.public && !req.headers.authorization ? 'anonymous' : verifySigV4(req, url, c);
  if (!auth.startsWith('sigv4 ') && auth !== 'anonymous') {
    reply(403, auth, { 'content-type': 'application/xml' }, s3Xml('AccessDenied', 'Access Denied'));
    return;
  }
  if (!object || !fs.existsSync(object.file)) {
    reply(404, auth, { 'content-type': 'application/xml' }, s3Xml('NoSuchKey', 'The specified key does not exist.'));
    return;
  }
  const body = fs.readFileSync(object.file);
  reply(200, auth, {
    'content-type': 'binary/octet-stream',
    'content-length': body.length,
    etag: `"${createHash('md5').update(body).digest('hex')}"`,
    'last-modified': fs.statSync(object.file).mtime.toUTCString(),
    'accept-ranges': 'bytes',
  }, body);
}

/** "sigv4 <key id>" when the request carries a valid AWS4-HMAC-SHA256 signature of the test credentials, else why not. */
function verifySigV4(req: http.IncomingMessage, url: URL, c: AwsCloudConfig): string {
  const a = req.headers.authorization;
  if (!a) return 'anonymous (refused: private object)';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(a);
  if (!m) return `unreadable Authorization: ${a.slice(0, 60)}`;
  const [, keyId, date, region, signed, signature] = m;
  if (keyId !== c.credentials.AccessKeyId) return `unknown access key ${keyId}`;
  if (req.headers['x-amz-security-token'] !== c.credentials.Token) return 'missing or wrong session token';
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const header = (n: string) => String(req.headers[n] ?? '').trim().replace(/\s+/g, ' ');
  const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
  const query = [...url.searchParams.entries()].map(([k, v]) => `${enc(k)}=${enc(v)}`).sort().join('&');
  const rawPath = (req.url ?? '/').split('?')[0];
  const canonical = [req.method, rawPath, query, ...signed.split(';').map((n) => `${n}:${header(n)}`), '', signed, header('x-amz-content-sha256')].join('\n');
  const scope = `${date}/${region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const hmac = (k: Buffer | string, d: string) => createHmac('sha256', k).update(d).digest();
  const kSigning = hmac(hmac(hmac(hmac(`AWS4${c.credentials.SecretAccessKey}`, date), region), 's3'), 'aws4_request');
  const expected = createHmac('sha256', kSigning).update(toSign).digest('hex');
  return expected === signature ? `sigv4 ${keyId}` : 'signature does not match';
}

const tokens = new Map<string, number>();

function imds(req: http.IncomingMessage, res: http.ServerResponse): void {
  const c = config();
  const p = (req.url ?? '/').split('?')[0];
  let auth = 'n/a';
  const reply = (status: number, body: string, type = 'text/plain') => {
    log({ service: 'imds', method: req.method ?? '', host: String(req.headers.host ?? ''), path: p, status, auth });
    res.writeHead(status, { 'content-type': type, server: 'EC2ws' });
    res.end(body);
  };
  if (req.method === 'PUT' && p === '/latest/api/token') {
    const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
    if (!(ttl >= 1 && ttl <= 21600)) return reply(400, 'Bad Request\n');
    const token = randomBytes(24).toString('base64url');
    tokens.set(token, Date.now() + ttl * 1000);
    auth = 'issues a token';
    return reply(200, token);
  }
  const token = req.headers['x-aws-ec2-metadata-token'];
  auth = token === undefined ? 'no token' : (tokens.get(String(token)) ?? 0) > Date.now() ? 'token' : 'bad token';
  if (auth === 'bad token' || (auth === 'no token' && c.requireToken)) return reply(401, 'Unauthorized\n');
  if (req.method !== 'GET') return reply(405, 'Method Not Allowed\n');
  const az = `${c.region}a`;
  const expiration = new Date(Date.now() + 6 * 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const paths: Record<string, () => string> = {
    '/latest/user-data': () => fs.readFileSync(c.userDataFile, 'utf8'),
    '/latest/meta-data/': () => 'ami-id\niam/\ninstance-id\nplacement/\n',
    '/latest/meta-data/instance-id': () => c.instanceId,
    '/latest/meta-data/placement/region': () => c.region,
    '/latest/meta-data/placement/availability-zone': () => az,
    '/latest/meta-data/iam/info': () => JSON.stringify({ Code: 'Success', InstanceProfileArn: `arn:aws:iam::${c.accountId}:instance-profile/${c.roleName}` }),
    '/latest/meta-data/iam/security-credentials/': () => c.roleName,
    [`/latest/meta-data/iam/security-credentials/${c.roleName}`]: () =>
      JSON.stringify({ Code: 'Success', LastUpdated: new Date().toISOString(), Type: 'AWS-HMAC', ...c.credentials, Expiration: expiration }),
    '/latest/dynamic/instance-identity/document': () =>
      JSON.stringify({ accountId: c.accountId, region: c.region, availabilityZone: az, instanceId: c.instanceId, architecture: 'x86_64', imageId: 'ami-0b00715e' }),
  };
  const body = paths[p] ?? paths[p.replace(/\/+$/, '')];
  return body ? reply(200, body(), p.endsWith('/document') || p.includes('security-credentials/') && !p.endsWith('/') ? 'application/json' : 'text/plain') : reply(404, 'Not Found\n');
}

function main(): void {
  const c = config();
  https.createServer({ cert: fs.readFileSync(c.tls.cert), key: fs.readFileSync(c.tls.key) }, s3).listen(c.s3.port, c.s3.host);
  http.createServer(imds).listen(c.imds.port, c.imds.host);
  process.on('SIGTERM', () => process.exit(0));
}

if (require.main === module) main();
