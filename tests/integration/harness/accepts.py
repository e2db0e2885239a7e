"""What the module says about the tokens it accepts and about its caches.

With ``LogLevel auth_logto:debug`` every accepted token is logged as

    [..] [auth_logto:debug] [pid 428:tid 432] ...: LOGTO0107: token of <sub> accepted (<source>)

with ``<source>`` one of ``verified`` (signature checked now), ``cache`` (this
process's token cache) or ``shared_cache`` (a mod_socache provider). This
module reads those lines back, per request, so that tests can say *how* an
answer was reached, not only what it was; and it reads ``SetHandler
logto-status`` (the serving child's counters).

One request may log more than one LOGTO0107 line: under mod_wsgi every request
is authenticated twice (a static file once), most likely for the sub-request
httpd makes to compute ``PATH_TRANSLATED``. The first line a request logs is
the main request's, the one that decided; ``Accepts.request()`` returns that one.
"""
import json
import re
import time
from collections import namedtuple

import requests

ACCEPT_RE = re.compile(r'\[pid (?P<pid>\d+)(?::tid \d+)?\].*LOGTO0107: token of (?P<sub>.*) '
                       r'accepted \((?P<source>verified|cache|shared_cache)\)$')
FETCH_RE = re.compile(r'\[pid (?P<pid>\d+)(?::tid \d+)?\].*LOGTO0201: fetched keys of (?P<issuer>\S+) '
                      r'from \S+ \((?P<cause>[^)]*)\)')

Accept = namedtuple('Accept', 'pid sub source line')
Fetch = namedtuple('Fetch', 'pid issuer cause line')

STATUS_PATH = '/logto-status'
STATUS_LOCATION = f"""<Location "{STATUS_PATH}">
    SetHandler logto-status
    Require all granted
</Location>
"""


# A single child that is busy when httpd's maintenance looks (every second)
# makes it say so: under prefork that is any request in flight. Configs built
# with single_child() claim it.
BUSY_CLAIM = r'(AH00161|AH00484): server reached MaxRequestWorkers'


def single_child(mpm):
    """MPM lines (an Httpd.install ``top``) that keep exactly one child
    process, so that every request meets the same in-process cache and key
    sets. They come after the harness's own MPM lines and override them."""
    if mpm == 'prefork':
        return ('StartServers 1\nMinSpareServers 1\nMaxSpareServers 1\n'
                'ServerLimit 1\nMaxRequestWorkers 1\n')
    return ('StartServers 1\nServerLimit 1\nThreadsPerChild 16\nMinSpareThreads 1\n'
            'MaxSpareThreads 16\nMaxRequestWorkers 16\n')


def _read_from(path, pos):
    try:
        with open(path, 'rb') as f:
            f.seek(pos)
            data = f.read()
    except FileNotFoundError:
        return []
    return data.decode('utf-8', 'replace').splitlines()


def parse_accepts(lines):
    out = []
    for line in lines:
        m = ACCEPT_RE.search(line)
        if m:
            out.append(Accept(int(m.group('pid')), m.group('sub'), m.group('source'), line))
    return out


def parse_fetches(lines):
    out = []
    for line in lines:
        m = FETCH_RE.search(line)
        if m:
            out.append(Fetch(int(m.group('pid')), m.group('issuer'), m.group('cause'), line))
    return out


class Accepts:
    """Reads one server's error log from a mark on (the end of the log when
    made); ``request()`` sends one request and says how it was accepted."""

    def __init__(self, httpd):
        self.httpd = httpd
        self.path = httpd.error_log.path
        self.mark = httpd.error_log.size()

    def reset(self):
        self.mark = self.httpd.error_log.size()

    def lines(self):
        return _read_from(self.path, self.mark)

    def accepts(self, sub=None):
        found = parse_accepts(self.lines())
        return [a for a in found if sub is None or a.sub == sub]

    def fetches(self, cause=None):
        found = parse_fetches(self.lines())
        return [f for f in found if cause is None or f.cause == cause]

    def request(self, path, token, sub, session=None, timeout=30):
        """GET path with the token (on session when given, keeping its
        connection, hence its child); (response, Accept of the main request
        or None when the token was not accepted)."""
        start = self.httpd.error_log.size()
        hdrs = {'Authorization': f'Bearer {token}'}
        if session is not None:
            resp = session.get(self.httpd.url(path), headers=hdrs, timeout=timeout,
                               allow_redirects=False)
        else:
            resp = self.httpd.get(path, token=token, timeout=timeout)
        found = [a for a in parse_accepts(_read_from(self.path, start)) if a.sub == sub]
        return resp, (found[0] if found else None)


def status(httpd, session=None, timeout=10):
    """The serving child's logto-status document (a dict)."""
    getter = session.get if session is not None else requests.get
    resp = getter(httpd.url(STATUS_PATH), timeout=timeout, allow_redirects=False)
    assert resp.status_code == 200, f'logto-status answered {resp.status_code}: {resp.text[:300]!r}'
    assert resp.headers.get('Content-Type', '').startswith('application/json'), resp.headers
    return json.loads(resp.text)


def session():
    """A keep-alive session: its requests stay on one connection (one child)
    while the connection lives. Loopback only: no proxies from the environment."""
    s = requests.Session()
    s.trust_env = False
    return s


# A shared cache (mod_socache) that answers in more than 50 ms is skipped for
# 5 s (LOGTO0301 "... answered slowly"); on a busy machine that can happen to
# shmcb or a loopback Redis too. Configs with a shared cache claim the line.
SLOW_CACHE_CLAIM = r'LOGTO0301: LogtoTokenCache .* answered slowly'
SKIP_SECONDS = 5


def unless_cache_skipped(step, servers, tries=3):
    """Runs step(); when it fails while one of servers skipped its shared
    cache meanwhile (a LOGTO0301 line: the module's documented answer to a
    slow or failing cache), waits out the skip and runs it again."""
    for attempt in range(tries):
        marks = [(srv, srv.error_log.size()) for srv in servers]
        try:
            return step()
        except AssertionError:
            skipped = [line for srv, mark in marks for line in _read_from(srv.error_log.path, mark)
                       if 'LOGTO0301' in line]
            if not skipped or attempt == tries - 1:
                raise
            time.sleep(SKIP_SECONDS + 0.5)


def wait_until(predicate, timeout, interval=0.1, what='condition'):
    """Polls predicate() until it returns something truthy; returns it, or
    raises AssertionError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f'timed out after {timeout} s waiting for {what}')
        time.sleep(interval)
