// The pages need no token; their data does (README, "Wallboard and
// reports pages"). The token comes from the URL fragment
// (/wallboard#token=...), else from this browser's storage, else the page
// asks for it once; it is kept in localStorage and taken out of the
// address bar, so a wall screen does not show it.
'use strict';

const callqToken = {
  key: 'callq.token',

  /// The token to use, or '' when there is none yet.
  get() {
    const m = /(?:^#|&)token=([^&]*)/.exec(location.hash);
    if (m) {
      const token = decodeURIComponent(m[1]);
      this.keep(token);
      history.replaceState(null, '', location.pathname + location.search);
      return token;
    }
    try {
      return localStorage.getItem(this.key) || '';
    } catch (e) {
      return '';
    }
  },

  keep(token) {
    try {
      localStorage.setItem(this.key, token);
    } catch (e) {
      // storage refused (private window): the token lasts as long as the page
    }
    this.current = token;
  },

  /// Forgets a token the server refused.
  forget() {
    try {
      localStorage.removeItem(this.key);
    } catch (e) {
      // nothing kept
    }
  },

  /// Shows the token form (made on first use, below the page's header)
  /// with `message`; calls `done(token)` once it is
  /// submitted.
  ask(message, done) {
    let form = document.getElementById('token-form');
    if (!form) {
      form = document.createElement('form');
      form.id = 'token-form';
      form.innerHTML = '<label for="token-input" id="token-message"></label>' +
        '<input id="token-input" type="password" autocomplete="off">' +
        '<button type="submit">Show</button>';
      document.querySelector('header').after(form);
    }
    document.getElementById('token-message').textContent = message;
    form.hidden = false;
    const input = document.getElementById('token-input');
    input.value = '';
    input.focus();
    form.onsubmit = (ev) => {
      ev.preventDefault();
      const token = input.value.trim();
      if (!token) return;
      this.keep(token);
      form.hidden = true;
      done(token);
    };
  },

  /// fetch() with the token as a bearer token.
  fetch(token, url) {
    return fetch(url, {headers: {Authorization: 'Bearer ' + token}, cache: 'no-store'});
  },
};

/// Escapes text for HTML.
function callqEscape(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'})[c]);
}

/// Seconds as "m:ss", or "h:mm:ss" from an hour.
function callqDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const two = (n) => String(n).padStart(2, '0');
  return h > 0 ? h + ':' + two(m) + ':' + two(r) : m + ':' + two(r);
}
