// Opens the review page in Debian's chromium (headless, never a downloaded
// browser), screenshots the overview, the held message (as a reviewer and as
// its sender sees it from the hold notice's link) and the queue, and
// clicks Release. Run by tests/admin_browser.rs:
//   node release.mjs BASE_URL MESSAGE_ID SCREENSHOT_DIR
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [base, id, shots] = process.argv.slice(2);
if (!base || !id || !shots) {
  console.error('usage: node release.mjs BASE_URL MESSAGE_ID SCREENSHOT_DIR');
  process.exit(2);
}
const profile = mkdtempSync(join(tmpdir(), 'sendwell-chromium-'));
// A fresh profile each run (playwright passes it as --user-data-dir).
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
const fail = async (msg) => {
  console.error(msg);
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
  process.exit(1);
};
try {
  const page = await browser.newPage();
  // Anything the page tries to load from elsewhere is a failure.
  const foreign = [];
  page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:') && r.url() !== 'about:srcdoc') foreign.push(r.url()); });

  await page.goto(`${base}/`);
  await page.screenshot({ path: join(shots, 'overview.png'), fullPage: true });

  await page.goto(`${base}/held/${id}`);
  const heading = await page.textContent('h1');
  if (!heading.includes('Your order has shipped')) await fail(`unexpected page: ${heading}`);
  if (!(await page.isVisible('text=TEMPLATE_PLACEHOLDER'))) await fail('the report does not show the rule');
  await page.screenshot({ path: join(shots, 'held.png'), fullPage: true });

  // What the sender sees from the hold notice's link: the same report, read only.
  await page.goto(`${base}/m/${id}`);
  if (!(await page.isVisible('text=TEMPLATE_PLACEHOLDER'))) await fail('the sender view does not show the rule');
  if (await page.isVisible('#release')) await fail('the sender view offers Release');
  await page.screenshot({ path: join(shots, 'sender.png'), fullPage: true });

  await page.goto(`${base}/held/${id}`);
  await Promise.all([page.waitForNavigation(), page.click('#release')]);
  const flash = await page.textContent('.flash');
  if (!flash.includes('Released')) await fail(`no confirmation after Release: ${flash}`);
  await page.screenshot({ path: join(shots, 'released.png'), fullPage: true });

  await page.goto(`${base}/queue`);
  await page.screenshot({ path: join(shots, 'queue.png'), fullPage: true });
  if (foreign.length) await fail(`the page loaded from elsewhere: ${foreign.join(', ')}`);
  console.log(`released message ${id}: ${flash.trim()}`);
} catch (e) {
  await fail(`browser test failed: ${e.stack || e}`);
}
await browser.close();
rmSync(profile, { recursive: true, force: true });
