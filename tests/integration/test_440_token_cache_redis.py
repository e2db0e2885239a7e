"""``LogtoTokenCache redis:127.0.0.1:<port>``: two httpd instances (two
"hosts" of a fleet, on different ports) share validations through Debian's
redis-server, started by the test on a free loopback port (issue 6, cache
correctness).

- a token verified on A is a ``shared_cache`` hit on B; the Redis entry
  expires with the token;
- a value read back from Redis is checked before it is trusted: garbage, a
  value stored under another key, or a value whose key has left the issuer's
  set, is not used (the token is validated anew);
- stopping Redis mid-run changes no answer: valid tokens stay 200, invalid
  ones 401, on both hosts; the module says LOGTO0301 (skipped for 5 s) and
  mod_socache_redis logs its own errors, both claimed here. A paused Redis
  (up, not answering) is waited on for at most RedisTimeout, then skipped.

Each server keeps one child, so its in-process cache (in front of Redis) is
the one every request meets.
"""
import time

import pytest
import requests

from harness import accepts, checks, tokens
from harness.accepts import Accepts, single_child, wait_until
from harness.confs import API, AUTHZ_DENIED, location
from harness.httpd import APACHE_MODULES
from harness import redis_server

PATH = '/api/protected/'
REDIS_TIMEOUT = 1
# mod_socache_redis's own lines when Redis is gone: AH03478 (store, crit),
# AH03479 (retrieve, error); the module's LOGTO0301 warning.
REDIS_DOWN_CLAIMS = [r'\[socache_redis:', r'AH0347[89]', r'LOGTO0301']


@pytest.fixture(scope='module')
def redis():
    ok, why = redis_server.available()
    if not ok:
        pytest.skip(why)
    server = redis_server.RedisServer('tokens').start()
    yield server
    server.close()


def snippet(issuer, redis, extra=()):
    return (accepts.STATUS_LOCATION
            + location('/api/', issuer.issuer, ['logto-audience ' + API, 'logto-scope read:products'],
                       directives=[f'LogtoTokenCache {redis.spec}', *extra]))


def top(server):
    return (f'LoadModule socache_redis_module {APACHE_MODULES}/mod_socache_redis.so\n'
            f'RedisTimeout {REDIS_TIMEOUT}\n' + single_child(server.mpm))


@pytest.fixture(scope='module')
def fleet(issuer, redis, make_httpd):
    """Hosts A and B, same configuration, same Redis (the hosts stop first)."""
    hosts = []
    for name in ('a', 'b'):
        server = make_httpd(f'redis-{name}')
        server.install(snippet(issuer, redis), top=top(server),
                       claims=[AUTHZ_DENIED, accepts.BUSY_CLAIM, accepts.SLOW_CACHE_CLAIM])
        hosts.append(server)
    assert hosts[0].port != hosts[1].port
    return hosts


def unique(name):
    return f'{name}-{time.monotonic_ns()}'


def warm(server, issuer):
    """The host has fetched the issuer's keys (a host in service has)."""
    checks.assert_ok(server.get(PATH, token=tokens.global_token(issuer, API, sub=unique('warm'))))


def new_keys(redis, before):
    return sorted(set(redis.keys('*')) - set(before))


class TestShared:

    def test_verified_on_a_shared_on_b(self, fleet, issuer, redis):
        a, b = fleet
        warm(a, issuer), warm(b, issuer)
        la, lb = Accepts(a), Accepts(b)

        def step():
            sub = unique('fleet')
            tok = tokens.global_token(issuer, API, sub=sub)
            before = redis.keys('*')
            resp, acc = la.request(PATH, tok, sub)
            assert checks.assert_ok(resp)['auth']['sub'] == sub and acc.source == 'verified', acc
            added = new_keys(redis, before)
            assert len(added) == 1 and added[0].startswith('mod_auth_logto:'), added
            resp, acc = lb.request(PATH, tok, sub)
            assert checks.assert_ok(resp)['auth']['sub'] == sub
            assert acc.source == 'shared_cache', acc.line
            resp, acc = lb.request(PATH, tok, sub)
            assert acc.source == 'cache', acc.line           # B's own copy, in front of Redis
            resp, acc = la.request(PATH, tok, sub)
            assert acc.source == 'cache', acc.line
        accepts.unless_cache_skipped(step, fleet)

    def test_redis_entry_expires_with_the_token(self, fleet, issuer, redis):
        a, b = fleet
        warm(a, issuer)

        def step():
            now = int(time.time())
            tok = tokens.global_token(issuer, API, sub=unique('ttl'), iat=now, exp=now + 30)
            before = redis.keys('*')
            checks.assert_ok(a.get(PATH, token=tok))
            added = new_keys(redis, before)
            assert len(added) == 1, added
            ttl = redis.command('TTL', added[0])
            assert 0 < ttl <= 30, f'Redis TTL {ttl} s for a token that expires in 30 s'
        accepts.unless_cache_skipped(step, [a])

    def test_refusals_stay_refusals(self, fleet, issuer, redis):
        a, b = fleet
        sub = unique('forged')
        good = tokens.global_token(issuer, API, sub=sub)
        checks.assert_ok(a.get(PATH, token=good))
        for server in (a, b, a, b):
            checks.assert_invalid(server.get(PATH, token=tokens.bad_signature(good)), issuer.issuer,
                                  'bad_signature')
        weak = tokens.global_token(issuer, API, scope='write:products', sub=unique('weak'))
        for server in (a, b):
            checks.assert_insufficient_scope(server.get(PATH, token=weak), issuer.issuer, 'read:products')


def stored(server, issuer, redis, sub, key=None):
    """A token verified on server, and the Redis key of its entry."""
    tok = tokens.global_token(issuer, API, sub=sub, key=key)
    before = redis.keys('*')
    checks.assert_ok(server.get(PATH, token=tok))
    added = new_keys(redis, before)
    assert len(added) == 1, f'no (single) new Redis entry: {added}'
    return tok, added[0]


def not_trusted(log, tok, sub):
    """The token is validated anew (the value was looked at and refused)."""
    resp, acc = log.request(PATH, tok, sub)
    assert checks.assert_ok(resp)['auth']['sub'] == sub, 'answered with claims of another token'
    assert acc.source == 'verified', acc.line
    assert any('LOGTO0302' in line for line in log.lines()), 'LOGTO0302 (value not trusted) expected'


class TestValuesAreChecked:
    """Redis is outside the process: what comes back is checked first."""

    def test_garbage_value(self, fleet, issuer, redis):
        a, b = fleet
        warm(b, issuer)

        def step():
            sub = unique('garbage')
            tok, key = stored(a, issuer, redis, sub)
            redis.command('SET', key, 'not a cache entry', 'EX', 600)
            not_trusted(Accepts(b), tok, sub)
        accepts.unless_cache_skipped(step, fleet)

    def test_value_of_another_key(self, fleet, issuer, redis):
        """Token 2's entry replaced by token 1's: B must not answer token 2
        with token 1's claims."""
        a, b = fleet
        warm(b, issuer)

        def step():
            sub1, sub2 = unique('one'), unique('two')
            tok1, key1 = stored(a, issuer, redis, sub1)
            tok2, key2 = stored(a, issuer, redis, sub2)
            value1 = redis.command('GET', key1, raw=True)
            assert value1 and redis.command('SET', key2, value1, 'EX', 600) == 'OK'
            not_trusted(Accepts(b), tok2, sub2)
        accepts.unless_cache_skipped(step, fleet)

    def test_value_whose_key_left_the_set(self, make_httpd, make_issuer, redis):
        """Verified on A with key K; K then leaves the issuer's set. C, which
        only knows the new set, must not trust A's entry: 401 unknown kid."""
        iss = make_issuer(f'redis-rot-{time.monotonic_ns()}', kinds=('EC-P384', 'EC-P384'))
        kept, doomed = iss.keys
        a = make_httpd(f'redis-rot-a-{time.monotonic_ns()}')
        c = make_httpd(f'redis-rot-c-{time.monotonic_ns()}')
        for server in (a, c):
            server.install(snippet(iss, redis), top=top(server),
                           claims=[AUTHZ_DENIED, accepts.BUSY_CLAIM, accepts.SLOW_CACHE_CLAIM])
        try:
            warm_tok = tokens.global_token(iss, API, key=kept, sub=unique('warm'))
            checks.assert_ok(a.get(PATH, token=warm_tok))
            sub = unique('doomed')
            tok, _ = accepts.unless_cache_skipped(lambda: stored(a, iss, redis, sub, key=doomed), [a])
            iss.remove(doomed)
            checks.assert_ok(c.get(PATH, token=warm_tok))      # C fetches the set without K

            def step():
                lc = Accepts(c)
                resp, acc = lc.request(PATH, tok, sub)
                checks.assert_invalid(resp, iss.issuer, 'unknown_kid')
                assert acc is None, f'trusted a shared value whose key left the set: {acc.line}'
                assert any('LOGTO0302' in line for line in lc.lines()), 'the shared value was not looked at'
            accepts.unless_cache_skipped(step, [c])
        finally:
            a.stop()
            c.stop()


@pytest.mark.slow
class TestRedisDown:
    """Stopping (or pausing) Redis changes no answer. Runs last in this
    module: Redis is started again at the end."""

    def answers(self, server, good_cached, good_fresh, bad, issuer):
        t0 = time.monotonic()
        checks.assert_ok(server.get(PATH, token=good_cached))
        for tok in good_fresh:
            checks.assert_ok(server.get(PATH, token=tok))
        checks.assert_invalid(server.get(PATH, token=bad[0]), issuer.issuer, 'bad_signature')
        checks.assert_invalid(server.get(PATH, token=bad[1]), issuer.issuer, 'expired')
        return time.monotonic() - t0

    def test_stopping_redis_changes_no_answer(self, fleet, issuer, redis):
        a, b = fleet
        for server in fleet:
            server.claim_log(*REDIS_DOWN_CLAIMS)
            warm(server, issuer)
        # both hosts use Redis right now (neither is in a skip window)
        wait_until(lambda: self.shared_again(a, b, issuer), timeout=20, interval=0.5,
                   what='Redis in use by both hosts')
        cached = tokens.global_token(issuer, API, sub=unique('cached'))
        bad = [tokens.bad_signature(cached), tokens.expired(issuer, API)]
        for server in fleet:
            checks.assert_ok(server.get(PATH, token=cached))
        la, lb = Accepts(a), Accepts(b)

        redis.stop()
        rounds, deadline = 0, time.monotonic() + 20

        def warned(log):
            return any('LOGTO0301' in line for line in log.lines())
        # at least three rounds, and until each host has noticed (a host in
        # a skip window meanwhile notices when it ends)
        while rounds < 3 or not (warned(la) and warned(lb)):
            assert time.monotonic() < deadline, \
                f'no LOGTO0301 warning after Redis stopped: A {warned(la)}, B {warned(lb)}'
            fresh = [tokens.global_token(issuer, API, sub=unique(f'down{rounds}')) for _ in range(3)]
            for server in fleet:
                took = self.answers(server, cached, fresh, bad, issuer)
                assert took < 5, f'{took:.1f} s for 6 requests with Redis down: it was waited on'
            rounds += 1
            time.sleep(0.2)
        for log in (la, lb):
            assert not any(acc.source == 'shared_cache' for acc in log.accepts())

    def test_paused_redis_is_not_waited_on_for_long(self, fleet, issuer, redis):
        """Redis up but not answering (SIGSTOP; a hung server or a network
        black hole look the same): a request may wait for it at most about
        RedisTimeout, then Redis is skipped; the answers stay right."""
        if not redis.running:
            redis.start()
        a, b = fleet
        for server in fleet:
            server.claim_log(*REDIS_DOWN_CLAIMS)
        # past the 5 s skip window of the previous test, and Redis in use again
        wait_until(lambda: self.shared_again(a, b, issuer), timeout=30, interval=0.5,
                   what='Redis to be used again after it came back')
        limit = REDIS_TIMEOUT + 4
        redis.pause()
        try:
            cached = tokens.global_token(issuer, API, sub=unique('p-cached'))
            bad = [tokens.bad_signature(cached), tokens.expired(issuer, API)]
            worst = 0.0
            for round_ in range(3):
                fresh = [tokens.global_token(issuer, API, sub=unique(f'paused{round_}')) for _ in range(2)]
                for server in fleet:
                    for tok in [cached, *fresh]:
                        t0 = time.monotonic()
                        try:
                            resp = server.get(PATH, token=tok, timeout=limit)
                        except requests.Timeout:
                            pytest.fail(f'{server.name}: no answer within {limit} s while Redis is paused '
                                        f'(RedisTimeout {REDIS_TIMEOUT}): the request waits on Redis')
                        checks.assert_ok(resp)
                        worst = max(worst, time.monotonic() - t0)
                    checks.assert_invalid(server.get(PATH, token=bad[0], timeout=limit), issuer.issuer,
                                          'bad_signature')
                    checks.assert_invalid(server.get(PATH, token=bad[1], timeout=limit), issuer.issuer,
                                          'expired')
            assert worst < REDIS_TIMEOUT + 2, f'a request took {worst:.1f} s with Redis paused'
        finally:
            redis.resume()
            # requests still blocked in httpd finish now; let them drain
            time.sleep(1)

    def shared_again(self, a, b, issuer):
        sub = unique('again')
        tok = tokens.global_token(issuer, API, sub=sub)
        checks.assert_ok(a.get(PATH, token=tok))
        resp, acc = Accepts(b).request(PATH, tok, sub)
        checks.assert_ok(resp)
        return acc.source == 'shared_cache'
