#!/usr/bin/python3
"""The mod_auth_logto benchmark driver. Run it through bench/run, which
installs the Debian packages and builds the module first; README.md in
this directory explains what is measured and how to read the output.

Everything runs on 127.0.0.1: a static issuer (bench/issuer.py), one Debian
httpd (mpm_event, identical base config) per candidate, and Debian's wrk.
Every process this script starts is stopped by its pid when it ends.
"""
import argparse
import csv
import ctypes
import datetime
import http.client
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import mint  # noqa: E402  (bench/mint.py)

APACHE = '/usr/sbin/apache2'
MODULES = '/usr/lib/apache2/modules'
WRK = '/usr/bin/wrk'
GNUPLOT = '/usr/bin/gnuplot'
DJANGO_DIR = REPO / 'tests' / 'integration' / 'djangoapp'
DJANGO_WSGI = DJANGO_DIR / 'djangoapp' / 'wsgi.py'
RUN_USER, RUN_GROUP = 'nobody', 'nogroup'

AUDIENCE = 'https://api.example.test'
SCOPE = 'read:products'
CLIENT_ID = 'benchapp1234'
WRK_THREADS = 2          # one per core of the 2-core reference machine
# The small body every candidate answers: the static file of the C candidates
# is byte for byte what the Django view answers without a user.
BODY = b'{"sub": null}'

# Fixed server settings, the same for every candidate (README.md).
# Two children of 64 threads: either child alone can hold all 64 connections of
# the largest case, so no connection ever waits for a worker (and the event
# MPM never closes keep-alive connections for lack of one); the spare-thread
# bounds keep exactly two children alive, never replaced during a run.
MPM_EVENT = """\
StartServers 2
ServerLimit 2
ThreadsPerChild 64
ThreadLimit 64
MaxRequestWorkers 128
MinSpareThreads 1
MaxSpareThreads 128
MaxConnectionsPerChild 0"""
WSGI_PROCESSES, WSGI_THREADS = 2, 16
MMAP = False             # EnableMMAP for the static file (--mmap)


# ---------------------------------------------------------------------------------------------
# candidates

class Candidate:
    def __init__(self, key, name, label, kind, path, baseline, protected, caches=False):
        self.key, self.name, self.label = key, name, label
        self.caches = caches        # remembers validated tokens (mod_auth_logto)
        self.kind = kind            # 'c' (static file) or 'django' (mod_wsgi daemon)
        self.path = path
        self.baseline = baseline    # key of the unprotected counterpart
        self.protected = protected
        self.server = None


CANDIDATES = [
    Candidate('a', 'noauth', 'no auth (static)', 'c', '/resource.json', 'a', False),
    Candidate('b', 'logto', 'mod_auth_logto', 'c', '/resource.json', 'a', True, caches=True),
    Candidate('c', 'openidc', 'mod_auth_openidc', 'c', '/resource.json', 'a', True),
    Candidate('d', 'django-guide', 'Django + PyJWT guide', 'django', '/bench/guide/', 'e', True),
    Candidate('e', 'django-noauth', 'Django, no auth', 'django', '/bench/noauth/', 'e', False),
    Candidate('f', 'django-logto', 'Django behind mod_auth_logto', 'django', '/bench/logto/', 'e',
              True, caches=True),
    # b with the fast ECDSA verifier off: OpenSSL verifies every signature (issue 13)
    Candidate('g', 'logto-nofast', 'mod_auth_logto, LogtoFastECDSA Off', 'c', '/resource.json',
              'a', True, caches=True),
]
BY_KEY = {c.key: c for c in CANDIDATES}
OPENIDC = 'c'


# ---------------------------------------------------------------------------------------------
# small helpers

def log(msg=''):
    print(msg, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _set_pdeathsig():
    """Child processes get SIGTERM if this script dies (preexec_fn)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def proc_children(pid):
    out = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
            if int(fields[1]) == pid and fields[0] not in ('Z', 'X'):
                out.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return sorted(out)


def proc_mem(pid):
    """(VmRSS, VmHWM) in kB, or None if the process is gone."""
    try:
        with open(f'/proc/{pid}/status') as f:
            text = f.read()
    except OSError:
        return None
    rss = re.search(r'^VmRSS:\s+(\d+)', text, re.M)
    hwm = re.search(r'^VmHWM:\s+(\d+)', text, re.M)
    if not rss or not hwm:
        return None
    return int(rss.group(1)), int(hwm.group(1))


def proc_private_kb(pid):
    """Private (unshared) resident memory in kB, from /proc/<pid>/smaps_rollup."""
    try:
        with open(f'/proc/{pid}/smaps_rollup') as f:
            text = f.read()
    except OSError:
        return 0
    return sum(int(m) for m in re.findall(r'^Private_(?:Clean|Dirty):\s+(\d+)', text, re.M))


def proc_cmd(pid):
    try:
        with open(f'/proc/{pid}/cmdline', 'rb') as f:
            return f.read().replace(b'\0', b' ').decode(errors='replace').strip()
    except OSError:
        return '?'


def http_get(port, path, token=None, timeout=10):
    """(status, body) of one request on a fresh connection."""
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=timeout)
    try:
        headers = {'Connection': 'close'}
        if token is not None:
            headers['Authorization'] = f'Bearer {token}'
        conn.request('GET', path, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def load_average():
    with open('/proc/loadavg') as f:
        return [float(x) for x in f.read().split()[:3]]


# ---------------------------------------------------------------------------------------------
# the issuer

class Issuer:
    def __init__(self, workdir, pems):
        self.dir = workdir / 'issuer'
        self.dir.mkdir()
        self.port = free_port()
        self.tls_port = free_port()
        self.url = f'http://127.0.0.1:{self.port}/oidc'
        self.jwks_uri = f'{self.url}/jwks'
        # the same JWKS over https, for mod_auth_openidc (it refuses http JWKS URIs)
        self.tls_jwks_uri = f'https://127.0.0.1:{self.tls_port}/oidc/jwks'
        cert, key = mint.tls_certificate()
        self.ca_file = self.dir / 'tls-cert.pem'
        self.ca_file.write_bytes(cert)
        (self.dir / 'tls-key.pem').write_bytes(key)
        os.chmod(self.dir, 0o755)
        os.chmod(self.ca_file, 0o644)
        (self.dir / 'jwks.json').write_text(json.dumps(mint.jwks(pems)))
        (self.dir / 'openid-configuration.json').write_text(json.dumps({
            'issuer': self.url,
            'jwks_uri': self.jwks_uri,
            'token_endpoint': f'{self.url}/token',
            'id_token_signing_alg_values_supported': ['ES384', 'RS256'],
        }))
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / 'issuer.py'), str(self.port), str(self.dir),
             str(self.tls_port)],
            stdout=subprocess.DEVNULL, stderr=open(self.dir / 'stderr.log', 'w'),
            preexec_fn=_set_pdeathsig)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                if http_get(self.port, '/oidc/jwks', timeout=1)[0] == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError('the issuer did not start: ' + (self.dir / 'stderr.log').read_text())

    def hits(self):
        try:
            return (self.dir / 'hits.log').read_text().count('\n')
        except FileNotFoundError:
            return 0

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---------------------------------------------------------------------------------------------
# httpd

class Httpd:
    """One Debian httpd in the foreground (a direct child of this script)."""

    def __init__(self, workdir, name, module_lines, body, kind):
        self.name = name
        self.kind = kind
        self.root = workdir / name
        for sub in ('conf', 'logs', 'run', 'htdocs'):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        for d in [self.root] + [self.root / s for s in ('conf', 'logs', 'run', 'htdocs')]:
            os.chmod(d, 0o755)
        (self.root / 'htdocs' / 'resource.json').write_bytes(BODY)
        os.chmod(self.root / 'htdocs' / 'resource.json', 0o644)
        self.port = free_port()
        self.conf = self.root / 'conf' / 'httpd.conf'
        self.conf.write_text(self.base_config(module_lines, body))
        os.chmod(self.conf, 0o644)
        self.proc = None

    def base_config(self, module_lines, body):
        r = self.root
        mods = '\n'.join(f'LoadModule {n}_module {MODULES}/mod_{n}.so'
                         for n in ('mpm_event', 'authn_core', 'authz_core', 'mime', 'env'))
        return f"""# generated by bench/bench.py: candidate {self.name}
# ---- the base config, identical for every candidate ----
ServerRoot "{r}"
ServerName 127.0.0.1
Listen 127.0.0.1:{self.port}
PidFile "{r}/run/httpd.pid"
DefaultRuntimeDir "{r}/run"
ErrorLog "{r}/logs/error_log"
LogLevel warn
User {RUN_USER}
Group {RUN_GROUP}
{mods}
TypesConfig /etc/mime.types
{MPM_EVENT}
Timeout 30
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 30
# httpd maps every static file it sends (EnableMMAP On by default): for a
# 13-byte file that is an mmap + munmap per request, a TLB shootdown across
# the child's threads each time, which made the baseline slower and noisier
# than the work it stands for. Plain read() instead (bench/run --mmap: on).
EnableMMAP {'On' if MMAP else 'Off'}
EnableSendfile Off
DocumentRoot "{r}/htdocs"
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "{r}/htdocs">
    Require all granted
</Directory>
# no access log: identical for all, and no disk I/O in the measurement

# ---- this candidate ----
{module_lines}
{body}
"""

    def start(self, timeout=60):
        env = {k: v for k, v in os.environ.items() if not k.startswith('APACHE_')}
        env['LANG'] = 'C'
        self.out = open(self.root / 'logs' / 'stdout.log', 'a')
        self.proc = subprocess.Popen(
            [APACHE, '-d', str(self.root), '-f', str(self.conf), '-DFOREGROUND'],
            stdout=self.out, stderr=subprocess.STDOUT, env=env, preexec_fn=_set_pdeathsig)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f'{self.name}: httpd exited ({self.proc.returncode}):\n'
                                   + self.log_tail())
            try:
                with socket.create_connection(('127.0.0.1', self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f'{self.name}: httpd did not listen:\n' + self.log_tail())

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def children(self):
        return proc_children(self.pid) if self.proc else []

    def restart(self, timeout=30):
        """SIGHUP: fresh children (empty in-process caches, no earlier RSS)."""
        old = set(self.children())
        os.kill(self.pid, signal.SIGHUP)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f'{self.name}: httpd died on restart:\n' + self.log_tail())
            kids = set(self.children())
            if kids and not (kids & old):
                return
            time.sleep(0.05)
        raise RuntimeError(f'{self.name}: children did not restart')

    def memory(self):
        """{pid: (rss_kB, hwm_kB, cmdline)} of the children."""
        out = {}
        for pid in self.children():
            mem = proc_mem(pid)
            if mem:
                out[pid] = (mem[0], mem[1], proc_cmd(pid))
        return out

    def log_tail(self, n=30):
        lines = []
        for f in ('logs/stdout.log', 'logs/error_log'):
            try:
                lines += (self.root / f).read_text(errors='replace').splitlines()[-n:]
            except FileNotFoundError:
                pass
        return '\n'.join(lines)

    def error_log_size(self):
        try:
            return (self.root / 'logs' / 'error_log').stat().st_size
        except FileNotFoundError:
            return 0

    def error_lines(self, since=0):
        """error-level (and worse) lines and crashes written since byte offset `since`."""
        try:
            with open(self.root / 'logs' / 'error_log', 'rb') as f:
                f.seek(since)
                text = f.read().decode(errors='replace')
        except FileNotFoundError:
            return []
        return [ln for ln in text.splitlines()
                if re.search(r':(error|crit|alert|emerg)\]|exit signal|Segmentation', ln)]

    def stop(self, timeout=20):
        if not self.proc or self.proc.poll() is not None:
            return
        kids = self.children()
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            for pid in [self.proc.pid] + kids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.proc.wait()


def wsgi_block(root):
    return f"""LoadModule wsgi_module {MODULES}/mod_wsgi.so
WSGISocketPrefix "{root}/run/wsgi"
WSGIRestrictEmbedded On
WSGIDaemonProcess bench user={RUN_USER} group={RUN_GROUP} processes={WSGI_PROCESSES} threads={WSGI_THREADS} \\
    display-name=%{{GROUP}} home="{DJANGO_DIR}" python-path="{DJANGO_DIR}"
WSGIProcessGroup bench
WSGIApplicationGroup %{{GLOBAL}}
WSGIScriptAlias / "{DJANGO_WSGI}"
<Directory "{DJANGO_WSGI.parent}">
    <Files "{DJANGO_WSGI.name}">
        Require all granted
    </Files>
</Directory>"""


def logto_location(path, issuer, extra=''):
    return f"""<Location "{path}">
    AuthType Logto
    LogtoIssuer {issuer.url}
{extra}    <RequireAll>
        Require logto-audience {AUDIENCE}
        Require logto-scope {SCOPE}
    </RequireAll>
</Location>"""


def status_location():
    return """<Location "/logto-status">
    SetHandler logto-status
    Require all granted
</Location>"""


def make_server(workdir, cand, issuer, module_path, cache_size=None):
    """The httpd of one candidate: the base config plus its own lines."""
    root = workdir / cand.name
    logto_mod = f'LoadModule auth_logto_module "{module_path}"'
    extra = f'    LogtoTokenCacheSize {cache_size}\n' if cache_size else ''
    if cand.key == 'a':
        mods, body = '', '# no authentication'
    elif cand.key == 'b':
        mods = logto_mod
        body = logto_location(cand.path, issuer, extra) + '\n' + status_location()
    elif cand.key == 'c':
        mods = f'LoadModule auth_openidc_module {MODULES}/mod_auth_openidc.so'
        # OAuth 2.0 resource server mode, as its docs configure it: local JWT
        # validation against the JWKS URI (https only: the same JWKS document,
        # from the issuer's TLS listener); the same checks as mod_auth_logto
        # (issuer, audience, the scope as a space-separated token); every
        # other setting left at its default (shm cache, JWKS refresh 3600 s).
        body = f"""OIDCCryptoPassphrase "bench-only-{os.urandom(8).hex()}"
OIDCOAuthVerifyJwksUri "{issuer.tls_jwks_uri}"
# the issuer's self-signed certificate: TLS stays verified
OIDCCABundlePath "{issuer.ca_file}"
<Location "{cand.path}">
    AuthType oauth20
    <RequireAll>
        Require claim "iss:{issuer.url}"
        Require claim "aud:{AUDIENCE}"
        Require claim "scope~(^| ){SCOPE}( |$)"
    </RequireAll>
</Location>"""
    elif cand.key == 'd':
        mods = wsgi_block(root)
        body = f"""<Location "{cand.path}">
    # the guide reads the header itself; mod_wsgi drops it unless told
    WSGIPassAuthorization On
    SetEnv LOGTO_GUIDE_ISSUER {issuer.url}
    SetEnv LOGTO_GUIDE_JWKS_URI {issuer.jwks_uri}
    SetEnv LOGTO_GUIDE_AUDIENCE {AUDIENCE}
</Location>"""
    elif cand.key == 'e':
        mods, body = wsgi_block(root), '# no authentication'
    elif cand.key == 'f':
        mods = wsgi_block(root) + '\n' + logto_mod
        body = logto_location(cand.path, issuer, extra)
    elif cand.key == 'g':
        mods = logto_mod
        body = logto_location(cand.path, issuer, extra + '    LogtoFastECDSA Off\n')
    else:
        raise ValueError(cand.key)
    return Httpd(workdir, cand.name, mods, body, cand.kind)


# ---------------------------------------------------------------------------------------------
# wrk

_UNITS = {'us': 1e-3, 'ms': 1.0, 's': 1e3, 'm': 60e3, 'h': 3600e3}


def _ms(text):
    m = re.match(r'([\d.]+)(us|ms|s|m|h)$', text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else float('nan')


def parse_wrk(out):
    res = {'rps': float('nan'), 'p50': float('nan'), 'p99': float('nan'), 'requests': 0,
           'non2xx': 0, 'errors': 0, 'sent': None, 'pool': None}
    m = re.search(r'Requests/sec:\s+([\d.]+)', out)
    if m:
        res['rps'] = float(m.group(1))
    for pct, key in (('50', 'p50'), ('99', 'p99')):
        m = re.search(rf'^\s+{pct}%\s+(\S+)', out, re.M)
        if m:
            res[key] = _ms(m.group(1))
    m = re.search(r'(\d+) requests in', out)
    if m:
        res['requests'] = int(m.group(1))
    m = re.search(r'Non-2xx or 3xx responses:\s+(\d+)', out)
    if m:
        res['non2xx'] = int(m.group(1))
    m = re.search(r'Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)', out)
    if m:
        res['errors'] = sum(int(x) for x in m.groups())
    m = re.search(r'tokens: sent=(\d+) pool=(\d+)', out)
    if m:
        res['sent'], res['pool'] = int(m.group(1)), int(m.group(2))
    return res


def run_wrk(port, path, conns, duration, token=None, tokens_file=None, start=0, latency=False,
            script=None, script_args=(), timeout_s=10, markers=None):
    cmd = [WRK, f'-t{WRK_THREADS}', f'-c{conns}', f'-d{duration}s', f'--timeout={timeout_s}s']
    if latency:
        cmd.append('--latency')
    url = f'http://127.0.0.1:{port}{path}'
    if script:
        cmd += ['-s', str(script), url, '--', *map(str, script_args)]
    elif tokens_file:
        cmd += ['-s', str(HERE / 'tokens.lua'), url, '--', str(tokens_file), str(start),
                str(WRK_THREADS)]
    else:
        if token:
            cmd += ['-H', f'Authorization: Bearer {token}']
        cmd.append(url)
    if markers is None:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=duration + 120)
        rc, out = proc.returncode, proc.stdout
    else:
        # soak.lua: the threads stop themselves and leave marker files; wrk's main
        # thread would still sleep for all of -d, so it is ended with SIGINT
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + duration
        while proc.poll() is None and time.time() < deadline:
            if all(os.path.exists(m) for m in markers):
                proc.send_signal(signal.SIGINT)
                break
            time.sleep(0.2)
        try:
            out, _ = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        rc = proc.returncode
    if rc != 0:
        raise RuntimeError(f'wrk failed ({rc}): {" ".join(cmd[:6])} ...\n{out}')
    return out, parse_wrk(out)


class RssSampler(threading.Thread):
    """Samples the summed VmRSS of a server's children while a run goes on."""

    def __init__(self, server, interval=0.2):
        super().__init__(daemon=True)
        self.server, self.interval = server, interval
        self.peak_kb = 0
        self._halt = threading.Event()

    def run(self):
        kids, last_scan = [], 0
        while not self._halt.is_set():
            now = time.time()
            if now - last_scan > 1.0:
                kids, last_scan = self.server.children(), now
            total = 0
            for pid in kids:
                mem = proc_mem(pid)
                if mem:
                    total += mem[0]
            self.peak_kb = max(self.peak_kb, total)
            self._halt.wait(self.interval)

    def stop(self):
        self._halt.set()
        self.join()


# ---------------------------------------------------------------------------------------------
# the benchmark

class Bench:
    def __init__(self, args):
        self.args = args
        stamp = datetime.datetime.now().strftime('%Y%m%d-%H%M%S')
        suffix = '-soak' if args.soak else '-profile' if args.profile else ''
        self.results = Path(args.results_dir) / (stamp + suffix)
        self.results.mkdir(parents=True, exist_ok=True)
        self.workdir = Path(tempfile.mkdtemp(prefix='logto-bench-'))
        os.chmod(self.workdir, 0o755)
        self.servers = []
        self.issuer = None
        self.started = time.time()
        self.rng = random.Random(args.seed)
        self.failures = []

    # -- setup ----------------------------------------------------------------------------
    def setup_keys_and_issuer(self):
        t0 = time.time()
        self.pems = mint.generate_keys()
        for alg, pem in self.pems.items():
            p = self.workdir / f'key-{alg}.pem'
            p.write_bytes(pem)
            os.chmod(p, 0o600)
        self.issuer = Issuer(self.workdir, self.pems)
        self.issuer.start()
        self.signers = {alg: mint.Signer(alg, self.pems[alg]) for alg in mint.ALGS}
        log(f'keys: ES384 kid={self.signers["ES384"].kid[:12]}..., '
            f'RS256 kid={self.signers["RS256"].kid[:12]}... ({time.time() - t0:.1f}s); '
            f'issuer {self.issuer.url}')

    def claims(self, **over):
        c = mint.claims(self.issuer.url, AUDIENCE, SCOPE, CLIENT_ID)
        c.update(over)
        return c

    def check_tokens(self, alg):
        """Tokens every protected candidate must refuse, and one it must accept."""
        s = self.signers[alg]
        now = int(time.time())
        good = s.token(self.claims())
        bad = {
            'no token': None,
            'wrong audience': s.token(self.claims(aud='https://other.example.test')),
            'missing scope': s.token(self.claims(scope='write:products')),
            'wrong issuer': s.token(self.claims(iss='http://127.0.0.1:1/oidc')),
            'expired': s.token(mint.claims(self.issuer.url, AUDIENCE, SCOPE, CLIENT_ID,
                                           now=now - 7200)),
            'bad signature': mint._mint_chunk((alg, self.pems[alg], 1, 'badsig', self.issuer.url,
                                               AUDIENCE, SCOPE, CLIENT_ID, now))[0],
        }
        return good, bad

    def mint_pools(self, sizes):
        """Per algorithm: one token for the same-token runs and a file of distinct ones."""
        self.same = {}
        self.pools = {}
        self.tokens_exp = int(time.time()) + mint.TOKEN_TTL     # the earliest exp minted
        for alg in self.args.algs:
            t0 = time.time()
            self.same[alg] = self.signers[alg].token(self.claims())
            toks = mint.mint_many(alg, self.pems[alg], sizes[alg], self.issuer.url, AUDIENCE,
                                  SCOPE, CLIENT_ID)
            assert len(set(toks)) == len(toks)
            path = self.workdir / f'tokens-{alg}.txt'
            path.write_text('\n'.join(toks) + '\n')
            self.pools[alg] = (path, len(toks))
            log(f'tokens: {alg}: 1 same-token + {len(toks)} distinct, '
                f'{time.time() - t0:.1f}s ({path.stat().st_size / 1e6:.1f} MB)')

    def start_servers(self, cands, cache_size=None):
        module = self.args.module
        for cand in cands:
            cand.server = make_server(self.workdir, cand, self.issuer, module, cache_size)
            self.servers.append(cand.server)
        for cand in cands:
            cand.server.start()
        log('servers: ' + ', '.join(f'{c.key}) {c.label} :{c.server.port}' for c in cands))

    def wait_ready(self, cand, token, timeout=60):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            try:
                status, body = http_get(cand.server.port, cand.path, token, timeout=10)
                if status == 200:
                    return
                last = f'{status} {body[:200]!r}'
            except OSError as e:
                last = str(e)
            time.sleep(0.2)
        raise RuntimeError(f'{cand.label}: not answering 200: {last}\n{cand.server.log_tail()}')

    def correctness(self, cands):
        """Every candidate accepts the valid tokens; every protected one refuses the
        others (the same checks), before anything is measured."""
        log('\ncorrectness (status per token; protected candidates must refuse all but "valid"):')
        rows, failed = [], []
        for alg in self.args.algs:
            good, bad = self.check_tokens(alg)
            for cand in cands:
                self.wait_ready(cand, good)
                got = {'valid': http_get(cand.server.port, cand.path, good)}
                for what, tok in bad.items():
                    got[what] = http_get(cand.server.port, cand.path, tok)
                statuses = {k: v[0] for k, v in got.items()}
                ok = statuses['valid'] == 200 and (
                    all(s in (401, 403) for k, s in statuses.items() if k != 'valid')
                    if cand.protected else all(s == 200 for s in statuses.values()))
                rows.append((alg, cand, statuses, ok))
                if not ok:
                    failed.append(f'{alg} {cand.label}: {statuses}')
        names = ['valid'] + list(bad)
        log(f'  {"alg":6} {"candidate":30} ' + ' '.join(f'{n[:13]:>13}' for n in names))
        for alg, cand, statuses, ok in rows:
            log(f'  {alg:6} {cand.label:30} ' + ' '.join(f'{statuses[n]:>13}' for n in names)
                + ('' if ok else '   <-- WRONG'))
        if failed:
            raise RuntimeError('candidates do not apply the same checks:\n' + '\n'.join(failed))

    # -- one measurement ------------------------------------------------------------------
    def measure(self, cand, alg, mode, conns, round_no):
        a = self.args
        srv = cand.server
        load1 = load_average()[0]
        srv.restart()
        self.wait_ready(cand, self.same[alg])
        # Warm-up with the same token in both modes: connections, children, keys,
        # Django imports and allocators get warm, and no token of the pool is used
        # up, so the measured run of the diff mode sends each token once at most.
        warm_out, warm = run_wrk(srv.port, cand.path, conns, a.warmup, token=self.same[alg])
        tokens_file, start, pool = None, 0, 0
        if mode == 'diff':
            tokens_file, pool = self.pools[alg]
            start = self.rng.randrange(pool)
        sampler = RssSampler(srv)
        sampler.start()
        try:
            out, res = run_wrk(srv.port, cand.path, conns, a.duration, token=self.same[alg],
                               tokens_file=tokens_file, start=start, latency=True)
        finally:
            sampler.stop()
        mem = srv.memory()
        res['peak_rss_mb'] = sum(v[1] for v in mem.values()) / 1024.0     # sum of VmHWM
        res['private_mb'] = sum(proc_private_kb(pid) for pid in mem) / 1024.0
        res['sampled_rss_mb'] = sampler.peak_kb / 1024.0
        res['children'] = len(mem)
        res['reused'] = 0
        if mode == 'diff' and res['sent'] is not None and cand.caches:
            # tokens sent a second time: possible cache hits, which this mode must not have
            res['reused'] = max(0, res['sent'] - pool)
        res['warm_non2xx'] = warm['non2xx']
        res['cache_entries'] = ''
        if cand.key == 'b':
            res['cache_entries'] = self.cache_entries(srv)
        res.update(round=round_no, candidate=cand.key, alg=alg, mode=mode, conns=conns,
                   load1=load1)
        with open(self.results / 'wrk.log', 'a') as f:
            f.write(f'=== round {round_no} {alg} {mode} c{conns} {cand.label}\n'
                    f'--- warm-up\n{warm_out}--- measured\n{out}\n')
        return res

    def revive(self, cand):
        """After a failed run: a fresh httpd for the candidate, if it is unwell."""
        try:
            cand.server.stop()
            cand.server.start()
        except Exception as e:
            log(f'  could not restart {cand.label}: {e}')

    def cache_entries(self, srv, tries=8):
        """Total token cache entries over the children (logto-status, one per child)."""
        seen = {}
        for _ in range(tries):
            try:
                status, body = http_get(srv.port, '/logto-status', timeout=5)
                doc = json.loads(body)
                seen[doc['pid']] = sum(c['entries'] for c in doc['token_caches'])
            except (OSError, ValueError, KeyError):
                pass
            if len(seen) >= len([p for p in srv.children()]):
                break
        return sum(seen.values())

    # -- the whole matrix -----------------------------------------------------------------
    def cases(self):
        return [(alg, mode, conns) for alg in self.args.algs for mode in self.args.modes
                for conns in self.args.connections]

    def run_matrix(self, cands):
        a = self.args
        cases = self.cases()
        total = len(cases) * len(cands) * a.rounds
        per = a.warmup + a.duration + 1.0
        log(f'\nmatrix: {len(cases)} cases x {len(cands)} candidates x {a.rounds} rounds = '
            f'{total} runs of {a.warmup}s warm-up + {a.duration}s measured '
            f'(about {total * per / 60:.0f} min)')
        raw = []
        done = 0
        for r in range(1, a.rounds + 1):
            for ci, (alg, mode, conns) in enumerate(cases):
                # Alternate: every case runs all candidates back to back, in an order
                # rotated per round and case so no candidate always goes first.
                shift = (r - 1 + ci) % len(cands)
                order = cands[shift:] + cands[:shift]
                for cand in order:
                    if time.time() + a.warmup + a.duration + 120 > self.tokens_exp:
                        log('tokens: about to expire (1 h lifetime), minting new ones')
                        self.mint_pools(self.pool_sizes)
                    done += 1
                    try:
                        res = self.measure(cand, alg, mode, conns, r)
                    except Exception as e:  # one failed run must not lose the others
                        log(f'[{done:3}/{total}] r{r} {alg} {mode:4} c{conns:<3} {cand.label:30} '
                            f'FAILED: {e}')
                        self.failures.append(f'r{r} {alg} {mode} c{conns} {cand.label}: {e}')
                        self.revive(cand)
                        continue
                    raw.append(res)
                    flag = ''
                    if res['non2xx'] or res['errors']:
                        flag += f'  !! non-2xx={res["non2xx"]} socket-errors={res["errors"]}'
                    if res['reused']:
                        flag += f'  (tokens reused: {res["reused"]})'
                    log(f'[{done:3}/{total}] r{r} {alg} {mode:4} c{conns:<3} {cand.label:30} '
                        f'{res["rps"]:9.0f} req/s  p99 {res["p99"]:7.2f} ms  '
                        f'rss {res["peak_rss_mb"]:6.1f} MB{flag}')
        return raw

    # -- results --------------------------------------------------------------------------
    def summarize(self, raw, cands):
        keyed = {}
        for res in raw:
            keyed[(res['alg'], res['mode'], res['conns'], res['candidate'], res['round'])] = res
        rounds = sorted({res['round'] for res in raw})
        keys = [c.key for c in cands]
        rows = []
        for alg, mode, conns in self.cases():
            for cand in cands:
                runs = [keyed.get((alg, mode, conns, cand.key, r)) for r in rounds]
                runs = [x for x in runs if x]
                if not runs:
                    continue

                def ratio(other):
                    if other not in keys:
                        return float('nan')
                    vals = []
                    for r in rounds:
                        x, y = (keyed.get((alg, mode, conns, cand.key, r)),
                                keyed.get((alg, mode, conns, other, r)))
                        if x and y and y['rps'] > 0:
                            vals.append(x['rps'] / y['rps'])
                    return statistics.median(vals) if vals else float('nan')

                rows.append({
                    'alg': alg, 'mode': mode, 'conns': conns, 'candidate': cand.key,
                    'label': cand.label,
                    'rps': statistics.median(x['rps'] for x in runs),
                    'p99_ms': statistics.median(x['p99'] for x in runs),
                    'peak_rss_mb': max(x['peak_rss_mb'] for x in runs),
                    'private_mb': max(x['private_mb'] for x in runs),
                    'vs_unprotected': ratio(cand.baseline),
                    'vs_openidc': ratio(OPENIDC),
                    'rounds': len(runs),
                    'rps_all': ' '.join(f'{x["rps"]:.0f}' for x in runs),
                    'invalid': sum(x['non2xx'] for x in runs),
                    'socket_errors': sum(x['errors'] for x in runs),
                    'reused': max(x['reused'] for x in runs),
                    'requests': int(statistics.median(x['requests'] for x in runs)),
                })
        return rows

    def write_results(self, raw, rows):
        rawf = ['round', 'alg', 'mode', 'conns', 'candidate', 'rps', 'p50', 'p99', 'requests',
                'non2xx', 'errors', 'warm_non2xx', 'peak_rss_mb', 'sampled_rss_mb', 'private_mb',
                'children',
                'sent', 'pool', 'reused', 'cache_entries', 'load1']
        with open(self.results / 'raw.csv', 'w', newline='') as f:
            w = csv.DictWriter(f, fieldnames=rawf, extrasaction='ignore')
            w.writeheader()
            for res in raw:
                w.writerow({k: (f'{v:.3f}' if isinstance(v, float) else v)
                            for k, v in res.items()})
        sumf = ['alg', 'mode', 'conns', 'candidate', 'label', 'rps', 'p99_ms', 'peak_rss_mb',
                'private_mb',
                'vs_unprotected', 'vs_openidc', 'rounds', 'rps_all', 'requests', 'invalid',
                'socket_errors', 'reused']
        with open(self.results / 'summary.csv', 'w', newline='') as f:
            w = csv.DictWriter(f, fieldnames=sumf, extrasaction='ignore')
            w.writeheader()
            for row in rows:
                w.writerow({k: (f'{v:.3f}' if isinstance(v, float) else v)
                            for k, v in row.items()})
        md = self.markdown(rows)
        (self.results / 'table.md').write_text(md)
        return md

    @staticmethod
    def _x(v):
        return '—' if v != v else f'{v:.2f}x'

    def markdown(self, rows):
        a = self.args
        lines = [f'Median of {a.rounds} round(s), {a.duration}s each after {a.warmup}s warm-up; '
                 f'wrk -t{WRK_THREADS}; ratios are medians of per-round ratios.', '',
                 '| case | candidate | req/s | p99 ms | peak RSS MB | vs unprotected | '
                 'vs mod_auth_openidc | notes |',
                 '|---|---|---:|---:|---:|---:|---:|---|']
        mode_name = {'same': 'same token', 'diff': 'different tokens'}
        for row in rows:
            notes = []
            if row['invalid']:
                notes.append(f'INVALID: {row["invalid"]} non-2xx answers')
            if row['socket_errors']:
                notes.append(f'{row["socket_errors"]} socket errors')
            if row['reused']:
                notes.append(f'{row["reused"]} tokens reused')
            case = f'{row["alg"]} {mode_name[row["mode"]]}, {row["conns"]} conns'
            lines.append(f'| {case} | {row["label"]} | {row["rps"]:.0f} | {row["p99_ms"]:.2f} | '
                         f'{row["peak_rss_mb"]:.1f} | {self._x(row["vs_unprotected"])} | '
                         f'{self._x(row["vs_openidc"])} | {"; ".join(notes)} |')
        return '\n'.join(lines) + '\n'

    def print_table(self, rows):
        mode_name = {'same': 'same', 'diff': 'diff'}
        log(f'\n{"case":22} {"candidate":30} {"req/s":>9} {"p99 ms":>8} {"RSS MB":>7} '
            f'{"vs unprot":>9} {"vs openidc":>10}')
        last = None
        for row in rows:
            case = f'{row["alg"]} {mode_name[row["mode"]]} c{row["conns"]}'
            if last and case != last:
                log('')
            last = case
            note = '  INVALID' if row['invalid'] else ''
            note += f'  socket-errors={row["socket_errors"]}' if row['socket_errors'] else ''
            note += f'  reused={row["reused"]}' if row['reused'] else ''
            log(f'{case:22} {row["label"]:30} {row["rps"]:9.0f} {row["p99_ms"]:8.2f} '
                f'{row["peak_rss_mb"]:7.1f} {self._x(row["vs_unprotected"]):>9} '
                f'{self._x(row["vs_openidc"]):>10}{note}')

    def chart(self, rows, cands):
        cases = self.cases()
        dat = self.results / 'chart.dat'
        with open(dat, 'w') as f:
            f.write('case ' + ' '.join(f'"{c.label}"' for c in cands) + '\n')
            for alg, mode, conns in cases:
                vals = []
                for c in cands:
                    row = next((r for r in rows if (r['alg'], r['mode'], r['conns'],
                                                    r['candidate']) == (alg, mode, conns, c.key)),
                               None)
                    vals.append(f'{row["rps"]:.0f}' if row else '?')
                f.write(f'"{alg} {"same" if mode == "same" else "diff"} c{conns}" '
                        + ' '.join(vals) + '\n')
        gp = self.results / 'chart.gp'
        ncol = len(cands)
        gp.write_text(f"""set terminal pngcairo size 1500,750 font ",11" noenhanced
set output "{self.results / 'chart.png'}"
set title "requests/s per case (median of {self.args.rounds} round(s); log scale)"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set yrange [100:*]
set ylabel "requests/s"
set grid ytics
set key outside right top vertical
set xtics rotate by -25 scale 0
plot for [i=2:{ncol + 1}] "{dat}" using i:xtic(1) title columnheader(i)
""")
        proc = subprocess.run([GNUPLOT, str(gp)], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        if proc.returncode != 0:
            log(f'gnuplot failed: {proc.stdout}')
        return self.results / 'chart.png'

    def targets(self, rows):
        """(verdict, description, measured, goal) per target of issues 6 and 13, on the medians
        of per-round ratios; verdict PASS, MISS, INVALID (non-2xx answers) or INFO
        (a figure the issue sets no target for, shown for completeness)."""
        find = {(r['alg'], r['mode'], r['conns'], r['candidate']): r for r in rows}
        checks = []

        def add(mode, x, y, goal, what, alg, conns, info=False):
            rx, ry = find.get((alg, mode, conns, x)), find.get((alg, mode, conns, y))
            if rx is None or ry is None:
                return
            v = self.paired_ratio(alg, mode, conns, x, y)
            verdict = 'PASS' if v == v and v >= goal else 'MISS'
            if info:
                verdict = 'INFO'
            if rx['invalid'] or ry['invalid']:
                verdict = 'INVALID'
            mname = 'same token' if mode == 'same' else 'different tokens'
            checks.append((verdict, f'{mname}: {what}, {alg}, {conns} conns', v, goal))

        for alg in self.args.algs:
            for conns in self.args.connections:
                add('same', 'b', 'a', 0.90, 'mod_auth_logto vs no auth', alg, conns)
                add('diff', 'b', 'c', 2.5 if alg == 'ES384' else 2.0,
                    'mod_auth_logto vs mod_auth_openidc', alg, conns)
                if alg == 'ES384':
                    add('diff', 'b', 'g', 2.5, 'mod_auth_logto vs itself with LogtoFastECDSA Off',
                        alg, conns)
                add('same', 'f', 'd', 3.0, 'Django behind mod_auth_logto vs the PyJWT guide',
                    alg, conns)
                add('same', 'f', 'e', 0.85, 'Django behind mod_auth_logto vs Django without auth',
                    alg, conns)
        for alg in self.args.algs:       # no target: every token new, a miss every time
            for conns in self.args.connections:
                add('diff', 'f', 'd', 3.0, 'Django behind mod_auth_logto vs the PyJWT guide',
                    alg, conns, info=True)
                add('diff', 'f', 'e', 0.85, 'Django behind mod_auth_logto vs Django without auth',
                    alg, conns, info=True)
        return checks

    def paired_ratio(self, alg, mode, conns, x, y):
        vals = []
        for r in range(1, self.args.rounds + 1):
            a, b = self._raw.get((alg, mode, conns, x, r)), self._raw.get((alg, mode, conns, y, r))
            if a and b and b['rps'] > 0:
                vals.append(a['rps'] / b['rps'])
        return statistics.median(vals) if vals else float('nan')

    def environment(self):
        def out(cmd):
            try:
                return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True).stdout.strip()
            except OSError as e:
                return str(e)
        pkgs = out(['dpkg-query', '-W', '-f', '${Package} ${Version}\n', 'apache2', 'wrk',
                    'libapache2-mod-auth-openidc', 'libapache2-mod-wsgi-py3', 'python3-jwt',
                    'python3-django', 'libssl3', 'python3-cryptography'])
        a = self.args
        return '\n'.join([
            f'date: {datetime.datetime.now().isoformat(timespec="seconds")}',
            f'host: {platform.node()} {platform.machine()} {os.cpu_count()} cpus, '
            f'{platform.platform()}',
            f'load average at start: {self.load_start}',
            f'command: {" ".join(sys.argv)}',
            f'module: {a.module}',
            (f'soak: requests={a.soak_requests} connections={a.soak_connections} '
             f'LogtoTokenCacheSize={a.soak_cache_size} churn={a.soak_churn} hot={a.soak_hot} '
             f'invalid={a.soak_invalid}x3 wrk -t{WRK_THREADS}') if a.soak else
            (f'rounds={a.rounds} duration={a.duration}s warmup={a.warmup}s '
             f'connections={a.connections} algs={a.algs} modes={a.modes} wrk -t{WRK_THREADS}'),
            f'mpm_event: {MPM_EVENT.replace(chr(10), "; ")}; EnableMMAP {"On" if MMAP else "Off"}',
            f'mod_wsgi daemon: processes={WSGI_PROCESSES} threads={WSGI_THREADS}',
            'packages:', pkgs,
        ]) + '\n'

    # -- entry points ---------------------------------------------------------------------
    def run_benchmark(self):
        a = self.args
        cands = [BY_KEY[k] for k in a.candidates]
        self.load_start = load_average()
        log(f'results: {self.results}\nload average: {self.load_start} '
            f'({os.cpu_count()} cpus)')
        if self.load_start[0] > 0.7:
            log('WARNING: the machine is busy; numbers will be noisy (see README.md)')
        self.setup_keys_and_issuer()
        self.pool_sizes = {'ES384': a.tokens_es384, 'RS256': a.tokens_rs256}
        self.mint_pools(self.pool_sizes)
        self.start_servers(cands)
        self.correctness(cands)
        for cand in cands:
            shutil.copy(cand.server.conf, self.results / f'httpd-{cand.name}.conf')
        log_start = {c.key: c.server.error_log_size() for c in cands}
        raw = self.run_matrix(cands)
        self._raw = {(x['alg'], x['mode'], x['conns'], x['candidate'], x['round']): x
                     for x in raw}
        rows = self.summarize(raw, cands)
        self.write_results(raw, rows)
        self.print_table(rows)
        self.chart(rows, cands)
        checks = self.targets(rows)
        lines = []
        for verdict, what, v, goal in checks:
            if verdict == 'INFO':
                lines.append(f'{verdict:7} {what}: {v:.3f}x (no target; the same-token goal '
                             f'is {goal:.2f}x)')
            else:
                lines.append(f'{verdict:7} {what}: {v:.3f}x (target >= {goal:.2f}x)')
        log('\ntargets (issues 6 and 13):')
        for ln in lines:
            log('  ' + ln)
        errs = {c.label: c.server.error_lines(log_start[c.key]) for c in cands}
        errs = {k: v for k, v in errs.items() if v}
        env = self.environment() + f'load average at end: {load_average()}\n'
        env += f'issuer fetches (discovery + JWKS, all candidates): {self.issuer.hits()}\n'
        (self.results / 'environment.txt').write_text(env)
        (self.results / 'targets.txt').write_text('\n'.join(lines) + '\n')
        with open(self.results / 'table.md', 'a') as f:
            f.write('\nTargets (issues 6 and 13):\n\n' + '\n'.join(f'- {ln}' for ln in lines) + '\n')
        if self.failures:
            log(f'\n{len(self.failures)} run(s) FAILED (left out of the medians):')
            for f_ in self.failures:
                log('  ' + f_.splitlines()[0])
            with open(self.results / 'targets.txt', 'a') as f:
                f.write('\nfailed runs:\n' + '\n'.join(self.failures) + '\n')
        for label, lines_ in errs.items():
            log(f'\nerror log of {label} during the matrix ({len(lines_)} error lines), first:')
            for ln in lines_[:5]:
                log('  ' + ln)
        log(f'\nload average at end: {load_average()}')
        log(f'wrote {self.results}/: table.md summary.csv raw.csv chart.png wrk.log '
            f'environment.txt targets.txt httpd-*.conf ({(time.time() - self.started) / 60:.1f} '
            f'min)')
        return 0 if all(c[0] in ('PASS', 'INFO') for c in checks) and not self.failures else 3

    def run_soak(self):
        return Soak(self).run()

    def run_profile(self):
        """perf profiles of mod_auth_logto (and of the no-auth baseline) per case."""
        a = self.args
        perf = shutil.which('perf')
        if not perf:
            log('perf not found (Debian package linux-perf)')
            return 2
        self.load_start = load_average()
        log(f'results: {self.results}\nload average: {self.load_start}')
        self.setup_keys_and_issuer()
        self.mint_pools({'ES384': a.tokens_es384, 'RS256': a.tokens_rs256})
        cands = [BY_KEY[k] for k in a.candidates if k in 'abcg']
        self.start_servers(cands)
        self.correctness(cands)
        summary = []
        for alg, mode, conns in self.cases():
            for cand in cands:
                srv = cand.server
                srv.restart()
                self.wait_ready(cand, self.same[alg])
                run_wrk(srv.port, cand.path, conns, a.warmup, token=self.same[alg])
                tokens_file, start = None, 0
                if mode == 'diff':
                    tokens_file, pool = self.pools[alg]
                    start = self.rng.randrange(pool)
                data = self.workdir / f'perf-{cand.name}-{alg}-{mode}-{conns}.data'
                pids = ','.join(map(str, srv.children()))
                graph = ['--call-graph', 'dwarf,16384'] if a.call_graph else []
                rec = subprocess.Popen([perf, 'record', '-F', '999', *graph, '-p', pids,
                                        '-o', str(data), '--', 'sleep', str(a.duration)],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                       text=True)
                _, res = run_wrk(srv.port, cand.path, conns, a.duration, token=self.same[alg],
                                 tokens_file=tokens_file, start=start, latency=True)
                rec.wait()
                name = f'profile-{alg}-{mode}-c{conns}-{cand.name}.txt'
                out = []
                reports = [(['--no-children', '-g', 'none', '--sort', 'dso',
                             '--percent-limit', '0.5'], 'self time per shared object (>= 0.5%)'),
                           (['--no-children', '-g', 'none', '--sort', 'dso,sym',
                             '--percent-limit', '0.4'], 'self time per symbol (>= 0.4%)')]
                if a.call_graph:
                    reports.append((['--children', '--sort', 'dso,sym', '-g', 'none',
                                     '--percent-limit', '0.8'],
                                    'inclusive time per symbol (children + self, >= 0.8%)'))
                for opts, title in reports:
                    rep = subprocess.run([perf, 'report', '-i', str(data), '--stdio', *opts],
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                         text=True)
                    out.append(f'### {title}: perf report {" ".join(opts)}\n'
                               + '\n'.join(ln for ln in rep.stdout.splitlines()
                                           if ln.strip() and not ln.startswith('#')))
                if not a.keep:
                    data.unlink(missing_ok=True)
                head = (f'{cand.label}, {alg} {mode} token(s), {conns} connections: '
                        f'{res["rps"]:.0f} req/s, p99 {res["p99"]:.2f} ms, non-2xx {res["non2xx"]}'
                        f' (under perf record -F 999)\n')
                (self.results / name).write_text(head + '\n'.join(out) + '\n')
                summary.append(head.strip())
                log(f'{name}: {head.strip()}')
        (self.results / 'profiles.txt').write_text('\n'.join(summary) + '\n')
        log(f'wrote {self.results}/profile-*.txt')
        return 0

    def close(self):
        for srv in self.servers:
            try:
                srv.stop()
            except Exception as e:  # keep stopping the others
                log(f'stopping {srv.name}: {e}')
        if self.issuer:
            self.issuer.stop()
        if self.args.keep:
            log(f'kept {self.workdir}')
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# the soak

class Soak:
    """1,000,000 requests of valid, expired and forged tokens against mod_auth_logto
    with a small token cache: child RSS before/after and the cache bound."""

    def __init__(self, bench):
        self.b = bench
        self.a = bench.args

    def build_mix(self):
        b, a = self.b, self.a
        iss = b.issuer.url
        t0 = time.time()
        hot = []
        for alg in mint.ALGS:
            hot += mint.mint_many(alg, b.pems[alg], a.soak_hot // 2, iss, AUDIENCE, SCOPE,
                                  CLIENT_ID)
        churn_es = mint.mint_many('ES384', b.pems['ES384'], a.soak_churn // 4, iss, AUDIENCE,
                                  SCOPE, CLIENT_ID)
        churn_rs = mint.mint_many('RS256', b.pems['RS256'], a.soak_churn - len(churn_es), iss,
                                  AUDIENCE, SCOPE, CLIENT_ID)
        bad = {}
        for kind in ('expired', 'badsig', 'wrongkey'):
            bad[kind] = []
            for alg in mint.ALGS:
                bad[kind] += mint.mint_many(alg, b.pems[alg], a.soak_invalid // 2, iss, AUDIENCE,
                                            SCOPE, CLIENT_ID, kind=kind)
        churn = churn_es + churn_rs
        # One cycle of the mix: every churn and invalid token once, hot tokens for the rest.
        n_hot = int(len(churn) * a.soak_hot_share / (1 - a.soak_hot_share))
        lines = [f'churn {t}' for t in churn]
        for kind, toks in bad.items():
            lines += [f'{kind} {t}' for t in toks]
        lines += [f'hot {hot[i % len(hot)]}' for i in range(n_hot)]
        b.rng.shuffle(lines)
        path = b.workdir / 'soak-mix.txt'
        path.write_text('\n'.join(lines) + '\n')
        self.cycle = len(lines)
        self.hot = hot
        self.counts = {'hot': n_hot, 'churn': len(churn),
                       **{k: len(v) for k, v in bad.items()}}
        log(f'soak mix: one cycle = {self.cycle} requests: ' +
            ', '.join(f'{k} {v}' for k, v in self.counts.items()) +
            f' ({len(hot)} hot tokens, {len(churn_es)} ES384 + {len(churn_rs)} RS256 churn);'
            f' minted in {time.time() - t0:.1f}s')
        return path

    def marker(self, name):
        return str(self.b.workdir / f'{name}.done')

    def markers(self, name):
        return [f'{self.marker(name)}.{i}' for i in range(WRK_THREADS)]

    def status(self, srv, tries=12):
        """{pid: [(entries, capacity), ...]} from logto-status, one request per connection."""
        seen = {}
        kids = set(srv.children())
        for _ in range(tries):
            try:
                st, body = http_get(srv.port, '/logto-status', timeout=5)
                if st == 200:
                    doc = json.loads(body)
                    seen[doc['pid']] = [(c['entries'], c['capacity'])
                                        for c in doc['token_caches']]
            except (OSError, ValueError, KeyError):
                pass
            if kids and kids <= set(seen):
                break
        return seen

    def run(self):
        b, a = self.b, self.a
        b.load_start = load_average()
        log(f'results: {b.results}\nload average: {b.load_start}')
        b.setup_keys_and_issuer()
        mix = self.build_mix()
        cand = BY_KEY['b']
        b.start_servers([cand], cache_size=a.soak_cache_size)
        srv = cand.server
        b.same = {alg: b.signers[alg].token(b.claims()) for alg in mint.ALGS}
        b.args.algs = list(mint.ALGS)
        b.correctness([cand])

        def rss():
            return {pid: v for pid, v in srv.memory().items()}

        log_start = srv.error_log_size()
        fresh = rss()
        # warm-up: one cycle of the mix, so every kind of token has been seen and the
        # caches have filled up to their bound
        log(f'\nwarm-up: {self.cycle} requests (one cycle of the mix)')
        _, warm = run_wrk(srv.port, cand.path, a.soak_connections, 3600,
                          script=HERE / 'soak.lua',
                          script_args=(mix, self.cycle, WRK_THREADS, self.marker('warm')),
                          markers=self.markers('warm'))
        before = rss()
        st_before = self.status(srv)

        # the soak, with the cache bound watched every 2 s
        samples = []
        stop = threading.Event()

        def watch():
            while not stop.wait(2.0):
                st = self.status(srv, tries=6)
                samples.append((time.time(), st, rss()))

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        log(f'soak: {a.soak_requests} requests, {a.soak_connections} connections, '
            f'LogtoTokenCacheSize {a.soak_cache_size}')
        t0 = time.time()
        try:
            out, res = run_wrk(srv.port, cand.path, a.soak_connections, 3600, latency=True,
                               script=HERE / 'soak.lua',
                               script_args=(mix, a.soak_requests, WRK_THREADS,
                                            self.marker('soak')),
                               markers=self.markers('soak'))
        finally:
            stop.set()
            watcher.join()
        elapsed = time.time() - t0
        after = rss()
        st_after = self.status(srv)
        (b.results / 'wrk-soak.log').write_text(out)
        m = re.search(r'soak: sent=(\d+) hot=(\d+) churn=(\d+) expired=(\d+) badsig=(\d+) '
                      r'wrongkey=(\d+)', out)
        sent = dict(zip(('sent', 'hot', 'churn', 'expired', 'badsig', 'wrongkey'),
                        map(int, m.groups()))) if m else {}
        expected_bad = sum(sent.get(k, 0) for k in ('expired', 'badsig', 'wrongkey'))

        # report
        lines = [f'soak against mod_auth_logto: {res["requests"]} requests in {elapsed:.0f}s '
                 f'({res["rps"]:.0f} req/s, p99 {res["p99"]:.2f} ms), '
                 f'{a.soak_connections} connections, LogtoTokenCacheSize {a.soak_cache_size}',
                 "mix sent: " + ', '.join(f'{k} {v}' for k, v in sent.items()),
                 f'rejected (non-2xx) {res["non2xx"]}, expected about {expected_bad} '
                 f'(expired + forged sent); socket errors {res["errors"]}', '',
                 '| child pid | RSS fresh MB | RSS after warm-up MB | RSS after soak MB | '
                 'growth during soak MB | VmHWM MB | cache entries max / capacity |',
                 '|---:|---:|---:|---:|---:|---:|---:|']
        max_entries = {}
        capacity = {}
        for _, st, _ in samples + [(0, st_before, None), (0, st_after, None)]:
            for pid, caches in st.items():
                for entries, cap in caches:
                    max_entries[pid] = max(max_entries.get(pid, 0), entries)
                    capacity[pid] = cap
        worst_growth = 0.0
        over = []
        for pid in sorted(set(before) | set(after)):
            f_ = fresh.get(pid, (0, 0, ''))[0] / 1024
            b_ = before.get(pid, (0, 0, ''))[0] / 1024
            a_ = after.get(pid, (0, 0, ''))[0] / 1024
            hwm = after.get(pid, (0, 0, ''))[1] / 1024
            growth = a_ - b_ if pid in before and pid in after else float('nan')
            if pid in before and pid in after:
                worst_growth = max(worst_growth, growth)
            ent = max_entries.get(pid)
            cap = capacity.get(pid)
            if ent is not None and cap is not None and ent > cap:
                over.append(pid)
            cmd = after.get(pid, before.get(pid, (0, 0, '?')))[2]
            lines.append(f'| {pid} | {f_:.1f} | {b_:.1f} | {a_:.1f} | {growth:+.2f} | {hwm:.1f} | '
                         f'{ent if ent is not None else "?"} / {cap if cap is not None else "?"} |'
                         + ('' if 'apache2' in cmd else f' ({cmd})'))
        same_children = set(before) == set(after)
        n_samples = len(samples)
        lines += ['', f'cache samples: {n_samples} (every 2 s, each child via logto-status)',
                  f'children unchanged during the soak: {same_children}']
        growth_ok = same_children and worst_growth < 5.0
        bound_ok = bool(max_entries) and not over
        non2xx_ok = abs(res['non2xx'] - expected_bad) <= a.soak_connections * 2
        verdicts = [
            (('PASS' if growth_ok else 'MISS'),
             f'child RSS growth during the soak: max {worst_growth:+.2f} MB (target < 5 MB)'),
            (('PASS' if bound_ok else 'MISS'),
             'token cache entries never above capacity: max ' +
             ', '.join(f'{max_entries[p]}/{capacity[p]}' for p in sorted(max_entries))),
            (('PASS' if non2xx_ok else 'MISS'),
             f'answers: {res["non2xx"]} rejected vs {expected_bad} invalid tokens sent'),
        ]
        lines += [''] + [f'{v:5} {t}' for v, t in verdicts]
        text = '\n'.join(lines) + '\n'
        log('\n' + text)
        (b.results / 'soak.md').write_text(text)
        with open(b.results / 'soak-samples.csv', 'w') as f:
            f.write('time,pid,entries,capacity,rss_kb\n')
            for t, st, mem in samples:
                for pid, caches in st.items():
                    for entries, cap in caches:
                        f.write(f'{t - t0:.1f},{pid},{entries},{cap},'
                                f'{mem.get(pid, (0,))[0] if mem else ""}\n')
        errs = srv.error_lines(log_start)
        if errs:
            log(f'error log: {len(errs)} error lines, first: {errs[:3]}')
        (b.results / 'environment.txt').write_text(b.environment())
        return 0 if all(v == 'PASS' for v, _ in verdicts) else 3


# ---------------------------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(
        prog='bench/run', description='mod_auth_logto benchmark (see bench/README.md)')
    p.add_argument('--quick', action='store_true',
                   help='smoke test: 1 round, 2 s runs, 1 s warm-up, small token pools')
    p.add_argument('--rounds', type=int, help='rounds of the whole matrix (default 3)')
    p.add_argument('--duration', type=int, help='seconds measured per run (default 5)')
    p.add_argument('--warmup', type=int, help='seconds of warm-up before each run (default 2)')
    p.add_argument('--connections', default='16,64', help='comma-separated (default 16,64)')
    p.add_argument('--algs', default='ES384,RS256', help='comma-separated (default ES384,RS256)')
    p.add_argument('--modes', default='same,diff',
                   help='same (one token) and/or diff (a different token every request)')
    p.add_argument('--candidates', default='abcdefg',
                   help='letters of the candidates to run (default abcdefg, see README)')
    p.add_argument('--tokens-es384', type=int,
                   help='distinct ES384 tokens (default 16000 per second of --duration: 80000)')
    p.add_argument('--tokens-rs256', type=int,
                   help='distinct RS256 tokens (default 36000 per second of --duration: 180000)')
    p.add_argument('--soak', action='store_true', help='the soak instead of the benchmark')
    p.add_argument('--profile', action='store_true',
                   help='perf profiles (flat, per DSO and symbol) of candidates a, b, c, g per case')
    p.add_argument('--call-graph', action='store_true',
                   help='with --profile: DWARF call graphs, adds inclusive time per function')
    p.add_argument('--soak-requests', type=int, default=1_000_000)
    p.add_argument('--soak-cache-size', type=int, default=4096)
    p.add_argument('--soak-connections', type=int, default=64)
    p.add_argument('--soak-churn', type=int, default=12000,
                   help='distinct valid tokens that churn through the cache (default 12000)')
    p.add_argument('--soak-hot', type=int, default=32, help='valid tokens sent again and again')
    p.add_argument('--soak-hot-share', type=float, default=0.6)
    p.add_argument('--soak-invalid', type=int, default=1200,
                   help='distinct tokens of each invalid kind (expired, badsig, wrongkey)')
    p.add_argument('--mmap', action='store_true',
                   help="EnableMMAP On (httpd's default) for the static file; default Off")
    p.add_argument('--module', help='mod_auth_logto.so (default build/bench/.libs/...)')
    p.add_argument('--results-dir', default=str(HERE / 'results'))
    p.add_argument('--seed', type=int, default=None)
    p.add_argument('--keep', action='store_true', help='keep the /tmp work dir (configs, logs)')
    a = p.parse_args(argv)
    quick = a.quick
    a.rounds = a.rounds or (1 if quick else 3)
    a.duration = a.duration or (2 if quick else 5)
    a.warmup = a.warmup if a.warmup is not None else (1 if quick else 2)
    # Pools large enough that no token is sent twice in a run even at the fastest miss
    # rates seen on 2 cores (about 2,600/s ES384, 24,000/s RS256), rounded to whole
    # multiples of the wrk threads (tokens.lua gives each thread one residue class).
    a.tokens_es384 = a.tokens_es384 or max(16000, 16000 * a.duration)
    a.tokens_rs256 = a.tokens_rs256 or max(40000, 36000 * a.duration)
    a.tokens_es384 += -a.tokens_es384 % WRK_THREADS
    a.tokens_rs256 += -a.tokens_rs256 % WRK_THREADS
    if quick and a.soak and a.soak_requests == 1_000_000:
        a.soak_requests = 100_000
    a.connections = [int(x) for x in a.connections.split(',') if x]
    a.algs = [x.strip() for x in a.algs.split(',') if x.strip()]
    a.modes = [x.strip() for x in a.modes.split(',') if x.strip()]
    a.candidates = [c for c in a.candidates if c in BY_KEY]
    a.module = a.module or str(REPO / 'build' / 'bench' / '.libs' / 'mod_auth_logto.so')
    for alg in a.algs:
        if alg not in mint.ALGS:
            p.error(f'unknown algorithm {alg}')
    for m in a.modes:
        if m not in ('same', 'diff'):
            p.error(f'unknown mode {m}')
    if any(c % WRK_THREADS for c in a.connections):
        p.error(f'connections must be multiples of {WRK_THREADS}')
    if not os.path.isfile(a.module):
        p.error(f'{a.module} not found: bench/run builds it')
    return a


def main(argv):
    global MMAP
    args = parse_args(argv)
    MMAP = args.mmap
    if os.geteuid() != 0:
        log('bench: run as root (httpd children run as nobody, like the integration tests)')
        return 2
    bench = Bench(args)

    def on_signal(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    try:
        if args.profile:
            return bench.run_profile()
        return bench.run_soak() if args.soak else bench.run_benchmark()
    except KeyboardInterrupt:
        log('interrupted')
        return 130
    finally:
        bench.close()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
