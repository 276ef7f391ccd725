#!/usr/bin/env python3
"""Checks a Sealbox evidence package with nothing but Python 3's standard library.

    python3 verify.py [PACKAGE | VOLUME.zip ...] [--key VERIFIER_KEY]

PACKAGE is the package's folder (default: the folder this script is in); or give the package's
zip files (every volume of it, in any order): they are read with Python's zipfile into a
temporary folder, a file in two volumes fails, a volume left out fails as the files it held. VERIFIER_KEY is the
archive's public key as its outside witnesses hold it (`sealbox ledger public-key`); without
--key the package's own verifier-key.txt is used, and the output says so.

Checked: every file against manifest.json (size, SHA-256, MD5), and that no other file is there;
the manifest's Ed25519 signature (manifest.sig); the checkpoint's C2SP signed-note signature;
each message's bytes against its SHA-256 and against every ledger leaf that recorded a receipt
of it; each receipt's capture id, source, time, envelope and provenance against the payload its
leaf commits to; each RFC 9162 inclusion proof against the checkpoint's root; the load files'
rows against the messages. Exit 0 when all of it holds; 1 when something does not, each FAIL
line naming the file; 2 when the folder cannot be read; 3 when nothing failed but some receipt
is not proven yet (recorded after the checkpoint was signed: WARN lines).

Shipped in every package by Sealbox (scripts/verify-evidence-package.py).
"""
import base64
import csv
import datetime
import hashlib
import io
import json
import os
import sys
import tempfile
import zipfile

MANIFEST_STATEMENT = 'sealbox evidence manifest v1\n'
SIGNED_APART = ('manifest.json', 'manifest.sig')
# What file managers and Python leave in a folder they open: not part of the package, and not
# worth a failure. Any other file the manifest does not list fails.
LITTER = ('.DS_Store', 'Thumbs.db', 'desktop.ini')


# ---- Ed25519 verification (RFC 8032 section 5.1) ------------------------------------------
# Python's standard library has no Ed25519, and a verifier that needs nothing but Python runs
# wherever the package is taken (OpenSSL's command line differs from one system to the next).
# Only verification: nothing secret is handled, so nothing needs to run in constant time.

P = 2 ** 255 - 19
L = 2 ** 252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_MINUS_ONE = pow(2, (P - 1) // 4, P)


def _x_of(y, sign):
    """The x with this sign (its low bit) for which (x, y) is on the curve, or None (5.1.3)."""
    if y >= P:
        return None
    u = (y * y - 1) % P
    v = (D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    if v * x * x % P == (-u) % P:
        x = x * SQRT_MINUS_ONE % P
    elif v * x * x % P != u:
        return None
    if x == 0 and sign == 1:
        return None
    return P - x if x & 1 != sign else x


def _point(encoded):
    """A point in extended coordinates (X, Y, Z, T) from its 32-byte encoding, or None."""
    if len(encoded) != 32:
        return None
    n = int.from_bytes(encoded, 'little')
    y = n & ((1 << 255) - 1)
    x = _x_of(y, n >> 255)
    return None if x is None else (x, y, 1, x * y % P)


def _add(p, q):
    """5.1.4: the sum of two points; it doubles a point too."""
    a = (p[1] - p[0]) * (q[1] - q[0]) % P
    b = (p[1] + p[0]) * (q[1] + q[0]) % P
    c = 2 * D * p[3] * q[3] % P
    d = 2 * p[2] * q[2] % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _times(k, p):
    total = (0, 1, 1, 0)
    while k:
        if k & 1:
            total = _add(total, p)
        p = _add(p, p)
        k >>= 1
    return total


def _same(p, q):
    return (p[0] * q[2] - q[0] * p[2]) % P == 0 and (p[1] * q[2] - q[1] * p[2]) % P == 0


_BASE_Y = 4 * pow(5, P - 2, P) % P
BASE = (_x_of(_BASE_Y, 0), _BASE_Y, 1, _x_of(_BASE_Y, 0) * _BASE_Y % P)


def ed25519_verify(public_key, message, signature):
    """5.1.7: whether signature is public_key's signature of message ([S]B = R + [k]A)."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    a = _point(public_key)
    r = _point(signature[:32])
    s = int.from_bytes(signature[32:], 'little')
    if a is None or r is None or s >= L:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(), 'little') % L
    return _same(_times(s, BASE), _add(r, _times(k, a)))


# ---- RFC 9162: Merkle tree hashes and inclusion proofs -------------------------------------

def _sha256(*parts):
    h = hashlib.sha256()
    for part in parts:
        h.update(part)
    return h.digest()


def leaf_hash(leaf):
    return _sha256(b'\x00', leaf)


def inclusion_holds(index, size, leaf_digest, proof, root):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_digest
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _sha256(b'\x01', p, r)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            r = _sha256(b'\x01', r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


# ---- C2SP signed notes and checkpoints -----------------------------------------------------

def parse_verifier_key(text):
    """`<name>+<key id hex>+<base64(0x01 || Ed25519 public key)>`: (name, key id, public key)."""
    parts = text.strip().split('+', 2)
    if len(parts) != 3 or not parts[0] or len(parts[1]) != 8:
        raise ValueError('is not a verifier key (<name>+<key id>+<base64 key>)')
    name, key_id, encoded = parts[0], parts[1].lower(), parts[2]
    try:
        typed = base64.b64decode(encoded, validate=True)
    except ValueError:
        raise ValueError('its key is not base64')
    if len(typed) != 33 or typed[0] != 1:
        raise ValueError('is not an Ed25519 key')
    if _sha256(name.encode('utf-8'), b'\n', typed)[:4].hex() != key_id:
        raise ValueError("its key id does not match its name and key")
    return name, key_id, typed[1:]


def read_checkpoint(note, key):
    """The (origin, size, root hash) of a checkpoint note signed by key; ValueError otherwise."""
    name, key_id, public_key = key
    text = note.decode('utf-8')
    split = text.rfind('\n\n')
    if split < 0 or not text.endswith('\n'):
        raise ValueError('is not a signed note')
    body = text[:split + 1]
    signed = False
    for line in text[split + 2:-1].split('\n'):
        if not line.startswith('\u2014 '):
            raise ValueError('has a signature line that does not start with an em dash')
        who, _, encoded = line[2:].partition(' ')
        try:
            raw = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise ValueError('has a signature that is not base64')
        if who == name and raw[:4].hex() == key_id:
            if not ed25519_verify(public_key, body.encode('utf-8'), raw[4:]):
                raise ValueError('has a signature by %s+%s that does not verify' % (name, key_id))
            signed = True
    if not signed:
        raise ValueError('is not signed by %s+%s' % (name, key_id))
    lines = body[:-1].split('\n')
    if len(lines) < 3 or not lines[1].isdigit():
        raise ValueError('is not a checkpoint (origin, tree size, root hash)')
    root = base64.b64decode(lines[2], validate=True)
    if len(root) != 32:
        raise ValueError('has a root hash that is not 32 bytes')
    return lines[0], int(lines[1]), root


# ---- the package ---------------------------------------------------------------------------

class Report:
    def __init__(self):
        self.failures = []
        self.warnings = []

    def fail(self, path, why):
        self.failures.append('%s: %s' % (path, why))

    def warn(self, path, why):
        self.warnings.append('%s: %s' % (path, why))


def digests(path):
    """(size, sha256 hex, md5 hex) of a file, read in pieces."""
    sha, md5, size = hashlib.sha256(), hashlib.md5(), 0
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            sha.update(chunk)
            md5.update(chunk)
            size += len(chunk)
    return size, sha.hexdigest(), md5.hexdigest()


def files_in(root):
    found = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d != '__pycache__']
        for name in names:
            if name in LITTER:
                continue
            found.append(os.path.relpath(os.path.join(folder, name), root).replace(os.sep, '/'))
    return sorted(found)


def inside(path):
    return isinstance(path, str) and path != '' and not path.startswith('/') and '\\' not in path \
        and all(part not in ('', '.', '..') for part in path.split('/'))


def b64(text):
    return None if text is None else base64.b64decode(text, validate=True)


def iso_ms(ms):
    """An epoch time in ms as JavaScript's toISOString writes it."""
    if not isinstance(ms, int):
        return None
    moment = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(milliseconds=ms)
    return moment.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (ms % 1000)


def check_receipt(report, path, sha, c, tree):
    ledger = c.get('ledger') or {}
    index = ledger.get('index')
    what = 'receipt %s (ledger entry %s)' % (c.get('captureId'), index)
    try:
        leaf = b64(ledger.get('leaf'))
        entry = json.loads(leaf.decode('utf-8')) if leaf is not None else None
    except (ValueError, UnicodeDecodeError):
        entry = None
    if not isinstance(entry, dict):
        report.fail(path, '%s: no ledger leaf, or not one the ledger writes' % what)
        return
    if entry.get('index') != index or entry.get('operation') != 'capture' or entry.get('result') != 'success':
        report.fail(path, '%s: the leaf is not the capture entry at that index' % what)
    named = entry.get('messages') if entry.get('v') == 2 else (entry.get('objects') or {}).get('messages')
    if sha not in (named or []):
        report.fail(path, '%s: the leaf does not name this message (%s)' % (what, sha))

    # What the leaf commits to: a version-2 leaf to a salted payload beside it, a version-1 leaf
    # holds its parameters itself.
    recorded = None
    if entry.get('v') == 2:
        if ledger.get('payload') is None:
            report.warn(path, '%s: its payload was erased from the ledger, so its envelope and time are stated, not proven' % what)
        else:
            try:
                payload, salt = b64(ledger.get('payload')), b64(ledger.get('salt')) or b''
            except ValueError:
                payload, salt = None, b''
            if payload is None or _sha256(salt, payload).hex() != entry.get('commitment'):
                report.fail(path, '%s: its payload is not the one the leaf commits to' % what)
            else:
                recorded = json.loads(payload.decode('utf-8')).get('parameters') or {}
    else:
        recorded = entry.get('parameters') or {}
    if recorded is not None:
        for field in ('captureId', 'source', 'envelope', 'provenance'):
            if recorded.get(field) != c.get(field):
                report.fail(path, '%s: its %s is not what the ledger recorded' % (what, field))
        if iso_ms(recorded.get('receivedAt')) != c.get('receivedAt'):
            report.fail(path, '%s: its time of receipt is not what the ledger recorded' % what)

    if tree is None:
        return
    proof = c.get('proof')
    if proof is None:
        if isinstance(index, int) and index < tree[1]:
            report.fail(path, '%s: no inclusion proof, though the checkpoint holds the entry' % what)
        else:
            report.warn(path, '%s: recorded after the checkpoint (tree size %d) was signed: not proven yet' % (what, tree[1]))
        return
    try:
        hashes = [b64(h) for h in proof.get('hashes') or []]
    except ValueError:
        hashes = None
    if proof.get('treeSize') != tree[1] or hashes is None \
            or not inclusion_holds(index, tree[1], leaf_hash(leaf), hashes, tree[2]):
        report.fail(path, "%s: its inclusion proof does not lead to the checkpoint's root" % what)


def check_load_file(report, path, rows, messages, found, attached):
    """rows: dicts by the header's field names. Each message once, its digests and paths right;
    each attachment row (a ParentID) after its message's row, one of that message's attachments
    as its evidence file lists it (SHA-256, MD5, text path), its text in the package."""
    seen = set()
    controls = {}
    for n, row in enumerate(rows, 2):
        parent = row.get('ParentID', '')
        if parent:
            if parent not in controls:
                report.fail(path, 'row %d is an attachment of %s, which is no message row before it' % (n, parent))
                continue
            owner = controls[parent]
            text = row.get('TextPath', '')
            if not any(isinstance(a, dict) and a.get('sha256') == row.get('SHA256') and (a.get('md5') or '') == row.get('MD5')
                       and (a.get('text') or '') == text for a in attached.get(owner) or []):
                report.fail(path, "row %d: attachment %s is not one of message %s's attachments (SHA-256, MD5 and text path)" % (n, row.get('SHA256') or '(none)', owner))
            if text and text not in found:
                report.fail(path, 'row %d: its text %s is not in the package' % (n, text))
            continue
        sha = row.get('SHA256', '')
        eml = 'messages/%s.eml' % sha
        if eml not in found or sha not in messages:
            report.fail(path, 'row %d names message %s, which is not in the package' % (n, sha or '(none)'))
            continue
        if sha in seen:
            report.fail(path, 'row %d names message %s again' % (n, sha))
        seen.add(sha)
        controls[row.get('ControlNumber', '')] = sha
        if row.get('MD5') != found[eml][2] or row.get('FilePath') != eml or row.get('TextPath') != 'text/%s.txt' % sha:
            report.fail(path, "row %d: the MD5, file path or text path is not message %s's" % (n, sha))
    for sha in sorted(messages - seen):
        report.fail(path, 'has no row for message %s' % sha)


def read_dat(data):
    """Concordance DAT: fields between U+00FE, separated by ASCII 20; rows end CRLF."""
    lines = data.decode('utf-8-sig').split('\r\n')
    if lines and lines[-1] == '':
        lines.pop()
    table = [[cell[1:-1] for cell in line.split('\x14')] for line in lines]
    if not table:
        return []
    return [dict(zip(table[0], row)) for row in table[1:]]


def check(root, key_text, key_from):
    report = Report()
    try:
        manifest_bytes = open(os.path.join(root, 'manifest.json'), 'rb').read()
        manifest = json.loads(manifest_bytes.decode('utf-8'))
        listed = {f['path']: f for f in manifest['files']}
    except (OSError, ValueError, KeyError, TypeError) as err:
        report.fail('manifest.json', 'missing or not a manifest (%s)' % err)
        return report, None

    try:
        key = parse_verifier_key(key_text)
    except ValueError as err:
        report.fail(key_from, str(err))
        key = None

    # The manifest's signature: over a statement, which no checkpoint note can be (it does not
    # end with a newline), made with the ledger key.
    if key is not None:
        try:
            signature = base64.b64decode(open(os.path.join(root, 'manifest.sig'), 'rb').read().strip(), validate=True)
        except (OSError, ValueError):
            signature = b''
        statement = (MANIFEST_STATEMENT + hashlib.sha256(manifest_bytes).hexdigest()).encode('utf-8')
        if not ed25519_verify(key[2], statement, signature):
            report.fail('manifest.json', 'its signature (manifest.sig) does not verify with the key %s+%s' % (key[0], key[1]))

    # Every file as the manifest lists it, and nothing else.
    found = {}
    for path in files_in(root):
        if path not in SIGNED_APART:
            found[path] = digests(os.path.join(root, path))
    for path, f in listed.items():
        if not inside(path):
            report.fail(path, 'is not a path inside the package')
        elif path not in found:
            report.fail(path, 'is in the manifest but missing')
        elif found[path] != (f.get('size'), f.get('sha256'), f.get('md5')):
            report.fail(path, 'does not match the manifest (size, SHA-256 or MD5)')
    for path in found:
        if path not in listed:
            report.fail(path, 'is not in the manifest')

    tree = None
    if key is not None:
        try:
            tree = read_checkpoint(open(os.path.join(root, 'checkpoint.txt'), 'rb').read(), key)
            if tree[0] != manifest.get('origin'):
                report.fail('checkpoint.txt', 'is of the log %s, the manifest is of %s' % (tree[0], manifest.get('origin')))
        except (OSError, ValueError, UnicodeDecodeError) as err:
            report.fail('checkpoint.txt', str(err))
            tree = None

    messages = {p[len('messages/'):-len('.eml')] for p in found if p.startswith('messages/') and p.endswith('.eml')}
    evidence = {p[len('evidence/'):-len('.json')] for p in found if p.startswith('evidence/') and p.endswith('.json')}
    for sha in sorted(messages - evidence):
        report.fail('messages/%s.eml' % sha, 'has no evidence file')
    receipts = 0
    attached = {}
    for sha in sorted(evidence):
        path = 'evidence/%s.json' % sha
        eml = 'messages/%s.eml' % sha
        try:
            record = json.loads(open(os.path.join(root, path), 'rb').read().decode('utf-8'))
        except (ValueError, UnicodeDecodeError):
            report.fail(path, 'is not JSON')
            continue
        if record.get('sha256') != sha:
            report.fail(path, 'is not about the message its name says')
        if eml not in found:
            report.fail(eml, 'is missing')
        elif found[eml][1] != sha:
            report.fail(eml, 'its bytes hash to %s, not to the SHA-256 it is named by' % found[eml][1])
        attached[sha] = record.get('attachments') if isinstance(record.get('attachments'), list) else []
        captures = record.get('captures') or []
        if not captures:
            report.fail(path, 'names no receipt of the message')
        for c in captures:
            check_receipt(report, path, sha, c, tree)
            receipts += 1

    for path, read in (('load/messages.csv', lambda data: list(csv.DictReader(io.StringIO(data.decode('utf-8-sig'), newline='')))),
                       ('load/messages.dat', read_dat)):
        try:
            rows = read(open(os.path.join(root, path), 'rb').read())
        except (OSError, ValueError, UnicodeDecodeError, csv.Error) as err:
            report.fail(path, 'cannot be read (%s)' % err)
            continue
        check_load_file(report, path, rows, messages, found, attached)
    return report, (len(messages), receipts, tree, key)


USAGE = 'usage: python3 verify.py [PACKAGE | VOLUME.zip ...] [--key VERIFIER_KEY]\n'


def unzip_volumes(volumes, into):
    """Every volume's files into one folder; a path found twice is a failure of its own."""
    seen = {}
    twice = []
    for volume in volumes:
        with zipfile.ZipFile(volume) as z:
            for info in z.infolist():
                if info.is_dir():
                    continue
                name = info.filename
                if not inside(name):
                    twice.append('%s: %s is not a path inside the package' % (name, os.path.basename(volume)))
                    continue
                if name in seen:
                    twice.append('%s: is in %s and in %s' % (name, os.path.basename(seen[name]), os.path.basename(volume)))
                    continue
                seen[name] = volume
                target = os.path.join(into, *name.split('/'))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with z.open(info) as src, open(target, 'wb') as dst:
                    for chunk in iter(lambda: src.read(1 << 20), b''):
                        dst.write(chunk)
    return twice


def main(argv):
    args = argv[1:]
    key_text = None
    if '--key' in args:
        at = args.index('--key')
        if at + 1 >= len(args):
            sys.stderr.write(USAGE)
            return 2
        key_text = args[at + 1]
        del args[at:at + 2]
    if any(a.startswith('-') for a in args):
        sys.stderr.write(USAGE)
        return 2
    volumes = [a for a in args if a.lower().endswith('.zip')]
    if volumes and len(volumes) != len(args) or len(args) > 1 and not volumes:
        sys.stderr.write(USAGE)
        return 2
    if volumes:
        for volume in volumes:
            if not zipfile.is_zipfile(volume):
                sys.stderr.write('cannot read %s: not a zip file\n' % volume)
                return 2
        with tempfile.TemporaryDirectory(prefix='sealbox-package-') as scratch:
            try:
                twice = unzip_volumes(volumes, scratch)
            except (OSError, zipfile.BadZipFile) as err:
                sys.stderr.write('cannot read the volumes: %s\n' % err)
                return 2
            return verify(scratch, key_text, twice)
    root = args[0] if args else os.path.dirname(os.path.abspath(__file__))
    if not os.path.isdir(root):
        sys.stderr.write('cannot read %s: not a folder\n' % root)
        return 2
    return verify(root, key_text, [])


def verify(root, key_text, failed_before):
    key_from = '--key'
    if key_text is None:
        key_from = 'verifier-key.txt'
        try:
            key_text = open(os.path.join(root, 'verifier-key.txt'), encoding='utf-8').read()
        except (OSError, UnicodeDecodeError):
            key_text = ''
    try:
        report, seen = check(root, key_text, key_from)
    except OSError as err:
        sys.stderr.write('cannot read %s: %s\n' % (root, err))
        return 2
    report.failures[:0] = failed_before
    for line in report.failures:
        print('FAIL ' + line)
    for line in report.warnings:
        print('WARN ' + line)
    if report.failures or seen is None:
        return 1
    messages, receipts, tree, key = seen
    trust = '' if key_from == '--key' else " (key taken from verifier-key.txt: compare it with the one the archive's witnesses hold)"
    print('%s %d messages and their %d receipts, in the tree of size %d of %s signed by %s+%s%s' % (
        'OK' if not report.warnings else 'OK so far:', messages, receipts, tree[1], tree[0], key[0], key[1], trust))
    return 3 if report.warnings else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
