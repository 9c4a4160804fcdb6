// Debian's chromium, headless, as every browser script here starts it
// (playwright-core cannot download browsers on the test machines).
import { chromium } from 'playwright-core';

export async function openPage({ width = 1400, height = 1000, timeout = 20000 } = {}) {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
  });
  const page = await (await browser.newContext({ viewport: { width, height } })).newPage();
  page.setDefaultTimeout(timeout);
  return { browser, page };
}
