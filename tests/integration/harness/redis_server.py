"""A private Redis for the shared-cache tests: Debian's redis-server on
127.0.0.1 and a free port, with its own directory and configuration, no
persistence, started and stopped by pid (never the system service).

    redis = RedisServer('cache').start()
    redis.port, redis.spec          # 'redis:127.0.0.1:<port>' for LogtoTokenCache
    redis.dbsize(); redis.keys()
    redis.stop()                    # SIGTERM by pid, SIGKILL after a timeout
    redis.start()                   # again, same port and directory
    redis.pause(); redis.resume()   # SIGSTOP / SIGCONT: up but not answering

A tiny RESP client is built in, so redis-cli is not needed.
"""
import atexit
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from .fake_issuer import free_port

REDIS_SERVER = os.environ.get('LOGTO_REDIS_SERVER', '/usr/bin/redis-server')


class RedisError(RuntimeError):
    pass


_running = set()


@atexit.register
def _stop_leftovers():
    # A test that forgot stop(): do not leave a redis-server behind.
    for server in list(_running):
        server.stop()


def _die_with_parent():
    """In the child before exec: SIGKILL when the test process dies, even if
    it is killed itself (SIGKILL also ends a paused, SIGSTOPped server)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)   # PR_SET_PDEATHSIG
    except Exception:
        pass


def available():
    """(True, None) or (False, why not)."""
    if not os.access(REDIS_SERVER, os.X_OK):
        return False, f'{REDIS_SERVER} not found (Debian: apt-get install redis-server)'
    return True, None


class RedisServer:

    def __init__(self, name='redis', port=None, base=None):
        self.name = name
        self.host = '127.0.0.1'
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix=f'logto-redis-{name}-', dir=base))
        self.conf_path = self.dir / 'redis.conf'
        self.log_path = self.dir / 'redis.log'
        self.proc = None
        self.paused = False

    @property
    def spec(self):
        """The LogtoTokenCache argument for this server."""
        return f'redis:{self.host}:{self.port}'

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def _write_conf(self):
        self.conf_path.write_text(f"""# written by tests/integration/harness/redis_server.py
bind {self.host}
port {self.port}
protected-mode yes
daemonize no
supervised no
dir {self.dir}
logfile {self.log_path}
loglevel notice
save ""
appendonly no
databases 1
maxmemory 64mb
maxmemory-policy allkeys-lru
""")

    def start(self, timeout=10):
        if self.proc is not None:
            raise RedisError(f'redis {self.name} already running (pid {self.proc.pid})')
        self._write_conf()
        self.proc = subprocess.Popen([REDIS_SERVER, str(self.conf_path)], cwd=self.dir,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        _running.add(self)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                proc, self.proc = self.proc, None
                _running.discard(self)
                raise RedisError(f'redis-server exited with {proc.returncode}:\n{self.log_tail()}')
            try:
                if self.command('PING', timeout=0.5) == 'PONG':
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RedisError(f'redis-server not answering on port {self.port} within {timeout} s:\n'
                                 f'{self.log_tail()}')
            time.sleep(0.05)

    def stop(self, timeout=10):
        """SIGTERM by pid, SIGKILL after timeout. Idempotent."""
        proc, self.proc = self.proc, None
        _running.discard(self)
        if proc is None:
            return
        if self.paused:
            self.paused = False
            try:
                os.kill(proc.pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=timeout)
        # the port is free once the listener is gone
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self._port_open():
            time.sleep(0.05)

    def pause(self):
        """SIGSTOP: connections are still accepted by the kernel, nothing answers."""
        os.kill(self.proc.pid, signal.SIGSTOP)
        self.paused = True

    def resume(self):
        os.kill(self.proc.pid, signal.SIGCONT)
        self.paused = False

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def _port_open(self):
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def log_tail(self, size=3000):
        try:
            return self.log_path.read_bytes()[-size:].decode('utf-8', 'replace')
        except OSError:
            return '(no log)'

    # ---- a minimal RESP client ------------------------------------------
    def command(self, *args, timeout=5, raw=False):
        """Sends one command; returns the decoded reply (str, int, list, None);
        raw=True returns bulk strings as bytes (binary values)."""
        out = [f'*{len(args)}\r\n'.encode()]
        for a in args:
            b = a if isinstance(a, bytes) else str(a).encode()
            out.append(b'$%d\r\n%s\r\n' % (len(b), b))
        with socket.create_connection((self.host, self.port), timeout=timeout) as s:
            s.sendall(b''.join(out))
            reader = s.makefile('rb')
            return _read_reply(reader, raw)

    def dbsize(self):
        return self.command('DBSIZE')

    def keys(self, pattern='*'):
        return self.command('KEYS', pattern)

    def flush(self):
        return self.command('FLUSHALL')

    def __repr__(self):
        return f'<RedisServer {self.name} {self.host}:{self.port} pid={self.pid}>'


def _read_reply(reader, raw=False):
    line = reader.readline()
    if not line:
        raise OSError('redis closed the connection')
    kind, rest = line[:1], line[1:].rstrip(b'\r\n')
    if kind == b'+':
        return rest.decode()
    if kind == b'-':
        raise RedisError(rest.decode())
    if kind == b':':
        return int(rest)
    if kind == b'$':
        n = int(rest)
        if n < 0:
            return None
        data = reader.read(n + 2)[:-2]
        return data if raw else data.decode('utf-8', 'replace')
    if kind == b'*':
        n = int(rest)
        return None if n < 0 else [_read_reply(reader, raw) for _ in range(n)]
    raise RedisError(f'unexpected reply {line!r}')
