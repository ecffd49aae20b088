"""The local repository index (scan.ScanSource) and a mirror's scan over rsync (scan.Scan): which
files the redirector has, with size and mtime, and which of them each mirror holds identically."""
import hashlib
import os
import re
import subprocess
import time
from datetime import datetime, timezone

from . import store

RSYNC_LINE = re.compile(r'^(\S)\S*\s+([\d,]+)\s+(\d{4}/\d\d/\d\d)\s+(\d\d:\d\d:\d\d)\s+(.*)$')


class ScanError(Exception):
    pass


def file_info(r, path):
    h = r.hgetall(f'FILE_{path}')
    return {'path': path, 'size': int(h['size']), 'modTime': int(h['modTime']), 'sha256': h.get('sha256', '')} if h else None


def scan_source(r, repository, rehash=False):
    """Walks the tree (symlinks skipped, as Lstat does); hashes new or changed files only."""
    seen, cmds = set(), []
    for top, dirs, files in os.walk(repository):
        for name in files:
            full = os.path.join(top, name)
            st = os.lstat(full)
            if not os.path.isfile(full) or os.path.islink(full):
                continue
            path = '/' + os.path.relpath(full, repository)
            seen.add(path)
            old = file_info(r, path)
            if old and not rehash and old['size'] == st.st_size and old['modTime'] == int(st.st_mtime):
                continue
            with open(full, 'rb') as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            cmds.append(['HMSET', f'FILE_{path}', 'size', st.st_size, 'modTime', int(st.st_mtime), 'sha256', digest])
    gone = set(r('SMEMBERS', 'FILES') or []) - seen
    cmds += [['DEL', f'FILE_{p}'] for p in gone]
    cmds += [['SREM', 'FILES', p] for p in gone] + [['SADD', 'FILES', p] for p in sorted(seen)]
    if not seen:
        cmds.append(['DEL', 'FILES'])
    r.pipeline(cmds)
    return len(seen)


def scan_mirror(r, mid, rsync_url):
    """Lists the mirror with `rsync -r` (nothing is transferred) and records size and mtime of each
    file; a failed scan keeps the previous index."""
    if not rsync_url:
        raise ScanError('no suitable URL for the scan')
    if r('SET', f'SCANNING_{mid}', 1, 'NX', 'EX', 3600) is None:
        raise ScanError('scan already in progress')
    try:
        store.push_log(r, mid, 'scanstarted', Typ=0)
        r('HSET', f'MIRROR_{mid}', 'lastSync', int(time.time()))
        env = dict(os.environ, TZ='UTC')
        p = subprocess.run(['rsync', '-r', '--no-motd', '--exclude=.~tmp~/', '--timeout=30', '--contimeout=30', rsync_url],
                           capture_output=True, text=True, env=env, timeout=600)
        if p.returncode not in (0, 23):
            store.push_log(r, mid, 'error', Err=f'rsync: exit status {p.returncode}')
            raise ScanError(f'rsync: exit status {p.returncode}: {p.stderr.strip()}')
        found = {}
        for line in p.stdout.splitlines():
            m = RSYNC_LINE.match(line)
            if not m or m.group(1) in 'dl':
                continue
            when = datetime.strptime(f'{m.group(3)} {m.group(4)}', '%Y/%m/%d %H:%M:%S').replace(tzinfo=timezone.utc)
            path = '/' + m.group(5).split('/', 1)[1] if '/' in m.group(5) and m.group(5).split('/', 1)[0] == '.' else '/' + m.group(5)
            found[path] = (int(m.group(2).replace(',', '')), int(when.timestamp()))
        return _store_scan(r, mid, found)
    finally:
        r('DEL', f'SCANNING_{mid}')


def _store_scan(r, mid, found):
    before = set(r('SMEMBERS', f'MIRRORFILES_{mid}') or [])
    local = set(r('SMEMBERS', 'FILES') or [])
    cmds = [['DEL', f'MIRRORFILES_{mid}', f'HANDLEDFILES_{mid}']]
    for path, (size, mtime) in found.items():
        cmds += [['HMSET', f'FILEINFO_{mid}_{path}', 'size', size, 'modTime', mtime],
                 ['SADD', f'MIRRORFILES_{mid}', path], ['SADD', f'FILEMIRRORS_{path}', mid]]
        if path in local:
            cmds.append(['SADD', f'HANDLEDFILES_{mid}', path])
    for path in before - set(found):
        cmds += [['DEL', f'FILEINFO_{mid}_{path}'], ['SREM', f'FILEMIRRORS_{path}', mid]]
    now = int(time.time())
    cmds.append(['HMSET', f'MIRROR_{mid}', 'lastSuccessfulSync', now, 'lastSuccessfulSyncProtocol', 0,
                 'lastSuccessfulSyncPrecision', 1000000000])
    r.pipeline(cmds)
    known, removed = len(before & set(found)), len(before - set(found))
    store.push_log(r, mid, 'scancompleted', FilesIndexed=len(found), KnownIndexed=known, Removed=removed, TZOffset=0)
    return {'FilesIndexed': len(found), 'KnownIndexed': known, 'Removed': removed}
