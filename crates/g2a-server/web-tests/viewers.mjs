// Many viewers playing at 1x at once (benches/serve.sh): each opens the
// player WebSocket of the session, seeks to its own place (viewer i at
// i/N of the recording, so each decodes different frames), plays at 1x for
// SECS seconds and acknowledges every frame as a page does. Samples the
// server's resident memory. Prints the slowest and fastest viewer's media
// seconds per wall second and the server's peak RSS.
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
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/' + pid + '/status', 'utf8'))[1]) / 1024;
let peak = rss();
const sampler = setInterval(() => { peak = Math.max(peak, rss()); }, 250);

function viewer(i) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace('http', 'ws') + '/api/v1/sessions/' + process.env.G2A_SESSION + '/play', { headers: { Cookie: cookie, Origin: url } });
    let duration = 0, first = null, last = null, frames = 0, bytes = 0, started = 0;
    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        const m = JSON.parse(data.toString());
        if (m.type === 'error') reject(new Error(m.message));
        if (m.type === 'info') {
          duration = m.duration;
          ws.send(JSON.stringify({ op: 'seek', t: Math.floor(duration * i / n) }));
          ws.send(JSON.stringify({ op: 'play', speed: 1 }));
          started = Date.now();
        }
        return;
      }
      const len = data.readUInt32LE(1);
      const head = JSON.parse(data.subarray(5, 5 + len).toString());
      bytes += data.length;
      frames++;
      ws.send(JSON.stringify({ op: 'ack', seq: head.seq }));
      if (head.playing) {
        if (!first) first = { t: head.t, at: Date.now() };
        last = { t: head.t, at: Date.now() };
      }
    });
    ws.on('error', reject);
    setTimeout(() => {
      ws.close();
      if (!first || !last || last.at === first.at) return reject(new Error('viewer ' + i + ' never played'));
      resolve({ speed: (last.t - first.t) / 1e3 / (Date.now() - first.at), frames, bytes, started });
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
  frames: results.reduce((a, r) => a + r.frames, 0), bytes: results.reduce((a, r) => a + r.bytes, 0),
  server_peak_rss_mb: Math.round(peak),
}));
