import { must } from './sh';
import { World } from './world';

/** Addresses on a link between two worlds (linkWorlds): `a` is .1 / ::1, `b` .2 / ::2. */
export interface WorldLink {
  readonly aIp: string;
  readonly bIp: string;
  readonly aIp6: string;
  readonly bIp6: string;
}

/**
 * A link between the namespaces of two worlds, a veth pair with no host in between: how the
 * machine of one world reaches the machine of another (a mirror node syncing from the project's
 * master), by address, as over the Internet. Configured before the machine that uses it boots, removed
 * with the namespaces; the machines' own network config (host0) does not touch it. `dev` names
 * the pair in both namespaces: a world linked to two others needs a second name.
 */
export function linkWorlds(a: World, b: World, dev = 'mflink'): WorldLink {
  const n = a.opts.index;
  const link = { aIp: `10.214.${n}.1`, bIp: `10.214.${n}.2`, aIp6: `fd42:6d67:0:${n}::1`, bIp6: `fd42:6d67:0:${n}::2` };
  must('ip', ['link', 'add', dev, 'netns', a.netns, 'type', 'veth', 'peer', 'name', dev, 'netns', b.netns]);
  for (const [w, ip, ip6] of [[a, link.aIp, link.aIp6], [b, link.bIp, link.bIp6]] as const) {
    must('ip', ['-n', w.netns, 'addr', 'add', `${ip}/30`, 'dev', dev]);
    must('ip', ['-n', w.netns, '-6', 'addr', 'add', `${ip6}/64`, 'dev', dev, 'nodad']);
    must('ip', ['-n', w.netns, 'link', 'set', dev, 'up']);
  }
  return link;
}
