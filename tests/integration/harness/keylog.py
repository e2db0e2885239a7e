"""Shared pieces of the key-handling tests (test_2NN): one-child configs,
timed requests, the module's per-issuer log lines and logto-status counters."""
import re
import time
from datetime import datetime

from . import checks
from .accepts import STATUS_LOCATION

__all__ = ['FETCH_TROUBLE', 'LOG_RE', 'ONE_CHILD_BUSY', 'STATUS_LOCATION', 'key_set', 'logto_lines',
           'one_child', 'path_of', 'timed_get']

# Fetch trouble the tests provoke on purpose (LOGTO0202-0204 at warn).
FETCH_TROUBLE = r'LOGTO020[2-4]'
# One prefork child is one worker: httpd notes when it is busy.
ONE_CHILD_BUSY = r'AH00161: server reached MaxRequestWorkers'

LOG_RE = re.compile(r'^\[(?P<time>[^\]]+)\] \[auth_logto:(?P<level>\w+)\] \[pid (?P<pid>\d+):tid \d+\] '
                    r'.*?(?P<tag>LOGTO\d{4}): (?P<msg>.*)$')


def one_child(httpd):
    """MPM lines (after the harness's) for exactly one child process: key
    sets are per child, so counting fetches needs one."""
    if httpd.mpm == 'prefork':
        return 'StartServers 1\nMinSpareServers 1\nMaxSpareServers 1\nServerLimit 1\nMaxRequestWorkers 1\n'
    return 'StartServers 1\nServerLimit 1\nMaxRequestWorkers 16\n'


def path_of(case):
    """A distinct Django route per test case, so each can have its own location."""
    return f'/orgs/{case}/members/'


def timed_get(httpd, path, tok, timeout=20):
    """(response, seconds it took)."""
    t = time.monotonic()
    r = httpd.get(path, token=tok, timeout=timeout)
    return r, time.monotonic() - t


def logto_lines(httpd, issuer, tags=None):
    """The module's log lines about issuer, optionally only those with a tag
    in tags (a tag or a tuple of tags): dicts with time (epoch s), level, pid,
    tag, msg and the whole line."""
    if isinstance(tags, str):
        tags = (tags,)
    out = []
    for line in httpd.log_text().splitlines():
        m = LOG_RE.match(line)
        if not m or f'{issuer.issuer} ' not in m.group('msg') or (tags and m.group('tag') not in tags):
            continue
        t = datetime.strptime(m.group('time'), '%a %b %d %H:%M:%S.%f %Y').timestamp()
        out.append(dict(m.groupdict(), time=t, pid=int(m.group('pid')), line=line))
    return out


def key_set(httpd, issuer):
    """The serving child's key-set counters for issuer (logto-status), or None."""
    doc = checks.body_of(httpd.get('/logto-status', timeout=10))
    for ks in doc['key_sets']:
        if ks['source'].split(' ')[0] in ('discovery:' + issuer.issuer, 'uri:' + issuer.jwks_uri):
            return ks
    return None
