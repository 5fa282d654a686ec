// The agent page's heartbeat, in a dedicated worker: browsers throttle
// timers of background tabs (Chrome to once a minute after five minutes
// hidden), but not a worker's, so the heartbeat keeps its interval while
// the agent works in another tab. The page posts {token, body,
// intervalSeconds} whenever any of them changes ({stop: true} ends it);
// the worker posts back each answer as {status, body}.
'use strict';

let state = null;
let timer = null;

async function beat() {
  if (!state) return;
  try {
    const res = await fetch('/api/agent-heartbeat', {
      method: 'POST',
      headers: {'Authorization': 'Bearer ' + state.token, 'Content-Type': 'application/json'},
      body: JSON.stringify(state.body),
      cache: 'no-store',
    });
    let body = null;
    try { body = await res.json(); } catch (e) { body = null; }
    postMessage({status: res.status, body});
  } catch (e) {
    postMessage({status: 0, body: {error: String(e)}});
  }
}

onmessage = (ev) => {
  const m = ev.data || {};
  if (timer) clearInterval(timer);
  timer = null;
  if (m.stop) {
    state = null;
    return;
  }
  state = m;
  beat();
  timer = setInterval(beat, Math.max(1, m.intervalSeconds || 30) * 1000);
};
