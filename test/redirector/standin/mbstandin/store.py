"""Mirror records in Redis under mirrorbits' keys (MIRRORS, LAST_MID, MIRROR_<id>, MIRRORLOGS_<id>),
written as its RPC server does (rpc/rpc.go setMirror): normal forms, IDs never reused, a log entry
on every write, an update published on _mirrorbits_mirror_update."""
import json
import socket
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

from . import yamlish

# (YAML key, Redis field, type) in the order of mirrors.Mirror; the YAML is what show/edit print.
FIELDS = [('Name', 'name', str), ('HttpURL', 'http', str), ('RsyncURL', 'rsync', str), ('FtpURL', 'ftp', str),
          ('SponsorName', 'sponsorName', str), ('SponsorURL', 'sponsorURL', str), ('SponsorLogoURL', 'sponsorLogo', str),
          ('AdminName', 'adminName', str), ('AdminEmail', 'adminEmail', str), ('CustomData', 'customData', str),
          ('ContinentOnly', 'continentOnly', bool), ('CountryOnly', 'countryOnly', bool), ('ASOnly', 'asOnly', bool),
          ('Score', 'score', int), ('Latitude', 'latitude', float), ('Longitude', 'longitude', float),
          ('ContinentCode', 'continentCode', str), ('CountryCodes', 'countryCodes', str),
          ('ExcludedCountryCodes', 'excludedCountryCodes', str), ('ASNum', 'asnum', int), ('Enabled', 'enabled', bool),
          ('AllowRedirects', 'allowredirects', 'redirects')]
LOG = {'error': 1, 'added': 2, 'edited': 3, 'enabled': 4, 'disabled': 5, 'state': 6, 'scanstarted': 7, 'scancompleted': 8}
UPDATE_CHANNEL = '_mirrorbits_mirror_update'


class RpcError(Exception):
    pass


def _bool(s):
    return str(s).lower() in ('1', 'true')


def load(r, mid):
    h = r.hgetall(f'MIRROR_{mid}')
    if not h:
        return None
    m = {'ID': int(h.get('ID', mid)), 'Comment': h.get('comment', '')}
    for key, field, typ in FIELDS:
        v = h.get(field, '')
        m[key] = (_bool(v) if typ is bool else int(float(v or 0)) if typ is int else float(v or 0) if typ is float
                  else {'1': True, '2': False}.get(v) if typ == 'redirects' else v)
    for f in ('httpUp', 'httpsUp'):
        m[f] = _bool(h.get(f, '0'))
    for f in ('httpDownReason', 'httpsDownReason'):
        m[f] = h.get(f, '')
    for f in ('stateSince', 'lastSync', 'lastSuccessfulSync', 'lastModTime'):
        m[f] = int(h.get(f) or 0)
    return m


def yaml_of(m):
    return yamlish.emit_flat((k, m[k]) for k, _, _ in FIELDS)


def mirrors(r):
    """{id: name} from the MIRRORS hash."""
    return {int(k): v for k, v in r.hgetall('MIRRORS').items()}


def match(r, pattern):
    return sorted((i, n) for i, n in mirrors(r).items() if pattern.lower() in n.lower())


def sanitize_codes(s):
    return ' '.join(s.replace(',', ' ').upper().split())


def normalize_url(u):
    return u if u == '' or u.endswith('/') else u + '/'


def push_log(r, mid, kind, **extra):
    entry = {'Type': LOG[kind], 'MirrorID': mid, 'Timestamp': datetime.now(timezone.utc).astimezone().isoformat()}
    r('RPUSH', f'MIRRORLOGS_{mid}', json.dumps({**entry, **extra}))


def log_line(entry):
    e = json.loads(entry)
    when = datetime.fromisoformat(e['Timestamp']).strftime('%Y-%m-%d %H:%M:%S %Z')
    kind = {v: k for k, v in LOG.items()}.get(e['Type'])
    text = {'error': f'Error: {e.get("Err")}', 'added': 'Mirror added', 'edited': 'Mirror edited',
            'enabled': 'Mirror enabled', 'disabled': 'Mirror disabled', 'scanstarted': 'RSYNC scan started'}.get(kind)
    if kind == 'state':
        who = {1: 'HTTP mirror', 2: 'HTTPS mirror'}.get(e.get('Proto'), 'Mirror')
        text = f'{who} is up' if e.get('Up') else f'{who} is down' + (f': {e["Reason"]}' if e.get('Reason') else '')
    if kind == 'scancompleted':
        text = f'Scan completed: {e["FilesIndexed"]} files ({e["KnownIndexed"]} known), {e["Removed"]} removed'
    return f'{when}: {text}'


def set_mirror(r, m):
    """setMirror: the name must be free, a new mirror gets the next ID, codes and URLs normalised."""
    ids = mirrors(r)
    is_update = m.get('ID', 0) in ids
    if any(i != m.get('ID', 0) and n == m['Name'] for i, n in ids.items()):
        raise RpcError('name already taken')
    if m.get('ID', 0) <= 0:
        m['ID'] = r('INCR', 'LAST_MID')
    for k in ('CountryCodes', 'ExcludedCountryCodes', 'ContinentCode'):
        m[k] = sanitize_codes(m.get(k, ''))
    for k in ('HttpURL', 'RsyncURL', 'FtpURL'):
        m[k] = normalize_url(m.get(k, ''))
    args = ['HMSET', f'MIRROR_{m["ID"]}', 'ID', m['ID']]
    for key, field, typ in FIELDS:
        v = m.get(key)
        v = {True: 1, False: 2, None: 0}[v] if typ == 'redirects' else ('' if v is None else v)
        args += [field, v]
    args += ['comment', m.get('Comment', '')]
    cmds = [args]
    if m['HttpURL'].startswith('http://'):  # the protocol the URL cannot serve is down
        cmds.append(['HSET', f'MIRROR_{m["ID"]}', 'httpsUp', 0])
    elif m['HttpURL'].startswith('https://'):
        cmds.append(['HSET', f'MIRROR_{m["ID"]}', 'httpUp', 0])
    cmds.append(['HSET', 'MIRRORS', m['ID'], m['Name']])
    r.pipeline(cmds)
    r('PUBLISH', UPDATE_CHANNEL, m['ID'])
    push_log(r, m['ID'], 'edited' if is_update else 'added')
    return m


def lookup_host(http_url):
    """network.LookupMirrorIP on the URL's host[:port]: a port makes it fail, as on the real one."""
    netloc = urlsplit(http_url if '://' in http_url else 'http://' + http_url).netloc
    host = netloc.rsplit('@', 1)[-1]
    if host.startswith('[') and ']' in host:
        bare, port = host[1:host.index(']')], host[host.index(']') + 1:]
    else:
        bare, port = host, (':' in host)
    if port:
        raise RpcError(f'IP lookup failed: lookup {host}: no such host')
    try:
        ips = sorted({a[4][0] for a in socket.getaddrinfo(bare, None, proto=socket.IPPROTO_TCP)})
    except socket.gaierror:
        raise RpcError(f'IP lookup failed: lookup {host}: no such host')
    return ips[0], len(ips) > 1


def add_mirror(r, geo, m):
    if m.get('ID'):
        raise RpcError('unexpected ID')
    ip, several = lookup_host(m['HttpURL'])
    warnings = ['Warning: the hostname returned more than one address. Assuming they\'re sharing the same location.'] if several else []
    if not geo.loaded():
        raise RpcError('One or more GeoIP database could not be loaded')
    rec = geo.record(ip)
    if rec['country']:
        m.update(Latitude=rec['lat'], Longitude=rec['lon'], ContinentCode=rec['continent'], CountryCodes=rec['country'], ASNum=rec['asnum'])
    else:
        warnings.append('Warning: unable to guess the geographic location of this mirror')
    m.setdefault('Enabled', False)
    set_mirror(r, m)
    return warnings, rec


def update_mirror(r, m):
    if m.get('ID', 0) <= 0:
        raise RpcError('invalid mirror id')
    before = load(r, m['ID'])
    old = yaml_of(before).split('\n') if before else []
    set_mirror(r, m)
    new = yaml_of(load(r, m['ID'])).split('\n')
    return ''.join(f'- {a}\n+ {b}\n' for a, b in zip(old, new) if a != b)


def change_status(r, mid, enabled):
    r('HSET', f'MIRROR_{mid}', 'enabled', int(enabled))
    r('PUBLISH', UPDATE_CHANNEL, mid)
    push_log(r, mid, 'enabled' if enabled else 'disabled')


def remove_mirror(r, mid):
    change_status(r, mid, False)
    files = r('SMEMBERS', f'MIRRORFILES_{mid}') or []
    cmds = []
    for f in files:
        cmds += [['DEL', f'FILEINFO_{mid}_{f}'], ['SREM', f'FILEMIRRORS_{f}', mid]]
    cmds.append(['DEL', f'MIRROR_{mid}', f'MIRRORFILES_{mid}', f'MIRRORFILESTMP_{mid}', f'HANDLEDFILES_{mid}',
                 f'SCANNING_{mid}', f'MIRRORLOGS_{mid}'])
    cmds.append(['HDEL', 'MIRRORS', mid])
    r.pipeline(cmds)
    r('PUBLISH', UPDATE_CHANNEL, mid)


def set_state(r, mid, proto, up, reason=''):
    """MarkMirrorUp/Down for one protocol; a log entry only when the state changes."""
    field, reason_field = ('httpUp', 'httpDownReason') if proto == 1 else ('httpsUp', 'httpsDownReason')
    previous = _bool(r('HGET', f'MIRROR_{mid}', field) or '0')
    args = ['HMSET', f'MIRROR_{mid}', field, int(up), reason_field, reason]
    if previous != up:
        args += ['stateSince', int(time.time())]
    r(*args)
    r('PUBLISH', UPDATE_CHANNEL, mid)
    if previous != up:
        push_log(r, mid, 'state', Proto=proto, Up=up, Reason=reason)
