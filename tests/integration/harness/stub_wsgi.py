"""A tiny WSGI stand-in for the Django test app (LOGTO_ITEST_APP=stub), with
the same routes and JSON shapes. It exists to prove the harness without
Django; the tests run against tests/integration/djangoapp by default."""
import json
import os
import re

PREFIX = os.environ.get('DJANGOAPP_LOGTO_CLAIM_PREFIX', 'LOGTO_')


def _auth(env):
    p = PREFIX
    scopes = env.get(p + 'SCOPES')
    aud = env.get(p + 'AUDIENCE')
    return {
        'sub': env.get(p + 'SUB'),
        'clientId': env.get(p + 'CLIENT_ID'),
        'organizationId': env.get(p + 'ORGANIZATION_ID'),
        'scopes': scopes.split() if scopes else [],
        'audience': aud.split() if aud else [],
    }


def application(env, start_response):
    path = env.get('PATH_INFO', '')
    status, body = '200 OK', None
    if path == '/api/public/':
        body = {'ok': True}
    elif path == '/api/protected/':
        body = {'auth': _auth(env)}
    elif path == '/api/env/':
        body = {k: v for k, v in env.items()
                if isinstance(v, str) and (k.startswith(('LOGTO_', PREFIX, 'HTTP_'))
                                           or k in ('REMOTE_USER', 'AUTH_TYPE'))}
    else:
        m = re.match(r'^/(orgs)/([^/]+)/members/$', path) or re.match(r'^/(org-api)/([^/]+)/products/$', path)
        if m:
            body = {'org': m.group(2), 'auth': _auth(env)}
        else:
            status, body = '404 Not Found', {'error': 'not found'}
    data = json.dumps(body).encode()
    start_response(status, [('Content-Type', 'application/json'), ('Content-Length', str(len(data)))])
    return [data]
