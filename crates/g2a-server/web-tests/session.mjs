// Drives the Management Center in headless Debian chromium as a user
// would: log in (wrongly, then rightly), search, open a session, click a
// chat message and compare the canvas with the recorded frame pixel for
// pixel, scrub, play at 16x, unlock an encrypted session (wrong, then
// right passphrase), and be refused a session out of reach.
//
// Run by crates/g2a-server/tests/browser.rs, which starts the service and
// writes the expected frames. Environment: G2A_URL, G2A_EXPECT (folder of
// <micros>.rgba files), G2A_PASSPHRASE, G2A_TM_PASSWORD, G2A_SCREENSHOT.
import { openPage } from './browser.mjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const url = process.env.G2A_URL;
const expectDir = process.env.G2A_EXPECT;
const t0 = Date.now();
let current = 'start';
const step = (msg) => { current = msg; console.log('step [' + (Date.now() - t0) + ' ms]: ' + msg); };
const fail = (msg) => { console.error('FAIL (step "' + current + '"): ' + msg); process.exit(1); };

const { browser, page } = await openPage();
const consoleErrors = [];
page.on('pageerror', (e) => consoleErrors.push(String(e)));

async function canvasEquals(micros) {
  // The comparison runs in the page: only the verdict comes back.
  const want = readFileSync(join(expectDir, micros + '.rgba')).toString('base64');
  return page.evaluate((b64) => {
    const want = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const c = document.querySelector('#screen');
    const got = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    if (got.length !== want.length) return 'size ' + c.width + 'x' + c.height + ', ' + got.length + ' bytes vs ' + want.length;
    let diff = 0;
    for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) diff++;
    return diff === 0 ? null : diff + ' bytes differ';
  }, want);
}

async function waitFrame(pred, what) {
  try {
    await page.waitForFunction(pred, null, { timeout: 20000, polling: 50 });
  } catch (e) {
    const s = await page.evaluate(() => JSON.stringify(window.g2aPlayerState));
    fail(what + ': not reached; player state ' + s);
  }
}

try {
  step('log in with a wrong password, then the right one');
  await page.goto(url + '/');
  await page.fill('input[name=name]', 'tm');
  await page.fill('input[name=password]', 'wrong password');
  await page.click('button[type=submit]');
  await page.waitForSelector('#message:not([hidden])');
  const msg = await page.textContent('#message');
  if (!msg.includes('unknown user or wrong password')) fail('login error shown: ' + msg);
  await page.fill('input[name=password]', process.env.G2A_TM_PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForSelector('#results tbody tr[data-session]');

  step('search lists the team manager\'s sessions only, newest first');
  const ids = await page.$$eval('#results tbody tr[data-session]', (rows) => rows.map((r) => r.dataset.session));
  if (JSON.stringify([...ids].sort()) !== JSON.stringify(['E1', 'S1'])) fail('search shows ' + ids);
  await page.fill('input[name=id]', 'S1');
  await page.click('#search-form button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('#results tbody tr[data-session]').length === 1);

  step('open a session: metadata, chat, events, diagnostics');
  await page.click('#results tbody tr[data-session=S1] a');
  await page.waitForSelector('#s-chat li[data-t]');
  const chat = await page.$$eval('#s-chat li[data-t]', (li) => li.map((l) => l.textContent));
  if (chat.length !== 2 || !chat[1].includes('<b>not bold</b>')) fail('chat: ' + chat);
  await page.waitForSelector('#s-events li');
  await page.waitForSelector('#s-diag li button');
  await page.click('#s-diag li button');
  await page.waitForSelector('#s-doc:not([hidden])');
  if (!(await page.textContent('#s-doc')).includes('"os": "Debian 12"')) fail('diagnostics view');
  await waitFrame(() => window.g2aPlayerState && window.g2aPlayerState.drawn > 0, 'first frame');
  let d = await canvasEquals(0);
  if (d) fail('first frame: ' + d);

  step('clicking a chat message shows that frame exactly');
  await page.click('#s-chat li[data-t="1500000"]');
  await waitFrame(() => window.g2aPlayerState.ts === 1500000, 'chat seek');
  d = await canvasEquals(1500000);
  if (d) fail('frame at the chat message: ' + d);

  step('scrub on the timeline');
  const box = await page.locator('#timeline').boundingBox();
  await page.mouse.click(box.x + box.width * 0.3, box.y + box.height / 2);
  await waitFrame(() => Math.abs(window.g2aPlayerState.t - 570000) < 40000, 'timeline click');
  await page.mouse.move(box.x + box.width * 0.8, box.y + box.height / 2);
  await page.waitForSelector('#tl-thumb:not([hidden])');

  step('keyboard: frame step and seek');
  await page.click('#screen');
  await page.keyboard.press('Home');
  await waitFrame(() => window.g2aPlayerState.t === 0, 'Home');
  await page.keyboard.press('.');
  await waitFrame(() => window.g2aPlayerState.ts === 100000, 'frame step');
  d = await canvasEquals(100000);
  if (d) fail('frame after a step: ' + d);

  step('play at 16x to the end');
  await page.selectOption('#c-speed', '16');
  await page.keyboard.press('Home');
  await waitFrame(() => window.g2aPlayerState.t === 0, 'Home');
  await page.click('#c-play');
  await waitFrame(() => window.g2aPlayerState.t === 1900000 && !window.g2aPlayerState.playing, 'end of playback');
  d = await canvasEquals(1900000);
  if (d) fail('last frame: ' + d);
  if (process.env.G2A_SCREENSHOT) {
    await page.click('#s-chat li[data-t="1500000"]');
    await waitFrame(() => window.g2aPlayerState.ts === 1500000, 'chat seek');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: process.env.G2A_SCREENSHOT, fullPage: false });
  }

  step('export an MP4 in the background and download it');
  await page.selectOption('#export-form select[name=format]', 'mp4');
  await page.fill('#export-form input[name=from]', '0.5');
  await page.click('#export-form button');
  await page.waitForSelector('#export-jobs a.download', { timeout: 60000 });
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-jobs a.download')]);
  await download.saveAs(process.env.G2A_DOWNLOAD);

  step('an encrypted session asks for its passphrase');
  await page.goto(url + '/#/session/E1');
  await page.waitForSelector('#unlock-form:not([hidden])');
  await page.fill('input[name=passphrase]', 'not the passphrase at all');
  await page.click('#unlock-form button');
  await page.waitForFunction(() => document.querySelector('#unlock-why').textContent.includes('wrong session replay passphrase'));
  await page.fill('input[name=passphrase]', process.env.G2A_PASSPHRASE);
  await page.click('#unlock-form button');
  await page.waitForSelector('#s-body:not([hidden])');
  await waitFrame(() => window.g2aPlayerState && window.g2aPlayerState.drawn > 0, 'encrypted first frame');
  d = await canvasEquals(0);
  if (d) fail('encrypted session first frame: ' + d);

  step('a session out of reach is not found');
  await page.goto(url + '/#/session/S2');
  await page.waitForSelector('#message:not([hidden])');
  if (!(await page.textContent('#message')).includes('no such session or not permitted')) fail('S2 refusal');

  step('log out');
  await page.goto(url + '/#/search');
  if (!(await page.isHidden('#nav-audit'))) fail('a team manager sees the audit link');
  await page.click('#logout');
  await page.waitForSelector('#login-form');
  step('a company manager manages the organisation and reads the audit log');
  await page.fill('input[name=name]', 'admin');
  await page.fill('input[name=password]', process.env.G2A_ADMIN_PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForSelector('#results tbody tr[data-session]');
  if (await page.isHidden('#nav-audit')) fail('no audit link for the company manager');
  await page.click('#nav-org');
  await page.waitForSelector('#o-portals tbody tr');
  await page.fill('form[data-action=add_portal] input[name=name]', 'web-portal');
  await page.click('form[data-action=add_portal] button');
  await page.waitForFunction(() => [...document.querySelectorAll('#o-portals tbody td')].some((td) => td.textContent === 'web-portal'));
  await page.fill('form[data-action=add_portal] input[name=name]', 'web-portal');
  await page.click('form[data-action=add_portal] button');
  await page.waitForFunction(() => document.querySelector('#message').textContent.includes('already exists'));
  step('a company manager issues a recorder token, sees it once, and revokes it');
  await page.waitForSelector('#o-recorders:not([hidden])');
  await page.fill('#recorder-form input[name=name]', 'web-recorder');
  await page.fill('#recorder-form input[name=portal]', 'acme');
  await page.click('#recorder-form button');
  await page.waitForSelector('#recorder-token:not([hidden])');
  const token = await page.inputValue('#recorder-token input');
  if (!/^g2a_rec_[0-9a-f]{64}$/.test(token)) fail('recorder token looks wrong: ' + token);
  const recRow = '#o-recorders tbody tr:has-text("web-recorder")';
  if (!(await page.textContent(recRow)).includes('active')) fail('new recorder not active');
  page.once('dialog', (d) => d.accept());
  await page.click(recRow + ' button');
  await page.waitForFunction(() => [...document.querySelectorAll('#o-recorders tbody tr')].some((tr) => tr.textContent.includes('web-recorder') && tr.textContent.includes('revoked')));
  if ((await page.content()).includes(token)) fail('the token is still in the page after leaving it');
  console.log('recorder token: ' + token);
  await page.click('#nav-audit');
  await page.waitForSelector('#audit tbody tr');
  const audit = await page.$$eval('#audit tbody tr', (rows) => rows.map((r) => r.textContent));
  if (!audit.some((r) => r.includes('add-portal') && r.includes('web-portal'))) fail('audit lacks the new portal');
  if (!audit.some((r) => r.includes('tm') && r.includes('replay') && r.includes('E1'))) fail('audit lacks the replay of E1');
  if (!audit.some((r) => r.includes('export-download'))) fail('audit lacks the download');
  if (!audit.some((r) => r.includes('revoke-recorder-token') && r.includes('web-recorder'))) fail('audit lacks the revoked token');
  if (consoleErrors.length) fail('page errors: ' + consoleErrors.join('; '));
  console.log('ok');
} catch (e) {
  fail(String(e && e.stack || e));
} finally {
  await browser.close();
}
