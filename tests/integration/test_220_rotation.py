"""Issue 4, Logto-style signing-key rotation (LOGTO.md section 1.2).

- staged: a new key (here RSA, as in a rotation from EC to RSA) is published
  as Next, picked up by a TTL refresh, then promoted to Current and used for
  signing: not a single 401 for tokens of the old or the new key throughout;
- immediate: the issuer switches to a key never published before: the first
  tokens of it (8 at once) cost exactly one refetch, shared, and pass;
- removal: the old key leaves the set: its tokens, accepted before, are
  refused (401 unknown kid) after the next TTL refresh, including a token the
  validated-token cache (in-process or shmcb) remembered, and also when that
  remembered token is all the traffic there is (a client reusing its token).

One child process (key sets are per child); each case has its own issuer and
location, hence its own key set.
"""
import re
import threading
import time

import pytest

from harness import checks, tokens
from harness.keylog import FETCH_TROUBLE, ONE_CHILD_BUSY, STATUS_LOCATION, key_set, logto_lines, one_child, path_of, timed_get
from harness.confs import API, location

INTERVAL, HTTP_TIMEOUT, REMOVAL_TTL = 1, 2, 3
CASES = {
    # case -> (LogtoJwksCacheTTL, extra directives)
    'staged': (2, []),
    'immediate': (600, []),
    'removal-memory': (REMOVAL_TTL, []),
    'removal-shmcb': (REMOVAL_TTL, ['LogtoTokenCache shmcb']),
}

# one_child() under prefork is one process with one worker: httpd notes when it is busy


class Hammer:
    """A thread sending fresh tokens of the given keys in turn, recording
    every answer that is not a 200."""

    def __init__(self, httpd, issuer, path):
        self.httpd, self.issuer, self.path = httpd, issuer, path
        self.keys = [issuer.signing_key]
        self.bad, self.count = [], 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for key in list(self.keys):
                r = self.httpd.get(self.path, token=tokens.global_token(self.issuer, API, key=key), timeout=20)
                self.count += 1
                if r.status_code != 200:
                    self.bad.append((time.time(), key.kid[:8], r.status_code, r.text[:200]))
            self._stop.wait(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(30)


class TestRotation:

    @pytest.fixture(scope='class')
    def issuers(self, make_issuer):
        return {case: make_issuer(f'rot-{case}') for case in CASES}

    @pytest.fixture(autouse=True, scope='class')
    def _conf(self, httpd, issuers):
        conf = ''
        for case, (ttl, extra) in CASES.items():
            conf += location(f'/orgs/{case}/', issuers[case].issuer, ['logto-audience ' + API],
                             directives=[f'LogtoJwksCacheTTL {ttl}', f'LogtoJwksRefreshInterval {INTERVAL}',
                                         f'LogtoHttpTimeout {HTTP_TIMEOUT}'] + extra)
        httpd.install(conf + STATUS_LOCATION, top=one_child(httpd), claims=[FETCH_TROUBLE, ONE_CHILD_BUSY])

    def test_staged_rotation(self, httpd, issuers):
        iss = issuers['staged']
        path = path_of('staged')
        old = iss.signing_key
        checks.assert_ok(httpd.get(path, token=tokens.global_token(iss, API)))
        with Hammer(httpd, iss, path) as hammer:
            # Next: published, not used for signing
            new = iss.add_key('RSA-2048')
            assert [k.kid for k in iss.keys] == [old.kid, new.kid] and iss.signing_key is old
            deadline = time.monotonic() + 2 + 4
            while key_set(httpd, iss)['keys'] != 2:
                assert time.monotonic() < deadline, 'the Next key was not picked up by a TTL refresh'
                time.sleep(0.2)
            # promotion: the new key becomes Current (signs), the old one Previous
            iss.set_keys([new, old], signing=new)
            hammer.keys = [new, old]
            time.sleep(2 + 0.5)            # past another TTL refresh
            for key in (new, old):
                checks.assert_ok(httpd.get(path, token=tokens.global_token(iss, API, key=key)))
        assert not hammer.bad, f'answers other than 200 during a staged rotation: {hammer.bad[:5]}'
        assert hammer.count >= 20, hammer.count
        causes = [re.search(r'\(([^)]*)\)', l['msg']).group(1) for l in logto_lines(httpd, iss, 'LOGTO0201')]
        assert 'unknown kid' not in causes, f'the published Next key was refetched as unknown: {causes}'
        assert not logto_lines(httpd, iss, 'LOGTO0208'), 'no key left the set'

    def test_immediate_rotation(self, httpd, issuers):
        iss = issuers['immediate']
        path = path_of('immediate')
        old = iss.signing_key
        checks.assert_ok(httpd.get(path, token=tokens.global_token(iss, API)))
        time.sleep(INTERVAL + 0.3)
        # a key never published before becomes Current at once; the old one is Previous
        new = iss.add_key('EC-P384', publish=False)
        iss.set_keys([new, old], signing=new)
        iss.delay(0.5, paths='jwks')       # the refetch takes a moment: requests overlap it
        jwks0 = iss.hits('jwks')
        toks = [tokens.global_token(iss, API, sub=f'after-rotation-{i}') for i in range(8)]
        results = [None] * 8
        barrier = threading.Barrier(8)

        def one(i):
            barrier.wait()
            results[i] = timed_get(httpd, path, toks[i])
        threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        iss.normal()
        for i, (r, dt) in enumerate(results):
            assert checks.assert_ok(r)['auth']['sub'] == f'after-rotation-{i}'
            assert dt < HTTP_TIMEOUT + 1.5, f'{dt:.2f} s'
        assert iss.hits('jwks') - jwks0 == 1, f'{iss.hits("jwks") - jwks0} JWKS fetches for one new kid'
        fetched = [l for l in logto_lines(httpd, iss, 'LOGTO0201') if '(unknown kid)' in l['msg']]
        assert len(fetched) == 1 and '2 key(s)' in fetched[0]['msg'], fetched
        # the old key (now Previous) still verifies
        checks.assert_ok(httpd.get(path, token=tokens.global_token(iss, API, key=old)))
        checks.assert_ok(httpd.get(path, token=tokens.global_token(iss, API, key=new)))

    @pytest.mark.parametrize('case', ['removal-memory', 'removal-shmcb'])
    def test_removed_key_refused_after_refresh(self, httpd, issuers, case):
        iss = issuers[case]
        path = path_of(case)
        old = iss.signing_key
        new = iss.add_key('EC-P384', first=True)
        iss.set_keys([new, old], signing=new)
        remembered = tokens.global_token(iss, API, key=old, sub='remembered')
        checks.assert_ok(httpd.get(path, token=remembered))        # fetch; now in the token cache
        checks.assert_ok(httpd.get(path, token=remembered))
        epoch = key_set(httpd, iss)['epoch']
        # the old (Previous) key is deleted at the issuer
        iss.set_keys([new], signing=new)
        t_removed = time.monotonic()
        r = httpd.get(path, token=tokens.global_token(iss, API, key=old))
        checks.assert_ok(r)                 # accepted until the next refresh
        checks.assert_ok(httpd.get(path, token=remembered))
        # refused once a refresh has seen the new set (after the TTL)
        statuses = []
        while True:
            r = httpd.get(path, token=tokens.global_token(iss, API, key=old), timeout=10)
            statuses.append(r.status_code)
            if r.status_code != 200:
                break
            assert time.monotonic() - t_removed < REMOVAL_TTL + 3, \
                f'a removed key still verifies {time.monotonic() - t_removed:.1f} s later: {statuses}'
            time.sleep(0.2)
        checks.assert_invalid(r, iss.issuer, 'unknown_kid')
        for _ in range(3):
            checks.assert_invalid(httpd.get(path, token=tokens.global_token(iss, API, key=old)),
                                  iss.issuer, 'unknown_kid')
            checks.assert_invalid(httpd.get(path, token=remembered), iss.issuer, 'unknown_kid')
            checks.assert_ok(httpd.get(path, token=tokens.global_token(iss, API, key=new)))
        assert key_set(httpd, iss)['epoch'] > epoch
        removed = logto_lines(httpd, iss, 'LOGTO0208')
        assert removed and removed[0]['level'] == 'info', removed


class TestRemovalWithReusedTokenOnly:
    """Its own server with one location: nothing else in the child can set
    the background refresher going (it serves every key set of the process)."""

    @pytest.fixture(scope='class')
    def iss(self, make_issuer):
        return make_issuer('rot-reused-token')

    @pytest.fixture(autouse=True, scope='class')
    def _conf(self, httpd, iss):
        httpd.install(location('/orgs/reused/', iss.issuer, ['logto-audience ' + API],
                               directives=[f'LogtoJwksCacheTTL {REMOVAL_TTL}', f'LogtoJwksRefreshInterval {INTERVAL}',
                                           f'LogtoHttpTimeout {HTTP_TIMEOUT}']),
                      top=one_child(httpd), claims=[FETCH_TROUBLE, ONE_CHILD_BUSY])

    def test_removed_key_refused_when_only_its_token_is_reused(self, httpd, iss):
        """A client keeps sending the one token it has (Logto access tokens
        live an hour), signed by a key that is then deleted at the issuer. No
        other traffic: the next TTL refresh must still happen and the token
        be refused after it."""
        path = '/orgs/reused/members/'
        old = iss.signing_key
        new = iss.add_key('EC-P384', first=True)
        iss.set_keys([new, old], signing=new)
        reused = tokens.global_token(iss, API, key=old, sub='reused')
        checks.assert_ok(httpd.get(path, token=reused))
        iss.set_keys([new], signing=new)
        jwks0 = iss.hits('jwks')
        t_removed = time.monotonic()
        checks.assert_ok(httpd.get(path, token=reused))             # before the refresh
        statuses = []
        while time.monotonic() - t_removed < REMOVAL_TTL + 3:
            r = httpd.get(path, token=reused, timeout=10)
            statuses.append(r.status_code)
            if r.status_code != 200:
                break
            time.sleep(0.25)
        assert statuses[-1] != 200, (
            f'the reused token of a removed key is still accepted {time.monotonic() - t_removed:.1f} s after the '
            f'removal (LogtoJwksCacheTTL {REMOVAL_TTL}); JWKS fetches since: {iss.hits("jwks") - jwks0}; '
            f'LOGTO0208 lines: {len(logto_lines(httpd, iss, "LOGTO0208"))}')
        checks.assert_invalid(r, iss.issuer, 'unknown_kid')
