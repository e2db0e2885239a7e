"""Issue 4, a flood of unknown kids: 500 requests with random kids from 8
threads. Every one is a 401 (unknown kid); the issuer sees at most one JWKS
fetch per child process per LogtoJwksRefreshInterval; a valid token keeps
answering 200 throughout.

The fetches are attributed to children by the module's own log lines
(LOGTO0201/LOGTO0202 carry the pid and a microsecond time stamp), and their
number is checked against the issuer's hit counter, so every fetch is seen.
Two runs: the harness's MPM configuration (several children, started cold)
and one child whose keys are cached before the flood.
"""
import re
import secrets
import threading
import time
from collections import defaultdict

import pytest

from harness import checks, tokens
from harness.keylog import FETCH_TROUBLE, ONE_CHILD_BUSY, logto_lines, one_child
from harness.confs import API, location, public

INTERVAL, HTTP_TIMEOUT, TTL = 1, 2, 600
FLOOD, THREADS = 500, 8      # unknown-kid requests; a valid one after every 10th per thread
SERVER_LIMIT = {'event': 4, 'worker': 4, 'prefork': 8}      # harness/httpd.py MPM_CONF

# one_child() under prefork is one process with one worker: httpd notes when it is busy


def random_kid_token(issuer):
    """Signed by the issuer's real key, under a kid nobody published."""
    return tokens.global_token(issuer, API, kid=tokens.b64u(secrets.token_bytes(32)))


def flood(httpd, issuer, path):
    """500 unknown-kid requests from 8 threads (keep-alive), a valid token after
    every 10th of each thread and from a 9th thread all along: (unknown-kid
    answers, [(status, seconds)] of the valid ones, seconds)."""
    toks = [random_kid_token(issuer) for _ in range(FLOOD)]
    lock = threading.Lock()
    answers = []
    valid = []
    done = threading.Event()

    def worker(part):
        import requests
        s = requests.Session()
        for i, tok in enumerate(part):
            r = s.get(httpd.url(path), headers={'Authorization': f'Bearer {tok}'}, timeout=30)
            with lock:
                answers.append((r.status_code, r.headers.get('WWW-Authenticate'), r.text))
            if i % 10 == 5:     # a valid token in the middle of the flood, on the same connection
                t = time.monotonic()
                good = tokens.global_token(issuer, API)
                r = s.get(httpd.url(path), headers={'Authorization': f'Bearer {good}'}, timeout=30)
                with lock:
                    valid.append((r.status_code, time.monotonic() - t))

    def prober():
        while not done.is_set():
            t = time.monotonic()
            r = httpd.get(path, token=tokens.global_token(issuer, API), timeout=30)
            valid.append((r.status_code, time.monotonic() - t))
            done.wait(0.01)

    threads = [threading.Thread(target=worker, args=(toks[i::THREADS],)) for i in range(THREADS)]
    probe = threading.Thread(target=prober)
    start = time.monotonic()
    probe.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    elapsed = time.monotonic() - start
    done.set()
    probe.join(30)
    return answers, valid, elapsed


def check_flood(answers, valid, elapsed, lines, jwks_hits, max_children):
    """lines: the fetch log lines (LOGTO0201/0202) of this flood."""
    assert len(answers) == FLOOD
    wrong = [a for a in answers if a[0] != 401 or 'no signing key of the issuer matches the token' not in (a[1] or '')]
    assert not wrong, f'{len(wrong)} answers were not 401 unknown kid, e.g. {wrong[:3]}'
    bad_valid = [v for v in valid if v[0] != 200]
    assert len(valid) >= FLOOD // 10 and not bad_valid, \
        f'the valid token did not answer 200 throughout: {bad_valid[:5]} of {len(valid)}'
    slowest = max(dt for _, dt in valid)
    assert slowest < HTTP_TIMEOUT + 1.0, f'a valid token waited {slowest:.2f} s during the flood'

    assert jwks_hits >= 1, 'the unknown kids caused no refetch at all'
    assert len(lines) == jwks_hits, \
        f'{jwks_hits} JWKS requests at the issuer but {len(lines)} fetch lines in the log: {[l["msg"] for l in lines]}'
    by_pid = defaultdict(list)
    for line in lines:
        by_pid[line['pid']].append(line)
    assert len(by_pid) <= max_children, f'fetches from {len(by_pid)} processes, at most {max_children} children'
    # The limit is on refetches caused by unknown kids; a child's first fetch
    # (no keys yet) comes on top: a rotation right after it must be caught.
    for pid, mine in by_pid.items():
        refetches = [line for line in mine if '(unknown kid)' in line['msg']]
        for a, b in zip(refetches, refetches[1:]):
            took = int(re.search(r'(\d+) ms', a['msg']).group(1)) / 1000.0
            gap = b['time'] - a['time']
            assert gap >= INTERVAL - took - 0.2, (
                f'child {pid} refetched for unknown kids twice within LogtoJwksRefreshInterval '
                f'{INTERVAL} s ({gap:.3f} s apart):\n  {a["msg"]}\n  {b["msg"]}')
    first = sum(1 for line in lines if '(no keys yet)' in line['msg'])
    bound = len(by_pid) * (int(elapsed // INTERVAL) + 1) + first
    assert jwks_hits <= bound, f'{jwks_hits} JWKS fetches in {elapsed:.1f} s by {len(by_pid)} children (bound {bound})'


class TestUnknownKidFlood:

    @pytest.fixture(scope='class')
    def iss(self, make_issuer):
        return make_issuer('flood')

    def _install(self, httpd, iss, top=''):
        httpd.install(location('/api/', iss.issuer, ['logto-audience ' + API],
                               directives=[f'LogtoJwksCacheTTL {TTL}', f'LogtoJwksRefreshInterval {INTERVAL}',
                                           f'LogtoHttpTimeout {HTTP_TIMEOUT}'])
                      + public('/api/public/'),
                      top=top, claims=[FETCH_TROUBLE, ONE_CHILD_BUSY])
        # load the application now (its first request is slow), without a token
        iss.reset_hits()
        checks.assert_ok(httpd.get('/api/public/', timeout=30))
        assert iss.hits() == 0

    def _flood(self, httpd, iss, max_children):
        iss.reset_hits()
        mark = len(logto_lines(httpd, iss, ('LOGTO0201', 'LOGTO0202')))
        answers, valid, elapsed = flood(httpd, iss, '/api/protected/')
        time.sleep(0.2)
        lines = logto_lines(httpd, iss, ('LOGTO0201', 'LOGTO0202'))[mark:]
        check_flood(answers, valid, elapsed, lines, iss.hits('jwks'), max_children)
        limited = logto_lines(httpd, iss, ('LOGTO0207',))
        assert limited and all(l['level'] == 'debug' for l in limited), 'no LOGTO0207 (rate limited) debug line'

    def test_flood_one_child_keys_cached(self, httpd, iss):
        if httpd.mpm == 'prefork':
            pytest.skip('one prefork child is one worker: the flood would only queue')
        self._install(httpd, iss, top=one_child(httpd))
        checks.assert_ok(httpd.get('/api/protected/', token=tokens.global_token(iss, API)))
        time.sleep(INTERVAL + 0.3)
        self._flood(httpd, iss, max_children=1)

    def test_flood_all_children_cold(self, httpd, iss):
        """The harness's MPM (two or more children), freshly started: the
        flood is the first thing each child sees. Each child's first fetch
        (no keys yet), then at most one refetch per interval."""
        self._install(httpd, iss)
        self._flood(httpd, iss, max_children=SERVER_LIMIT[httpd.mpm])

    def test_ttl_refreshes_per_child(self, httpd, iss):
        """LogtoJwksCacheTTL 1 under the harness's MPM, valid tokens from 4
        threads for 3.5 s: each child refreshes at most once per TTL (N
        children: at most N fetches per refresh), and every answer is 200."""
        ttl = 1
        httpd.install(location('/api/', iss.issuer, ['logto-audience ' + API],
                               directives=[f'LogtoJwksCacheTTL {ttl}', f'LogtoJwksRefreshInterval {INTERVAL}',
                                           f'LogtoHttpTimeout {HTTP_TIMEOUT}']),
                      claims=[FETCH_TROUBLE])
        iss.reset_hits()
        mark = len(logto_lines(httpd, iss, ('LOGTO0201', 'LOGTO0202')))
        statuses = []
        stop = time.monotonic() + 3.5

        def worker():
            while time.monotonic() < stop:
                statuses.append(httpd.get('/api/protected/', token=tokens.global_token(iss, API), timeout=30).status_code)
        threads = [threading.Thread(target=worker) for _ in range(4)]
        start = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        elapsed = time.monotonic() - start
        time.sleep(0.2)
        assert statuses and all(s == 200 for s in statuses), [s for s in statuses if s != 200][:5]
        lines = logto_lines(httpd, iss, ('LOGTO0201', 'LOGTO0202'))[mark:]
        hits = iss.hits('jwks')
        # (the refresher keeps refreshing after the traffic stopped: count up to now)
        assert hits - 1 <= len(lines) <= hits, f'{hits} JWKS requests, {len(lines)} fetch lines'
        by_pid = defaultdict(list)
        for line in lines:
            by_pid[line['pid']].append(line)
        assert 1 <= len(by_pid) <= SERVER_LIMIT[httpd.mpm]
        for pid, mine in by_pid.items():
            for a, b in zip(mine, mine[1:]):
                took = int(re.search(r'(\d+) ms', a['msg']).group(1)) / 1000.0
                assert b['time'] - a['time'] >= ttl - took - 0.2, \
                    f'child {pid} refreshed twice within the TTL:\n  {a["msg"]}\n  {b["msg"]}'
        assert len(lines) <= len(by_pid) * (int((elapsed + 0.2) // ttl) + 1), (len(lines), len(by_pid), elapsed)
        assert any('(ttl)' in l['msg'] for l in lines), 'no TTL refresh happened'
