// The agent page (README, "Agent page"): sign-in with the agent's token,
// the agent's own state from GET /api/agent/stream, Ready / Break / Log
// off as heartbeats (sent by agent-heartbeat.js, a worker), the
// softphone (Twilio's Voice JavaScript SDK, served by callq as
// /assets/twilio-voice.js), the offered call with the caller's history,
// and the wrap-up.
//
// Test seam: when `window.callqTestDevice` is set before this script runs
// (a browser test does so with evaluateOnNewDocument), it is used as the
// SDK's Device class. Nothing else differs.
'use strict';

(function () {
  callqToken.key = 'callq.agent-token';
  const $ = (id) => document.getElementById(id);
  const desk = {
    token: '',
    me: null,
    receivedAt: 0,
    stream: null,
    worker: null,
    want: null,          // the status the agent chose: available, break, offline
    reason: '',
    device: null,        // the softphone's Device, when there is one
    registered: false,
    softphone: 'off',    // 'off' (phone number), 'starting', 'on'
    call: null,          // the softphone's current Call
    tokenTimer: null,
    wrapFor: '',         // the call the wrap-up form was filled for
  };

  // ------------------------------------------------------------ sign-in --
  function askToken(message) {
    $('desk').hidden = true;
    $('sign-in').hidden = false;
    $('sign-in-message').textContent = message;
    $('connection').textContent = 'signed out';
    $('connection').className = 'down';
    $('sign-in-token').value = '';
    $('sign-in-token').focus();
  }

  $('sign-in').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const token = $('sign-in-token').value.trim();
    if (!token) return;
    callqToken.keep(token);
    start(token);
  });

  /// Forgets the token and stops everything: a removed agent, a refused
  /// token, or the agent signing out.
  function signOut(message) {
    callqToken.forget();
    desk.token = '';
    desk.me = null;
    if (desk.stream) desk.stream.close();
    desk.stream = null;
    heartbeats(null);
    stopSoftphone();
    askToken(message);
  }

  async function start(token) {
    desk.token = token;
    let res;
    try {
      res = await callqToken.fetch(token, '/api/agent/me');
    } catch (e) {
      $('connection').textContent = 'callq unreachable, retrying…';
      setTimeout(() => start(token), 2000);
      return;
    }
    if (res.status === 401 || res.status === 403) {
      signOut('That token was not accepted. Sign in with your agent token');
      return;
    }
    const me = await res.json();
    $('sign-in').hidden = true;
    $('desk').hidden = false;
    show(me);
    // Back on the page after a reload: carry on as the log says.
    if (me.status === 'available' || me.status === 'busy') choose('available', '');
    else if (me.status === 'break') choose('break', me.pauseReason || '');
    follow();
    startSoftphone();
  }

  // --------------------------------------------------------- the stream --
  function follow() {
    if (desk.stream) desk.stream.close();
    const es = new EventSource('/api/agent/stream?token=' + encodeURIComponent(desk.token));
    desk.stream = es;
    const take = (ev) => {
      $('connection').textContent = 'live';
      $('connection').className = 'up';
      show(JSON.parse(ev.data));
    };
    es.addEventListener('snapshot', take);
    es.addEventListener('update', take);
    es.addEventListener('signed-out', () => signOut('You were signed out (the agent was removed).'));
    es.onerror = () => {
      $('connection').textContent = 'reconnecting…';
      $('connection').className = 'down';
      // A refused token ends the stream for good: ask /api/agent/me why.
      if (es.readyState === EventSource.CLOSED) setTimeout(() => desk.token && start(desk.token), 1000);
    };
  }

  // --------------------------------------------------------- heartbeats --
  /// The heartbeat the page sends now (null: none).
  function heartbeats(body) {
    if (!desk.worker) {
      desk.worker = new Worker('/assets/agent-heartbeat.js');
      desk.worker.onmessage = (ev) => {
        const m = ev.data;
        if (m.status === 401 || m.status === 404) {
          signOut('You were signed out (' + ((m.body && m.body.error) || 'token refused') + ').');
          return;
        }
        const status = $('heartbeat-status');
        status.textContent = m.status === 200
          ? 'heartbeat sent ' + new Date().toLocaleTimeString()
          : 'heartbeat failed: ' + ((m.body && m.body.error) || 'callq unreachable');
        // How many heartbeats callq answered 200 (for tests, which wait on it).
        if (m.status === 200) status.dataset.sent = Number(status.dataset.sent || 0) + 1;
      };
    }
    if (!body) {
      desk.worker.postMessage({stop: true});
      return;
    }
    const interval = (desk.me && desk.me.heartbeatIntervalSeconds) || 30;
    desk.worker.postMessage({token: desk.token, body, intervalSeconds: interval});
  }

  function heartbeatBody() {
    const body = {
      agentId: desk.me ? desk.me.agentId : '',
      status: desk.want,
      // The softphone's real registration; true when the agent takes calls
      // on a phone number instead.
      deviceRegistered: desk.softphone === 'off' ? true : desk.registered,
    };
    if (desk.want === 'break' && desk.reason) body.reason = desk.reason;
    return body;
  }

  function choose(status, reason) {
    desk.want = status;
    desk.reason = reason;
    if (desk.me) heartbeats(heartbeatBody());
  }

  $('ready').addEventListener('click', async () => {
    const w = desk.me && desk.me.wrapUp;
    if (w) await sendWrapUp(true);  // Ready ends wrap-up early
    choose('available', '');
  });
  $('break').addEventListener('click', () => choose('break', $('reason').value));
  $('log-off').addEventListener('click', async () => {
    desk.want = 'offline';
    heartbeats(null);
    await fetch('/api/agent-heartbeat', {
      method: 'POST',
      headers: {'Authorization': 'Bearer ' + desk.token, 'Content-Type': 'application/json'},
      body: JSON.stringify(heartbeatBody()),
    });
  });
  $('sign-out').addEventListener('click', () => signOut('Signed out. Sign in with your agent token'));

  // ---------------------------------------------------------- softphone --
  function deviceClass() {
    if (window.callqTestDevice) return window.callqTestDevice;
    return window.Twilio && window.Twilio.Device ? window.Twilio.Device : null;
  }

  function phoneStatus(text) { $('phone-status').textContent = text; }

  async function voiceToken() {
    const res = await fetch('/api/agent/voice-token', {
      method: 'POST', headers: {Authorization: 'Bearer ' + desk.token}, cache: 'no-store'});
    const body = await res.json();
    if (!res.ok) throw Object.assign(new Error(body.error || 'HTTP ' + res.status), {status: res.status});
    return body;
  }

  /// Fetches a new token before the current one expires (at 80 % of its
  /// life, at most a minute early) and hands it to the Device.
  function scheduleRefresh(ttlSeconds) {
    clearTimeout(desk.tokenTimer);
    const early = Math.min(60, ttlSeconds * 0.2);
    desk.tokenTimer = setTimeout(refreshToken, Math.max(1, ttlSeconds - early) * 1000);
  }

  async function refreshToken() {
    if (!desk.device) return;
    try {
      const t = await voiceToken();
      desk.device.updateToken(t.token);
      scheduleRefresh(t.ttlSeconds);
    } catch (e) {
      phoneStatus('could not renew the phone token: ' + e.message + '; retrying');
      desk.tokenTimer = setTimeout(refreshToken, 5000);
    }
  }

  function setRegistered(on) {
    if (desk.registered === on) return;
    desk.registered = on;
    if (desk.want && desk.want !== 'offline') heartbeats(heartbeatBody());
  }

  async function startSoftphone() {
    const Device = deviceClass();
    let t;
    try {
      t = await voiceToken();
    } catch (e) {
      desk.softphone = 'off';
      phoneStatus(e.status === 503
        ? 'The softphone is off on this callq: take calls on your phone number.'
        : 'The softphone could not start (' + e.message + '): take calls on your phone number.');
      return;
    }
    if (!Device) {
      desk.softphone = 'off';
      phoneStatus('The softphone is not part of this build (the Voice SDK was not fetched): ' +
                  'take calls on your phone number.');
      return;
    }
    desk.softphone = 'starting';
    const device = new Device(t.token, {closeProtection: true});
    desk.device = device;
    device.on('registered', () => { phoneStatus('Phone ready (' + t.identity + ')'); setRegistered(true); });
    device.on('unregistered', () => { phoneStatus('Phone not registered'); setRegistered(false); });
    device.on('error', (err) => phoneStatus('Phone error: ' + ((err && err.message) || err)));
    device.on('tokenWillExpire', refreshToken);
    device.on('incoming', (call) => ringing(call));
    scheduleRefresh(t.ttlSeconds);
    desk.softphone = 'on';
    phoneStatus('Registering the phone…');
    try {
      await device.register();
    } catch (e) {
      phoneStatus('Phone registration failed: ' + ((e && e.message) || e));
    }
  }

  function stopSoftphone() {
    clearTimeout(desk.tokenTimer);
    if (desk.device) {
      try { desk.device.destroy(); } catch (e) { /* already gone */ }
    }
    desk.device = null;
    desk.registered = false;
  }

  function ringing(call) {
    desk.call = call;
    $('phone-incoming').hidden = false;
    $('phone-call').hidden = true;
    phoneStatus('Ringing');
    const over = () => {
      if (desk.call !== call) return;
      desk.call = null;
      $('phone-incoming').hidden = true;
      $('phone-call').hidden = true;
      phoneStatus(desk.registered ? 'Phone ready' : 'Phone not registered');
    };
    call.on('accept', () => {
      $('phone-incoming').hidden = true;
      $('phone-call').hidden = false;
      $('mute').textContent = 'Mute';
      phoneStatus('On a call');
    });
    call.on('disconnect', over);
    call.on('cancel', over);
    call.on('reject', over);
  }

  $('accept').addEventListener('click', () => desk.call && desk.call.accept());
  $('reject').addEventListener('click', () => desk.call && desk.call.reject());
  $('hang-up').addEventListener('click', () => desk.call && desk.call.disconnect());
  $('mute').addEventListener('click', () => {
    if (!desk.call) return;
    const muted = !desk.call.isMuted();
    desk.call.mute(muted);
    $('mute').textContent = muted ? 'Unmute' : 'Mute';
  });
  document.querySelectorAll('[data-digit]').forEach((b) =>
    b.addEventListener('click', () => desk.call && desk.call.sendDigits(b.dataset.digit)));

  // ------------------------------------------------------------ wrap-up --
  async function sendWrapUp(ready) {
    const w = desk.me && desk.me.wrapUp;
    if (!w) return true;
    const body = {callSid: w.callSid, ready};
    if (!w.recorded) {
      if (w.dispositions.length) body.disposition = $('disposition').value;
      if ($('notes').value) body.notes = $('notes').value;
    }
    const res = await fetch('/api/agent/wrap-up', {
      method: 'POST',
      headers: {'Authorization': 'Bearer ' + desk.token, 'Content-Type': 'application/json'},
      body: JSON.stringify(body),
    });
    const answer = await res.json().catch(() => ({}));
    $('wrap-status').textContent = res.ok ? 'saved' : (answer.error || 'HTTP ' + res.status);
    return res.ok;
  }

  $('wrap-form').addEventListener('submit', (ev) => { ev.preventDefault(); sendWrapUp(false); });
  $('wrap-ready').addEventListener('click', async () => {
    if (await sendWrapUp(true)) choose('available', '');
  });

  // ----------------------------------------------------------- showing --
  function show(me) {
    desk.me = me;
    desk.receivedAt = Date.now();
    $('who').textContent = (me.name || me.agentId) + ' (' + me.agentId + ')';
    $('state').textContent = me.state;
    $('state').className = 'state state-' + me.state;
    $('pause-reason').textContent = me.state === 'break' && me.pauseReason ? '(' + me.pauseReason + ')' : '';
    $('readiness').textContent = me.readiness;
    const reasons = $('reason');
    if (reasons.options.length !== me.pauseReasons.length) {
      reasons.replaceChildren(...me.pauseReasons.map((r) => new Option(r, r)));
    }
    const card = me.offer || me.call;
    $('offer').hidden = !card;
    if (card) {
      $('offer-title').textContent = me.offer ? 'Incoming call' : 'On a call';
      $('offer-name').textContent = card.name || 'Unknown caller';
      $('offer-from').textContent = card.from;
      $('offer-queue').textContent = card.queue;
      $('offer-attempt').textContent = card.attempt;
      const pop = $('offer-pop');
      pop.hidden = !card.screenPopUrl;
      if (card.screenPopUrl) pop.href = card.screenPopUrl;
      $('history').tBodies[0].replaceChildren(...card.history.map((h) => {
        const tr = document.createElement('tr');
        for (const text of [new Date(h.at).toLocaleString(), h.queue, h.agentId, h.outcome, h.disposition]) {
          const td = document.createElement('td');
          td.textContent = text || '–';  // text, never HTML
          tr.appendChild(td);
        }
        return tr;
      }));
    }
    const w = me.wrapUp;
    $('wrap-up').hidden = !w;
    if (w && desk.wrapFor !== w.callSid) {
      desk.wrapFor = w.callSid;
      $('disposition').replaceChildren(...w.dispositions.map((d) => new Option(d, d)));
      $('notes').value = '';
      $('wrap-status').textContent = '';
    }
    if (w) {
      $('disposition').hidden = $('disposition-label').hidden = !w.dispositions.length;
      $('disposition').disabled = $('notes').disabled = $('wrap-save').disabled = w.recorded;
      if (w.recorded) $('wrap-status').textContent = 'saved';
    }
    tick();
  }

  /// The counters that move between updates: wait and wrap-up time.
  function tick() {
    const me = desk.me;
    if (!me) return;
    const elapsed = Math.floor((Date.now() - desk.receivedAt) / 1000);
    const card = me.offer || me.call;
    if (card) $('offer-wait').textContent = callqDuration(card.waitSeconds + elapsed);
    if (me.wrapUp) $('wrap-left').textContent = callqDuration(Math.max(0, me.wrapUp.secondsLeft - elapsed)) + ' left';
  }
  setInterval(tick, 1000);

  const token = callqToken.get();
  if (token) start(token);
  else askToken('Sign in with your agent token');
  // A link with another token opened in this tab changes only the
  // fragment: sign in with it.
  window.addEventListener('hashchange', () => {
    if (!/(?:^#|&)token=/.test(location.hash)) return;
    if (desk.token) signOut('');  // forgets the old token
    const next = callqToken.get();  // keeps the new one
    if (next) start(next);
  });
})();
