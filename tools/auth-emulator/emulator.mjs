// Dev-only Supabase Auth (GoTrue) emulator: the subset supabase-js uses here, over auth.users in
// the local Postgres. Never part of an image, the chart or the manifests.
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT } from 'jose';
import pg from 'pg';

const API_VERSION = '2024-01-01';

async function loadOrCreateKey(keyFile) {
  if (keyFile && existsSync(keyFile)) {
    const jwk = JSON.parse(readFileSync(keyFile, 'utf8'));
    const { d: _d, ...pub } = jwk;
    return {
      privateKey: await importJWK(jwk, 'ES256'),
      publicKey: await importJWK(pub, 'ES256'),
      publicJwk: pub,
      kid: jwk.kid,
    };
  }
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = randomUUID();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig', key_ops: ['verify'] };
  if (keyFile) {
    mkdirSync(dirname(keyFile), { recursive: true });
    writeFileSync(keyFile, JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: 'ES256' }), { mode: 0o600 });
  }
  return { privateKey, publicKey, publicJwk, kid };
}

function send(res, status, body) {
  res.writeHead(status, {
    'content-type': 'application/json',
    'x-supabase-api-version': API_VERSION,
    'cache-control': 'no-store',
  });
  res.end(JSON.stringify(body));
}

function authError(res, status, code, message) {
  send(res, status, { code, error_code: code, msg: message, message });
}

async function readJson(req) {
  const chunks = [];
  for await (const c of req) {
    chunks.push(c);
  }
  if (!chunks.length) {
    return {};
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}

function userJson(row, now = new Date().toISOString()) {
  return {
    id: row.id,
    aud: 'authenticated',
    role: 'authenticated',
    email: row.email,
    email_confirmed_at: row.email_confirmed_at ?? row.created_at,
    phone: '',
    confirmed_at: row.email_confirmed_at ?? row.created_at,
    last_sign_in_at: now,
    app_metadata: row.raw_app_meta_data ?? { provider: 'email', providers: ['email'] },
    user_metadata: row.raw_user_meta_data ?? {},
    identities: [],
    created_at: row.created_at,
    updated_at: row.updated_at ?? row.created_at,
    is_anonymous: false,
  };
}

/**
 * Starts the emulator. Tokens look exactly like Supabase's: ES256 with a kid, iss
 * `<url>/auth/v1`, aud/role `authenticated`, sub, email, session_id, exp/iat.
 */
export async function startAuthEmulator({
  port = 54321,
  host = '127.0.0.1',
  databaseUrl = 'postgres://postgres@127.0.0.1:5432/neonpro',
  expiresIn = 3600,
  keyFile,
  publicUrl,
} = {}) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  pool.on('error', () => undefined);
  const key = await loadOrCreateKey(keyFile);
  /** refresh token → { userId, sessionId } (rotated on use, like GoTrue). */
  const refreshTokens = new Map();
  let issuer = '';

  const findUser = async (where, values) =>
    (
      await pool.query(
        `select id, email, email_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at
           from auth.users where ${where}`,
        values,
      )
    ).rows[0];

  const issueSession = async (user, sessionId) => {
    const now = Math.floor(Date.now() / 1000);
    const access = await new SignJWT({
      email: user.email,
      phone: '',
      app_metadata: user.raw_app_meta_data ?? { provider: 'email', providers: ['email'] },
      user_metadata: user.raw_user_meta_data ?? {},
      role: 'authenticated',
      aal: 'aal1',
      amr: [{ method: 'password', timestamp: now }],
      session_id: sessionId,
      is_anonymous: false,
    })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
      .setIssuer(issuer)
      .setSubject(user.id)
      .setAudience('authenticated')
      .setIssuedAt(now)
      .setExpirationTime(now + expiresIn)
      .sign(key.privateKey);
    const refresh = randomBytes(9).toString('base64url');
    refreshTokens.set(refresh, { userId: user.id, sessionId });
    return {
      access_token: access,
      token_type: 'bearer',
      expires_in: expiresIn,
      expires_at: now + expiresIn,
      refresh_token: refresh,
      user: userJson(user),
    };
  };

  const handle = async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname === '/auth/v1/.well-known/jwks.json') {
      return send(res, 200, { keys: [key.publicJwk] });
    }
    if (req.method === 'GET' && url.pathname === '/auth/v1/health') {
      return send(res, 200, { version: 'neonpro-auth-emulator', name: 'GoTrue', description: 'dev emulator' });
    }
    if (req.method === 'POST' && url.pathname === '/auth/v1/token') {
      const body = await readJson(req);
      if (!body) {
        return authError(res, 400, 'bad_json', 'Could not parse request body as JSON');
      }
      const grant = url.searchParams.get('grant_type');
      if (grant === 'password') {
        if (typeof body.email !== 'string' || typeof body.password !== 'string') {
          return authError(res, 400, 'validation_failed', 'missing email or phone');
        }
        const user = await findUser(
          'lower(email) = lower($1) and encrypted_password = extensions.crypt($2, encrypted_password)',
          [body.email, body.password],
        );
        if (!user) {
          return authError(res, 400, 'invalid_credentials', 'Invalid login credentials');
        }
        return send(res, 200, await issueSession(user, randomUUID()));
      }
      if (grant === 'refresh_token') {
        const entry = typeof body.refresh_token === 'string' ? refreshTokens.get(body.refresh_token) : undefined;
        if (!entry) {
          return authError(res, 400, 'refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found');
        }
        refreshTokens.delete(body.refresh_token);
        const user = await findUser('id = $1', [entry.userId]);
        if (!user) {
          return authError(res, 404, 'user_not_found', 'User not found');
        }
        return send(res, 200, await issueSession(user, entry.sessionId));
      }
      return authError(res, 400, 'unsupported_grant_type', 'unsupported_grant_type');
    }
    if (req.method === 'GET' && url.pathname === '/auth/v1/user') {
      const m = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '');
      if (!m) {
        return authError(res, 401, 'no_authorization', 'This endpoint requires a Bearer token');
      }
      try {
        const { payload } = await jwtVerify(m[1], key.publicKey, {
          issuer,
          audience: 'authenticated',
        });
        const user = await findUser('id = $1', [payload.sub]);
        if (!user) {
          return authError(res, 404, 'user_not_found', 'User not found');
        }
        return send(res, 200, userJson(user));
      } catch {
        return authError(res, 403, 'bad_jwt', 'invalid JWT: unable to parse or verify signature');
      }
    }
    if (req.method === 'POST' && url.pathname === '/auth/v1/logout') {
      res.writeHead(204).end();
      return;
    }
    return authError(res, 404, 'not_found', 'Not Found');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) {
        authError(res, 500, 'unexpected_failure', 'Unexpected failure');
      }
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const url = publicUrl ?? `http://${host}:${actualPort}`;
  issuer = `${url}/auth/v1`;
  return {
    url,
    port: actualPort,
    issuer,
    kid: key.kid,
    close: async () => {
      await new Promise((resolve) => {
        server.close(() => resolve(undefined));
        server.closeAllConnections();
      });
      await pool.end();
    },
  };
}
