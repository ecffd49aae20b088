import { NetNs, createNetNs } from './netns';
import { run } from './tools';

/*
 * Two network namespaces joined by a veth pair: a server and a client that reach each other as
 * two hosts do (not through lo, which a host firewall lets through and the kernel treats apart).
 * The client gets several addresses, so one test can be a listed and an unlisted source in turn.
 */
export interface VethPair {
  readonly server: NetNs;
  readonly client: NetNs;
  readonly serverV4: string;
  readonly serverV6: string;
  /** The client's addresses, each usable as a source (`rsync --address=…`). */
  readonly clientV4: readonly string[];
  readonly clientV6: readonly string[];
  destroy(): void;
}

let counter = 0;

export function createVethPair(clients = 3): VethPair {
  const server = createNetNs();
  const client = createNetNs();
  const net = 100 + (process.pid % 100) + counter++;
  const [a, b] = [`mfs${process.pid % 10000}${counter}`, `mfc${process.pid % 10000}${counter}`];
  const must = (cmd: string, args: string[]) => {
    const r = run(cmd, args);
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  };
  try {
    must('ip', ['link', 'add', a, 'netns', server.name, 'type', 'veth', 'peer', 'name', b, 'netns', client.name]);
    const serverV4 = `10.${net}.0.1`;
    const serverV6 = `fd00:${net}::1`;
    const clientV4 = Array.from({ length: clients }, (_, i) => `10.${net}.0.${i + 2}`);
    const clientV6 = Array.from({ length: clients }, (_, i) => `fd00:${net}::${i + 2}`);
    const inNs = (ns: NetNs, args: string[]) => {
      const r = ns.exec('ip', args);
      if (r.status !== 0) throw new Error(`ip ${args.join(' ')} in ${ns.name}: ${r.stderr}`);
    };
    inNs(server, ['addr', 'add', `${serverV4}/24`, 'dev', a]);
    inNs(server, ['-6', 'addr', 'add', `${serverV6}/64`, 'dev', a, 'nodad']);
    inNs(server, ['link', 'set', a, 'up']);
    for (const ip of clientV4) inNs(client, ['addr', 'add', `${ip}/24`, 'dev', b]);
    for (const ip of clientV6) inNs(client, ['-6', 'addr', 'add', `${ip}/64`, 'dev', b, 'nodad']);
    inNs(client, ['link', 'set', b, 'up']);
    return { server, client, serverV4, serverV6, clientV4, clientV6, destroy: () => { client.destroy(); server.destroy(); } };
  } catch (e) {
    client.destroy();
    server.destroy();
    throw e;
  }
}
