import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The cloud's DNS resolver, for the qemu guest (harness only, never on a real node). A cloud
 * gives its instances a resolver; here the world's DNS server plays it. slirp with restrict=on
 * carries no UDP and guestfwd tunnels carry TCP only, so this relay in the guest answers UDP
 * queries on 127.0.0.53 by asking the world's server over TCP (RFC 1035 4.2.2 length prefix)
 * through a tunnel. The node's own resolver use (mirrorfleet-cert's `host`, apt, certbot) is
 * unchanged: it reads /etc/resolv.conf as on any cloud.
 */
const RELAY = `#!/usr/bin/python3
# mirrorfleet boot test DNS relay (harness only): UDP queries on 127.0.0.53 -> TCP to the world.
import socket, struct, sys, threading

upstream = (sys.argv[1], int(sys.argv[2]))
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("127.0.0.53", 53))


def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise OSError("the world's DNS server closed the connection")
        data += chunk
    return data


def relay(query, client):
    try:
        with socket.create_connection(upstream, timeout=5) as conn:
            conn.sendall(struct.pack("!H", len(query)) + query)
            size = struct.unpack("!H", recv_exact(conn, 2))[0]
            udp.sendto(recv_exact(conn, size), client)
    except OSError as e:
        print(f"dns relay: {e}", file=sys.stderr, flush=True)


while True:
    query, client = udp.recvfrom(65535)
    threading.Thread(target=relay, args=(query, client), daemon=True).start()
`;

const UNIT = (ip: string, port: number) => `[Unit]
Description=mirrorfleet boot test DNS relay (harness only): the cloud's resolver
After=networking.service
Before=network-online.target nss-lookup.target
Wants=nss-lookup.target

[Service]
ExecStart=/usr/local/sbin/mirrorfleet-boot-dns-relay ${ip} ${port}
Restart=on-failure
RestartSec=1

[Install]
WantedBy=network-online.target
`;

/** Installs the relay into the guest's root at `root`, resolving through `ip`:`port` over TCP. */
export function installResolver(root: string, ip: string, port: number): void {
  const r = (p: string) => path.join(root, p);
  fs.mkdirSync(r('usr/local/sbin'), { recursive: true });
  fs.writeFileSync(r('usr/local/sbin/mirrorfleet-boot-dns-relay'), RELAY, { mode: 0o755 });
  fs.writeFileSync(r('etc/systemd/system/mirrorfleet-boot-dns-relay.service'), UNIT(ip, port));
  fs.mkdirSync(r('etc/systemd/system/network-online.target.wants'), { recursive: true });
  fs.symlinkSync('/etc/systemd/system/mirrorfleet-boot-dns-relay.service', r('etc/systemd/system/network-online.target.wants/mirrorfleet-boot-dns-relay.service'));
  fs.rmSync(r('etc/resolv.conf'), { force: true });
  fs.writeFileSync(r('etc/resolv.conf'), 'nameserver 127.0.0.53\n');
  // slirp's DHCP offers its own DNS address (unreachable under restrict=on): keep ours.
  fs.mkdirSync(r('etc/dhcp/dhclient-enter-hooks.d'), { recursive: true });
  fs.writeFileSync(r('etc/dhcp/dhclient-enter-hooks.d/mirrorfleet-boot-resolver'), 'make_resolv_conf() { :; }\n');
}
