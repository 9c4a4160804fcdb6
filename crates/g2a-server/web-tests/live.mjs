// Follows a recording while another process records and uploads it: the
// search shows it as live, the player sits at the live edge and moves with
// it (the canvas showing exactly the frame of its time), a scrub back
// leaves the edge and stays behind it, "Live" returns to the edge, and the
// end of the recording ends live mode.
//
// Run by crates/g2a-server/tests/browser.rs. Environment: G2A_URL,
// G2A_EXPECT (folder of clip<k>.rgba: the frame recorded at k*100 ms is
// clip<k mod 40>), G2A_TM_PASSWORD.
import { openPage } from './browser.mjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const url = process.env.G2A_URL;
const expectDir = process.env.G2A_EXPECT;
const consoleErrors = [];
const fail = (msg) => { console.error('FAIL: ' + msg + '\npage errors: ' + consoleErrors.join('; ')); process.exit(1); };
const t0 = Date.now();
const step = (msg) => console.log('step [' + (Date.now() - t0) + ' ms]: ' + msg);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// FNV-1a over the bytes, the same in the page and here.
function fnv(bytes) {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) { h ^= bytes[i]; h = Math.imul(h, 0x01000193) >>> 0; }
  return h;
}
const clipSums = [];
for (let k = 0; k < 40; k++) clipSums.push(fnv(readFileSync(join(expectDir, 'clip' + k + '.rgba'))));

const { browser, page } = await openPage();
page.on('pageerror', (e) => consoleErrors.push(String(e)));
page.on('crash', () => consoleErrors.push('renderer crashed'));

// The player's state and the canvas's checksum, read together (the page
// updates both in one task, so they belong to the same frame).
async function sample() {
  const s = await page.evaluate(`(() => {
    ${fnv.toString()}
    const c = document.querySelector('#screen');
    const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    return Object.assign({ sum: fnv(px) }, window.g2aPlayerState);
  })()`);
  return s;
}

async function checkFrame(what) {
  const s = await sample();
  const k = Math.round(s.ts / 100000);
  if (s.ts % 100000 !== 0) fail(what + ': frame time ' + s.ts + ' is not a recorded frame');
  if (s.sum !== clipSums[k % 40]) fail(what + ': canvas differs from the frame recorded at ' + s.ts + ' us');
  return s;
}

// `pred` runs in the page (the CSP allows no eval, so no closures over
// test values); it must allow for no player yet: a predicate that throws
// ends the wait at once.
async function waitState(pred, what, timeout = 20000) {
  try {
    await page.waitForFunction(pred, null, { timeout, polling: 50 });
  } catch (e) {
    const s = await page.evaluate(() => JSON.stringify(window.g2aPlayerState) + '; message: ' + document.querySelector('#message').textContent);
    fail(what + ': not reached (' + String(e).split('\n')[0] + '); player state ' + s);
  }
}

try {
  step('log in as the team manager');
  await page.goto(url + '/');
  await page.fill('input[name=name]', 'tm');
  await page.fill('input[name=password]', process.env.G2A_TM_PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForSelector('#results tbody tr');

  step('the session being recorded appears in the search as live');
  for (let i = 0; ; i++) {
    const found = await page.evaluate(async () => (await (await fetch('/api/v1/sessions?id=L1')).json()).sessions);
    if (found.length && found[0].live) break;
    if (i > 100) fail('the live session never appeared in the search');
    await sleep(200);
  }
  await page.evaluate(() => { location.hash = '#/search?id=L1'; });
  await page.waitForSelector('#results tbody tr.live[data-session=L1]');
  await page.click('#results tbody tr[data-session=L1] a');

  step('the player opens at the live edge and follows it');
  await waitState(() => { const s = window.g2aPlayerState; return !!s && s.live && s.following && s.ts > 0; }, 'live edge');
  if (await page.isHidden('#c-live')) fail('no Live button on a live session');
  const a = await checkFrame('at the live edge');
  await sleep(1500);
  const b = await checkFrame('later at the live edge');
  if (!b.following) fail('left the live edge without a scrub');
  if (b.ts - a.ts < 800000) fail('the edge moved ' + (b.ts - a.ts) + ' us in 1.5 s of recording');
  if (b.t < a.t) fail('the clock went back');

  step('a scrub back leaves the edge and stays behind it');
  const box = await page.locator('#timeline').boundingBox();
  await page.mouse.click(box.x + box.width * 0.1, box.y + box.height / 2);
  await waitState(() => { const s = window.g2aPlayerState; return !!s && !s.following; }, 'left the edge');
  const back = await checkFrame('after the scrub');
  await sleep(1200);
  const still = await sample();
  if (still.following) fail('went back to the live edge by itself');
  if (still.ts > b.ts) fail('after a scrub to 10% the player is at ' + still.ts + ' us, past the old edge ' + b.ts);
  if (back.ts > b.ts * 0.5) fail('the scrub landed at ' + back.ts + ' us');

  step('"Live" returns to the edge');
  await page.click('#c-live');
  await waitState(() => { const s = window.g2aPlayerState; return !!s && s.following; }, 'back at the edge');
  const c = await sample();
  if (c.ts < b.ts) fail('back at the edge but at ' + c.ts + ' us, before ' + b.ts);
  await checkFrame('back at the edge');

  step('the end of the recording ends live mode');
  await waitState(() => { const s = window.g2aPlayerState; return !!s && !s.live; }, 'end of live', 60000);
  await page.waitForSelector('#c-live', { state: 'hidden' });
  const end = await checkFrame('at the end');
  console.log('end: ' + end.ts);
  if (consoleErrors.length) fail('page errors: ' + consoleErrors.join('; '));
  console.log('ok');
} catch (e) {
  fail(String(e && e.stack || e));
} finally {
  await browser.close();
}
