"""Security review, finding 7: the key source is one setting.

A location's LogtoJwksUri was ignored when the server set LogtoJwksFile: the
two merged separately and the file won, so the location trusted keys it was
never configured with. The most specific section that names a key source
(a URL or a file) now wins as a whole, and naming both in one section is a
start-up error.
"""
import pytest

from harness import checks, keys, tokens
from harness.confs import API, location


@pytest.fixture(scope='module')
def file_key():
    return keys.new_key('EC-P384')


@pytest.fixture(scope='module')
def jwks_path(httpd, file_key):
    import json
    return httpd.write_file('conf/server-jwks.json', json.dumps({'keys': [file_key.jwk()]}))


class TestMostSpecificWins:

    @pytest.fixture(autouse=True, scope='class')
    def _conf(self, httpd, issuer, jwks_path):
        httpd.install(
            f'LogtoJwksFile "{jwks_path}"\n'
            + location('/api/protected/', issuer.issuer, ['logto-audience ' + API],
                       directives=[f'LogtoJwksUri {issuer.jwks_uri}'])
            + location('/api/env/', issuer.issuer, ['logto-audience ' + API]))

    def test_location_uri_beats_server_file(self, httpd, issuer, file_key):
        checks.assert_ok(httpd.get('/api/protected/', token=tokens.global_token(issuer, API)))
        # The server's file is not this location's source: its key is unknown here.
        r = httpd.get('/api/protected/', token=tokens.global_token(issuer, API, key=file_key))
        checks.assert_invalid(r, issuer.issuer, 'unknown_kid')

    def test_server_file_where_location_names_none(self, httpd, issuer, file_key):
        checks.assert_ok(httpd.get('/api/env/', token=tokens.global_token(issuer, API, key=file_key)))
        r = httpd.get('/api/env/', token=tokens.global_token(issuer, API))
        checks.assert_invalid(r, issuer.issuer, 'unknown_kid')


class TestLocationFileBeatsServerUri:

    @pytest.fixture(autouse=True, scope='class')
    def _conf(self, httpd, issuer, jwks_path):
        httpd.install(
            f'LogtoJwksUri {issuer.jwks_uri}\n'
            + location('/api/protected/', issuer.issuer, ['logto-audience ' + API],
                       directives=[f'LogtoJwksFile "{jwks_path}"']))

    def test_location_file_beats_server_uri(self, httpd, issuer, file_key):
        checks.assert_ok(httpd.get('/api/protected/',
                                   token=tokens.global_token(issuer, API, key=file_key)))
        r = httpd.get('/api/protected/', token=tokens.global_token(issuer, API))
        checks.assert_invalid(r, issuer.issuer, 'unknown_kid')


@pytest.mark.parametrize('order', ['uri-first', 'file-first'])
def test_both_in_one_section_is_refused(make_httpd, issuer, jwks_path, order):
    server = make_httpd(f'both-{order}')
    lines = [f'LogtoJwksUri {issuer.jwks_uri}', f'LogtoJwksFile "{jwks_path}"']
    if order == 'file-first':
        lines.reverse()
    server.install(location('/api/protected/', issuer.issuer, ['logto-audience ' + API],
                            directives=lines), restart=False)
    rc, out = server.configtest()
    assert rc != 0
    assert 'LogtoJwksUri and LogtoJwksFile are one setting' in out, out
