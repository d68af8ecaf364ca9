// Calls Pan from web pages on other origins, as a browser app does, in Debian's Chromium (headless, through
// playwright-core; no browser is ever downloaded): for each page in `pages` (served by the test on its own loopback
// port), it opens the page and, from inside it, fetches
//   grpcWeb          a gRPC-Web call (binary, framed by hand) of ValidateDisplayNameV2 at its plain path,
//   grpcWebPrefixed  the same under `prefix` (/gapi),
//   json             the same rpc as HTTP/JSON,
//   discovery        the OpenID Connect discovery document.
// Whether the browser lets the page read each answer is what CORS decides; a refused one rejects with a TypeError.
//
//   node cors.mjs '<json>'      { pan, pages: [url…], prefix, displayName, executablePath, timeoutMs }
//
// Prints one JSON line: { ok, pages: { <url>: { grpcWeb, grpcWebPrefixed, json, discovery } }, error }, where each call
// is { read: true, status, grpcStatus? } or { read: false, error }.
import { chromium } from 'playwright-core';

const args = JSON.parse(process.argv[2] ?? '{}');
const { pan, pages = [], prefix = '/gapi', displayName = 'corsbrowser', executablePath = '/usr/bin/chromium', timeoutMs = 20000 } = args;

// As in walk.mjs: root in a container needs --no-sandbox; the rest keeps Chromium off the network.
const launchArgs = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

// Runs inside the page, so every fetch has the page's origin.
async function callPan({ pan, prefix, displayName }) {
  const method = '/pan.general.member.MemberServiceV2/ValidateDisplayNameV2';

  // ValidateDisplayNameV2Request { string display_name = 1; } as protobuf, in one uncompressed gRPC-Web frame.
  function frame() {
    const name = new TextEncoder().encode(displayName);
    const message = new Uint8Array([0x0a, name.length, ...name]);
    const body = new Uint8Array(5 + message.length);
    new DataView(body.buffer).setUint32(1, message.length);
    body.set(message, 5);
    return body;
  }

  // The status from the trailer frame (flag 0x80), or from the headers of a trailers-only answer.
  function grpcStatus(response, bytes) {
    let status = response.headers.get('grpc-status');
    for (let at = 0; at + 5 <= bytes.length;) {
      const length = new DataView(bytes.buffer, bytes.byteOffset + at + 1, 4).getUint32(0);
      if (bytes[at] & 0x80) {
        const match = /grpc-status:\s*(\d+)/i.exec(new TextDecoder().decode(bytes.slice(at + 5, at + 5 + length)));
        if (match) status = match[1];
      }
      at += 5 + length;
    }
    return status;
  }

  async function attempt(call) {
    try {
      return { read: true, ...(await call()) };
    } catch (error) {
      return { read: false, error: `${error?.name}: ${error?.message}` };
    }
  }

  const grpcWeb = (path) => attempt(async () => {
    const response = await fetch(pan + path, {
      method: 'POST',
      headers: { 'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1', 'x-user-agent': 'grpc-web-javascript/0.1' },
      body: frame(),
    });
    return { status: response.status, grpcStatus: grpcStatus(response, new Uint8Array(await response.arrayBuffer())) };
  });

  return {
    grpcWeb: await grpcWeb(method),
    grpcWebPrefixed: await grpcWeb(prefix + method),
    json: await attempt(async () => {
      const response = await fetch(pan + '/v2/member/validate-display-name-v2', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ displayName }),
      });
      return { status: response.status, body: await response.text() };
    }),
    discovery: await attempt(async () => {
      const response = await fetch(pan + '/.well-known/openid-configuration');
      return { status: response.status, issuer: (await response.json()).issuer };
    }),
  };
}

const result = { ok: false, pages: {}, error: null };
const browser = await chromium.launch({ executablePath, headless: true, args: launchArgs, timeout: timeoutMs });
try {
  const context = await browser.newContext();
  for (const url of pages) {
    const page = await context.newPage();
    page.setDefaultTimeout(timeoutMs);
    await page.goto(url, { waitUntil: 'load' });
    result.pages[url] = await page.evaluate(callPan, { pan: pan.replace(/\/$/, ''), prefix, displayName });
    await page.close();
  }

  result.ok = true;
} catch (error) {
  result.error = String(error?.stack ?? error);
} finally {
  await browser.close();
}

console.log(JSON.stringify(result));
process.exitCode = result.ok ? 0 : 1;
