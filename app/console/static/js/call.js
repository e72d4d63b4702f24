// A video call between two people in a case's room. Offers, answers and ICE candidates go
// as `signal` frames over the room's socket (relayed to one participant, never stored);
// the ICE servers come from GET /rtc/ice-servers (TURN credentials that expire). With two
// or more others in the room (an interpreter beside the specialist), the caller chooses
// whom to call; someone already in a call answers `busy`, and the caller is told.
import { $, api, h, say, t } from './core.js';

export function openCall(main, me, room) {
  const stateEl = $('#call-state', main);
  const startBtn = $('#call-start', main);
  const answerBtn = $('#call-answer', main);
  const endBtn = $('#call-end', main);
  const localVideo = $('#local-video', main);
  const remoteVideo = $('#remote-video', main);
  const videos = $('.videos', main);
  const peerBox = $('#call-peer-box', main);
  const peerSel = $('#call-peer', main);
  let pc = null;
  let stream = null;
  let peer = null; // the other person's user id
  let offer = null; // an incoming offer, waiting for "answer"
  let queued = [];
  // Each call tried or answered is an attempt; ending it moves this on, so a connection
  // still waiting for the ICE servers or the camera knows to close itself, not take over.
  let attempt = 0;
  const SUPERSEDED = new Error('superseded');

  const others = () => [...room.present.keys()].filter((id) => id !== me.id);
  // A call nobody answers stops ringing on both sides, and each is told: before, the
  // caller read "Calling…" until she hung up, and a phone whose caller's link died rang on.
  const RING_MS = 45000;

  function show(state, text) {
    stateEl.dataset.state = state;
    stateEl.textContent = text || t(`call.${state}`);
    startBtn.hidden = state !== 'idle';
    answerBtn.hidden = state !== 'ringing';
    endBtn.hidden = state === 'idle';
    videos.hidden = state === 'idle' || state === 'ringing';
    refresh();
  }

  // Whom to call, when there is a choice: the people in the room by name, kept as chosen.
  function refresh() {
    const ids = others();
    const idle = stateEl.dataset.state === 'idle';
    peerBox.hidden = !idle || ids.length < 2;
    if (peerBox.hidden) return;
    const chosen = peerSel.value;
    peerSel.replaceChildren(...ids.map((id) => h('option', { value: id, text: room.nameOf(id) })));
    if (ids.includes(chosen)) peerSel.value = chosen;
  }

  const signal = (data) => room.live.send({ type: 'signal', to: peer, data });

  async function media() {
    try {
      return await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
    } catch {
      return navigator.mediaDevices.getUserMedia({ audio: true }); // no camera: a voice call
    }
  }

  async function connection(mine) {
    const { iceServers } = await api('/rtc/ice-servers');
    if (mine !== attempt) throw SUPERSEDED;
    const conn = new RTCPeerConnection({ iceServers });
    let own;
    try { own = await media(); } catch (err) { conn.close(); throw err; }
    if (mine !== attempt) { conn.close(); for (const track of own.getTracks()) track.stop(); throw SUPERSEDED; }
    pc = conn;
    stream = own;
    localVideo.srcObject = stream;
    for (const track of stream.getTracks()) pc.addTrack(track, stream);
    pc.onicecandidate = (e) => { if (e.candidate) signal({ kind: 'ice', candidate: e.candidate.toJSON() }); };
    pc.ontrack = (e) => { remoteVideo.srcObject = e.streams[0]; };
    pc.onconnectionstatechange = () => {
      const s = pc?.connectionState;
      if (s === 'connected') show('connected');
      else if (s === 'failed') { say(t('call.failed'), 'error'); end(true); }
    };
  }

  async function start() {
    const ids = others();
    if (!ids.length) { say(t('call.nobody'), 'error'); return; }
    peer = ids.length > 1 && ids.includes(peerSel.value) ? peerSel.value : ids[0];
    const mine = ++attempt;
    const who = room.nameOf(peer);
    show('calling', t('call.calling_who', { who }));
    try {
      await connection(mine);
      await pc.setLocalDescription(await pc.createOffer());
      signal({ kind: 'offer', sdp: pc.localDescription.toJSON() });
      // From the moment her phone rings (the caller's own camera prompt not counted).
      setTimeout(() => {
        if (mine !== attempt || stateEl.dataset.state !== 'calling') return;
        say(t('call.no_answer', { who }), 'error');
        end(true); // her phone stops ringing too
      }, RING_MS);
    } catch (err) { if (err !== SUPERSEDED) { say(why(err), 'error'); end(true); } }
  }

  // The browser's own words for a camera it cannot open are English and terse: hers instead.
  function why(err) {
    if (err?.name === 'NotAllowedError' || err?.name === 'SecurityError') return t('call.not_allowed');
    if (err?.name === 'NotFoundError' || err?.name === 'OverconstrainedError') return t('call.no_device');
    if (err?.name === 'NotReadableError') return t('call.device_busy');
    return t('call.failed');
  }

  async function answer() {
    const mine = ++attempt;
    show('connecting');
    signal({ kind: 'answering' }); // at once: her camera prompt may take a while
    try {
      await connection(mine);
      await pc.setRemoteDescription(offer);
      await pc.setLocalDescription(await pc.createAnswer());
      signal({ kind: 'answer', sdp: pc.localDescription.toJSON() });
      for (const c of queued) await pc.addIceCandidate(c).catch(() => null);
      queued = [];
    } catch (err) { if (err !== SUPERSEDED) { say(why(err), 'error'); end(true); } }
  }

  function end(tell) {
    if (tell && peer) signal({ kind: 'bye' });
    attempt += 1;
    peer = null;
    pc?.close();
    pc = null;
    for (const track of stream?.getTracks() || []) track.stop();
    stream = null;
    localVideo.srcObject = null;
    remoteVideo.srcObject = null;
    offer = null;
    queued = [];
    show('idle');
  }

  function ring(from, sdp) {
    peer = from;
    offer = sdp;
    const mine = ++attempt;
    const who = room.nameOf(from);
    show('ringing', t('call.ringing', { who }));
    // A little longer than the caller waits: her "no answer" (a bye) normally comes first.
    setTimeout(() => { if (mine === attempt && stateEl.dataset.state === 'ringing') missed(); }, RING_MS + 5000);
  }

  // She was away: told where the call was, until her next call (a passing line would be
  // gone before she is back).
  function missed() {
    const text = t('call.missed', { who: room.nameOf(peer) });
    end(false);
    show('idle', text);
    say(text);
  }

  async function onSignal(f) {
    const d = f.data || {};
    const state = stateEl.dataset.state;
    if (d.kind === 'offer') {
      if (state === 'idle') ring(f.from, d.sdp);
      else if (f.from !== peer) {
        // In a call, calling, or ringing already: the other caller hears so at once.
        room.live.send({ type: 'signal', to: f.from, data: { kind: 'busy' } });
      } else if (state === 'calling' && me.id < f.from) {
        // The two called each other at once: the one whose id sorts first gives up her own
        // call and takes the other's; the other ignores this offer and keeps hers.
        end(false);
        ring(f.from, d.sdp);
      }
    } else if (f.from !== peer) {
      // Signals from anyone but the person in this call are not for it.
    } else if (d.kind === 'answering' && state === 'calling') {
      show('connecting'); // no longer waiting for her to pick up
      signal({ kind: 'taken' }); // her other tabs and phones stop ringing
    } else if (d.kind === 'taken' && state === 'ringing') {
      end(false); // answered on another of her devices
    } else if (d.kind === 'busy' && state === 'calling') {
      say(t('call.busy', { who: room.nameOf(peer) }), 'error');
      end(true); // her other tabs, ringing, stop too
    } else if (d.kind === 'answer' && pc) {
      await pc.setRemoteDescription(d.sdp);
      for (const c of queued) await pc.addIceCandidate(c).catch(() => null);
      queued = [];
    } else if (d.kind === 'ice') {
      if (pc?.remoteDescription) await pc.addIceCandidate(d.candidate).catch(() => null);
      else queued.push(d.candidate);
    } else if (d.kind === 'bye') {
      // Hung up, or gave up waiting, before she answered: she missed it, and is told.
      if (state === 'ringing') missed();
      else end(false);
    }
  }

  startBtn.addEventListener('click', start);
  answerBtn.addEventListener('click', answer);
  endBtn.addEventListener('click', () => end(true));
  show('idle');
  return { onSignal, refresh, stop: () => end(true) };
}
