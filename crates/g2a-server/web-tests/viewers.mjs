// Many viewers playing at 1x at once (benches/serve.sh): each opens the
// player WebSocket of the session, seeks to its own place (viewer i at
// i/N of the recording, so each decodes different frames), plays at 1x for
// SECS seconds (ending before the recording does) and acknowledges every frame as a page does. Samples the
// server's anonymous memory. Prints the slowest and fastest viewer's media
// seconds per wall second and the server's peak anonymous memory.
//
// Environment: G2A_URL, G2A_USER, G2A_PASSWORD, G2A_SESSION; arguments:
// N SERVER_PID [SECS].
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { login } from './login.mjs';

const url = process.env.G2A_URL;
const n = Number(process.argv[2] || 50);
const pid = process.argv[3];
const secs = Number(process.argv[4] || 30);
const { cookie } = await login(url, process.env.G2A_USER, process.env.G2A_PASSWORD);
// Anonymous memory: what the viewers cost. (VmRSS would count the mapped
// recording's page-cache pages once per Player mapping it.)
const rss = () => Number(/RssAnon:\s+(\d+)/.exec(readFileSync('/proc/' + pid + '/status', 'utf8'))[1]) / 1024;
let peak = rss();
const sampler = setInterval(() => { peak = Math.max(peak, rss()); }, 250);

function viewer(i) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace('http', 'ws') + '/api/v1/sessions/' + process.env.G2A_SESSION + '/play', { headers: { Cookie: cookie, Origin: url } });
    let duration = 0, latest = null, frames = 0, bytes = 0, asked = 0, firstFrameMs = null, mark = null, markDue = false;
    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        const m = JSON.parse(data.toString());
        if (m.type === 'error') reject(new Error(m.message));
        if (m.type === 'info') {
          duration = m.duration;
          ws.send(JSON.stringify({ op: 'seek', t: Math.floor(Math.max(0, duration - (secs + 5) * 1e6) * i / n) }));
          ws.send(JSON.stringify({ op: 'play', speed: 1 }));
          asked = Date.now();
        }
        return;
      }
      const len = data.readUInt32LE(1);
      const head = JSON.parse(data.subarray(5, 5 + len).toString());
      bytes += data.length;
      frames++;
      ws.send(JSON.stringify({ op: 'ack', seq: head.seq }));
      if (head.playing) {
        if (firstFrameMs === null) firstFrameMs = Date.now() - asked;
        latest = { t: head.t, at: Date.now() };
        if (markDue && !mark) mark = { ...latest, now: Date.now() };
      }
    });
    ws.on('error', reject);
    // Media time shown from 10 s after the start (all viewers starting at
    // once is a burst of keyframe decoding; or from the viewer's first
    // frame, if later) to the end, against the wall time between: 1.0
    // keeps up.
    setTimeout(() => { markDue = true; mark = latest && { ...latest, now: Date.now() }; }, 10000);
    setTimeout(() => {
      ws.close();
      if (!mark || !latest) return reject(new Error('viewer ' + i + ' never played'));
      resolve({ speed: (latest.t - mark.t) / 1e3 / (Date.now() - mark.now), frames, bytes, firstFrameMs });
    }, secs * 1000);
  });
}

const t0 = Date.now();
const results = await Promise.all([...Array(n).keys()].map(viewer));
clearInterval(sampler);
const speeds = results.map((r) => r.speed);
console.log(JSON.stringify({
  viewers: n, wall_secs: (Date.now() - t0) / 1000,
  slowest_speed: Math.min(...speeds), fastest_speed: Math.max(...speeds),
  slowest_first_frame_ms: Math.max(...results.map((r) => r.firstFrameMs)),
  frames: results.reduce((a, r) => a + r.frames, 0), bytes: results.reduce((a, r) => a + r.bytes, 0),
  server_peak_anon_mb: Math.round(peak),
}));
