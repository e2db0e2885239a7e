"""A real Apache httpd for the integration tests, pyhttpd style.

One ``Httpd`` owns a server root generated in a temporary directory (conf/,
logs/, run/), listens on ``127.0.0.1:<free port>``, loads the MPM, the aaa
modules, mod_wsgi and mod_auth_logto from the build tree, and runs the Django
test app under mod_wsgi daemon mode. Tests install config snippets
(``<Location>`` blocks, directives) with ``install()``, which restarts the
server.

httpd is started as ``apache2 -d ROOT -f CONF -k start`` (not apachectl),
readiness is polled, the pid is read from the PidFile, and it is stopped
with SIGTERM by pid (SIGKILL after a timeout). Tests run as root, so the
children run as ``User nobody`` / ``Group nogroup`` and the server root is
world-readable.
"""
import ctypes
import glob
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import requests

from .fake_issuer import free_port
from .logcheck import ErrorLog

HARNESS_DIR = Path(__file__).resolve().parent
ITEST_DIR = HARNESS_DIR.parent
REPO_ROOT = ITEST_DIR.parent.parent

APACHE = os.environ.get('LOGTO_APACHE', '/usr/sbin/apache2')
APACHE_MODULES = os.environ.get('LOGTO_APACHE_MODULES', '/usr/lib/apache2/modules')
DJANGO_DIR = ITEST_DIR / 'djangoapp'
DJANGO_WSGI = DJANGO_DIR / 'djangoapp' / 'wsgi.py'
STUB_WSGI = HARNESS_DIR / 'stub_wsgi.py'

DEFAULT_LOG_LEVEL = 'info auth_logto:debug'
RUN_USER, RUN_GROUP = 'nobody', 'nogroup'

# (module name, file) loaded by every server, after the MPM.
BASE_MODULES = [
    ('authn_core_module', 'mod_authn_core.so'),
    ('authz_core_module', 'mod_authz_core.so'),
    ('authz_host_module', 'mod_authz_host.so'),
    ('authz_user_module', 'mod_authz_user.so'),
    ('env_module', 'mod_env.so'),
    ('setenvif_module', 'mod_setenvif.so'),
    ('headers_module', 'mod_headers.so'),
    ('mime_module', 'mod_mime.so'),
    ('alias_module', 'mod_alias.so'),
    ('socache_shmcb_module', 'mod_socache_shmcb.so'),
    ('wsgi_module', 'mod_wsgi.so'),
]

MPM_CONF = {
    'event': """
StartServers 2
ServerLimit 4
ThreadsPerChild 16
ThreadLimit 16
MinSpareThreads 8
MaxSpareThreads 48
MaxRequestWorkers 64
MaxConnectionsPerChild 0
""",
    'worker': """
StartServers 2
ServerLimit 4
ThreadsPerChild 16
ThreadLimit 16
MinSpareThreads 8
MaxSpareThreads 48
MaxRequestWorkers 64
""",
    'prefork': """
StartServers 2
MinSpareServers 2
MaxSpareServers 4
ServerLimit 8
MaxRequestWorkers 8
MaxConnectionsPerChild 0
""",
}


class HttpdError(Exception):
    pass


def find_module():
    """(path, None) of mod_auth_logto.so, or (None, why not).
    LOGTO_MODULE (absolute) wins; else the newest build/*/.libs/mod_auth_logto.so."""
    env = os.environ.get('LOGTO_MODULE')
    if env:
        if not os.path.isabs(env):
            return None, f'LOGTO_MODULE must be an absolute path, got {env!r}'
        if not os.path.isfile(env):
            return None, f'LOGTO_MODULE={env} does not exist'
        return env, None
    found = glob.glob(str(REPO_ROOT / 'build' / '*' / '.libs' / 'mod_auth_logto.so'))
    if not found:
        return None, (f'mod_auth_logto.so not built: no {REPO_ROOT}/build/*/.libs/mod_auth_logto.so '
                      f'(build out of tree, e.g. mkdir -p build/itest && cd build/itest && '
                      f'../../configure && make), or set LOGTO_MODULE=/abs/path/mod_auth_logto.so')
    return max(found, key=os.path.getmtime), None


def app_choice():
    """('django'|'stub', wsgi script, python-path) per LOGTO_ITEST_APP."""
    which = os.environ.get('LOGTO_ITEST_APP', 'django')
    if which == 'stub':
        return 'stub', STUB_WSGI, HARNESS_DIR
    return 'django', DJANGO_WSGI, DJANGO_DIR


_subreaper = False


def _become_subreaper():
    """httpd detaches from its launcher; as a child subreaper this process
    inherits it and can reap it (PID 1 of some containers never reaps)."""
    global _subreaper
    if _subreaper:
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)          # PR_SET_CHILD_SUBREAPER
    except Exception:
        pass
    _subreaper = True


def _proc_state(pid):
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def _alive(pid):
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    state = _proc_state(pid)
    return state is not None and state not in ('Z', 'X')


def _children_of(pid):
    out = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
            if int(fields[1]) == pid:
                out.append(int(entry))
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
    return out


def make_world_readable(path):
    """Every directory from / to path searchable by nobody."""
    p = Path(path).resolve()
    for d in [p, *p.parents]:
        try:
            mode = d.stat().st_mode
            if not mode & stat.S_IXOTH:
                os.chmod(d, mode | stat.S_IROTH | stat.S_IXOTH)
        except PermissionError:
            pass


_base_dir = None


def base_dir():
    """Where server roots are made: LOGTO_ITEST_DIR, else a fresh /tmp dir."""
    global _base_dir
    if _base_dir is None:
        env = os.environ.get('LOGTO_ITEST_DIR')
        if env:
            _base_dir = Path(env).resolve()
            _base_dir.mkdir(parents=True, exist_ok=True)
        else:
            _base_dir = Path(tempfile.mkdtemp(prefix='logto-itest-'))
        os.chmod(_base_dir, 0o755)
        make_world_readable(_base_dir)
    return _base_dir


class Httpd:
    """One server. ``running`` servers are checked for log findings after
    every test (see conftest.py)."""

    instances = []

    def __init__(self, name, module=None, mpm=None, log_level=DEFAULT_LOG_LEVEL,
                 load_module=True, app=None, env=None):
        _become_subreaper()
        self.name = re.sub(r'[^A-Za-z0-9_.-]', '_', name)
        self.root = base_dir() / self.name
        if self.root.exists():
            shutil.rmtree(self.root)
        for sub in ('conf', 'logs', 'run', 'htdocs'):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        for d in (self.root, *(self.root / s for s in ('conf', 'logs', 'run', 'htdocs'))):
            os.chmod(d, 0o755)
        self.conf_path = self.root / 'conf' / 'httpd.conf'
        self.snippet_path = self.root / 'conf' / 'test.conf'
        self.pid_path = self.root / 'run' / 'httpd.pid'
        self.port = free_port()
        self.host = '127.0.0.1'
        self.module = module
        self.load_module = load_module and module is not None
        self.mpm = mpm or os.environ.get('LOGTO_ITEST_MPM', 'event')
        self.log_level = log_level
        self.app, self.wsgi_script, self.python_path = app or app_choice()
        self.error_log = ErrorLog(str(self.root / 'logs' / 'error_log'))
        self.access_log = self.root / 'logs' / 'access_log'
        self.snippet = ''
        self.top = ''
        self.defines = {}
        self.env = dict(env or {})     # extra environment of httpd (reaches the WSGI daemon)
        self.pid = None
        self.closed = False
        self.last_output = ''
        Httpd.instances.append(self)

    # ---- configuration --------------------------------------------------
    def path(self, *parts):
        return self.root.joinpath(*parts)

    def write_file(self, relpath, text, mode=0o644):
        """A file under the server root, readable by the children."""
        p = self.root / relpath
        p.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(p.parent, 0o755)
        p.write_text(text)
        os.chmod(p, mode)
        return p

    def base_config(self):
        mods = [f'LoadModule mpm_{self.mpm}_module {APACHE_MODULES}/mod_mpm_{self.mpm}.so']
        mods += [f'LoadModule {n} {APACHE_MODULES}/{f}' for n, f in BASE_MODULES]
        if self.load_module:
            mods.append(f'LoadModule auth_logto_module "{self.module}"')
        defines = '\n'.join(f'Define {k} "{v}"' if v is not None else f'Define {k}'
                            for k, v in self.defines.items())
        wsgi_dir = self.wsgi_script.parent
        log_level = self.log_level
        if not self.load_module:    # per-module levels need the module
            log_level = ' '.join(w for w in log_level.split() if not w.startswith('auth_logto:'))
        return f"""# generated by tests/integration/harness/httpd.py for {self.name}
{defines}
ServerRoot "{self.root}"
ServerName 127.0.0.1
Listen {self.host}:{self.port}
PidFile "{self.pid_path}"
DefaultRuntimeDir "{self.root}/run"
ErrorLog "{self.error_log.path}"
LogLevel {log_level}
User {RUN_USER}
Group {RUN_GROUP}
Timeout 30
KeepAlive On
DocumentRoot "{self.root}/htdocs"

{chr(10).join(mods)}
{MPM_CONF[self.mpm]}
TypesConfig /etc/mime.types
LogFormat "%h \\"%r\\" %>s %b %D \\"%{{WWW-Authenticate}}o\\"" itest
CustomLog "{self.access_log}" itest

<Directory />
    Require all denied
    AllowOverride None
</Directory>

# the application: {self.app} under mod_wsgi daemon mode
WSGISocketPrefix "{self.root}/run/wsgi"
WSGIRestrictEmbedded On
WSGIDaemonProcess logtoapp user={RUN_USER} group={RUN_GROUP} processes=1 threads=8 \\
    python-path="{self.python_path}" display-name=%{{GROUP}} home="{self.python_path}"
WSGIProcessGroup logtoapp
WSGIApplicationGroup %{{GLOBAL}}
WSGIScriptAlias / "{self.wsgi_script}"
<Directory "{wsgi_dir}">
    <Files "{self.wsgi_script.name}">
        Require all granted
    </Files>
</Directory>

{self.top}

Include "{self.snippet_path}"
"""

    def write_config(self):
        make_world_readable(self.wsgi_script.parent)
        self.conf_path.write_text(self.base_config())
        self.snippet_path.write_text(self.snippet + '\n')
        for p in (self.conf_path, self.snippet_path):
            os.chmod(p, 0o644)

    def install(self, snippet, *, defines=None, claims=(), top='', mpm=None,
                log_level=None, restart=True):
        """Install a config snippet (the test's <Location> blocks and
        directives), with Define's, and log claims that hold while it is
        installed; then (re)start the server."""
        self.snippet = snippet
        self.defines = dict(defines or {})
        self.top = top
        if mpm:
            self.mpm = mpm
        if log_level:
            self.log_level = log_level
        self.error_log.conf_claims = [re.compile(c) for c in claims]
        self.write_config()
        if restart:
            self.restart()
        return self

    # ---- life cycle -----------------------------------------------------
    def _run(self, *args, timeout=60):
        env = {k: v for k, v in os.environ.items() if not k.startswith('APACHE_')}
        env['LANG'] = 'C'
        env.update(self.env)
        proc = subprocess.run([APACHE, '-d', str(self.root), '-f', str(self.conf_path), *args],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=timeout, env=env)
        return proc.returncode, proc.stdout

    def configtest(self):
        """apache2 -t on the current config: (rc, output)."""
        self.write_config()
        return self._run('-t')

    def _read_pid(self):
        try:
            return int(self.pid_path.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def _port_open(self):
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5):
                return True
        except OSError:
            return False

    @property
    def running(self):
        return self.pid is not None and _alive(self.pid)

    def start(self, expect_fail=False, timeout=20):
        """Start; (rc, output). output has the launcher's output plus the
        error-log lines written meanwhile. Raises HttpdError on failure
        unless expect_fail (then rc != 0 means it did not come up)."""
        if self.running:
            raise HttpdError(f'{self.name} already running (pid {self.pid})')
        self.write_config()
        pos = self.error_log.size()
        try:
            self.pid_path.unlink()
        except FileNotFoundError:
            pass
        rc, out = self._run('-k', 'start')
        up = False
        if rc == 0:
            deadline = time.time() + timeout
            while time.time() < deadline:
                pid = self._read_pid()
                if pid and not _alive(pid):
                    break
                if pid and self._port_open():
                    self.pid = pid
                    up = True
                    break
                time.sleep(0.05)
        log = '\n'.join(self.error_log.lines_from(pos))
        self.last_output = f'{out}\n{log}'.strip()
        if not up:
            if rc == 0:
                rc = 1
            pid = self._read_pid()
            if pid and _alive(pid):     # started but never listened: do not leak it
                self.pid = pid
                self.stop()
            if not expect_fail:
                raise HttpdError(f'{self.name}: httpd did not start (rc {rc}):\n{self.last_output}')
        return rc, self.last_output

    def stop(self, timeout=15):
        pid = self.pid or self._read_pid()
        self.pid = None
        if not pid or not _alive(pid):
            return
        children = _children_of(pid)
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.time() + timeout
        while time.time() < deadline and _alive(pid):
            time.sleep(0.05)
        if _alive(pid):
            children = set(children) | set(_children_of(pid))
            for p in [pid, *children]:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            deadline = time.time() + 5
            while time.time() < deadline and _alive(pid):
                time.sleep(0.05)
        # the port is free once the listener is gone
        deadline = time.time() + 5
        while time.time() < deadline and self._port_open():
            time.sleep(0.05)

    def restart(self):
        self.stop()
        return self.start()

    def close(self):
        """Stop for good (the fixture's finalizer); returns the log findings
        left since the last test."""
        self.stop()
        self.closed = True
        failing, warnings = self.error_log.check()
        return failing, warnings

    def graceful(self):
        """A graceful restart of the running server (SIGUSR1)."""
        pid = self.pid
        self.write_config()
        os.kill(pid, signal.SIGUSR1)
        time.sleep(0.5)
        deadline = time.time() + 10
        while time.time() < deadline and not self._port_open():
            time.sleep(0.05)

    def child_pids(self):
        return _children_of(self.pid) if self.pid else []

    # ---- requests -------------------------------------------------------
    def url(self, path):
        return f'http://{self.host}:{self.port}{path}'

    def get(self, path, token=None, headers=None, scheme='Bearer', **kw):
        """GET path; token is sent as 'Authorization: <scheme> <token>'."""
        hdrs = dict(headers or {})
        if token is not None:
            hdrs['Authorization'] = f'{scheme} {token}'
        kw.setdefault('timeout', 30)
        kw.setdefault('allow_redirects', False)
        return requests.get(self.url(path), headers=hdrs, **kw)

    def raw_request(self, data, timeout=10):
        """Send raw bytes on a new connection; the whole answer."""
        with socket.create_connection((self.host, self.port), timeout=timeout) as s:
            s.sendall(data)
            chunks = []
            while True:
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    break
                if not chunk:
                    break
                chunks.append(chunk)
        return b''.join(chunks)

    # ---- the error log --------------------------------------------------
    def claim_log(self, *patterns):
        """Claim expected error/warn lines of this test (regexes)."""
        self.error_log.claim(*patterns)

    def strict_warnings(self):
        """Make unclaimed [warn] lines fail this test too."""
        self.error_log.strict_warnings = True

    def log_lines(self):
        """Error-log lines since the last check."""
        return self.error_log.pending()

    def log_text(self):
        try:
            return Path(self.error_log.path).read_text(errors='replace')
        except FileNotFoundError:
            return ''

    def wait_log(self, pattern, timeout=5):
        """Wait for a pending error-log line matching pattern; the line or None."""
        rx = re.compile(pattern)
        deadline = time.time() + timeout
        while True:
            for line in self.error_log.pending():
                if rx.search(line):
                    return line
            if time.time() > deadline:
                return None
            time.sleep(0.05)

    def __repr__(self):
        return f'<Httpd {self.name} {self.host}:{self.port} mpm={self.mpm}>'
