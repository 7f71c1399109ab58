// The support page in real headless Chromium (Debian's `chromium`, driven by playwright-core):
// sign-in rules, finding a render, its timeline, a stage's decision, the master playing and
// seeking, a retry whose journal entry appears without a reload, the read-only key's view, and
// axe-core on every page. Run by e2e/tests/support_page.rs against a live stack; it prints one
// line per check and exits non-zero on the first failure. Screenshots (1440x900) go to SHOTS.
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const env = process.env;
const BASE = env.BASE_URL;
const DONE = env.RENDER_DONE; // a succeeded render of CREATOR
const FAILED = env.RENDER_FAILED; // a failed render with a failed stage
const CREATOR = env.CREATOR;
const SHOTS = env.SHOTS;
const TIMEOUT = 20_000;
const NAVIGATION_TIMEOUT = 60_000;
mkdirSync(SHOTS, { recursive: true });

const say = (line) => console.log(`  [browser] ${line}`);
function assert(cond, message) {
  if (!cond) throw new Error(message);
}

async function api(path, key) {
  const r = await fetch(BASE + path, { headers: { authorization: `Bearer ${key}` } });
  assert(r.ok, `${path}: ${r.status}`);
  return r.json();
}

const browser = await chromium.launch({
  executablePath: env.CHROMIUM,
  args: [
    // Root in a container has no user namespace for the sandbox; the page is our own.
    '--no-sandbox',
    '--disable-dev-shm-usage',
    '--autoplay-policy=no-user-gesture-required',
    // A closed network: without these, Chromium's own background connections (updates, sync,
    // Google's hosts) are refused or hang in name lookups and can stall the page's first load.
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-features=Translate,OptimizationHints,MediaRouter',
  ],
});
const problems = [];

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  // A navigation loads 15 modules through the Worker; on a loaded two-core machine the first
  // one has been seen to need more than a click's 20 s.
  page.setDefaultNavigationTimeout(NAVIGATION_TIMEOUT);
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // A CSP violation is a bug of the page: it would break in production too.
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) {
      problems.push(`CSP: ${m.text()}`);
    }
  });
  return page;
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

async function axe(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { resultTypes: ['violations'] }),
  );
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const minor = result.violations.length - bad.length;
  assert(
    bad.length === 0,
    `${name}: axe found ${bad
      .map((v) => `${v.impact} ${v.id} (${v.nodes.length}: ${v.nodes[0]?.target})`)
      .join('; ')}`,
  );
  say(`axe ${name}: no serious or critical violation (${minor} minor)`);
}

async function signIn(page, key) {
  await page.goto(`${BASE}/support/`);
  await page.getByTestId('signin-key').fill(key);
  await page.getByTestId('signin-submit').click();
}

async function openStage(page, id) {
  await page.locator(`[data-testid="timeline-row"][data-stage="${id}"] button`).first().click();
  await page.getByTestId('stage-details').waitFor();
  await page
    .getByTestId('stage-details')
    .filter({ hasText: id })
    .waitFor();
}

try {
  const done = await api(`/v1/support/renders/${DONE}`, 'sk_test_support');
  const failed = await api(`/v1/support/renders/${FAILED}`, 'sk_test_support');
  const failedStage = failed.stages.find((s) => s.status === 'failed');
  assert(failedStage, `render ${FAILED} has no failed stage`);

  // 1. An app key cannot sign in; the key never lands in storage.
  {
    const page = await newPage();
    const started = Date.now();
    await page.goto(`${BASE}/support/`);
    await page.getByTestId('signin-form').waitFor();
    say(`first load: the sign-in form in ${Date.now() - started} ms`);
    await axe(page, 'sign-in');
    await shot(page, 'signin');
    await signIn(page, 'sk_test_demo');
    const error = page.getByTestId('signin-error');
    await error.filter({ hasText: /app key/i }).waitFor();
    const cookies = await page.context().cookies();
    assert(!cookies.some((c) => c.name === 'cs_support'), 'an app key got a session cookie');
    say(`app key refused: "${(await error.textContent()).trim()}"`);
    await page.context().close();
  }

  // 2. The read-only key sees everything but no action controls.
  {
    const page = await newPage();
    await signIn(page, 'sk_test_support');
    await page.getByTestId('signout').waitFor();
    await page.goto(`${BASE}/support/#/renders/${DONE}`);
    await page.getByTestId('render-page').waitFor();
    await page.getByTestId('timeline-row').first().waitFor();
    await openStage(page, done.stages[0].id);
    for (const id of ['actions', 'action-retry', 'action-reroute', 'action-restart']) {
      assert((await page.getByTestId(id).count()) === 0, `read-only key sees ${id}`);
    }
    await shot(page, 'render-read-only');
    say('read-only key: render page with no action controls');
    await page.context().close();
  }

  // 3. The admin key: find, open, inspect, play, retry.
  const page = await newPage();
  await signIn(page, 'sk_test_support_admin');
  await page.getByTestId('signout').waitFor();
  const cookie = (await page.context().cookies()).find((c) => c.name === 'cs_support');
  assert(cookie?.httpOnly && cookie.secure && cookie.sameSite === 'Strict', `cookie ${JSON.stringify(cookie)}`);
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  assert(!stored.includes('sk_test'), 'the key is kept in web storage');
  say('admin signed in: HttpOnly, Secure, SameSite=Strict session cookie; no key in storage');

  // Find the sample render by creator.
  await page.getByTestId('search-creator').fill(CREATOR);
  await page.getByTestId('search-form').locator('button[type="submit"]').click();
  const row = page.getByTestId('render-row').filter({ hasText: DONE });
  await row.waitFor();
  await axe(page, 'search');
  await shot(page, 'search');
  say(`search by creator ${CREATOR}: ${await page.getByTestId('render-row').count()} rows, ${DONE} among them`);
  await row.getByRole('link', { name: DONE }).click();
  await page.getByTestId('render-page').waitFor();

  // Every stage on the timeline.
  await page.getByTestId('timeline-row').first().waitFor();
  const rows = await page.getByTestId('timeline-row').evaluateAll((els) => els.map((e) => e.dataset.stage));
  const expected = done.stages.map((s) => s.id);
  assert(
    JSON.stringify([...rows].sort()) === JSON.stringify([...expected].sort()),
    `timeline rows ${rows.length} vs stages ${expected.length}`,
  );
  say(`timeline: all ${rows.length} stages`);
  await shot(page, 'render');

  // A stage's decision with its five scores per candidate.
  const motion = done.stages.find((s) => s.kind === 'motion') ?? done.stages[0];
  await openStage(page, motion.id);
  const candidates = page.getByTestId('decision-candidates');
  await candidates.waitFor();
  const scores = await candidates.getByTestId('score').count();
  const n = motion.decision.candidates.length;
  assert(n > 0 && scores === 5 * n, `${scores} score cells for ${n} candidates`);
  say(`${motion.id}: decision with ${n} candidates, ${scores} scores`);
  await axe(page, 'render');
  await shot(page, 'stage-details');

  // Keyboard only: focus a timeline row's button, Enter opens that stage, Escape-free return.
  const other = done.stages.find((s) => s.kind === 'keyframe') ?? done.stages[1];
  const button = page.locator(`[data-testid="timeline-row"][data-stage="${other.id}"] button`).first();
  await button.focus();
  await page.keyboard.press('Enter');
  await page.getByTestId('stage-details').filter({ hasText: other.id }).waitFor();
  say(`keyboard: Enter on ${other.id}'s timeline row opened its details`);

  // Readable at 1280 px: nothing wider than the window.
  await page.setViewportSize({ width: 1280, height: 800 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert(overflow <= 0, `at 1280 px the page is ${overflow} px wider than the window`);
  await page.screenshot({ path: join(SHOTS, 'render-1280.png') });
  await page.setViewportSize({ width: 1440, height: 900 });
  say('1280 px: no horizontal scrolling');

  // The master plays and seeks.
  const video = page.getByTestId('master-video');
  await video.scrollIntoViewIfNeeded();
  const played = await video.evaluate(async (v) => {
    v.muted = true;
    await v.play();
    const deadline = Date.now() + 15000;
    while (v.currentTime < 0.5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const t = v.currentTime;
    v.pause();
    const seeked = new Promise((r) => v.addEventListener('seeked', r, { once: true }));
    v.currentTime = Math.min(20, v.duration / 2);
    await Promise.race([seeked, new Promise((r) => setTimeout(r, 10000))]);
    return { t, duration: v.duration, after: v.currentTime, error: v.error?.message ?? null };
  });
  assert(played.error === null, `video error ${played.error}`);
  assert(played.t >= 0.5, `the master did not play (${played.t} s)`);
  assert(Math.abs(played.after - Math.min(20, played.duration / 2)) < 1, `seek landed at ${played.after}`);
  say(`master played to ${played.t.toFixed(1)} s of ${played.duration.toFixed(1)} s and seeked to ${played.after.toFixed(1)} s`);

  // Retry the failed render's failed stage; its journal entry appears without a reload.
  await page.goto(`${BASE}/support/#/renders/${FAILED}`);
  await page.getByTestId('render-page').filter({ hasText: FAILED }).waitFor();
  await page.getByTestId('timeline-row').first().waitFor();
  await page.evaluate(() => {
    window.__sameDocument = true;
  });
  await openStage(page, failedStage.id);
  await page.getByTestId('action-retry').click();
  const dialog = page.getByTestId('action-dialog');
  await dialog.waitFor();
  assert(await page.getByTestId('action-confirm').isDisabled(), 'confirm enabled without a reason');
  const reason = `browser test: retry ${failedStage.id} once the provider recovered`;
  await page.getByTestId('action-reason').fill(reason);
  await axe(page, 'action dialog');
  await shot(page, 'action-dialog');
  await page.getByTestId('action-confirm').click();
  await page.getByTestId('journal-entry').filter({ hasText: 'retry_stage' }).first().waitFor({ timeout: 30_000 });
  assert(await page.evaluate(() => window.__sameDocument === true), 'the page reloaded');
  say(`retry of ${failedStage.id} journaled and shown without a reload`);
  await shot(page, 'after-retry');

  // The fleet page.
  await page.goto(`${BASE}/support/#/fleet`);
  await page.getByTestId('fleet').waitFor();
  await page.getByTestId('fleet').filter({ hasText: 'kling' }).waitFor();
  await axe(page, 'fleet');
  await shot(page, 'fleet');
  say('fleet page');

  // The cookie alone does not make an action: without the session's CSRF token it is refused.
  const forged = await page.evaluate(async (id) => {
    const r = await fetch(`/v1/support/renders/${id}/actions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'pause', reason: 'forged' }),
    });
    return { status: r.status, body: await r.text() };
  }, DONE);
  assert(forged.status === 403 && /CSRF/.test(forged.body), `an action without the CSRF token: ${forged.status} ${forged.body}`);
  say('an action on the cookie without X-CSRF-Token: 403');

  // Sign out ends the session.
  await page.getByTestId('signout').click();
  await page.getByTestId('signin-form').waitFor();
  const after = await page.evaluate(async () => (await fetch('/v1/support/session')).status);
  assert(after === 401, `after sign-out the session answers ${after}`);
  say('signed out: the session is gone');

  assert(problems.length === 0, problems.join('\n'));
  say(`screenshots in ${SHOTS}`);
} catch (e) {
  console.error(`  [browser] FAILED: ${e.message}`);
  for (const p of problems) console.error(`  [browser] ${p}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
