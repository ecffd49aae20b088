"""Reads MaxMind DB files (GeoLite2 City and ASN) as mirrorbits does: country, continent, position
and AS number of an address. The format: a binary search tree over the address bits, then a data
section of typed values (https://maxmind.github.io/MaxMind-DB/)."""
import ipaddress
import os
import struct

MARKER = b'\xab\xcd\xefMaxMind.com'


class Reader:
    def __init__(self, path):
        with open(path, 'rb') as f:
            self.buf = f.read()
        meta_at = self.buf.rindex(MARKER) + len(MARKER)
        self.meta, _ = self._decode(meta_at, meta_at)
        self.nodes, self.rsize = self.meta['node_count'], self.meta['record_size']
        self.node_bytes = self.rsize * 2 // 8
        self.data_at = self.nodes * self.node_bytes + 16
        self.build_epoch = self.meta.get('build_epoch', 0)

    def _record(self, node, bit):
        b, n = self.buf, node * self.node_bytes
        if self.rsize == 24:
            return int.from_bytes(b[n + 3 * bit:n + 3 * bit + 3], 'big')
        if self.rsize == 28:
            if bit == 0:
                return ((b[n + 3] & 0xF0) << 20) | int.from_bytes(b[n:n + 3], 'big')
            return ((b[n + 3] & 0x0F) << 24) | int.from_bytes(b[n + 4:n + 7], 'big')
        return int.from_bytes(b[n + 4 * bit:n + 4 * bit + 4], 'big')

    def lookup(self, ip):
        addr = ipaddress.ip_address(ip)
        bits, node = addr.max_prefixlen, 0
        if addr.version == 4 and self.meta['ip_version'] == 6:
            for _ in range(96):  # IPv4 lives under ::/96 in an IPv6 tree
                node = self._record(node, 0)
                if node >= self.nodes:
                    return None
        value = int(addr)
        for i in range(bits - 1, -1, -1):
            if node >= self.nodes:
                break
            node = self._record(node, (value >> i) & 1)
        if node <= self.nodes:
            return None
        return self._decode(self.data_at + node - self.nodes - 16, self.data_at)[0]

    def _decode(self, at, base):
        b = self.buf
        ctrl = b[at]; at += 1
        kind = ctrl >> 5
        if kind == 1:  # pointer
            ss, v = (ctrl >> 3) & 3, ctrl & 7
            if ss == 0:
                p, at = (v << 8) | b[at], at + 1
            elif ss == 1:
                p, at = ((v << 16) | int.from_bytes(b[at:at + 2], 'big')) + 2048, at + 2
            elif ss == 2:
                p, at = ((v << 24) | int.from_bytes(b[at:at + 3], 'big')) + 526336, at + 3
            else:
                p, at = int.from_bytes(b[at:at + 4], 'big'), at + 4
            return self._decode(base + p, base)[0], at
        if kind == 0:
            kind, at = 7 + b[at], at + 1
        size = ctrl & 0x1F
        if size >= 29:
            extra = size - 28
            size = {29: 29, 30: 285, 31: 65821}[size] + int.from_bytes(b[at:at + extra], 'big')
            at += extra
        if kind == 2:
            return b[at:at + size].decode('utf-8'), at + size
        if kind == 3:
            return struct.unpack('>d', b[at:at + 8])[0], at + 8
        if kind == 4:
            return b[at:at + size], at + size
        if kind in (5, 6, 9, 10):
            return int.from_bytes(b[at:at + size], 'big'), at + size
        if kind == 8:
            return int.from_bytes(b[at:at + size].rjust(4, b'\0'), 'big', signed=True), at + size
        if kind == 15:
            return struct.unpack('>f', b[at:at + 4])[0], at + 4
        if kind == 14:
            return bool(size), at
        if kind in (7, 11):
            out = {} if kind == 7 else []
            for _ in range(size):
                if kind == 7:
                    k, at = self._decode(at, base)
                    out[k], at = self._decode(at, base)
                else:
                    v, at = self._decode(at, base)
                    out.append(v)
            return out, at
        raise ValueError(f'unsupported MaxMind DB type {kind}')


class GeoIP:
    """GeoLite2-City.mmdb and GeoLite2-ASN.mmdb from one directory (a `.updated` copy preferred)."""

    def __init__(self, directory):
        self.city = self.asn = None
        self.errors = []
        for name in ('GeoLite2-City.mmdb', 'GeoLite2-ASN.mmdb'):
            path = os.path.join(directory or '/usr/share/GeoIP/', name)
            if os.path.exists(path + '.updated'):
                path += '.updated'
            try:
                reader = Reader(path)
            except (OSError, ValueError) as e:
                self.errors.append(f'{path}: {e}')
                continue
            setattr(self, 'city' if 'City' in name else 'asn', reader)

    def loaded(self):
        return not self.errors

    def record(self, ip):
        """{country, continent, city, lat, lon, asnum, asname}; country is '' when unknown."""
        rec = {'country': '', 'continent': '', 'city': '', 'lat': 0.0, 'lon': 0.0, 'asnum': 0, 'asname': ''}
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            return rec
        c = self.city.lookup(ip) if self.city else None
        if c:
            rec.update(country=c.get('country', {}).get('iso_code', ''), continent=c.get('continent', {}).get('code', ''),
                       city=c.get('city', {}).get('names', {}).get('en', ''),
                       lat=c.get('location', {}).get('latitude', 0.0), lon=c.get('location', {}).get('longitude', 0.0))
        a = self.asn.lookup(ip) if self.asn else None
        if a:
            rec.update(asnum=a.get('autonomous_system_number', 0), asname=a.get('autonomous_system_organization', ''))
        return rec
