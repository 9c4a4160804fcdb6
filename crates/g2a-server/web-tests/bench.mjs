// The browser player's figures (benches/serve.sh runs this against a
// release `g2a serve`): click on the timeline to the new frame painted,
// bytes the page receives per second of media at 1x, and whether 16x keeps
// up. Prints one JSON object.
//
// Environment: G2A_URL, G2A_USER, G2A_PASSWORD, G2A_SESSION, G2A_CLICKS
// (default 100), G2A_PLAY_SECS (default 30).
import { openPage } from './browser.mjs';

const url = process.env.G2A_URL;
const clicks = Number(process.env.G2A_CLICKS || 100);
const playSecs = Number(process.env.G2A_PLAY_SECS || 30);
const fail = (msg) => { console.error('FAIL: ' + msg); process.exit(1); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const { browser, page } = await openPage({ width: 2100, height: 1400, timeout: 60000 });
let wsBytes = 0;
page.on('websocket', (ws) => ws.on('framereceived', (f) => { if (typeof f.payload !== 'string') wsBytes += f.payload.length; }));

// A fixed sequence of positions, the same in every run.
let seed = 12345;
const rand = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const pct = (v, p) => { const s = [...v].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]; };

try {
  await page.goto(url + '/');
  await page.fill('input[name=name]', process.env.G2A_USER);
  await page.fill('input[name=password]', process.env.G2A_PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForSelector('#results tbody tr');
  await page.evaluate((id) => { location.hash = '#/session/' + encodeURIComponent(id); }, process.env.G2A_SESSION);
  await page.waitForFunction(() => window.g2aPlayerState && window.g2aPlayerState.seq >= 1);
  const duration = await page.evaluate(() => document.querySelector('#c-time').textContent);

  // Click to paint: from the click event to the animation frame after the
  // new frame's pixels were put on the canvas.
  const lat = [];
  const arrived = [];
  const drawn = [];
  for (let i = 0; i < clicks; i++) {
    const f = 0.01 + 0.98 * rand();
    const ms = await page.evaluate(async (f) => {
      const tl = document.querySelector('#timeline');
      const b = tl.getBoundingClientRect();
      const before = window.g2aPlayerState.seq;
      const t0 = performance.now();
      tl.dispatchEvent(new MouseEvent('click', { clientX: b.left + f * b.width, clientY: b.top + b.height / 2, bubbles: true }));
      while (window.g2aPlayerState.seq === before) {
        if (performance.now() - t0 > 10000) return -1;
        await new Promise((r) => requestAnimationFrame(r));
      }
      await new Promise((r) => requestAnimationFrame(r));
      const s = window.g2aPlayerState;
      return [performance.now() - t0, s.received - t0, s.drawnAt - s.received];
    }, f);
    if (ms === -1) fail('no frame 10 s after a click at ' + f);
    lat.push(ms[0]);
    arrived.push(ms[1]);
    drawn.push(ms[2]);
  }

  // 1x from the middle: bytes received per second of media.
  await page.evaluate(() => { const tl = document.querySelector('#timeline'); const b = tl.getBoundingClientRect(); tl.dispatchEvent(new MouseEvent('click', { clientX: b.left + 0.4 * b.width, clientY: b.top + 5, bubbles: true })); });
  await sleep(500);
  await page.selectOption('#c-speed', '1');
  const t1 = await page.evaluate(() => window.g2aPlayerState.t);
  const b1 = wsBytes;
  const s1 = await page.evaluate(() => window.g2aPlayerState.seq);
  await page.click('#c-play');
  const w1 = Date.now();
  await sleep(playSecs * 1000);
  const one = await page.evaluate(() => ({ t: window.g2aPlayerState.t, seq: window.g2aPlayerState.seq }));
  const wall1 = (Date.now() - w1) / 1000;
  const media1 = (one.t - t1) / 1e6;
  const bytes1 = wsBytes - b1;
  await page.click('#c-play');
  await sleep(300);

  // 16x: media seconds per wall second, frames drawn.
  await page.selectOption('#c-speed', '16');
  const t16 = await page.evaluate(() => window.g2aPlayerState.t);
  const s16 = await page.evaluate(() => window.g2aPlayerState.seq);
  const b16 = wsBytes;
  await page.click('#c-play');
  const w16 = Date.now();
  await sleep(10000);
  const sixteen = await page.evaluate(() => ({ t: window.g2aPlayerState.t, seq: window.g2aPlayerState.seq }));
  const wall16 = (Date.now() - w16) / 1000;
  await page.click('#c-play');

  console.log(JSON.stringify({
    duration_shown: duration,
    clicks: lat.length,
    click_to_paint_ms: { p50: pct(lat, 0.5), p95: pct(lat, 0.95), max: Math.max(...lat), mean: lat.reduce((a, b) => a + b, 0) / lat.length },
    // The two halves: click to the frame's message in the page (the
    // server's seek, decode and encoding, the WebSocket), then to its
    // pictures decoded and drawn.
    click_to_message_ms: { p50: pct(arrived, 0.5), p95: pct(arrived, 0.95) },
    message_to_drawn_ms: { p50: pct(drawn, 0.5), p95: pct(drawn, 0.95) },
    play_1x: { wall_secs: wall1, media_secs: media1, frames_drawn: one.seq - s1, bytes: bytes1, bytes_per_media_sec: bytes1 / media1 },
    play_16x: { wall_secs: wall16, media_secs: (sixteen.t - t16) / 1e6, speed: (sixteen.t - t16) / 1e6 / wall16, frames_drawn: sixteen.seq - s16, bytes: wsBytes - b16 },
  }));
} catch (e) {
  fail(String(e && e.stack || e));
} finally {
  await browser.close();
}
