"""Fixtures and the error-log check of the integration tests.

- ``module_path`` (session): the built mod_auth_logto.so; every test that
  needs it is skipped, with the reason, when there is none.
- ``httpd`` (module): one Httpd per test module; test classes install their
  config with ``httpd.install(...)`` (which restarts it).
- ``issuer`` (module): a running FakeIssuer with one EC P-384 key (Logto's
  default); ``make_issuer(...)`` (module) makes more.
- After every test, each server's error log is checked: an unclaimed
  [error]/[crit]/[alert]/[emerg] or crash line fails the test; unclaimed
  [warn] lines are reported in the summary.
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import httpd as httpd_mod          # noqa: E402
from harness.fake_issuer import FakeIssuer      # noqa: E402

MODULE_FIXTURES = {'module_path', 'httpd', 'prefork_httpd'}
_MODULE, _MODULE_WHY = httpd_mod.find_module()
_reported_warnings = []
_SKIP_REASON = ('mod_auth_logto.so not found (build it out of tree or set LOGTO_MODULE; '
                'see tests/integration/README.md)')


def _app_problem():
    which, script, _ = httpd_mod.app_choice()
    if which == 'django' and not script.exists():
        return (f'the Django test app is missing ({script}); '
                f'LOGTO_ITEST_APP=stub runs the harness stub instead')
    return None


def pytest_report_header(config):
    which, script, _ = httpd_mod.app_choice()
    return [f'mod_auth_logto: {_MODULE or "NOT FOUND - " + _MODULE_WHY}',
            f'httpd: {httpd_mod.APACHE}; app: {which} ({script}); server roots: LOGTO_ITEST_DIR or /tmp/logto-itest-*']


def pytest_collection_modifyitems(config, items):
    app_why = _app_problem()
    for item in items:
        names = set(getattr(item, 'fixturenames', ()))
        if names & MODULE_FIXTURES:
            item.add_marker(pytest.mark.needs_module)
            if _MODULE is None:
                item.add_marker(pytest.mark.skip(reason=_SKIP_REASON))
            elif app_why:
                item.add_marker(pytest.mark.skip(reason=app_why))


@pytest.fixture(scope='session')
def module_path():
    if _MODULE is None:
        pytest.skip(f'no module to test: {_MODULE_WHY}')
    return _MODULE


def _close(server):
    failing, warnings = server.close()
    _reported_warnings.extend((server.name, w.line) for w in warnings)
    if failing:
        lines = '\n'.join(f'  {f}' for f in failing)
        raise AssertionError(f'{server.name}: unclaimed error-log lines after the last test:\n{lines}')


@pytest.fixture(scope='module')
def httpd(request, module_path):
    """The module's server: one per test module, event MPM (LOGTO_ITEST_MPM)."""
    server = httpd_mod.Httpd(request.module.__name__, module=module_path)
    yield server
    _close(server)


@pytest.fixture(scope='module')
def make_httpd(request, module_path):
    """Factory for more servers in a module: make_httpd(name, mpm=..., env=...)."""
    made = []

    def make(name, **kw):
        server = httpd_mod.Httpd(f'{request.module.__name__}-{name}', module=module_path, **kw)
        made.append(server)
        return server
    yield make
    errors = []
    for server in made:
        try:
            _close(server)
        except AssertionError as e:
            errors.append(str(e))
    if errors:
        raise AssertionError('\n'.join(errors))


@pytest.fixture(scope='module')
def make_issuer():
    """Factory of FakeIssuers, all stopped at the end of the module."""
    made = []

    def make(name='issuer', kinds=('EC-P384',), **kw):
        iss = FakeIssuer(name, kinds=kinds, **kw).start()
        made.append(iss)
        return iss
    yield make
    for iss in made:
        iss.stop()


@pytest.fixture(scope='module')
def issuer(make_issuer):
    """A Logto-like issuer: one EC P-384 key, discovery and JWKS at /oidc."""
    return make_issuer('main')


def _log_findings():
    failing, messages = [], []
    for server in list(httpd_mod.Httpd.instances):
        if server.closed:
            continue
        bad, warnings = server.error_log.check()
        _reported_warnings.extend((server.name, w.line) for w in warnings)
        failing.extend((server.name, f) for f in bad)
    for name, f in failing:
        messages.append(f'  [{name}] {f}')
    return messages


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    outcome = yield
    messages = _log_findings()
    if messages:
        text = 'unclaimed lines in the httpd error log (claim expected ones with httpd.claim_log(regex)):\n' \
               + '\n'.join(messages)
        if outcome.excinfo is None:
            pytest.fail(text, pytrace=False)
        else:
            item.add_report_section('call', 'httpd error log', text)


def pytest_terminal_summary(terminalreporter):
    if _reported_warnings:
        terminalreporter.section('unclaimed httpd warnings (reported, not failing)')
        seen = set()
        for name, line in _reported_warnings:
            key = (name, line.split('] ', 3)[-1])
            if key in seen:
                continue
            seen.add(key)
            terminalreporter.write_line(f'[{name}] {line}')


def pytest_sessionfinish(session, exitstatus):
    base = httpd_mod._base_dir
    if base is None or os.environ.get('LOGTO_ITEST_DIR'):
        return
    if exitstatus == 0 and not os.environ.get('LOGTO_ITEST_KEEP'):
        import shutil
        shutil.rmtree(base, ignore_errors=True)
    else:
        session.config._logto_kept = str(base)


def pytest_unconfigure(config):
    kept = getattr(config, '_logto_kept', None)
    if kept:
        sys.stderr.write(f'\nhttpd server roots kept for inspection: {kept}\n')
