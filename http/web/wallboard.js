// The wallboard: the live status from GET /api/stream (a snapshot, then
// updates), drawn again on every message and every second so that waits
// and times in state keep counting between updates. After the connection
// drops (a restart), it connects again by itself.
'use strict';

(function () {
  const listed = 8;  // waiting calls shown per queue (the count covers all)
  const board = {data: null, receivedAt: 0, source: null, retry: null, token: ''};
  const $ = (id) => document.getElementById(id);

  function setConnection(live, why) {
    const el = $('connection');
    el.className = live ? 'live' : 'down';
    el.textContent = live ? 'live' : 'reconnecting' + (why ? ' (' + why + ')' : '') + '…';
  }

  function start() {
    const token = callqToken.get();
    if (!token) return callqToken.ask('Enter the viewer token', connect);
    connect(token);
  }

  function retry(why) {
    setConnection(false, why);
    clearTimeout(board.retry);
    board.retry = setTimeout(() => connect(board.token), 1000);
  }

  async function connect(token) {
    board.token = token;
    if (board.source) board.source.close();
    board.source = null;
    // EventSource does not show the HTTP status: ask once whether the
    // token is good, so a refused one is asked for again, not retried.
    let res;
    try {
      res = await callqToken.fetch(token, '/api/queue/status?waiting=0');
    } catch (e) {
      return retry('server unreachable');
    }
    if (res.status === 401) {
      callqToken.forget();
      return callqToken.ask('The server refused that token. Enter the viewer token', connect);
    }
    if (!res.ok) return retry('HTTP ' + res.status);
    const es = new EventSource('/api/stream?waiting=' + listed + '&token=' + encodeURIComponent(token));
    board.source = es;
    const take = (ev) => {
      board.data = JSON.parse(ev.data);
      board.receivedAt = Date.now();
      setConnection(true);
      render();
    };
    es.addEventListener('snapshot', take);
    es.addEventListener('update', take);
    es.onerror = () => {
      // CONNECTING: the browser retries by itself (1 s, the stream's
      // `retry:`); CLOSED (e.g. a 503 at the cap): start over here.
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        retry('stream closed');
      } else {
        setConnection(false, 'connection lost');
      }
    };
  }

  function queueTile(q, agents, elapsed) {
    const c = q.config || {};
    const target = c.serviceLevelTarget ?? 0.8;
    const limit = c.serviceLevelSeconds ?? 20;
    const count = q.waitingCount ?? q.waiting.length;
    const longest = count > 0 ? q.longestWaitSeconds + elapsed : 0;
    const sl = q.serviceLevel.today;
    const counted = sl.answered + sl.abandoned > 0;
    const breached = counted && sl.ratio < target;
    let waitClass = '';
    if (count > 0 && longest > 2 * limit) waitClass = 'alert';
    else if (count > 0 && longest > limit) waitClass = 'warn';
    const byState = {};
    for (const a of agents)
      if ((a.queues || []).includes(q.name)) byState[a.state] = (byState[a.state] || 0) + 1;
    const states = Object.keys(byState).sort().map((s) =>
      '<li class="state-' + callqEscape(s) + '" data-state="' + callqEscape(s) + '">' +
      callqEscape(s) + ' <b>' + byState[s] + '</b></li>').join('');
    const rows = q.waiting.map((w) =>
      '<li data-call-sid="' + callqEscape(w.callSid) + '"><span class="pos">' + w.position +
      '</span><span class="sid">…' + callqEscape(w.callSid.slice(-6)) + '</span><span class="wait">' +
      callqDuration(w.waitSeconds + elapsed) + '</span><span class="call-state">' +
      callqEscape(w.state) + '</span></li>').join('');
    const more = count > q.waiting.length ? '<li class="more">+' + (count - q.waiting.length) + ' more</li>' : '';
    return '<article class="queue" data-queue="' + callqEscape(q.name) + '">' +
      '<h2>' + callqEscape(q.name) + '</h2>' +
      '<div class="figures">' +
      '<div class="figure ' + (count > 0 ? waitClass : '') + '"><span class="label">waiting</span>' +
      '<span class="value waiting-count">' + count + '</span></div>' +
      '<div class="figure ' + waitClass + '"><span class="label">longest wait</span>' +
      '<span class="value longest-wait">' + (count > 0 ? callqDuration(longest) : '–') + '</span></div>' +
      '<div class="figure ' + (breached ? 'alert' : counted ? 'ok' : '') + '"><span class="label">service level today</span>' +
      '<span class="value service-level">' + (counted ? Math.round(sl.ratio * 100) + ' %' : '–') + '</span>' +
      '<span class="target">target ' + Math.round(target * 100) + ' % in ' + limit + ' s</span></div>' +
      '</div>' +
      '<ul class="agent-states">' + states + '</ul>' +
      '<ol class="waiting-list">' + rows + more + '</ol>' +
      '</article>';
  }

  function render() {
    $('clock').textContent = new Date().toLocaleTimeString();
    const d = board.data;
    if (!d) return;
    const elapsed = Math.floor((Date.now() - board.receivedAt) / 1000);
    $('queues').innerHTML = d.queues.map((q) => queueTile(q, d.agents, elapsed)).join('') ||
      '<p class="empty">No queues yet.</p>';
    $('agents').tBodies[0].innerHTML = d.agents.map((a) => {
      const inState = a.stateSeconds == null ? '–' : callqDuration(a.stateSeconds + elapsed);
      const low = a.readiness < 50 ? 'alert' : a.readiness < 80 ? 'warn' : 'ok';
      return '<tr data-agent="' + callqEscape(a.agentId) + '"><td class="name">' +
        callqEscape(a.name || a.agentId) + '</td><td><span class="state state-' + callqEscape(a.state) +
        '">' + callqEscape(a.state) + '</span>' +
        (a.state === 'break' && a.pauseReason
          ? ' <span class="pause-reason">(' + callqEscape(a.pauseReason) + ')</span>' : '') +
        '</td><td class="in-state">' + inState +
        '</td><td class="readiness ' + low + '">' + a.readiness + '</td></tr>';
    }).join('');
  }

  setInterval(render, 1000);
  start();
})();
