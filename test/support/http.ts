import * as http from 'node:http';
import * as net from 'node:net';

/** One HTTP response as the server sent it (no decompression, no redirects followed). */
export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A single request on a fresh connection (no agent, no keep-alive reuse). */
export function fetchRaw(
  port: number,
  urlPath: string,
  opts: { method?: string; headers?: Record<string, string>; host?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: opts.host ?? '127.0.0.1', port, path: urlPath, method: opts.method ?? 'GET', headers: opts.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The code of a failed TCP connect (e.g. ECONNREFUSED), or "connected". */
export function connectResult(port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host }, () => {
      s.destroy();
      resolve('connected');
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

/** Whether ::1 exists on this host (Apache's `Listen [::1]:port` needs it). */
export function hasIpv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.on('error', () => resolve(false));
    server.listen(0, '::1', () => server.close(() => resolve(true)));
  });
}

/**
 * A raw TCP connection that sends HTTP/1.1 requests one after the other and parses the
 * responses itself, so the test sees exactly which socket served what and when it was closed.
 */
export class RawConnection {
  private readonly socket: net.Socket;
  private buffer = Buffer.alloc(0);
  private waiter?: () => void;
  private closedAt?: number;
  readonly ready: Promise<void>;

  constructor(port: number, host = '127.0.0.1') {
    this.socket = net.connect({ port, host });
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
    this.socket.on('data', (d: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, d]);
      this.waiter?.();
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      this.closedAt = Date.now();
      this.waiter?.();
    });
  }

  /** The local port: the same value across two requests means the same TCP connection. */
  get localPort(): number | undefined {
    return this.socket.localPort;
  }

  get closed(): boolean {
    return this.closedAt !== undefined;
  }

  /** When the connection closed (Date.now()), if it has. */
  get closedTime(): number | undefined {
    return this.closedAt;
  }

  /** Sends one GET and reads its full response (Content-Length framed). */
  async get(urlPath: string, timeoutMs = 5000): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    await this.ready;
    if (this.closed) throw new Error(`connection closed before GET ${urlPath}`);
    this.socket.write(`GET ${urlPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: mirrorfleet-test\r\nConnection: keep-alive\r\n\r\n`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end >= 0) {
        const lines = this.buffer.subarray(0, end).toString('latin1').split('\r\n');
        const status = Number(lines[0].split(' ')[1]);
        const headers: Record<string, string> = {};
        for (const line of lines.slice(1)) {
          const i = line.indexOf(':');
          headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
        }
        const length = Number(headers['content-length']);
        if (!Number.isInteger(length)) throw new Error(`GET ${urlPath}: no Content-Length in ${lines.join(' | ')}`);
        if (this.buffer.length >= end + 4 + length) {
          const body = this.buffer.subarray(end + 4, end + 4 + length);
          this.buffer = this.buffer.subarray(end + 4 + length);
          return { status, headers, body };
        }
      }
      if (this.closed) throw new Error(`connection closed while reading the response to GET ${urlPath}`);
      if (Date.now() > deadline) throw new Error(`no complete response to GET ${urlPath} within ${timeoutMs} ms`);
      await this.nextEvent(deadline - Date.now());
    }
  }

  /** Resolves true once the server has closed the connection, false if still open after `ms`. */
  async closedWithin(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) await this.nextEvent(deadline - Date.now());
    return this.closed;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private nextEvent(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(1, ms));
      const self = this;
      function done() {
        clearTimeout(timer);
        self.waiter = undefined;
        resolve();
      }
      this.waiter = done;
    });
  }
}
