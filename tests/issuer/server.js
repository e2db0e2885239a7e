// A loopback OAuth issuer shaped like Logto, for mod_auth_logto's tests.
//
// Real oidc-provider (the library Logto runs) issues every token: client
// authentication, resource indicators, the JWT access-token format and its
// signing. What is ours is the part Logto adds on top (see README.md): the
// tenant data (apps, API resources, organizations), the `organization_id`
// token parameter with its two organization models, the fork's empty-scope
// behaviour, the signing-key states and rotation, and a loopback admin API.
//
//   node server.js --port 0 [--rsa] [--sign ec|rsa] [--exit-with-stdin]
//
// stdout carries exactly one line, `READY <port>`; all logging goes to stderr.

import * as crypto from 'node:crypto';
import * as http from 'node:http';
import { promisify, parseArgs } from 'node:util';

import Provider, { errors } from 'oidc-provider';
// Internal API (no public accessor for the grant table): Logto deep-imports the
// same module. Its shape is tied to the exact version pinned in package.json.
import instance from 'oidc-provider/lib/helpers/weak_cache.js';

// stdout is the READY protocol channel, but oidc-provider prints notices with
// console.info; send those to stderr so a reader of stdout sees one line only.
console.log = console.error;
console.info = console.error;

const MOUNT = '/oidc';
const ADMIN = '/__admin';
// Logto's koa-jwks-cache-control middleware.
const JWKS_CACHE_CONTROL = 'no-cache, max-age=0, must-revalidate';
// Logto's reserved resource for organization tokens, and the audience prefix
// of those tokens (buildOrganizationUrn).
const ORG_RESOURCE = 'urn:logto:resource:organizations';
const ORG_AUDIENCE_PREFIX = 'urn:logto:organization:';
const ORG_TOKEN_TTL = 3600; // fixed in Logto (reversedResourceAccessTokenTtl)
const RSA_BITS = 4096; // what Logto generates on rotation to RSA

// ---------------------------------------------------------------- tenant data

const API = 'https://api.example.test';
const OTHER = 'https://other.example.test';
const SHORT = 'https://short.example.test';

// API resources: indicator -> permissions defined on it and access-token TTL.
const RESOURCES = new Map([
  [API, { permissions: ['read:products', 'write:products'], ttl: 3600 }],
  [OTHER, { permissions: ['read:other'], ttl: 3600 }],
  [SHORT, { permissions: ['read:products'], ttl: 2 }],
]);

// Organization template permissions (model 2).
const ORG_PERMISSIONS = ['invite:member', 'manage:billing'];
const ORGANIZATIONS = new Set(['org-acme', 'org-globex']);

// What each M2M app's roles grant. `global`: API permissions from the app's
// (global) M2M roles, per resource (model 1). `orgs`: the organizations the app
// is associated with; per org, the organization permissions of its org roles
// (model 2) and the API permissions of its org roles (model 3).
const APPS = {
  'm2m-app': {
    secret: 'm2m-secret',
    global: {
      [API]: ['read:products', 'write:products'],
      [OTHER]: ['read:other'],
      [SHORT]: ['read:products'],
    },
    orgs: {
      'org-acme': {
        permissions: ['invite:member', 'manage:billing'],
        api: { [API]: ['read:products', 'write:products'] },
      },
      'org-globex': {
        permissions: ['invite:member'],
        api: { [API]: ['read:products'] },
      },
    },
  },
  // Fewer permissions: no `other` resource, and an org role with no permissions
  // at all in org-acme (so an organization token gets `scope: ""`).
  'other-app': {
    secret: 'other-secret',
    global: { [API]: ['read:products'] },
    orgs: { 'org-acme': { permissions: [], api: {} } },
  },
};

// Logto answers 403 access_denied when the app is not in the organization;
// oidc-provider's own AccessDenied is a 400.
class OrganizationAccessDenied extends errors.OIDCProviderError {
  constructor(description) {
    super(403, 'access_denied');
    this.error_description = description;
  }
}

function appMembership(clientId, orgId) {
  const membership = ORGANIZATIONS.has(orgId) ? APPS[clientId]?.orgs[orgId] : undefined;
  if (!membership) {
    throw new OrganizationAccessDenied('app has not associated with the organization');
  }
  return membership;
}

// ----------------------------------------------------------------- the keys

// Logto's key states; the JWKS (and so oidc-provider's key selection, which
// takes the first key that fits the algorithm) is in this order.
const STATE_ORDER = ['current', 'next', 'previous'];
let keys = []; // [{ state, jwk (private, with kid) }]

function signingAlg(jwk) {
  if (jwk.kty === 'RSA') return 'RS256';
  return { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }[jwk.crv];
}

// RFC 7638 thumbprint, computed like Logto's utils/jwks.ts: SHA-256 over the
// required members in lexicographic order, base64url.
function thumbprint(jwk) {
  const members = jwk.kty === 'RSA'
    ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
    : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  return crypto.createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

const generateKeyPair = promisify(crypto.generateKeyPair);

async function newKey(kty) {
  const { privateKey } = kty === 'RSA'
    ? await generateKeyPair('rsa', { modulusLength: RSA_BITS })
    : await generateKeyPair('ec', { namedCurve: 'P-384' });
  const jwk = privateKey.export({ format: 'jwk' });
  jwk.kid = thumbprint(jwk);
  return jwk;
}

function orderedKeys() {
  return [...keys].sort((a, b) => STATE_ORDER.indexOf(a.state) - STATE_ORDER.indexOf(b.state));
}

function currentKey() {
  return keys.find((k) => k.state === 'current');
}

function keyList() {
  return orderedKeys().map(({ state, jwk }) => ({
    kid: jwk.kid, kty: jwk.kty, alg: signingAlg(jwk), state,
  }));
}

// --------------------------------------------------------------- the provider

let issuer;
let providerCallback; // the current Provider's request handler

// The client_credentials grant, re-registered with `organization_id` accepted
// (Logto does the same in packages/core/src/oidc/grants). Upstream's handler
// does the real work; this wrapper adds Logto's organization rules first.
function acceptOrganizationId(prov) {
  const internals = instance(prov);
  const upstream = internals?.grantTypeHandlers?.get('client_credentials');
  const params = internals?.grantTypeParams?.get('client_credentials');
  if (typeof upstream !== 'function' || !(params instanceof Set)) {
    throw new Error('oidc-provider internals changed: no client_credentials grant table; '
      + 'use the exact oidc-provider version pinned in package.json');
  }
  const dupes = internals.grantTypeDupes.get('client_credentials');

  async function logtoClientCredentials(ctx) {
    const { params: p, client } = ctx.oidc;
    if (p.organization_id !== undefined) {
      appMembership(client.clientId, p.organization_id);
      // Logto's M2M organization token (RFC 0006) is requested without a
      // resource; route it through the reserved resource so that the
      // resource-server machinery (audience, scope filter, JWT format) applies.
      if (p.resource === undefined) p.resource = ORG_RESOURCE;
    } else if (p.resource === ORG_RESOURCE) {
      throw new errors.InvalidTarget(`organization_id is required with ${ORG_RESOURCE}`);
    }
    await upstream(ctx);
    // The Logto fork always sets `scope` in the token response.
    if (ctx.body && ctx.body.scope === undefined) ctx.body.scope = '';
  }

  prov.registerGrantType('client_credentials', logtoClientCredentials,
    new Set([...params, 'organization_id']), dupes);
}

function scopeOf(list) {
  return (list ?? []).join(' ');
}

// Like Logto's getResourceServerInfo: which permissions the client may get for
// this indicator, and how the access token is made (JWT, current key's alg).
async function getResourceServerInfo(ctx, indicator, client) {
  const orgId = ctx.oidc.params.organization_id;
  const shared = { accessTokenFormat: 'jwt', jwt: { sign: { alg: signingAlg(currentKey().jwk) } } };
  if (indicator === ORG_RESOURCE && orgId !== undefined) {
    return {
      ...shared,
      audience: ORG_AUDIENCE_PREFIX + orgId,
      accessTokenTTL: ORG_TOKEN_TTL,
      scope: scopeOf(appMembership(client.clientId, orgId).permissions),
    };
  }
  const resource = RESOURCES.get(indicator);
  if (!resource) throw new errors.InvalidTarget();
  // M2M: with organization_id only that org's app-role scopes (model 3),
  // without it only the app's global roles (model 1).
  const granted = orgId !== undefined
    ? appMembership(client.clientId, orgId).api[indicator]
    : APPS[client.clientId]?.global[indicator];
  return { ...shared, accessTokenTTL: resource.ttl, scope: scopeOf(granted) };
}

function buildProvider() {
  const alg = signingAlg(currentKey().jwk);
  const prov = new Provider(issuer, {
    jwks: { keys: orderedKeys().map(({ jwk }) => jwk) },
    clients: Object.entries(APPS).map(([id, app]) => ({
      client_id: id,
      client_secret: app.secret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      // client_secret_post is accepted as well: oidc-provider treats the two
      // secret methods as interchangeable.
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    clientDefaults: { id_token_signed_response_alg: alg },
    enabledJWA: {
      authorizationSigningAlgValues: ['RS256', 'PS256', 'ES256', 'ES384', 'ES512'],
      userinfoSigningAlgValues: ['RS256', 'PS256', 'ES256', 'ES384', 'ES512'],
      idTokenSigningAlgValues: ['RS256', 'PS256', 'ES256', 'ES384', 'ES512'],
      introspectionSigningAlgValues: ['RS256', 'PS256', 'ES256', 'ES384', 'ES512'],
    },
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    features: {
      devInteractions: { enabled: false },
      dPoP: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined,
        useGrantedResource: () => false,
        getResourceServerInfo,
      },
    },
    // Model 3: organization_id is added when both it and a (real) resource
    // were requested. Spread first by oidc-provider, so it leads the payload.
    async extraTokenClaims(ctx, token) {
      const p = ctx?.oidc?.params;
      if (p?.organization_id !== undefined && p.resource !== undefined
        && p.resource !== ORG_RESOURCE
        && (token.kind === 'ClientCredentials' || token.kind === 'AccessToken')) {
        return { organization_id: p.organization_id };
      }
      return undefined;
    },
    formats: {
      customizers: {
        // Upstream writes `scope || undefined`; the Logto fork keeps an empty
        // scope on organization tokens. Assigning keeps the key's position.
        async jwt(ctx, token, { payload }) {
          if (typeof payload.aud === 'string' && payload.aud.startsWith(ORG_AUDIENCE_PREFIX)) {
            payload.scope ??= '';
          }
        },
      },
    },
    ttl: {
      ClientCredentials: (ctx, token) => token.resourceServer?.accessTokenTTL ?? 3600,
      AccessToken: (ctx, token) => token.resourceServer?.accessTokenTTL ?? 3600,
    },
  });
  acceptOrganizationId(prov);

  prov.use(async (ctx, next) => {
    await next();
    if (ctx.path === '/jwks') ctx.set('Cache-Control', JWKS_CACHE_CONTROL);
  });
  prov.on('server_error', (ctx, err) => console.error('oidc-provider server_error:', err));
  prov.on('grant.error', (ctx, err) => console.error(
    `grant.error: ${err.error} ${err.error_description ?? ''} ${err.error_detail ?? ''}`,
  ));

  providerCallback = prov.callback();
}

// ------------------------------------------------------------------ admin API

// Key operations are serialized: rotation awaits key generation, and two
// interleaved changes would lose one of them.
let keyOps = Promise.resolve();
function serialized(fn) {
  const run = keyOps.then(fn, fn);
  keyOps = run.catch(() => {});
  return run;
}

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const stats = new Map();

async function rotate({ kty = 'EC', grace = false } = {}) {
  if (kty !== 'EC' && kty !== 'RSA') throw new HttpError(400, 'kty must be "EC" or "RSA"');
  if (typeof grace !== 'boolean') throw new HttpError(400, 'grace must be a boolean');
  const jwk = await newKey(kty);
  if (grace) {
    // Staged: publish as Next (replacing any Next), keep Current and Previous.
    keys = [...keys.filter((k) => k.state !== 'next'), { state: 'next', jwk }];
  } else {
    // Immediate (Logto's default): new Current, old Current becomes Previous,
    // everything else is dropped.
    keys = [{ state: 'current', jwk }, { state: 'previous', jwk: currentKey().jwk }];
  }
  buildProvider();
  return { kid: jwk.kid, keys: keyList() };
}

function promote() {
  const next = keys.find((k) => k.state === 'next');
  if (!next) throw new HttpError(409, 'there is no next key to promote');
  keys = [{ state: 'current', jwk: next.jwk }, { state: 'previous', jwk: currentKey().jwk }];
  buildProvider();
  return { kid: next.jwk.kid, keys: keyList() };
}

function remove({ kid } = {}) {
  const key = keys.find((k) => k.jwk.kid === kid);
  if (!key) throw new HttpError(404, `no key with kid ${JSON.stringify(kid)}`);
  // Logto: oidc.only_previous_key_can_be_deleted
  if (key.state !== 'previous') throw new HttpError(400, 'only a previous key can be removed');
  keys = keys.filter((k) => k !== key);
  buildProvider();
  return { keys: keyList() };
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > 65536) {
        reject(new HttpError(413, 'body too large'));
        req.destroy();
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (!text) return resolve({});
      try {
        const value = JSON.parse(text);
        if (value === null || typeof value !== 'object' || Array.isArray(value)) {
          return reject(new HttpError(400, 'body must be a JSON object'));
        }
        return resolve(value);
      } catch {
        return reject(new HttpError(400, 'body is not valid JSON'));
      }
    });
    req.on('error', reject);
  });
}

function sendJson(res, status, body) {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

const ADMIN_ROUTES = {
  'GET /keys': () => ({ keys: keyList() }),
  'POST /keys/rotate': (body) => serialized(() => rotate(body)),
  'POST /keys/promote': () => serialized(promote),
  'POST /keys/remove': (body) => serialized(() => remove(body)),
  'GET /stats': () => ({ hits: Object.fromEntries(stats) }),
  'POST /stats/reset': () => { stats.clear(); return { hits: {} }; },
};

async function admin(req, res, path) {
  try {
    const route = ADMIN_ROUTES[`${req.method} ${path.slice(ADMIN.length)}`];
    if (!route) throw new HttpError(404, `no admin route ${req.method} ${path}`);
    const body = req.method === 'POST' ? await readJson(req) : {};
    sendJson(res, 200, await route(body));
  } catch (err) {
    if (!(err instanceof HttpError)) console.error('admin error:', err);
    sendJson(res, err.status ?? 500, { error: err.message });
  }
}

// ------------------------------------------------------------------- server

function onRequest(req, res) {
  let path;
  try {
    path = new URL(req.url, 'http://127.0.0.1').pathname;
  } catch {
    return sendJson(res, 400, { error: 'bad request target' });
  }
  if (path === ADMIN || path.startsWith(`${ADMIN}/`)) return admin(req, res, path);

  stats.set(path, (stats.get(path) ?? 0) + 1);
  if (path === MOUNT || path.startsWith(`${MOUNT}/`)) {
    // Mount the provider under /oidc the way express does: it derives its
    // mount path from req.originalUrl versus the stripped req.url.
    req.originalUrl = req.url;
    const rest = req.url.slice(MOUNT.length);
    req.url = rest.startsWith('/') ? rest : `/${rest}`;
    return providerCallback(req, res);
  }
  return sendJson(res, 404, { error: 'not found' });
}

class UsageError extends Error {}

function parseOptions() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: '0' },
        rsa: { type: 'boolean', default: false },
        sign: { type: 'string', default: 'ec' },
        'exit-with-stdin': { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    throw new UsageError(err.message);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port must be an integer 0..65535, not ${values.port}`);
  }
  if (values.sign !== 'ec' && values.sign !== 'rsa') {
    throw new UsageError(`--sign must be "ec" or "rsa", not ${values.sign}`);
  }
  return { port, rsa: values.rsa, sign: values.sign, exitWithStdin: values['exit-with-stdin'] };
}

async function main() {
  const opts = parseOptions();

  // EC always exists; RSA with --rsa or --sign rsa. The signing key is
  // Current, the other one Previous (a tenant that rotated between types).
  const ec = await newKey('EC');
  const rsa = opts.rsa || opts.sign === 'rsa' ? await newKey('RSA') : undefined;
  if (opts.sign === 'rsa') {
    keys = [{ state: 'current', jwk: rsa }, { state: 'previous', jwk: ec }];
  } else {
    keys = [{ state: 'current', jwk: ec }, ...(rsa ? [{ state: 'previous', jwk: rsa }] : [])];
  }

  const server = http.createServer(onRequest);
  server.keepAliveTimeout = 2000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  issuer = `http://127.0.0.1:${port}${MOUNT}`;
  buildProvider();

  let stopping = false;
  const shutdown = (why) => {
    if (stopping) return;
    stopping = true;
    console.error(`stopping (${why})`);
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  if (opts.exitWithStdin) {
    // The parent holds our stdin open; when it dies, so do we.
    process.stdin.on('end', () => shutdown('stdin closed'));
    process.stdin.on('error', () => shutdown('stdin error'));
    process.stdin.resume();
  }

  console.error(`issuer ${issuer}, keys ${JSON.stringify(keyList())}`);
  process.stdout.write(`READY ${port}\n`);
}

main().catch((err) => {
  console.error(`server.js: ${err instanceof UsageError ? err.message : (err.stack || err)}`);
  process.exit(1);
});
