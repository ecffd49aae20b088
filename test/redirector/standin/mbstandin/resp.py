"""A minimal Redis client (RESP2): one connection per thread, commands and MULTI/EXEC pipelines."""
import socket
import threading


class RedisError(Exception):
    pass


class Redis:
    def __init__(self, address, db=0, password=''):
        host, _, port = address.rpartition(':')
        self.addr, self.db, self.password = (host.strip('[]') or '127.0.0.1', int(port or 6379)), db, password
        self.local = threading.local()

    def _conn(self):
        c = getattr(self.local, 'conn', None)
        if c is None:
            s = socket.create_connection(self.addr, timeout=30)
            c = self.local.conn = (s, s.makefile('rb'))
            if self.password:
                self._call(['AUTH', self.password])
            if self.db:
                self._call(['SELECT', self.db])
        return c

    @staticmethod
    def _encode(args):
        out = [b'*%d\r\n' % len(args)]
        for a in args:
            if isinstance(a, bool):
                a = '1' if a else '0'
            b = a if isinstance(a, bytes) else str(a).encode()
            out.append(b'$%d\r\n%s\r\n' % (len(b), b))
        return b''.join(out)

    def _read(self, f):
        line = f.readline()
        if not line:
            raise RedisError('connection closed')
        kind, rest = line[:1], line[1:-2]
        if kind == b'+':
            return rest.decode()
        if kind == b'-':
            return RedisError(rest.decode())
        if kind == b':':
            return int(rest)
        if kind == b'$':
            n = int(rest)
            return None if n < 0 else f.read(n + 2)[:-2].decode('utf-8', 'surrogateescape')
        if kind == b'*':
            n = int(rest)
            return None if n < 0 else [self._read(f) for _ in range(n)]
        raise RedisError(f'bad reply {line!r}')

    def _call(self, args):
        s, f = self.local.conn
        s.sendall(self._encode(args))
        r = self._read(f)
        if isinstance(r, RedisError):
            raise r
        return r

    def __call__(self, *args):
        try:
            self._conn()
            return self._call(list(args))
        except (OSError, RedisError) as e:
            if isinstance(e, RedisError) and 'connection closed' not in str(e):
                raise
            self.local.conn = None  # reconnect once
            self._conn()
            return self._call(list(args))

    def pipeline(self, commands, transaction=True):
        """Sends every command at once (inside MULTI/EXEC when asked); returns their replies."""
        self._conn()
        s, f = self.local.conn
        cmds = ([['MULTI']] + commands + [['EXEC']]) if transaction else commands
        s.sendall(b''.join(self._encode(c) for c in cmds))
        replies = [self._read(f) for _ in cmds]
        out = replies[-1] if transaction else replies
        for r in out or []:
            if isinstance(r, RedisError):
                raise r
        return out or []

    def hgetall(self, key):
        flat = self('HGETALL', key) or []
        return dict(zip(flat[::2], flat[1::2]))
