"""The daemon's monitor (daemon/monitor.go): the local repository rescanned every
RepositoryScanInterval minutes; each enabled mirror scanned when it never was or ScanInterval has
passed, then health-checked (HEAD of a random file it holds) every CheckInterval minutes."""
import http.client
import threading
import time
from urllib.parse import urlsplit

from . import repo, store

USER_AGENT = 'Mirrorbits/v0.6.1 PING CHECK'


class Monitor:
    def __init__(self, daemon):
        self.d, self.busy, self.last_check = daemon, set(), {}
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def start(self):
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        last_repo = time.time()
        while not self.stop.wait(1):
            try:
                cfg = self.d.config
                if cfg['RepositoryScanInterval'] and time.time() - last_repo > 60 * cfg['RepositoryScanInterval']:
                    last_repo = time.time()
                    repo.scan_source(self.d.redis, cfg['Repository'])
                for mid in store.mirrors(self.d.redis):
                    m = store.load(self.d.redis, mid)
                    if m and m['Enabled']:
                        self.tick(m, cfg)
            except Exception as e:  # a monitor that dies silently would look like a healthy daemon
                self.d.log(f'monitor: {e}')

    def tick(self, m, cfg):
        mid = m['ID']
        with self.lock:
            if mid in self.busy:
                return
            due_scan = time.time() - m['lastSync'] > 60 * cfg['ScanInterval'] and m['RsyncURL']
            due_check = time.time() - self.last_check.get(mid, 0) > 60 * cfg['CheckInterval']
            if not (due_scan or due_check):
                return
            self.busy.add(mid)
        threading.Thread(target=self.work, args=(m, due_scan), daemon=True).start()

    def work(self, m, scan):
        try:
            if scan:
                try:
                    repo.scan_mirror(self.d.redis, m['ID'], m['RsyncURL'])
                except repo.ScanError as e:
                    self.d.log(f'[{m["Name"]}] scan failed: {e}')
            if self.d.redis('SRANDMEMBER', f'HANDLEDFILES_{m["ID"]}') is not None:
                self.check(m)
            self.last_check[m['ID']] = time.time()  # never scanned: nothing to check, ask again later
        finally:
            with self.lock:
                self.busy.discard(m['ID'])

    def check(self, m):
        r = self.d.redis
        path = r('SRANDMEMBER', f'HANDLEDFILES_{m["ID"]}')
        base = m['HttpURL']
        targets = [base] if '://' in base else ['http://' + base, 'https://' + base]
        for url in targets:
            proto = 2 if url.startswith('https://') else 1
            try:
                status = head(url.rstrip('/') + path, m['AllowRedirects'] is not False and not self.d.config['DisallowRedirects'])
            except OSError:
                store.set_state(r, m['ID'], proto, False, 'Unreachable')
                continue
            if status == 200:
                store.set_state(r, m['ID'], proto, True)
            elif status == 404:
                store.set_state(r, m['ID'], proto, False, f'File not found {path} (error 404)')
                if self.d.config['DisableOnMissingFile']:
                    store.change_status(r, m['ID'], False)
            elif status == 'redirect':
                store.set_state(r, m['ID'], proto, False, 'Unauthorized redirect')
            else:
                store.set_state(r, m['ID'], proto, False, f'Got status code {status}')


def head(url, allow_redirects, hops=10):
    u = urlsplit(url)
    conn_class = http.client.HTTPSConnection if u.scheme == 'https' else http.client.HTTPConnection
    conn = conn_class(u.hostname, u.port, timeout=20)
    try:
        conn.request('HEAD', u.path or '/', headers={'User-Agent': USER_AGENT, 'Connection': 'close'})
        resp = conn.getresponse()
        if resp.status in (301, 302, 303, 307, 308) and resp.getheader('Location'):
            if not allow_redirects:
                return 'redirect'
            return head(resp.getheader('Location'), allow_redirects, hops - 1) if hops else resp.status
        return resp.status
    finally:
        conn.close()
