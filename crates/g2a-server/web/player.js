// The browser player: a WebSocket to /api/v1/sessions/{id}/play. The
// server sends the screen rectangles that changed as lossless PNG
// pictures; the browser decodes them natively (off the main thread, all
// of a frame's at once) and the page draws them unscaled, without colour
// conversion, so every pixel is exactly the recorded one. Protocol:
// docs/SERVE.md.
'use strict';

// A picture to draw: WebCodecs' ImageDecoder where the browser has it
// (decodes straight from the bytes, ~twice as fast as createImageBitmap,
// which goes through a Blob), else an ImageBitmap. Either way without
// colour conversion, so the pixels are the PNG's own.
async function decodePng(bytes) {
  if (window.ImageDecoder) {
    const d = new ImageDecoder({ data: bytes, type: 'image/png', colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    try {
      return (await d.decode()).image;
    } finally {
      d.close();
    }
  }
  return createImageBitmap(new Blob([bytes], { type: 'image/png' }),
    { premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
}

function parseMessage(buf) {
  const dv = new DataView(buf);
  const kind = dv.getUint8(0);
  const len = dv.getUint32(1, true);
  const head = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 5, len)));
  return { kind, head, body: new Uint8Array(buf, 5 + len) };
}

class SessionPlayer {
  constructor(root, enc, timeline) {
    this.root = root;
    this.tl = timeline;
    this.duration = timeline.duration_micros;
    this.canvas = root.querySelector('#screen');
    this.ctx = this.canvas.getContext('2d', { alpha: false });
    this.canvas.width = timeline.width || 1;
    this.canvas.height = timeline.height || 1;
    this.state = { seq: 0, t: 0, ts: 0, playing: false, following: false, live: timeline.live, drawn: 0 };
    window.g2aPlayerState = this.state;
    this.queue = Promise.resolve();
    this.closed = false;
    this.markers();
    this.bind();
    this.connect(enc);
  }

  connect(enc) {
    const proto = location.protocol === 'https:' ? 'wss://' : 'ws://';
    this.ws = new WebSocket(proto + location.host + '/api/v1/sessions/' + enc + '/play');
    this.ws.binaryType = 'arraybuffer';
    this.ws.onmessage = (ev) => this.onMessage(ev.data);
    this.ws.onclose = () => { if (!this.closed) showMessage('The player\'s connection closed; reload the page to replay.'); };
    this.ws.onopen = () => {
      this.send({ op: 'seek', t: 0 });
      if (this.tl.live) this.send({ op: 'live' });
    };
  }

  close() { this.closed = true; if (this.ws) this.ws.close(); window.removeEventListener('keydown', this.keys); }

  send(cmd) { if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(cmd)); }

  onMessage(data) {
    if (typeof data === 'string') {
      const m = JSON.parse(data);
      if (m.type === 'error') showMessage(m.message);
      if (m.type === 'info') { this.duration = m.duration; this.state.live = m.live; this.root.querySelector('#c-live').hidden = !m.live; }
      return;
    }
    const msg = parseMessage(data);
    msg.received = performance.now();
    if (msg.kind === 1) this.queue = this.queue.then(() => this.drawFrame(msg)).catch((e) => showMessage(String(e)));
    if (msg.kind === 2) this.drawThumb(msg);
  }

  async drawFrame({ head, body, received }) {
    if (this.canvas.width !== head.w || this.canvas.height !== head.h) {
      this.canvas.width = head.w; this.canvas.height = head.h;
    }
    let off = 0;
    const parts = head.rects.map(([x, y, w, h, len]) => { const p = { x, y, w, h, bytes: body.subarray(off, off + len) }; off += len; return p; });
    const settled = await Promise.allSettled(parts.map((p) => decodePng(p.bytes)));
    const pictures = settled.map((r) => r.value);
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) {
      pictures.forEach((p) => p && p.close());
      throw failed.reason;
    }
    parts.forEach((p, i) => { this.ctx.drawImage(pictures[i], p.x, p.y); pictures[i].close(); });
    // When the frame arrived and when it was drawn (performance.now(), for
    // benches/serve.sh).
    Object.assign(this.state, { received, drawnAt: performance.now(), bytes: body.length, seq: head.seq, t: head.t, ts: head.ts, playing: head.playing, following: head.following, live: head.live, drawn: head.seq });
    this.duration = head.duration;
    this.root.querySelector('#c-live').hidden = !head.live;
    this.send({ op: 'ack', seq: head.seq });
    this.showTime();
  }

  drawThumb({ head, body }) {
    decodePng(body).then((pic) => {
      const c = this.root.querySelector('#tl-thumb');
      c.width = head.w; c.height = head.h;
      c.getContext('2d').drawImage(pic, 0, 0);
      pic.close();
      c.hidden = false;
    });
  }

  showTime() {
    const s = this.state;
    this.root.querySelector('#c-time').textContent = fmtDuration(s.t) + ' / ' + fmtDuration(this.duration) + (s.following ? ' (live)' : '');
    this.root.querySelector('#c-play').textContent = s.playing ? 'Pause' : 'Play';
    const pos = this.root.querySelector('#tl-pos');
    pos.style.left = (this.duration > 0 ? (100 * s.t / this.duration) : 0) + '%';
  }

  markers() {
    const box = this.root.querySelector('#tl-markers');
    const d = Math.max(1, this.duration);
    const add = (t, cls) => { const m = document.createElement('span'); m.className = cls; m.style.left = (100 * t / d) + '%'; box.append(m); };
    this.tl.chat.forEach((t) => add(t, 'chat'));
    this.tl.events.forEach((t) => add(t, 'event'));
    this.tl.resizes.forEach(([t]) => add(t, 'resize'));
  }

  seek(t) { this.send({ op: 'seek', t: Math.max(0, Math.round(t)) }); }

  togglePlay() {
    if (this.state.playing) this.send({ op: 'pause' });
    else this.send({ op: 'play', speed: Number(this.root.querySelector('#c-speed').value) });
  }

  bind() {
    const r = this.root;
    r.querySelector('#c-play').addEventListener('click', () => this.togglePlay());
    r.querySelector('#c-back').addEventListener('click', () => this.send({ op: 'step', n: -1 }));
    r.querySelector('#c-fwd').addEventListener('click', () => this.send({ op: 'step', n: 1 }));
    r.querySelector('#c-live').addEventListener('click', () => this.send({ op: 'live' }));
    r.querySelector('#c-speed').addEventListener('change', (e) => { if (this.state.playing) this.send({ op: 'play', speed: Number(e.target.value) }); });
    r.querySelector('#c-idle').addEventListener('change', (e) => this.send({ op: 'skip_idle', on: e.target.checked }));
    r.querySelector('#c-fit').addEventListener('change', (e) => { r.querySelector('#screen-box').className = e.target.checked ? 'fit' : ''; });
    const tlEl = r.querySelector('#timeline');
    const at = (ev) => { const b = tlEl.getBoundingClientRect(); return Math.min(1, Math.max(0, (ev.clientX - b.left) / b.width)) * this.duration; };
    tlEl.addEventListener('click', (ev) => this.seek(at(ev)));
    let pending = null;
    tlEl.addEventListener('mousemove', (ev) => {
      const t = at(ev);
      const c = r.querySelector('#tl-thumb');
      c.style.left = Math.max(0, ev.clientX - tlEl.getBoundingClientRect().left - 80) + 'px';
      clearTimeout(pending);
      pending = setTimeout(() => this.send({ op: 'thumb', t: Math.round(t), w: 160 }), 120);
    });
    tlEl.addEventListener('mouseleave', () => { clearTimeout(pending); r.querySelector('#tl-thumb').hidden = true; });
    this.keys = (ev) => {
      if (ev.target && ['INPUT', 'SELECT', 'TEXTAREA'].includes(ev.target.tagName)) return;
      const s = this.state;
      if (ev.key === ' ') { ev.preventDefault(); this.togglePlay(); }
      else if (ev.key === 'ArrowLeft') { ev.preventDefault(); this.seek(s.t - 5e6); }
      else if (ev.key === 'ArrowRight') { ev.preventDefault(); this.seek(s.t + 5e6); }
      else if (ev.key === ',') this.send({ op: 'step', n: -1 });
      else if (ev.key === '.') this.send({ op: 'step', n: 1 });
      else if (ev.key === 'Home') this.seek(0);
      else if (ev.key === 'End') this.seek(this.duration);
    };
    window.addEventListener('keydown', this.keys);
  }
}
