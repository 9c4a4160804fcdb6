// The search API under load (benches/serve.sh): C clients on loopback for
// SECS seconds, each sending the next search as soon as the last answered:
// by portal, by team (with subteams), by representative, deep pages, by id.
// Prints {clients, secs, requests, rps, p50_ms, p99_ms, max_ms, errors}.
//
// Environment: G2A_URL, G2A_USER, G2A_PASSWORD; arguments: [C] [SECS].
import { login } from './login.mjs';

const url = process.env.G2A_URL;
const clients = Number(process.argv[2] || 16);
const secs = Number(process.argv[3] || 20);
const { cookie } = await login(url, process.env.G2A_USER, process.env.G2A_PASSWORD);
const lat = [];
let errors = 0;
let n = 0;
const queries = (i) => {
  const k = (i * 7919) % 1000;
  switch (i % 5) {
    case 0: return 'portal=portal' + (k % 10) + '&page=' + (k % 20);
    case 1: return 'team=team' + (k % 100 - (k % 5));
    case 2: return 'rep=rep' + (k % 2000);
    case 3: return 'id=S' + String(k * 997).padStart(8, '0');
    default: return 'page=' + (k % 50);
  }
};
const end = Date.now() + secs * 1000;
async function client(c) {
  let i = c;
  while (Date.now() < end) {
    const t0 = performance.now();
    try {
      const r = await fetch(url + '/api/v1/sessions?' + queries(i), { headers: { Cookie: cookie } });
      await r.arrayBuffer();
      if (!r.ok) errors++;
    } catch (e) { errors++; }
    lat.push(performance.now() - t0);
    i += clients;
    n++;
  }
}
const t0 = Date.now();
await Promise.all([...Array(clients).keys()].map(client));
const wall = (Date.now() - t0) / 1000;
lat.sort((a, b) => a - b);
const pct = (p) => lat[Math.min(lat.length - 1, Math.ceil(p * lat.length) - 1)];
console.log(JSON.stringify({ clients, secs: Math.round(wall), requests: n, rps: n / wall, p50_ms: pct(0.5), p99_ms: pct(0.99), max_ms: lat[lat.length - 1], errors }));
