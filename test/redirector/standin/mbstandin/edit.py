"""`mirrorbits edit NAME` (cli/commands.go CmdEdit): the mirror as YAML in a temporary file, $EDITOR
run on it (one executable path, not a shell line), the file read back. Unchanged: "Aborted", nothing
written. Invalid: "Retry? [Y/n]" on stdin (a closed stdin panics, exit 2, as the real one does)."""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

from . import store, yamlish
from .cli import BOOLS, SEPARATOR, Fatal, one_name


def decode(text, mirror):
    """yaml.Unmarshal into mirrors.Mirror: known keys typed, unknown keys ignored."""
    doc = yamlish.parse(text)
    if not isinstance(doc, dict):
        raise yamlish.YamlError('yaml: unmarshal errors:\n  cannot unmarshal into mirrors.Mirror')
    errors = []
    for key, _, typ in store.FIELDS:
        if key not in doc:
            continue
        v = doc[key]
        if typ is str:
            mirror[key] = '' if v is None else ('true' if v is True else 'false' if v is False else str(v))
        elif typ is bool and (isinstance(v, bool) or str(v).lower() in BOOLS):
            mirror[key] = v if isinstance(v, bool) else BOOLS[str(v).lower()]
        elif typ is int and isinstance(v, int) and not isinstance(v, bool) and (key != 'ASNum' or v >= 0):
            mirror[key] = v
        elif typ is float and isinstance(v, (int, float)) and not isinstance(v, bool):
            mirror[key] = float(v)
        elif typ == 'redirects' and (v is None or isinstance(v, bool)):
            mirror[key] = v
        elif v is None:
            mirror[key] = {bool: False, int: 0, float: 0.0}.get(typ)
        else:
            errors.append(f'  cannot unmarshal `{v}` into {typ if isinstance(typ, str) else typ.__name__} ({key})')
    if errors:
        raise yamlish.YamlError('yaml: unmarshal errors:\n' + '\n'.join(errors))


def retry(message):
    sys.stdout.write(f'{message}\nRetry? [Y/n]'); sys.stdout.flush()
    while True:
        answer = sys.stdin.readline()
        if not answer:
            sys.stderr.write('panic: runtime error: index out of range [0] with length 0\n\ngoroutine 1 [running]:\n')
            sys.exit(2)
        if answer[0] in 'yY\n':
            return True
        if answer[0] in 'nN':
            print('Aborted')
            return False


def cmd_edit(c, args):
    editor = os.environ.get('EDITOR') or next((p for p in ('editor', 'vi', 'emacs', 'nano') if shutil.which(p)), None)
    if not editor:
        raise Fatal('No text editor found, please set the EDITOR environment variable')
    mid, _ = c.match(one_name(args)[1])
    mirror = c.rpc('MirrorInfo', ID=mid)
    fd, path = tempfile.mkstemp(prefix='edit')
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            f.write("# You can now edit this mirror configuration.\n# Just save and quit when you're done.\n\n")
            f.write(store.yaml_of(mirror) + f'\n{SEPARATOR}\n\n{mirror["Comment"]}\n')
        before = sha(path)
        while True:
            try:
                code = subprocess.run([editor, path]).returncode
            except OSError as e:
                raise Fatal(str(e))
            if code != 0:
                raise Fatal(f'exit status {code}')
            if sha(path) == before:
                print('Aborted - settings are unmodified, so there is nothing to change.')
                return
            with open(path, encoding='utf-8') as f:
                text = f.read()
            cut = text.find(SEPARATOR)
            comment = text[cut + len(SEPARATOR):].strip() if cut > 0 else mirror['Comment']
            edited = dict(mirror)
            try:
                decode(text[:cut] if cut > 0 else text, edited)
            except yamlish.YamlError as e:
                if retry(str(e)):
                    continue
                return
            edited['Comment'] = comment
            try:
                diff = c.rpc('UpdateMirror', **edited)['Diff']
            except Fatal as e:
                if 'name already taken' in str(e) and retry('Name already taken'):
                    continue
                raise
            if diff:
                print(diff)
            print(f"Mirror '{edited['Name']}' edited successfully")
            return
    finally:
        os.unlink(path)


def sha(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).digest()
