#!/usr/bin/python3
"""A tiny static issuer for the benchmark: serves the discovery document and
the JWKS that bench.py wrote, on 127.0.0.1, the way Logto serves them.

    /usr/bin/python3 bench/issuer.py PORT DIR [TLS_PORT]

GET /oidc/.well-known/openid-configuration  -> DIR/openid-configuration.json
GET /oidc/jwks                              -> DIR/jwks.json
(both with Logto's `Cache-Control: no-cache, max-age=0, must-revalidate`).
Every fetch is counted in DIR/hits.log (one line per request) so the report
can show how often each candidate went back to the issuer. With TLS_PORT, the
same documents are also served over HTTPS there (certificate DIR/tls-cert.pem,
key DIR/tls-key.pem): mod_auth_openidc only fetches a JWKS over https.
bench.py starts it in the background and stops it by pid (SIGTERM).
"""
import http.server
import os
import signal
import ssl
import sys
import threading

ROUTES = {'/oidc/.well-known/openid-configuration': 'openid-configuration.json',
          '/oidc/jwks': 'jwks.json'}


def main():
    port, root = int(sys.argv[1]), sys.argv[2]
    hits = open(os.path.join(root, 'hits.log'), 'a', buffering=1)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def do_GET(self):
            name = ROUTES.get(self.path.split('?', 1)[0])
            hits.write(f'{self.path}\n')
            if name is None:
                body, status = b'{"error":"not found"}', 404
            else:
                with open(os.path.join(root, name), 'rb') as f:
                    body, status = f.read(), 200
            self.send_response(status)
            self.send_header('Content-Type', 'application/json; charset=utf-8')
            self.send_header('Cache-Control', 'no-cache, max-age=0, must-revalidate')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(('127.0.0.1', port), Handler)
    server.daemon_threads = True
    if len(sys.argv) > 3:
        tls = http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[3])), Handler)
        tls.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(root, 'tls-cert.pem'), os.path.join(root, 'tls-key.pem'))
        tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
        threading.Thread(target=tls.serve_forever, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == '__main__':
    main()
