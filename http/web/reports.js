// The reports page: GET /api/reports/queues for the chosen period and
// interval, the chosen queues' figures per interval in Chart.js charts
// (summed over the queues for calls, ASA and AHT; service level per
// queue beside its target), and the per-agent table. The choice is kept
// in the address (?from=&to=&interval=&queue=), so a report can be linked.
// The what-if panel asks GET /api/reports/simulate for the same period
// with the agents per interval typed in, and draws the simulated figures
// beside the actual ones on the same charts.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const page = {token: '', charts: {}, report: null, whatIf: null};
  window.callqReports = page;  // for the browser tests: the charts and the data shown

  const colours = ['#1f77b4', '#2ca02c', '#d62728', '#9467bd', '#ff7f0e', '#17becf', '#8c564b'];
  const day = 86400000;
  const intervalMs = {'15m': 900000, '1h': 3600000, '1d': day};

  function isoDay(ms) {
    return new Date(ms).toISOString().slice(0, 10);
  }

  function readChoice() {
    const q = new URLSearchParams(location.search);
    const today = isoDay(Date.now());
    $('from').value = q.get('from') || today;
    $('to').value = q.get('to') || $('from').value;
    $('interval').value = intervalMs[q.get('interval')] ? q.get('interval') : '1h';
    return q.getAll('queue');
  }

  function chosenQueues() {
    return [...document.querySelectorAll('#queue-picker input:checked')].map((i) => i.value);
  }

  function setQueues(names, checked) {
    const box = $('queue-picker');
    box.querySelectorAll('label').forEach((l) => l.remove());
    for (const name of names) {
      const label = document.createElement('label');
      const input = document.createElement('input');
      input.type = 'checkbox';
      input.value = name;
      input.checked = checked.length === 0 || checked.includes(name);
      label.append(input, ' ' + name);
      box.append(label);
    }
  }

  function setState(text) {
    $('report-state').textContent = text;
  }

  async function getJson(url) {
    const res = await callqToken.fetch(page.token, url);
    if (res.status === 401) {
      callqToken.forget();
      throw new Error('unauthorized');
    }
    const body = await res.json();
    if (!res.ok) throw new Error(body.error || 'HTTP ' + res.status);
    return body;
  }

  async function start(token) {
    page.token = token;
    const picked = readChoice();
    let names = [];
    try {
      const status = await getJson('/api/queue/status?waiting=0');
      names = status.queues.map((q) => q.name);
    } catch (e) {
      if (e.message === 'unauthorized')
        return callqToken.ask('The server refused that token. Enter the viewer token', start);
      setState('cannot read the queues: ' + e.message);
    }
    for (const q of picked) if (!names.includes(q)) names.push(q);
    setQueues(names.sort(), picked);
    $('pickers').onsubmit = (ev) => {
      ev.preventDefault();
      const q = new URLSearchParams();
      q.set('from', $('from').value);
      q.set('to', $('to').value);
      q.set('interval', $('interval').value);
      for (const name of chosenQueues()) q.append('queue', name);
      history.replaceState(null, '', location.pathname + '?' + q.toString());
      page.whatIf = null;
      show();
    };
    $('what-if').onsubmit = (ev) => {
      ev.preventDefault();
      simulate();
    };
    $('what-if-clear').onclick = () => {
      page.whatIf = null;
      $('what-if-state').textContent = '';
      render();
    };
    await show();
  }

  function period() {
    const fromMs = Date.parse($('from').value + 'T00:00:00Z');
    return {fromMs, toMs: Date.parse($('to').value + 'T00:00:00Z') + day, interval: $('interval').value};
  }

  // One input per chosen queue, keeping what was typed.
  function whatIfInputs(names) {
    const box = $('what-if-queues');
    const typed = {};
    box.querySelectorAll('input').forEach((i) => { typed[i.dataset.queue] = i.value; });
    box.innerHTML = '';
    for (const name of names) {
      const label = document.createElement('label');
      const input = document.createElement('input');
      input.dataset.queue = name;
      input.placeholder = 'e.g. 3,3,4';
      input.value = typed[name] || '';
      label.append(name + ' ', input);
      box.append(label);
    }
  }

  async function simulate() {
    if (!page.period) return;
    const {fromMs, toMs, interval} = page.period;
    const q = new URLSearchParams();
    q.set('from', new Date(fromMs).toISOString());
    q.set('to', new Date(toMs).toISOString());
    q.set('interval', interval);
    $('what-if-queues').querySelectorAll('input').forEach((i) => {
      const v = i.value.replace(/\s+/g, '');
      if (v) q.append('agents', i.dataset.queue + ':' + v);
    });
    $('what-if-state').textContent = 'simulating…';
    try {
      page.whatIf = await getJson('/api/reports/simulate?' + q.toString());
    } catch (e) {
      page.whatIf = null;
      $('what-if-state').textContent = 'cannot simulate: ' + e.message;
      return render();
    }
    const run = page.whatIf.run || {};
    $('what-if-state').textContent = 'simulated ' + run.callers + ' caller(s), staffing: ' + page.whatIf.staffing;
    render();
  }

  async function show() {
    const {fromMs, toMs, interval} = period();
    if (!(toMs > fromMs)) return setState('"To" must not be before "From"');
    setState('loading…');
    let r;
    try {
      r = await getJson('/api/reports/queues?from=' + new Date(fromMs).toISOString() + '&to=' +
                        new Date(toMs).toISOString() + '&interval=' + interval);
    } catch (e) {
      if (e.message === 'unauthorized')
        return callqToken.ask('The server refused that token. Enter the viewer token', start);
      return setState('cannot read the report: ' + e.message);
    }
    page.report = r;
    page.period = {fromMs, toMs, interval};
    render();
  }

  function render() {
    const r = page.report;
    if (!r) return;
    const {fromMs, toMs, interval} = page.period;
    const known = [...document.querySelectorAll('#queue-picker input')].map((i) => i.value);
    const fresh = r.queues.map((q) => q.queue).filter((n) => !known.includes(n));
    if (fresh.length) setQueues(known.concat(fresh).sort(), chosenQueues().concat(fresh));
    const chosen = chosenQueues();
    const queues = r.queues.filter((q) => chosen.includes(q.queue));
    whatIfInputs(queues.map((q) => q.queue));
    // Every interval of the period, the quiet ones too.
    const starts = [];
    for (let t = fromMs; t < toMs; t += intervalMs[interval]) starts.push(t);
    // Labels as short as the period allows: the hour within one day, the
    // day for daily intervals, else both (all in UTC).
    const oneDay = toMs - fromMs === day;
    const labels = starts.map((t) => {
      const iso = new Date(t).toISOString();
      if (interval === '1d') return iso.slice(0, 10);
      return oneDay ? iso.slice(11, 16) : iso.slice(5, 16).replace('T', ' ');
    });
    const rowOf = (q, t) => q.intervals.find((i) => Date.parse(i.start) === t);
    const sum = (t, field) => queues.reduce((n, q) => n + ((rowOf(q, t) || {})[field] || 0), 0);
    const calls = ['offered', 'answered', 'abandoned'].map((field, k) => ({
      label: field, data: starts.map((t) => sum(t, field)), backgroundColor: colours[k]}));
    // ASA and AHT over the chosen queues: summed seconds over summed calls.
    const ratio = (t, top, bottom) => (sum(t, bottom) > 0 ? sum(t, top) / sum(t, bottom) : null);
    const asa = starts.map((t) => ratio(t, 'holdSeconds', 'answered'));
    const aht = starts.map((t) => ratio(t, 'talkSeconds', 'completed'));
    const sl = [];
    queues.forEach((q, k) => {
      const colour = colours[k % colours.length];
      sl.push({label: q.queue, data: starts.map((t) => {
        const row = rowOf(q, t);
        return row && row.serviceLevel != null ? row.serviceLevel * 100 : null;
      }), borderColor: colour, backgroundColor: colour, spanGaps: false});
      sl.push({label: q.queue + ' target', data: starts.map(() => q.serviceLevelTarget * 100),
               borderColor: colour, borderDash: [6, 4], pointRadius: 0, fill: false});
    });
    const asaSets = [{label: 'ASA (s)', data: asa, borderColor: colours[0]}];
    const ahtSets = [{label: 'AHT (s)', data: aht, borderColor: colours[3]}];
    if (page.whatIf) {
      // The simulated figures of the chosen queues, beside the actual ones.
      const simulated = page.whatIf.queues.filter((q) => chosen.includes(q.queue));
      const simOf = (q, t) => (q.intervals.find((i) => Date.parse(i.start) === t) || {}).simulated || {};
      const simSum = (t, field) => simulated.reduce((n, q) => n + (simOf(q, t)[field] || 0), 0);
      // ASA and AHT weighted by each queue's answered calls.
      const simRatio = (t, field) => {
        const n = simSum(t, 'answered');
        return n > 0 ? simulated.reduce((s, q) => s + (simOf(q, t)[field] || 0) * (simOf(q, t).answered || 0), 0) / n
                     : null;
      };
      ['answered', 'abandoned'].forEach((field, k) => calls.push({
        label: field + ' (simulated)', data: starts.map((t) => simSum(t, field)),
        backgroundColor: colours[k + 1] + '80', borderColor: colours[k + 1], borderWidth: 1}));
      simulated.forEach((q) => {
        const k = queues.findIndex((a) => a.queue === q.queue);
        const colour = colours[(k < 0 ? 0 : k) % colours.length];
        sl.push({label: q.queue + ' (simulated)', data: starts.map((t) => {
          const v = simOf(q, t).serviceLevel;
          return v == null ? null : v * 100;
        }), borderColor: colour, backgroundColor: colour, borderDash: [2, 2], spanGaps: false});
      });
      asaSets.push({label: 'ASA simulated (s)', data: starts.map((t) => simRatio(t, 'asaSeconds')),
                    borderColor: colours[0], borderDash: [2, 2]});
      ahtSets.push({label: 'AHT simulated (s)', data: starts.map((t) => simRatio(t, 'ahtSeconds')),
                    borderColor: colours[3], borderDash: [2, 2]});
    }
    draw('calls', 'bar', labels, calls, {});
    draw('serviceLevel', 'line', labels, sl, {min: 0, max: 100});
    draw('asa', 'line', labels, asaSets, {min: 0});
    draw('aht', 'line', labels, ahtSets, {min: 0});
    $('agents').tBodies[0].innerHTML = r.agents.map((a) =>
      '<tr data-agent="' + callqEscape(a.agentId) + '"><td>' + callqEscape(a.agentId) + '</td>' +
      '<td class="answered" data-value="' + a.answered + '">' + a.answered + '</td>' +
      '<td class="talk" data-value="' + a.talkSeconds + '">' + callqDuration(a.talkSeconds) + '</td>' +
      '<td class="missed" data-value="' + a.missedOffers + '">' + a.missedOffers + '</td>' +
      '<td class="paused" data-value="' + a.pausedSeconds + '">' + callqDuration(a.pausedSeconds) +
      '</td><td class="paused-by-reason">' +
      Object.entries(a.pausedSecondsByReason || {}).map(([reason, s]) =>
        '<span data-reason="' + callqEscape(reason) + '" data-value="' + s + '">' + callqEscape(reason) +
        ' ' + callqDuration(s) + '</span>').join(', ') +
      '</td></tr>').join('');
    // Dispositions: per chosen queue and interval, the outcomes agents recorded.
    const rows = [];
    queues.forEach((q) => q.intervals.forEach((i) => Object.entries(i.dispositions || {}).forEach(([d, n]) =>
      rows.push('<tr data-queue="' + callqEscape(q.queue) + '" data-disposition="' + callqEscape(d) + '"><td>' +
                callqEscape(q.queue) + '</td><td>' + callqEscape(i.start) + '</td><td>' + callqEscape(d) +
                '</td><td class="count" data-value="' + n + '">' + n + '</td></tr>'))));
    $('dispositions').tBodies[0].innerHTML = rows.join('') ||
      '<tr><td colspan="4" class="empty">No dispositions recorded in this period.</td></tr>';
    setState(queues.length + ' queue(s), ' + starts.length + ' interval(s), ' + r.agents.length + ' agent(s)');
  }

  function draw(name, type, labels, datasets, y) {
    const old = page.charts[name];
    if (old) old.destroy();
    const canvas = $('chart-' + name.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()));
    page.charts[name] = new Chart(canvas, {
      type,
      data: {labels, datasets},
      options: {animation: false, responsive: true, maintainAspectRatio: false,
                scales: {y: Object.assign({beginAtZero: true}, y)}},
    });
  }

  const token = callqToken.get();
  if (token) start(token);
  else callqToken.ask('Enter the viewer token', start);
})();
