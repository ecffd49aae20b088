"""The daemon's HTTP side (http/http.go, http/selection.go): a file that exists locally is
redirected (302) to a mirror chosen by GeoIP of the left-most X-Forwarded-For entry (else the
peer); mirrors that are disabled, down, or hold another size or mtime are excluded; fallbacks when
no mirror fits, 503 without; 404 for what the local repository lacks; ?mirrorlist and ?mirrorstats."""
import html
import json
import math
import os
import random
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

from . import VERSION, repo, store


def distance_km(lat1, lon1, lat2, lon2):
    rad = math.pi / 180
    a = math.sin((lat2 - lat1) * rad / 2) ** 2 + math.cos(lat1 * rad) * math.cos(lat2 * rad) * math.sin((lon2 - lon1) * rad / 2) ** 2
    return 6371 * 2 * math.atan2(math.sqrt(a), math.sqrt(1 - a))


def absolute(u, scheme):
    return u if u.startswith(('http://', 'https://')) else f'{scheme}://{u}'


def candidates(d, info, client, secure):
    """Filter(): the mirrors that may serve this file, and the excluded ones with their reason."""
    r, ok, excluded = d.redis, [], []
    for mid in sorted(int(x) for x in r('SMEMBERS', f'FILEMIRRORS_{info["path"]}') or []):
        m = store.load(r, mid)
        if not m:
            continue
        fi = r.hgetall(f'FILEINFO_{mid}_{info["path"]}')
        m['countries'] = m['CountryCodes'].split()
        m['Distance'] = distance_km(client['lat'], client['lon'], m['Latitude'], m['Longitude'])
        reason = None
        https_ok = not m['HttpURL'].startswith('http://') and m['httpsUp']
        http_ok = not m['HttpURL'].startswith('https://') and m['httpUp']
        if not m['Enabled']:
            reason = 'Disabled'
        elif secure == 'https' and not https_ok or secure == 'http' and not http_ok or not (https_ok or http_ok):
            reason = 'Down'
        elif fi and int(fi['size']) != info['size']:
            reason = 'File size mismatch'
        elif fi and int(fi['modTime']) != info['modTime']:
            reason = f'Mod time mismatch (diff: {info["modTime"] - int(fi["modTime"])}s)'
        elif m['ContinentOnly'] and client['continent'] != m['ContinentCode']:
            reason = 'Continent only'
        elif m['CountryOnly'] and client['country'] not in m['countries']:
            reason = 'Country only'
        elif m['ASOnly'] and (not client['country'] or client['asnum'] != m['ASNum']):
            reason = 'AS only'
        elif client['country'] and client['country'] in m['ExcludedCountryCodes'].split():
            reason = "User's country restriction"
        m['AbsoluteURL'] = absolute(m['HttpURL'], 'https' if (secure == 'https' or (secure != 'http' and https_ok)) else 'http')
        if reason:
            m['ExcludeReason'] = reason
            excluded.append(m)
        else:
            ok.append(m)
    return ok, excluded


def select(d, ok, client):
    """Selection(): random without GeoIP; else a weighted draw among the mirrors within
    WeightDistributionRange of the closest, favouring the client's country and AS."""
    if not client['country']:
        random.shuffle(ok)
        return ok[:5]
    closest = min((m['Distance'] for m in ok), default=0) or 1e-45
    base = int(max((m['Distance'] for m in ok), default=0))
    weights = {}
    for m in ok:
        m['Score2'] = 0
        if m['Distance'] > closest * d.config['WeightDistributionRange']:
            continue
        score = base - int(m['Distance']) + 1
        if m['countries'][:1] == [client['country']]:
            score += int(base - m['Distance'] * 5)
        else:
            score += int((base - m['Distance']) / 2)
        if m['ASNum'] == client['asnum']:
            score += base // 2
        score = max(int(score + score * m['Score'] / 100 + 0.5), 1)
        m['Score2'] = score
        if score > base:
            weights[m['ID']] = score - base
    ok.sort(key=lambda m: -m['Score2'])
    if len(weights) > 1:
        drawn = []
        while weights:
            pick = random.choices(list(weights), weights=list(weights.values()))[0]
            drawn.append(next(m for m in ok if m['ID'] == pick))
            del weights[pick]
        ok = drawn + ok[len(drawn):]
        return ok[:min(5, len(drawn))]
    return ok


def rank_fallbacks(fallbacks, client, secure):
    out = []
    for f in fallbacks:
        u = f['URL']
        out.append({'Name': 'fallback', 'HttpURL': u, 'countries': [f.get('CountryCode', '').upper()],
                    'ContinentCode': f.get('ContinentCode', '').upper(),
                    'AbsoluteURL': absolute(u, 'http' if secure == 'http' else 'https')})
    out.sort(key=lambda m: (client['country'] not in m['countries'], client['continent'] != m['ContinentCode']))
    return out


class Handler(BaseHTTPRequestHandler):
    server_version = 'Mirrorbits/' + VERSION
    sys_version = ''
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):
        pass

    def do_HEAD(self):
        self.handle_request(head=True)

    def do_GET(self):
        self.handle_request(head=False)

    def send(self, status, body=b'', headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if not self.head:
            self.wfile.write(body)

    def handle_request(self, head):
        self.head, d = head, self.server.daemon
        u = urlsplit(self.path)
        query = parse_qs(u.query, keep_blank_values=True)
        if 'mirrorstats' in query:
            return self.mirrorstats(d)
        root = os.path.realpath(d.config['Repository'])
        local = os.path.realpath(os.path.join(root, unquote(u.path).lstrip('/')))
        if local != root and not local.startswith(root + os.sep):
            return self.send(403, b'Forbidden\n')
        if not os.path.exists(local):
            return self.send(404, b'404 page not found\n')
        path = '/' + os.path.relpath(local, root) if local != root else '/'
        info = repo.file_info(d.redis, path)
        ip = (self.headers.get('X-Forwarded-For') or '').split(',')[0].strip() or self.client_address[0]
        if 'mirrorlist' in query and query.get('fromip', [''])[0]:
            ip = query['fromip'][0]
        client = d.geoip.record(ip)
        proto, https = (self.headers.get('X-Forwarded-Proto') or '').lower(), query.get('https', [''])[0]
        secure = 'https' if proto == 'https' else 'http' if proto == 'http' and not d.config['AllowHTTPToHTTPSRedirects'] else ''
        secure = {'1': 'https', '0': 'http'}.get(https, secure)
        ok, excluded = candidates(d, info, client, secure) if info else ([], [])
        chosen, fallback = select(d, ok, client), False
        if not chosen:
            if not d.config['Fallbacks']:
                return self.send(503, b'Service Unavailable\n')
            chosen, fallback = rank_fallbacks(d.config['Fallbacks'], client, secure), True
        rel = path.lstrip('/')
        if 'mirrorlist' in query:
            rows = ''.join(f'<tr><td>{html.escape(m["Name"])}</td><td><a href="{html.escape(m["AbsoluteURL"] + rel)}">'
                           f'{html.escape(m["HttpURL"])}</a></td></tr>' for m in chosen)
            gone = ''.join(f'<tr><td>{html.escape(m["HttpURL"])}</td><td>{html.escape(m["ExcludeReason"])}</td></tr>' for m in excluded)
            page = (f'<html><body><h3>{html.escape(path)}</h3><p>IP: {html.escape(ip)} ({client["country"] or "Unknown"})</p>'
                    f'{"<p>fallback</p>" if fallback else ""}<table>{rows}</table><h3>Excluded Mirrors</h3><table>{gone}</table></body></html>')
            return self.send(200, page.encode(), [('Content-Type', 'text/html; charset=utf-8')])
        headers = [('Cache-Control', 'private, no-cache')]
        accept = self.headers.get('Accept') or ''
        if d.config['OutputMode'] == 'json' or (d.config['OutputMode'] == 'auto' and 'application/json' in accept):
            body = json.dumps({'FileInfo': info, 'IP': ip, 'Fallback': fallback,
                               'MirrorList': [{'Name': m['Name'], 'HttpURL': m['HttpURL']} for m in chosen]}).encode()
            return self.send(200, body, headers + [('Content-Type', 'application/json; charset=utf-8')])
        for i, m in enumerate(chosen[1:1 + d.config['MaxLinkHeaders']]):
            headers.append(('Link', f'<{m["AbsoluteURL"]}{rel}>; rel=duplicate; pri={i + 1}; geo={m["countries"][0].lower() if m["countries"] else ""}'))
        target = chosen[0]['AbsoluteURL'] + rel
        body = f'<a href="{html.escape(target)}">Found</a>.\n\n'.encode()
        self.send(302, body, headers + [('Location', target), ('Content-Type', 'text/html; charset=utf-8')])

    def mirrorstats(self, d):
        rows = []
        for mid, name in sorted(store.mirrors(d.redis).items()):
            m = store.load(d.redis, mid)
            state = 'disabled' if not m['Enabled'] else 'up' if (m['httpUp'] or m['httpsUp']) else 'down'
            rows.append(f'<tr><td>{html.escape(name)}</td><td>{state}</td><td>0</td></tr>')
        page = f'<html><body><table>{"".join(rows)}</table></body></html>'
        self.send(200, page.encode(), [('Content-Type', 'text/html; charset=utf-8')])
