"""mirrorbits' CLI (cli/commands.go): `mirrorbits [-h HOST] [-p PORT] [-P PASSWORD] COMMAND ...`, a
client of the daemon's RPC. Same output and exit codes as the real one for what the reconciler and
the tests use: mirrors matched by case-insensitive substring, `add` stores the mirror disabled,
`edit` runs $EDITOR on the mirror's YAML and answers "Aborted" when the file comes back unchanged."""
import json
import socket
import sys
import time

from . import store

SEPARATOR = '##### Comments go below this line #####'
BOOLS = {'true': True, 'yes': True, 'on': True, 'false': False, 'no': False, 'off': False}


class Fatal(Exception):
    pass


class Cli:
    def __init__(self, host, port, password):
        self.addr, self.password = (host, int(port)), password

    def rpc(self, method, **args):
        """One POST to the daemon (plain sockets: a CLI call should not pay for urllib's imports)."""
        body = json.dumps(args).encode()
        head = (f'POST /{method} HTTP/1.0\r\nHost: rpc\r\nContent-Type: application/json\r\n'
                f'Password: {self.password}\r\nContent-Length: {len(body)}\r\n\r\n').encode()
        try:
            with socket.create_connection(self.addr, timeout=900) as s:
                s.sendall(head + body)
                chunks = []
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
        except OSError as e:
            raise Fatal(f'rpc error: code = Unavailable desc = connection error: {e}')
        raw = b''.join(chunks)
        status, payload = int(raw.split(b' ', 2)[1]), json.loads(raw.split(b'\r\n\r\n', 1)[1])
        if status != 200:
            raise Fatal(payload['error'])
        return payload['result']

    def match(self, pattern):
        found = self.rpc('MatchMirror', Pattern=pattern)['Mirrors']
        if len(found) == 1:
            return found[0]['ID'], found[0]['Name']
        if not found:
            sys.stderr.write(f"No match for '{pattern}'\n")
        else:
            sys.stderr.write('Multiple match:\n' + ''.join(f'  {m["Name"]}\n' for m in found))
        sys.exit(1)


def flags(args, spec):
    """Go's flag package: -name value, -name=value, bools as -name or -name=false; stops at the first
    non-flag argument."""
    opts, i = {k: v for k, v in spec.items()}, 0
    while i < len(args) and args[i].startswith('-') and args[i] != '-':
        name, eq, value = args[i].lstrip('-').partition('=')
        if name not in spec:
            raise Fatal(f'flag provided but not defined: -{name}')
        if isinstance(spec[name], bool):
            opts[name] = BOOLS.get(value.lower(), True) if eq else True
        else:
            if not eq:
                i += 1
                value = args[i] if i < len(args) else ''
            opts[name] = int(value) if isinstance(spec[name], int) else value
        i += 1
    return opts, args[i:]


def cmd_list(c, args):
    o, _ = flags(args, {'http': False, 'rsync': False, 'ftp': False, 'location': False, 'state': True, 'score': False,
                        'disabled': False, 'enabled': False, 'down': False})
    ms = sorted(c.rpc('List')['Mirrors'], key=lambda m: -m['stateSince'])
    head = ['Identifier '] + ['SCORE'] * o['score'] + ['HTTP '] * o['http'] + ['RSYNC '] * o['rsync'] + ['FTP '] * o['ftp'] \
        + ['LOCATION '] * o['location'] + (['STATE', 'SINCE'] if o['state'] else [])
    print('\t'.join(head))
    for m in ms:
        up = is_up(m)
        if (o['disabled'] and m['Enabled']) or (o['enabled'] and not m['Enabled']) or (o['down'] and (up or not m['Enabled'])):
            continue
        row = [m['Name'] + ' '] + [f'{m["Score"]} '] * o['score'] + [m['HttpURL'] + ' '] * o['http'] \
            + [m['RsyncURL'] + ' '] * o['rsync'] + [m['FtpURL'] + ' '] * o['ftp'] \
            + [f'{(m["CountryCodes"].split() or ["/"])[0]} ({m["ContinentCode"]}) '] * o['location']
        if o['state']:
            since = time.strftime('%a, %d %b %Y %H:%M:%S UTC', time.gmtime(m['stateSince']))
            row += [('disabled' if not m['Enabled'] else status(m)) + ' ', f'({since})']
        print('\t'.join(row))


def is_up(m):
    if m['httpUp'] == m['httpsUp']:
        return m['httpUp']
    return m['httpUp'] if m['HttpURL'].startswith('http://') else m['httpsUp'] if m['HttpURL'].startswith('https://') else False


def status(m):
    h, s = ('up' if m['httpUp'] else 'down'), ('up' if m['httpsUp'] else 'down')
    if m['httpUp'] == m['httpsUp'] or m['HttpURL'].startswith('http://'):
        return h
    return s if m['HttpURL'].startswith('https://') else f'{h}/{s}'


def cmd_add(c, args):
    o, rest = flags(args, {'http': '', 'rsync': '', 'ftp': '', 'sponsor-name': '', 'sponsor-url': '', 'sponsor-logo': '',
                           'admin-name': '', 'admin-email': '', 'custom-data': '', 'continent-only': False,
                           'country-only': False, 'as-only': False, 'score': 0, 'comment': ''})
    if not rest:
        raise Fatal('usage: mirrorbits add [OPTIONS] IDENTIFIER')
    name = rest[0]
    if ' ' in name:
        sys.stderr.write('The identifier cannot contain a space\n'); sys.exit(255)
    if not o['http']:
        sys.stderr.write('You *must* pass at least an HTTP URL\n'); sys.exit(255)
    if '://' in o['http'] and not o['http'].startswith(('http://', 'https://')):
        sys.stderr.write('The HTTP URL has an invalid scheme\n'); sys.exit(255)
    m = {'Name': name, 'HttpURL': o['http'], 'RsyncURL': o['rsync'], 'FtpURL': o['ftp'], 'SponsorName': o['sponsor-name'],
         'SponsorURL': o['sponsor-url'], 'SponsorLogoURL': o['sponsor-logo'], 'AdminName': o['admin-name'],
         'AdminEmail': o['admin-email'], 'CustomData': o['custom-data'], 'ContinentOnly': o['continent-only'],
         'CountryOnly': o['country-only'], 'ASOnly': o['as-only'], 'Score': o['score'], 'Comment': o['comment']}
    reply = c.rpc('AddMirror', **m)
    for i, w in enumerate(reply['Warnings']):
        print(w + ('\n' if i == len(reply['Warnings']) - 1 else ''))
    if reply['Country']:
        print(f'Mirror location:\nLatitude:  {reply["Latitude"]:.4f}\nLongitude: {reply["Longitude"]:.4f}\n'
              f'Continent: {reply["Continent"]}\nCountry:   {reply["Country"]}\nASN:       {reply["ASN"]}\n')
    print(f"Mirror '{name}' added successfully\nEnable this mirror using\n  $ mirrorbits enable {name}")


def one_name(args, force=False):
    o, rest = flags(args, {'f': False} if force else {})
    if len(rest) != 1:
        raise Fatal('usage: exactly one IDENTIFIER')
    return o, rest[0]


def cmd_show(c, args):
    mid, _ = c.match(one_name(args)[1])
    m = c.rpc('MirrorInfo', ID=mid)
    print(f'{store.yaml_of(m)}\nComment:\n{m["Comment"]}')


def cmd_enable(c, args, enabled=True):
    mid, name = c.match(one_name(args)[1])
    c.rpc('ChangeStatus', ID=mid, Enabled=enabled)
    print(f"Mirror '{name}' {'enabled' if enabled else 'disabled'} successfully")


def cmd_disable(c, args):
    cmd_enable(c, args, False)


def cmd_remove(c, args):
    o, pattern = one_name(args, force=True)
    mid, name = c.match(pattern)
    if not o['f']:
        sys.stdout.write(f'Removing {name}, are you sure? [y/N]'); sys.stdout.flush()
        answer = sys.stdin.readline()
        if not answer:
            sys.stderr.write('panic: runtime error: index out of range [0] with length 0\n'); sys.exit(2)
        if answer[0] not in 'yY':
            return
    c.rpc('RemoveMirror', ID=mid)
    print(f"Mirror '{name}' removed successfully")


def cmd_scan(c, args):
    o, rest = flags(args, {'enable': False, 'all': False, 'ftp': False, 'rsync': False, 'timeout': 0})
    targets = [(m['ID'], m['Name']) for m in c.rpc('MatchMirror', Pattern='')['Mirrors']] if o['all'] else [c.match(rest[0])]
    for mid, name in targets:
        sys.stdout.write(f'Scanning {name}... '); sys.stdout.flush()
        try:
            r = c.rpc('ScanMirror', ID=mid, AutoEnable=o['enable'])
        except Fatal as e:
            if len(targets) == 1:
                raise Fatal(f'\nscan error: {str(e).split(" desc = ", 1)[-1]}')
            print(f'scan error: {str(e).split(" desc = ", 1)[-1]}')
            continue
        print(f'{r["FilesIndexed"]} files indexed, {r["KnownIndexed"]} known and {r["Removed"]} removed')
        if r.get('Enabled'):
            print('  \u221f Enabled')


def cmd_refresh(c, args):
    o, _ = flags(args, {'rehash': False})
    sys.stdout.write('Refreshing the local repository... '); sys.stdout.flush()
    c.rpc('RefreshRepository', Rehash=o['rehash'])
    print('done')


def cmd_logs(c, args):
    o, rest = flags(args, {'l': 500})
    mid, name = c.match(rest[0])
    lines = c.rpc('GetMirrorLogs', ID=mid, MaxResults=o['l'])['Line']
    print(f'Printing logs for {name}:\n' + '\n'.join(lines) if lines else f'No logs for {name}')


def cmd_reload(c, args):
    c.rpc('Reload')


def cmd_version(c, args):
    print(f'Client:\nVersion:    {c.rpc("GetVersion")["Version"]}')
