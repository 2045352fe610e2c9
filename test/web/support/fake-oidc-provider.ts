import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';

export interface FakeUser {
  sub: string;
  name: string;
  roles: string[];
  municipalities: string[];
}

/**
 * A minimal OpenID Connect provider for the browser test of the sign-in: discovery, an
 * authorization endpoint that signs the user in at once, a token endpoint that checks PKCE
 * (S256) exactly, and a JWKS. It refuses what a real provider refuses, so the test can fail.
 */
export class FakeOidcProvider {
  readonly issuedCodes: { clientId: string; redirectUri: string; challenge: string; nonce: string; used: boolean }[] = [];
  readonly tokenRequests: Record<string, string>[] = [];
  private codes = new Map<string, (typeof this.issuedCodes)[number]>();
  private server!: Server;
  private privateKey!: CryptoKey;
  private jwk!: JWK;
  issuer = '';

  constructor(
    private readonly opts: { clientId: string; audience: string; user: FakeUser },
  ) {}

  async start(): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    this.privateKey = privateKey as CryptoKey;
    this.jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    this.server = createServer((req, res) => {
      this.handle(req).then(
        ({ status, headers, body }) => {
          res.writeHead(status, { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'content-type, accept', ...headers });
          res.end(body);
        },
        (e: unknown) => {
          res.writeHead(500);
          res.end(String(e));
        },
      );
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    const { port } = this.server.address() as { port: number };
    this.issuer = `http://127.0.0.1:${port}/realms/vagen`;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; headers?: Record<string, string>; body?: string }> {
    const url = new URL(req.url!, this.issuer);
    const json = (status: number, body: unknown) => ({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (req.method === 'OPTIONS') return { status: 204 };
    if (url.pathname === '/realms/vagen/.well-known/openid-configuration') {
      return json(200, {
        issuer: this.issuer,
        authorization_endpoint: `${this.issuer}/authorize`,
        token_endpoint: `${this.issuer}/token`,
        jwks_uri: `${this.issuer}/jwks`,
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['S256'],
      });
    }
    if (url.pathname === '/realms/vagen/jwks') return json(200, { keys: [this.jwk] });
    if (url.pathname === '/realms/vagen/authorize') {
      const p = url.searchParams;
      if (p.get('response_type') !== 'code' || p.get('client_id') !== this.opts.clientId || p.get('code_challenge_method') !== 'S256' || !p.get('code_challenge') || !p.get('state')) {
        return { status: 400, body: 'bad authorization request' };
      }
      const code = randomBytes(16).toString('hex');
      const entry = { clientId: p.get('client_id')!, redirectUri: p.get('redirect_uri')!, challenge: p.get('code_challenge')!, nonce: p.get('nonce') ?? '', used: false };
      this.codes.set(code, entry);
      this.issuedCodes.push(entry);
      const back = new URL(entry.redirectUri);
      back.searchParams.set('code', code);
      back.searchParams.set('state', p.get('state')!);
      return { status: 302, headers: { location: back.toString() } };
    }
    if (url.pathname === '/realms/vagen/token' && req.method === 'POST') {
      let raw = '';
      for await (const chunk of req) raw += chunk;
      const form = Object.fromEntries(new URLSearchParams(raw));
      this.tokenRequests.push(form);
      const entry = this.codes.get(form.code ?? '');
      const challenge = createHash('sha256').update(form.code_verifier ?? '', 'ascii').digest('base64url');
      if (form.grant_type !== 'authorization_code' || !entry || entry.used || entry.clientId !== form.client_id || entry.redirectUri !== form.redirect_uri || entry.challenge !== challenge) {
        return json(400, { error: 'invalid_grant' });
      }
      entry.used = true;
      const u = this.opts.user;
      const sign = (claims: Record<string, unknown>, aud: string) =>
        new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(this.issuer).setAudience(aud).setSubject(u.sub).setIssuedAt().setExpirationTime('1h').sign(this.privateKey);
      return json(200, {
        token_type: 'Bearer',
        expires_in: 3600,
        access_token: await sign({ name: u.name, roles: u.roles, municipalities: u.municipalities }, this.opts.audience),
        id_token: await sign({ name: u.name, nonce: entry.nonce }, this.opts.clientId),
      });
    }
    return { status: 404, body: 'not found' };
  }
}
