// Drives Debian's Chromium (headless, through playwright-core; no browser is ever downloaded) through Pan's hosted
// pages, the way a member would: from `start`, it fills whichever page it is shown (phone, SMS code, member chooser,
// email + password, OAuth consent) until the browser reaches a URL starting with `stopAt`.
//
//   node walk.mjs '<json>'      (see the fields below; the C# browser tests write it)
//
// The SMS code is fetched from `codeUrl` (a loopback endpoint of the test that reads Pan's SMS webhook); the n-th code
// of the run is `${codeUrl}&n=${n}`. Every page is saved as a PNG in `screenshots` (the consent page is the one the
// tests care about). Prints one JSON line: { ok, finalUrl, visited: [page kinds], check, error }.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const args = JSON.parse(process.argv[2] ?? '{}');
const {
  start, stopAt, codeUrl, phone, email, member, consent = 'approve', screenshots, name = 'walk', check,
  executablePath = '/usr/bin/chromium', timeoutMs = 20000,
} = args;

// Why these flags: root in a container needs --no-sandbox; without the background-networking ones Chromium's own
// connections are refused on a closed network and slow every page down. playwright-core gives each launch a fresh
// temporary profile (--user-data-dir), so no state survives between runs.
const launchArgs = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

const visited = [];
let codes = 0;
let shot = 0;

async function screenshot(page, kind) {
  if (!screenshots) return;
  mkdirSync(screenshots, { recursive: true });
  shot += 1;
  await page.screenshot({ path: join(screenshots, `${name}-${String(shot).padStart(2, '0')}-${kind}.png`), fullPage: true });
}

async function fetchCode() {
  codes += 1;
  const response = await fetch(`${codeUrl}&n=${codes}`);
  if (!response.ok) throw new Error(`no SMS code #${codes} (${response.status}: ${await response.text()})`);
  return (await response.text()).trim();
}

// Clicks a submit button and waits for the page it leads to (a POST may answer at the same URL).
async function submit(page, button) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load', timeout: timeoutMs }), button.click()]);
}

async function kindOf(page) {
  const path = new URL(page.url()).pathname;
  if (path.endsWith('/account/signed-in')) return 'forwarding';
  if (await page.locator('input[name="ticket"]').count()) return 'chooser';
  if (await page.locator('input[name="code"]').count()) return 'code';
  if (await page.locator('input[name="phone"]').count()) return 'phone';
  if (await page.locator('input[name="identifier"], input[name="answer"]').count()) return 'email';
  if (path.endsWith('/account/consent') || await page.locator('form[data-consent], button[name="decision"]').count()) return 'consent';
  return 'unknown';
}

async function act(page, kind) {
  switch (kind) {
    case 'forwarding':
      // The signed-in page forwards by a refresh; wait until the browser has left it.
      await page.waitForURL((u) => !u.pathname.endsWith('/account/signed-in'), { timeout: timeoutMs, waitUntil: 'load' });
      return;
    case 'phone':
      if (!phone) throw new Error('the phone page was shown but no phone was given');
      await page.fill('input[name="country_code"]', phone.countryCode ?? '886');
      await page.fill('input[name="phone"]', phone.national);
      await submit(page, page.locator('form:has(input[name="phone"]) button[type="submit"]'));
      return;
    case 'code':
      await page.fill('input[name="code"]', await fetchCode());
      await submit(page, page.locator('form:has(input[name="code"]) button[type="submit"]'));
      return;
    case 'chooser': {
      if (!member) throw new Error('the member chooser was shown but no member was named');
      const form = page.locator('form', { has: page.locator(`input[name="member"][value="${member}"]`) });
      await submit(page, form.locator('button[type="submit"]'));
      return;
    }
    case 'email':
      if (!email) throw new Error('the email page was shown but no email was given');
      if (await page.locator('input[name="identifier"]').count()) await page.fill('input[name="identifier"]', email.identifier);
      await page.fill('input[name="password"]', email.password);
      if (await page.locator('input[name="answer"]').count()) await page.fill('input[name="answer"]', email.answer ?? '');
      await submit(page, page.locator('form:has(input[name="password"]) button[type="submit"]'));
      return;
    case 'consent': {
      const choice = page.locator(`button[name="decision"][value="${consent}"], button[value="${consent}"]`).first();
      await submit(page, choice);
      return;
    }
    default:
      throw new Error(`unexpected page ${page.url()}: ${(await page.content()).slice(0, 2000)}`);
  }
}

const result = { ok: false, finalUrl: null, visited, check: null, error: null };
const browser = await chromium.launch({ executablePath, headless: true, args: launchArgs, timeout: timeoutMs });
try {
  const context = await browser.newContext({ locale: args.locale ?? 'en-US' });
  const page = await context.newPage();
  page.setDefaultTimeout(timeoutMs);
  await page.goto(start, { waitUntil: 'load' });
  for (let step = 0; step < 20 && !page.url().startsWith(stopAt); step++) {
    await page.waitForLoadState('load');
    let kind;
    try {
      kind = await kindOf(page);
    } catch (error) {
      // The signed-in page's refresh may navigate while the page is being read; read the next page instead.
      if (!String(error).includes('Execution context was destroyed')) throw error;
      continue;
    }

    visited.push(kind);
    await screenshot(page, kind);
    await act(page, kind);
  }

  result.finalUrl = page.url();
  if (!result.finalUrl.startsWith(stopAt)) throw new Error(`did not reach ${stopAt} after ${visited.join(' → ')}`);
  await screenshot(page, 'landed');
  if (check) {
    // A page of Pan read with the same browser afterwards (e.g. the sign-in page saying who is signed in).
    await page.goto(check, { waitUntil: 'load' });
    result.check = (await page.locator('main').innerText()).trim();
  }

  result.ok = true;
} catch (error) {
  result.error = String(error?.stack ?? error);
} finally {
  await browser.close();
}

console.log(JSON.stringify(result));
process.exitCode = result.ok ? 0 : 1;
