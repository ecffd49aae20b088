"""`mirrorbits daemon -config FILE [-p PIDFILE] [-log FILE] [-monitor=false]`: reads the config
(config/config.go's keys and defaults), indexes the local repository, serves HTTP and the CLI's
RPC, tells systemd it is ready (Type=notify), reloads on SIGHUP, exits on SIGTERM/SIGINT/SIGQUIT."""
import os
import signal
import socket
import sys
import threading
import time
from http.server import ThreadingHTTPServer

from . import mmdb, repo, resp, rpcserver, web, yamlish

DEFAULTS = {'Repository': '', 'Templates': '', 'LocalJSPath': '', 'OutputMode': 'auto', 'ListenAddress': ':8080',
            'Gzip': False, 'AllowHTTPToHTTPSRedirects': True, 'SameDownloadInterval': 600, 'RedisAddress': '127.0.0.1:6379',
            'RedisPassword': '', 'RedisDB': 0, 'LogDir': '', 'TraceFileLocation': '', 'GeoipDatabasePath': '/usr/share/GeoIP/',
            'GeographicalSort': True, 'ConcurrentSync': 5, 'ScanInterval': 30, 'CheckInterval': 1, 'RepositoryScanInterval': 5,
            'MaxLinkHeaders': 10, 'FixTimezoneOffsets': False, 'Hashes': {'SHA256': True}, 'DisallowRedirects': False,
            'WeightDistributionRange': 1.5, 'DisableOnMissingFile': False, 'AllowOutdatedFiles': [], 'Fallbacks': [],
            'RedisSentinelMasterName': '', 'RedisSentinels': [], 'RPCListenAddress': 'localhost:3390', 'RPCPassword': ''}
BOOLS = {'true': True, 'yes': True, 'on': True, 'false': False, 'no': False, 'off': False}


class ConfigError(Exception):
    pass


def load_config(path):
    try:
        with open(path, encoding='utf-8') as f:
            doc = yamlish.parse(f.read())
    except OSError:
        raise ConfigError('Configuration could not be found.\n\tUse -config <path>')
    except yamlish.YamlError as e:
        raise ConfigError(f'{e} in {path}')
    if not isinstance(doc, dict):
        raise ConfigError(f'yaml: cannot unmarshal into config.Configuration in {path}')
    unknown = [k for k in doc if k not in DEFAULTS]
    if unknown:  # yaml.v3 ignores them; saying so catches a renderer's typo in the tests
        print(f'mirrorbits: ignoring unknown config keys {", ".join(unknown)}', file=sys.stderr)
    c = {**DEFAULTS, **{k: v for k, v in doc.items() if v is not None}}
    for k, v in DEFAULTS.items():
        if isinstance(v, bool) and not isinstance(c[k], bool):
            if str(c[k]).lower() not in BOOLS:
                raise ConfigError(f'yaml: cannot unmarshal !!str `{c[k]}` into bool in {path}')
            c[k] = BOOLS[str(c[k]).lower()]
        elif isinstance(v, (int, float)) and not isinstance(v, bool) and not isinstance(c[k], (int, float)):
            raise ConfigError(f'yaml: cannot unmarshal !!str `{c[k]}` into {type(v).__name__} in {path}')
    if c['WeightDistributionRange'] <= 0:
        raise ConfigError('WeightDistributionRange must be > 0')
    if c['OutputMode'] not in ('auto', 'json', 'redirect'):
        raise ConfigError("Config: outputMode can only be set to 'auto', 'json' or 'redirect'")
    if not c['Repository']:
        raise ConfigError('Path to local repository not configured (see mirrorbits.conf)')
    c['Repository'] = os.path.abspath(c['Repository'])
    c['RepositoryScanInterval'] = max(0, c['RepositoryScanInterval'])
    for f in c['Fallbacks'] or []:
        f['URL'] = f['URL'] if f['URL'].endswith('/') else f['URL'] + '/'
    for rule in c['AllowOutdatedFiles'] or []:
        if not str(rule.get('Prefix', '/')).startswith('/'):
            raise ConfigError("AllowOutdatedFiles.Prefix must start with '/'")
    return c


def split_address(a):
    host, _, port = a.rpartition(':')
    return host.strip('[]') or '0.0.0.0', int(port)


class Daemon:
    def __init__(self, config_path, pidfile, logfile, monitor):
        self.config_path, self.pidfile, self.logfile, self.monitor_on = config_path, pidfile, logfile, monitor
        self.config = load_config(config_path)
        self.geoip = mmdb.GeoIP(self.config['GeoipDatabasePath'])
        if not self.geoip.loaded():
            for e in self.geoip.errors:
                self.log(e)
            if len(self.geoip.errors) == 2 and not self.config['Fallbacks']:
                raise ConfigError("Can't load the GeoIP databases, please set a valid path in the mirrorbits configuration")
        self.redis = resp.Redis(self.config['RedisAddress'], self.config['RedisDB'], self.config['RedisPassword'])

    def log(self, text):
        line = time.strftime('%Y/%m/%d %H:%M:%S ') + text + '\n'
        if self.logfile:
            with open(self.logfile, 'a', encoding='utf-8') as f:
                f.write(line)
        else:
            sys.stderr.write(line)

    def serve(self, address, handler):
        family = socket.AF_INET6 if ':' in split_address(address)[0] else socket.AF_INET
        server_class = type('Server', (ThreadingHTTPServer,), {'address_family': family, 'daemon_threads': True})
        server = server_class(split_address(address), handler)
        server.daemon = self
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def reload(self, *_):
        try:
            self.config = load_config(self.config_path)
            self.geoip = mmdb.GeoIP(self.config['GeoipDatabasePath'])
            self.log('configuration reloaded')
        except ConfigError as e:
            self.log(f'reload failed: {e}')

    def stop(self, *_):
        if self.pidfile:
            try:
                os.unlink(self.pidfile)
            except OSError:
                pass
        os._exit(0)

    def run(self):
        for _ in range(100):  # the database may come up just after us
            try:
                self.redis('PING')
                break
            except OSError:
                time.sleep(0.1)
        repo.scan_source(self.redis, self.config['Repository'])
        if self.pidfile:
            with open(self.pidfile, 'w') as f:
                f.write(f'{os.getpid()}\n')
        self.serve(self.config['RPCListenAddress'], rpcserver.RpcHandler)
        self.serve(self.config['ListenAddress'], web.Handler)
        self.log(f'Service listening on {self.config["ListenAddress"]}')
        if self.monitor_on:
            from .monitor import Monitor
            Monitor(self).start()
        notify('READY=1')
        while True:
            signal.pause()


def notify(state):
    """sd_notify: a datagram to $NOTIFY_SOCKET (no-op without it)."""
    path = os.environ.get('NOTIFY_SOCKET')
    if not path:
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.connect('\0' + path[1:] if path.startswith('@') else path)
        s.sendall(state.encode())


def main(args):
    opts, i = {'config': '', 'p': '', 'log': '', 'monitor': 'true'}, 0
    while i < len(args):
        name, _, value = args[i].lstrip('-').partition('=')
        if name not in opts and name not in ('debug',):
            print(f'flag provided but not defined: -{name}', file=sys.stderr)
            return 2
        if name in opts and not value and name != 'monitor':
            i += 1
            value = args[i] if i < len(args) else ''
        opts[name] = value or opts.get(name, '')
        i += 1
    try:
        d = Daemon(opts['config'] or '/etc/mirrorbits.conf', opts['p'], opts['log'], opts['monitor'] != 'false')
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 1
    signal.signal(signal.SIGHUP, d.reload)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        signal.signal(s, d.stop)
    d.run()
