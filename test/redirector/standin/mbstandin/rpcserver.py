"""The daemon's CLI service (rpc/rpc.go) on RPCListenAddress. The real one speaks gRPC; this one
speaks JSON over HTTP to the stand-in's own CLI, with the same methods, checks and errors."""
import json
import os
import signal
from http.server import BaseHTTPRequestHandler

from . import VERSION, repo, store


def call(d, method, a):
    r = d.redis

    def need_id():
        if int(a.get('ID', 0)) <= 0:
            raise store.RpcError('invalid mirror id')
        return int(a['ID'])

    if method == 'Ping':
        return {}
    if method == 'GetVersion':
        return {'Version': VERSION}
    if method == 'MatchMirror':
        return {'Mirrors': [{'ID': i, 'Name': n} for i, n in store.match(r, a.get('Pattern', ''))]}
    if method == 'List':
        return {'Mirrors': [store.load(r, i) for i in store.mirrors(r)]}
    if method == 'MirrorInfo':
        m = store.load(r, need_id())
        if m is None:
            raise store.RpcError('redigo: nil returned')
        return m
    if method == 'AddMirror':
        warnings, rec = store.add_mirror(r, d.geoip, a)
        return {'Warnings': warnings, 'Country': rec['country'], 'Continent': rec['continent'],
                'Latitude': rec['lat'], 'Longitude': rec['lon'], 'ASN': f'{rec["asname"]} ({rec["asnum"]})'}
    if method == 'UpdateMirror':
        need_id()
        return {'Diff': store.update_mirror(r, a)}
    if method == 'RemoveMirror':
        store.remove_mirror(r, need_id())
        return {}
    if method == 'ChangeStatus':
        store.change_status(r, need_id(), bool(a.get('Enabled')))
        return {}
    if method == 'ScanMirror':
        mid = need_id()
        if not r('EXISTS', 'FILES'):
            raise store.RpcError("local repository not yet indexed. You should run 'refresh' first!", 'FailedPrecondition')
        m = store.load(r, mid)
        try:
            res = repo.scan_mirror(r, mid, m['RsyncURL'])
        except repo.ScanError as e:
            raise store.RpcError(f'scanning {m["Name"]} failed: {e}')
        if a.get('AutoEnable'):
            store.change_status(r, mid, True)
            res['Enabled'] = True
        return res
    if method == 'RefreshRepository':
        repo.scan_source(r, d.config['Repository'], bool(a.get('Rehash')))
        return {}
    if method == 'GetMirrorLogs':
        n = int(a.get('MaxResults') or 500)
        return {'Line': [store.log_line(e) for e in r('LRANGE', f'MIRRORLOGS_{need_id()}', -n, -1) or []]}
    if method == 'Reload':
        os.kill(os.getpid(), signal.SIGHUP)
        return {}
    raise store.RpcError(f'unknown method {method}', 'Unimplemented')


class RpcHandler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        d = self.server.daemon
        body = self.rfile.read(int(self.headers.get('Content-Length') or 0))
        status, out = 200, None
        try:
            if d.config['RPCPassword'] and self.headers.get('Password') != d.config['RPCPassword']:
                raise store.RpcError('invalid password', 'Unauthenticated')
            out = {'result': call(d, self.path.strip('/'), json.loads(body or b'{}'))}
        except store.RpcError as e:
            code = e.args[1] if len(e.args) > 1 else 'Unknown'
            status, out = 400, {'error': f'rpc error: code = {code} desc = {e.args[0]}', 'desc': e.args[0]}
        except Exception as e:  # surfaced to the CLI as the real one's Internal errors are
            status, out = 500, {'error': f'rpc error: code = Internal desc = {e}', 'desc': str(e)}
        data = json.dumps(out).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)
