// Opens the review page in Debian's chromium (headless, never a downloaded
// browser) in both languages at a desktop width and a phone's (390x844):
// every page is screenshotted, nothing may be wider than the phone's
// screen, and the Chinese page's chrome may hold no English word (rule IDs,
// addresses, times and code aside). Then Release is clicked from the phone
// layout, in Chinese. Run by tests/admin_browser.rs:
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
// Words allowed in the Chinese chrome: names and code.
const ALLOWED = new Set(['sendwell', 'SIGHUP', 'token', 'admin', 'English', 'UTC']);
// The chrome: what the page itself says, not what the mail or the config says.
const CHROME = 'header, nav, h1, h2, h3:not(.small), th, button, .lead, .empty, .tile .l, .legend, .chip, .flash, footer, dt, label, summary, .why';
const PAGES = ['/', '/held', `/held/${id}`, `/m/${id}`, '/queue', '/decisions', '/door', '/suppressions'];
try {
  const page = await browser.newPage();
  // Anything the page tries to load from elsewhere is a failure.
  const foreign = [];
  page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:') && r.url() !== 'about:srcdoc') foreign.push(r.url()); });

  for (const lang of ['en', 'zh-CN']) {
    await page.goto(`${base}/lang?to=${lang}&next=/`);
    for (const [wname, width, height] of [['desktop', 1280, 900], ['phone', 390, 844]]) {
      await page.setViewportSize({ width, height });
      for (const path of PAGES) {
        await page.goto(`${base}${path}`);
        const name = `${lang}-${wname}-${path.replace(/\//g, '_').replace(/^_/, '') || 'overview'}.png`;
        await page.screenshot({ path: join(shots, name), fullPage: true });
        const wide = await page.evaluate(() => document.documentElement.scrollWidth);
        if (wide > width) await fail(`${lang} ${path} is ${wide}px wide at ${width}px`);
        if (lang === 'zh-CN') {
          // A message's page: its h1 is the mail's own subject, not the page's words.
          const chrome = path.includes(`/${id}`) ? CHROME.replace('h1, ', '') : CHROME;
          const texts = await page.$$eval(chrome, (els) => els.map((e) => {
            const c = e.cloneNode(true);
            c.querySelectorAll('.rule, .id, .mono, code, .zone, .brand, a[href^="mailto"]').forEach((x) => x.remove());
            return c.textContent;
          }));
          for (const t of texts) {
            const clean = t.replace(/Message-ID/g, '').replace(/[\w.+-]+@[\w.-]+/g, '').replace(/[A-Z][A-Za-z_]+\/[A-Za-z_]+/g, '');
            for (const word of clean.match(/[A-Za-z]{2,}/g) || []) {
              if (!ALLOWED.has(word)) await fail(`English word "${word}" on the Chinese page ${path}: ${t.trim().slice(0, 200)}`);
            }
          }
        }
      }
    }
  }

  // The reviewer's page shows the rule; the sender's view shows it too, read only.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${base}/held/${id}`);
  const heading = await page.textContent('h1');
  if (!heading.includes('Your order has shipped')) await fail(`unexpected page: ${heading}`);
  if (!(await page.isVisible('text=TEMPLATE_PLACEHOLDER'))) await fail('the report does not show the rule');
  await page.goto(`${base}/m/${id}`);
  if (!(await page.isVisible('text=TEMPLATE_PLACEHOLDER'))) await fail('the sender view does not show the rule');
  if (await page.isVisible('#release')) await fail('the sender view offers Release');

  // Release from the phone layout, in Chinese: the button is on screen.
  await page.goto(`${base}/held/${id}`);
  const box = await page.locator('#release').boundingBox();
  if (!box || box.x < 0 || box.x + box.width > 390) await fail(`Release is off screen: ${JSON.stringify(box)}`);
  await Promise.all([page.waitForNavigation(), page.click('#release')]);
  const flash = await page.textContent('.flash');
  if (!flash.includes('已放行')) await fail(`no confirmation after Release: ${flash}`);
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
