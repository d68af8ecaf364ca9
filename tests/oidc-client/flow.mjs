// Drives Pan's OAuth 2.0 / OpenID Connect provider with openid-client, an independent OIDC library:
// discovery, authorization code + PKCE (S256), token, ID token checks, userinfo, refresh (rotation),
// introspection and revocation. The member's consent is given through Pan's JSON routes of
// pan.oauth.ConsentProcess (Do, Approve) with a Pan access token, as Pan's own UI would.
//
// Usage: node flow.mjs <issuer> <client_id> <client_secret> <redirect_uri> <pan_access_token>
// Prints one JSON object with what each step returned; exits 1 (message on stderr) when a step fails.
import * as client from 'openid-client';

const [issuer, clientId, clientSecret, redirectUri, panAccessToken] = process.argv.slice(2);
const base = new URL(issuer);

async function pan(route, body) {
  const response = await fetch(new URL(route, base), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`${route}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

// Why allowInsecureRequests: the test server is http on loopback (Pan:OAuth:AllowHttpOnLoopback).
const config = await client.discovery(base, clientId, clientSecret, client.ClientSecretPost(clientSecret), {
  execute: [client.allowInsecureRequests],
});
const metadata = config.serverMetadata();

const verifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
const authorizationUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: 'openid profile email offline_access',
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  state,
  nonce,
});

// The library's own authorization request parameters, handed to Pan's consent flow.
const p = authorizationUrl.searchParams;
const started = await pan('/v1/oauth/consent/do', {
  panAccessToken,
  clientId: p.get('client_id'),
  redirectUri: p.get('redirect_uri'),
  responseType: p.get('response_type'),
  scope: p.get('scope'),
  state: p.get('state'),
  nonce: p.get('nonce'),
  codeChallenge: p.get('code_challenge'),
  codeChallengeMethod: p.get('code_challenge_method'),
});
const approved = await pan('/v1/oauth/consent/approve', { requestId: started.requestId, panAccessToken });

const tokens = await client.authorizationCodeGrant(config, new URL(approved.redirectUri), {
  pkceCodeVerifier: verifier,
  expectedState: state,
  expectedNonce: nonce,
  idTokenExpected: true,
});
const claims = tokens.claims();
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
const introspected = await client.tokenIntrospection(config, refreshed.access_token);

let oldRefreshRefused = null;
try {
  await client.refreshTokenGrant(config, tokens.refresh_token);
  oldRefreshRefused = false;
} catch (error) {
  oldRefreshRefused = error.error ?? String(error);
}

await client.tokenRevocation(config, refreshed.access_token);
const afterRevocation = await client.tokenIntrospection(config, refreshed.access_token);

console.log(JSON.stringify({
  issuer: metadata.issuer,
  grantTypes: metadata.grant_types_supported,
  responseTypes: metadata.response_types_supported,
  codeChallengeMethods: metadata.code_challenge_methods_supported,
  consentRequired: started.consentRequired,
  subject: claims.sub,
  idTokenName: claims.name ?? null,
  userinfo,
  scope: tokens.scope,
  refreshedScope: refreshed.scope,
  refreshRotated: refreshed.refresh_token !== tokens.refresh_token,
  introspectedActive: introspected.active,
  introspectedSubject: introspected.sub ?? null,
  oldRefreshRefused,
  activeAfterRevocation: afterRevocation.active,
}));
