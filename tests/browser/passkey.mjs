// Adds a passkey and signs in with it from a web page, as a browser app does, in Debian's Chromium (headless, through
// playwright-core) with Chromium's own virtual authenticator (DevTools WebAuthn domain: CTAP2, internal transport,
// resident keys, user verification) standing in for the device. The page (served by the test, on `page`) calls Pan's
// HTTP/JSON routes; the browser's WebAuthn makes and checks everything between them:
//   BeginPasskeyRegistration → parseCreationOptionsFromJSON → navigator.credentials.create → toJSON →
//   FinishPasskeyRegistration, then BeginPasskeySignIn → parseRequestOptionsFromJSON → navigator.credentials.get →
//   toJSON → FinishPasskeySignIn.
//
//   node passkey.mjs '<json>'   { pan, page, accessToken, verifyToken, name, executablePath, timeoutMs }
//
// Prints one JSON line: { ok, passkeyId, authToken, credentials, error }; credentials = what the virtual
// authenticator holds afterwards (its count and whether each is resident).
import { chromium } from 'playwright-core';

const args = JSON.parse(process.argv[2] ?? '{}');
const { pan, page: pageUrl, accessToken, verifyToken, name = 'Browser key', executablePath = '/usr/bin/chromium', timeoutMs = 20000 } = args;

const launchArgs = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

// Runs inside the page, so every fetch and every WebAuthn call has the page's origin.
async function addAndSignIn({ pan, accessToken, verifyToken, name }) {
  async function call(route, body) {
    const response = await fetch(pan + route, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await response.text();
    if (!response.ok) throw new Error(`${route}: HTTP ${response.status} ${text}`);
    return JSON.parse(text);
  }

  const begun = await call('/v2/member/begin-passkey-registration', { accessToken, verifyToken });
  const creation = PublicKeyCredential.parseCreationOptionsFromJSON(JSON.parse(begun.optionsJson));
  const created = await navigator.credentials.create({ publicKey: creation });
  const finished = await call('/v2/member/finish-passkey-registration', {
    accessToken, registrationId: begun.registrationId, credentialJson: JSON.stringify(created.toJSON()), name,
  });

  const signIn = await call('/v2/member/begin-passkey-sign-in', {});
  const request = PublicKeyCredential.parseRequestOptionsFromJSON(JSON.parse(signIn.optionsJson));
  const asserted = await navigator.credentials.get({ publicKey: request });
  const done = await call('/v2/member/finish-passkey-sign-in', { signInId: signIn.signInId, credentialJson: JSON.stringify(asserted.toJSON()) });
  return { passkeyId: finished.passkeyId, authToken: done.authToken };
}

const result = { ok: false, passkeyId: null, authToken: null, credentials: null, error: null };
const browser = await chromium.launch({ executablePath, headless: true, args: launchArgs, timeout: timeoutMs });
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(timeoutMs);
  await page.goto(pageUrl, { waitUntil: 'load' });
  const devtools = await context.newCDPSession(page);
  await devtools.send('WebAuthn.enable');
  const { authenticatorId } = await devtools.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  Object.assign(result, await page.evaluate(addAndSignIn, { pan: pan.replace(/\/$/, ''), accessToken, verifyToken, name }));
  const { credentials } = await devtools.send('WebAuthn.getCredentials', { authenticatorId });
  result.credentials = credentials.map((c) => ({ resident: c.isResidentCredential, signCount: c.signCount }));
  result.ok = true;
} catch (error) {
  result.error = String(error?.stack ?? error);
} finally {
  await browser.close();
}

console.log(JSON.stringify(result));
process.exitCode = result.ok ? 0 : 1;
