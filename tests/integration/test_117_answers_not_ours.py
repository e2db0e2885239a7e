"""Security review, findings 2 and 11: the module reshapes only its own answers.

Finding 2: a logto-* line that failed inside a <RequireAny> granted by another
line left its failure recorded, and the error filter then turned the
request's own answer (a Redirect, a RewriteRule [R], DirectorySlash's 301)
into a 403 with an insufficient_scope challenge. Once authorization grants,
the failure is void and no later answer is touched.

Finding 11: a valid token denied by a non-logto Require line got 401 with a
Bearer challenge, so clients refreshed their token in a loop. It is a 403
with a JSON body and no challenge. (A line that denies without a user, such
as a failing `Require ip` in a <RequireAll>, is answered 403 by httpd before
any token is read.)
"""
import pytest

from harness import checks, tokens
from harness.confs import API, AUTHZ_DENIED, dedent

TOP = dedent('''
    LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so
    LoadModule rewrite_module /usr/lib/apache2/modules/mod_rewrite.so
''')


def _any(issuer, path, body, tag='Location'):
    return dedent(f'''
        <{tag} "{path}">
            AuthType Logto
            LogtoIssuer {issuer.issuer}
            <RequireAll>
                Require logto-audience {API}
                <RequireAny>
                    Require logto-scope admin:all
                    Require logto-scope read:products
                </RequireAny>
            </RequireAll>
            {body}
        </{tag}>
    ''')


@pytest.fixture(scope='module', autouse=True)
def _conf(httpd, issuer):
    htdocs = httpd.path('htdocs')
    (htdocs / 'files' / 'sub').mkdir(parents=True, exist_ok=True)
    (htdocs / 'files' / 'sub' / 'index.html').write_text('hello\n')
    httpd.install(
        _any(issuer, '/redirected/', 'Redirect /redirected/ http://elsewhere.example/moved/')
        + _any(issuer, '/rewritten/', 'RewriteEngine On\n    RewriteRule ^ http://elsewhere.example/r/ [R=302,L]')
        + f'Alias /files "{htdocs}/files"\n'
        + _any(issuer, f'{htdocs}/files', 'DirectorySlash On\n    DirectoryIndex index.html',
               tag='Directory')
        + dedent(f'''
            <Location "/api/protected/">
                AuthType Logto
                LogtoIssuer {issuer.issuer}
                <RequireAll>
                    Require logto-audience {API}
                    Require user someone-else
                </RequireAll>
            </Location>
        '''),
        top=TOP, claims=[AUTHZ_DENIED])


def _granted(issuer):
    """Fails the first line of the <RequireAny>, passes the second."""
    return tokens.global_token(issuer, API, scope='read:products')


def _assert_untouched_redirect(resp, status, location):
    assert resp.status_code == status, (resp.status_code, resp.headers, resp.text[:300])
    assert resp.headers.get('Location') == location
    assert checks.www_authenticate(resp) is None
    assert 'application/json' not in resp.headers.get('Content-Type', '')


def test_redirect_after_a_failed_branch(httpd, issuer):
    r = httpd.get('/redirected/x', token=_granted(issuer), allow_redirects=False)
    _assert_untouched_redirect(r, 302, 'http://elsewhere.example/moved/x')


def test_rewrite_redirect_after_a_failed_branch(httpd, issuer):
    r = httpd.get('/rewritten/x', token=_granted(issuer), allow_redirects=False)
    _assert_untouched_redirect(r, 302, 'http://elsewhere.example/r/')


def test_directory_slash_after_a_failed_branch(httpd, issuer):
    r = httpd.get('/files/sub', token=_granted(issuer), allow_redirects=False)
    _assert_untouched_redirect(r, 301, f'http://127.0.0.1:{httpd.port}/files/sub/')


def test_any_branch_failing_is_still_ours(httpd, issuer):
    """Both branches fail: the module's 403 with the last failed line."""
    tok = tokens.global_token(issuer, API, scope='openid')
    r = httpd.get('/redirected/x', token=tok, allow_redirects=False)
    checks.assert_insufficient_scope(r, issuer.issuer, 'read:products')


def test_missing_token_is_still_ours(httpd, issuer):
    checks.assert_missing(httpd.get('/redirected/x', allow_redirects=False), issuer.issuer)


def test_other_provider_denial_is_403(httpd, issuer):
    tok = tokens.global_token(issuer, API, scope='read:products')
    r = httpd.get('/api/protected/', token=tok)
    assert r.status_code == 403, (r.status_code, r.headers, r.text)
    assert checks.www_authenticate(r) is None
    checks.assert_error_body(r, 'Access denied')


def test_other_provider_denial_after_invalid_token_is_401(httpd, issuer):
    """The token is checked first: an invalid one is still 401 invalid_token."""
    tok = tokens.expired(issuer, API)
    checks.assert_invalid(httpd.get('/api/protected/', token=tok), issuer.issuer, 'expired')
