// A live socket that comes back by itself: authenticates with the in-memory token as its
// first frame, answers pings, re-authenticates when the token is renewed, and reconnects
// with backoff after a drop. `resumeFrom()` says where a socket resumes (`resumeKey`: a
// room's after_seq; InboxLive below keeps the inbox's after_id).
import { refresh, session } from './core.js';

const FINAL = new Set([4403, 4404, 4400]); // not worth retrying: no access, or a bug

export class Live {
  constructor(path, { onFrame, onState, resumeFrom, resumeKey = 'after_seq' } = {}) {
    this.path = path;
    this.resumeKey = resumeKey;
    this.onFrame = onFrame || (() => {});
    this.onState = onState || (() => {});
    this.resumeFrom = resumeFrom || (() => null);
    this.backoff = 500;
    this.ws = null;
    this.ready = false;
    this.stopped = false;
    this.timer = null;
    this.renewed = (e) => this.send({ type: 'auth', token: e.detail });
    window.addEventListener('console:token', this.renewed);
    this.online = () => { if (!this.ready) this.reconnectSoon(0); };
    window.addEventListener('online', this.online);
    // The browser says the link is gone: the socket is given up at once (a dead one can
    // linger for minutes), so the page says it is offline and what is sent waits.
    this.offline = () => this.drop();
    window.addEventListener('offline', this.offline);
    // A dead link the browser did not notice: the server pings a socket idle for 30 s, so
    // a page that heard nothing for 40 s asks, and gives the socket up 15 s later.
    this.heard = Date.now();
    this.watch = setInterval(() => this.check(), 5000);
  }

  check() {
    if (!this.ready || this.ws?.readyState !== WebSocket.OPEN) return;
    const quiet = Date.now() - this.heard;
    if (quiet > 55000) this.drop();
    else if (quiet > 40000) this.ws.send('{"type":"ping"}');
  }

  // Given up on: its late close (if any) is ignored, and a new socket is tried.
  drop() {
    const ws = this.ws;
    if (!ws) return;
    this.ws = null;
    this.ready = false;
    try { ws.close(); } catch { /* already closing */ }
    if (this.stopped) return;
    this.onState('offline');
    this.reconnectSoon(this.backoff);
    this.backoff = Math.min(this.backoff * 2, 5000);
  }

  start() { this.connect(); return this; }

  connect() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/api/v1${this.path}`);
    this.ws = ws;
    this.ready = false;
    this.onState('connecting');
    ws.onopen = async () => {
      this.heard = Date.now();
      if (!session.token || session.expiresAt - Date.now() < 30000) await refresh();
      const frame = { type: 'auth', token: session.token };
      const after = this.resumeFrom();
      if (after != null) frame[this.resumeKey] = after;
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return; // a socket given up on (drop) says nothing more
      this.heard = Date.now();
      let frame;
      try { frame = JSON.parse(ev.data); } catch { return; }
      if (frame.type === 'ping') { ws.send('{"type":"pong"}'); return; }
      if (frame.type === 'ready') {
        this.ready = true;
        this.backoff = 500;
        this.onState('open');
      }
      this.onFrame(frame);
    };
    ws.onclose = async (ev) => {
      if (this.ws !== ws) return;
      this.ready = false;
      if (this.stopped) return;
      if (FINAL.has(ev.code)) { this.onState('refused'); return; }
      this.onState('offline');
      if (ev.code === 4401) await refresh();
      this.reconnectSoon(this.backoff);
      this.backoff = Math.min(this.backoff * 2, 5000);
    };
  }

  reconnectSoon(ms) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), ms);
  }

  // True when the frame went out on a socket that is authenticated.
  send(frame) {
    if (!this.ready || this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.watch);
    window.removeEventListener('console:token', this.renewed);
    window.removeEventListener('online', this.online);
    window.removeEventListener('offline', this.offline);
    if (this.ws) this.ws.close(1000);
  }
}

// The inbox: resumes after a drop from the last event it heard (or from where the socket
// stood when it opened), and passes each event on once (a resume may repeat a few).
export class InboxLive extends Live {
  constructor({ onFrame, onState } = {}) {
    let lastId = null;
    const seen = new Set();
    super('/ws/inbox', {
      onState,
      resumeKey: 'after_id',
      resumeFrom: () => lastId,
      onFrame: (f) => {
        if (f.type === 'ready') { if (lastId == null) lastId = f.last_event_id; }
        else if (f.type === 'event') {
          if (seen.has(f.id)) return;
          seen.add(f.id);
          if (seen.size > 2000) seen.delete(seen.values().next().value);
          lastId = Math.max(lastId ?? 0, f.id);
        }
        (onFrame || (() => {}))(f);
      },
    });
  }
}
