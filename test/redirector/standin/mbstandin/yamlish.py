"""The YAML mirrorbits reads and writes: its config file and the flat mirror record of `show` and
`edit`, emitted the way Go's yaml.v3 does (plain when safe, double-quoted otherwise)."""
import re

PLAIN_UNSAFE = re.compile(r'^$|^[\s\-?:,\[\]{}#&*!|>\'"%@`]|\s$|: | #|[\x00-\x08\x0b-\x1f\x7f\x85\u2028\u2029]')
SPECIAL = re.compile(r'^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?(?:\d[\d_]*)?\.?\d+(?:[eE][-+]?\d+)?|0x[0-9a-fA-F]+|0o[0-7]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$')


class YamlError(Exception):
    pass


def emit_scalar(v):
    if v is None:
        return 'null'
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, (int, float)):
        return ('%g' % v) if isinstance(v, float) else str(v)
    if '\n' in v and not PLAIN_UNSAFE.search(v.replace('\n', '')):
        return '|-\n' + '\n'.join('    ' + l for l in v.split('\n'))
    if PLAIN_UNSAFE.search(v) or SPECIAL.match(v):
        return '"' + ''.join(_escape(c) for c in v) + '"'
    return v


def _escape(c):
    if c in '"\\':
        return '\\' + c
    if c == '\n':
        return '\\n'
    if c == '\t' or 0x20 <= ord(c) < 0x7f or ord(c) >= 0xa0:
        return c
    return '\\u%04x' % ord(c)


def emit_flat(pairs):
    return ''.join(f'{k}: {emit_scalar(v)}\n' for k, v in pairs)


ESC = {'0': '\0', 'a': '\a', 'b': '\b', 't': '\t', '\t': '\t', 'n': '\n', 'v': '\v', 'f': '\f', 'r': '\r', 'e': '\x1b',
       ' ': ' ', '"': '"', '/': '/', '\\': '\\', 'N': '\x85', '_': '\xa0', 'L': '\u2028', 'P': '\u2029'}


def scalar(raw, lineno):
    """(value, quoted): plain scalars resolved to None, bool, int or float as YAML 1.2 core does."""
    raw = raw.strip()
    if raw.startswith('"'):
        if not raw.endswith('"') or len(raw) < 2:
            raise YamlError(f'yaml: line {lineno}: found unexpected end of stream')
        out, i, s = [], 0, raw[1:-1]
        while i < len(s):
            if s[i] != '\\':
                out.append(s[i]); i += 1; continue
            e = s[i + 1] if i + 1 < len(s) else ''
            if e in ESC and e:
                out.append(ESC[e]); i += 2; continue
            width = {'x': 2, 'u': 4, 'U': 8}.get(e)
            if not width:
                raise YamlError(f'yaml: line {lineno}: found unknown escape character while parsing a quoted scalar')
            out.append(chr(int(s[i + 2:i + 2 + width], 16))); i += 2 + width
        return ''.join(out), True
    if raw.startswith("'"):
        if not raw.endswith("'") or len(raw) < 2:
            raise YamlError(f'yaml: line {lineno}: found unexpected end of stream')
        return raw[1:-1].replace("''", "'"), True
    raw = re.sub(r'\s+#.*$', '', raw)
    if raw in ('', '~', 'null', 'Null', 'NULL'):
        return None, False
    if raw in ('true', 'True', 'TRUE', 'false', 'False', 'FALSE'):
        return raw.lower() == 'true', False
    if re.match(r'^[-+]?\d+$', raw):
        return int(raw), False
    if re.match(r'^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$', raw):
        return float(raw), False
    if raw == '[]':
        return [], False
    if raw == '{}':
        return {}, False
    if raw.startswith('[') and raw.endswith(']'):
        return [scalar(x, lineno)[0] for x in raw[1:-1].split(',') if x.strip()], False
    if raw[0] in '[{&*!|>%@`' or ': ' in raw:
        raise YamlError(f'yaml: line {lineno}: did not find expected key')
    return raw, False


def parse(text):
    """A block-style YAML document of mappings, sequences and scalars (what mirrorbits.conf uses)."""
    lines = [(n + 1, l) for n, l in enumerate(text.split('\n')) if l.strip() and not l.lstrip().startswith('#')]
    if any('\t' in l[:len(l) - len(l.lstrip())] for _, l in lines):
        raise YamlError('yaml: found character that cannot start any token')
    value, rest = _block(lines, 0, 0)
    if rest < len(lines):
        raise YamlError(f'yaml: line {lines[rest][0]}: did not find expected key')
    return value if value is not None else {}


def _indent(line):
    return len(line) - len(line.lstrip(' '))


def _block(lines, i, indent):
    if i >= len(lines) or _indent(lines[i][1]) < indent:
        return None, i
    indent = _indent(lines[i][1])
    if lines[i][1].lstrip().startswith('- ') or lines[i][1].strip() == '-':
        out = []
        while i < len(lines) and _indent(lines[i][1]) == indent and lines[i][1].lstrip().startswith('-'):
            n, l = lines[i]
            item = l.lstrip()[1:]
            if not item.strip():
                v, i = _block(lines, i + 1, indent + 1)
            elif re.match(r'^\s*[^\s"\'][^:]*:( |$)', item):
                inner = indent + 1 + (len(item) - len(item.lstrip(' ')))
                lines[i] = (n, ' ' * inner + item.lstrip(' '))
                v, i = _block(lines, i, inner)
            else:
                v, i = scalar(item, n)[0], i + 1
            out.append(v)
        return out, i
    out = {}
    while i < len(lines) and _indent(lines[i][1]) == indent:
        n, l = lines[i]
        m = re.match(r'^\s*([^\s:"\'][^:]*?|"[^"]*"):(?:\s+(.*))?$', l)
        if not m:
            raise YamlError(f'yaml: line {n}: could not find expected \':\'')
        key, raw = m.group(1).strip('"'), m.group(2) or ''
        if raw.startswith('|'):
            body, i = [], i + 1
            while i < len(lines) and _indent(lines[i][1]) > indent:
                body.append(lines[i][1]); i += 1
            ind = min((_indent(b) for b in body), default=0)
            out[key] = '\n'.join(b[ind:] for b in body) + ('' if raw.endswith('-') else '\n')
        elif raw.strip() and not raw.strip().startswith('#'):
            out[key], i = scalar(raw, n)[0], i + 1
        else:
            out[key], i = _block(lines, i + 1, indent + 1)
    return out, i
