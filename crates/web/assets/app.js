// EatFit24 Mini App: loads server-rendered screens with the initData header, wires
// Telegram's theme, BackButton, MainButton and haptics, and sends forms to the JSON API.
(function () {
  'use strict';
  var tg = window.Telegram && window.Telegram.WebApp;
  var screen = document.getElementById('screen');
  var texts = JSON.parse(document.getElementById('texts').textContent);
  var store = {
    get: function (k) { try { return localStorage.getItem('ef.' + k); } catch (e) { return null; } },
    set: function (k, v) { try { localStorage.setItem('ef.' + k, v); } catch (e) { /* private mode */ } }
  };
  var user = tg && tg.initDataUnsafe && tg.initDataUnsafe.user;
  var lang = store.get('lang') || (((user && user.language_code) || navigator.language || 'ru').slice(0, 2) === 'en' ? 'en' : 'ru');
  function t(k) { return (texts[lang] && texts[lang][k]) || texts.ru[k] || k; }
  document.documentElement.lang = lang;

  // ---- theme and safe areas ----
  function applyTheme() {
    var root = document.documentElement;
    var choice = store.get('theme') || 'auto';
    var p = (tg && tg.themeParams) || {};
    var map = { bg_color: '--bg', text_color: '--text', hint_color: '--hint', link_color: '--link',
      button_color: '--button', button_text_color: '--button-text', secondary_bg_color: '--bg2' };
    Object.keys(map).forEach(function (k) {
      if (choice === 'auto' && p[k]) root.style.setProperty(map[k], p[k]);
      else root.style.removeProperty(map[k]);
    });
    var dark = choice === 'auto' ? (tg ? tg.colorScheme === 'dark' : matchMedia('(prefers-color-scheme: dark)').matches) : choice === 'dark';
    root.setAttribute('data-theme', dark ? 'dark' : 'light');
  }
  function applySafeArea() {
    var root = document.documentElement;
    var a = (tg && tg.safeAreaInset) || {}, c = (tg && tg.contentSafeAreaInset) || {};
    ['top', 'bottom', 'left', 'right'].forEach(function (s) {
      root.style.setProperty('--safe-' + s, ((a[s] || 0) + (c[s] || 0)) + 'px');
    });
  }

  function haptic(kind) {
    try { if (tg && tg.HapticFeedback) tg.HapticFeedback.notificationOccurred(kind); } catch (e) { /* old client */ }
  }

  function toast(msg, isError) {
    var el = document.getElementById('toast');
    el.textContent = msg;
    el.className = isError ? 'error' : 'ok';
    el.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { el.hidden = true; }, isError ? 6000 : 2500);
  }

  // ---- HTTP ----
  function headers(json) {
    var h = { 'X-Telegram-Init-Data': tg.initData, 'X-UI-Lang': lang };
    if (json) h['Content-Type'] = 'application/json';
    return h;
  }
  function api(method, url, body) {
    return fetch(url, { method: method, headers: headers(body !== undefined), body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (r) {
        var rid = r.headers.get('X-Request-ID') || '';
        return r.text().then(function (s) {
          var data = null;
          try { data = s ? JSON.parse(s) : null; } catch (e) { data = s; }
          if (r.status === 401) expired();
          return { ok: r.ok, status: r.status, data: data, rid: rid };
        });
      }, function () { return { ok: false, status: 0, data: null, rid: '' }; });
  }
  // The server's words for a failure: the AI contract, the general envelope, or ours.
  function describe(res) {
    var d = res.data || {};
    var err = d.error && typeof d.error === 'object' ? d.error : null;
    var title = d.user_title || (err && err.message) || (res.status === 0 ? t('offline') : t('error_title'));
    var msg = d.user_message || '';
    if (err && err.details && typeof err.details === 'object') {
      var parts = [];
      Object.keys(err.details).forEach(function (k) {
        var v = err.details[k];
        var input = document.querySelector('#screen [name="' + k + '"]');
        var label = input && input.closest('label') && input.closest('label').querySelector('span');
        if (Array.isArray(v)) parts.push((label ? label.textContent : k) + ': ' + v.join(' '));
      });
      if (parts.length) { msg = parts.join('; '); title = t('check_title'); }
    }
    return { title: title, message: msg, actions: d.user_actions || [], rid: res.rid || d.trace_id || '' };
  }

  // ---- states ----
  function page(html) { screen.innerHTML = html; }
  function esc(s) { var d = document.createElement('div'); d.textContent = s == null ? '' : String(s); return d.innerHTML; }
  function hideButtons() {
    if (!tg) return;
    if (tg.BackButton) tg.BackButton.hide();
    if (tg.MainButton) tg.MainButton.hide();
  }
  function notInTelegram() {
    page('<section class="screen gate"><div class="card note"><h1>' + esc(t('open_title')) + '</h1><p>' + esc(t('open_text')) + '</p></div></section>');
  }
  function expired() {
    hideButtons();
    page('<section class="screen gate" id="expired"><div class="card note"><h1>' + esc(t('expired_title')) + '</h1><p>' + esc(t('expired_text')) + '</p><button class="btn primary" type="button" data-close>' + esc(t('reopen')) + '</button></div></section>');
  }
  function errorBlock(info, retry) {
    var acts = '<button class="btn primary" type="button" data-retry>' + esc(t('retry')) + '</button>';
    if (info.actions.indexOf('upgrade') >= 0) acts += '<a class="btn" href="/app/plan">' + esc(t('upgrade')) + '</a>';
    return '<div class="card error-state" role="alert"><h2>' + esc(info.title) + '</h2><p>' + esc(info.message || t('error_text')) + '</p>' +
      (retry ? acts : '') + (info.rid ? '<p class="hint rid">' + esc(t('request_id')) + ': <code>' + esc(info.rid) + '</code></p>' : '') + '</div>';
  }

  // ---- navigation ----
  var current = '', pollTimer = 0, loadSeq = 0;
  function fragmentUrl(path) {
    var rest = path.replace(/^\/app\/?/, '');
    if (rest === '' || rest.charAt(0) === '?') rest = 'diary' + rest;
    return '/app/f/' + rest;
  }
  function load(path, quiet) {
    var seq = ++loadSeq;
    clearTimeout(pollTimer);
    current = path;
    var slow = quiet ? 0 : setTimeout(function () { if (seq === loadSeq) screen.setAttribute('aria-busy', 'true'); }, 150);
    return fetch(fragmentUrl(path), { headers: headers(false) }).then(function (r) {
      var rid = r.headers.get('X-Request-ID') || '';
      return r.text().then(function (body) {
        if (seq !== loadSeq) return;
        clearTimeout(slow);
        screen.removeAttribute('aria-busy');
        if (r.status === 401) return expired();
        if (!r.ok) {
          var data = null;
          try { data = JSON.parse(body); } catch (e) { data = null; }
          hideButtons();
          page('<section class="screen" data-screen="error">' + errorBlock(describe({ status: r.status, data: data, rid: rid }), true) + '</section>');
          return;
        }
        page(body);
        wire();
      });
    }, function () {
      if (seq !== loadSeq) return;
      clearTimeout(slow);
      screen.removeAttribute('aria-busy');
      if (quiet) return;
      page('<section class="screen" data-screen="error">' + errorBlock({ title: t('offline'), message: '', actions: [], rid: '' }, true) + '</section>');
    });
  }
  function nav(path, replace) {
    if (path === 'closed') { if (tg && tg.close) tg.close(); return; }
    if (replace) history.replaceState(null, '', path); else history.pushState(null, '', path);
    window.scrollTo(0, 0);
    return load(path);
  }
  function reload(quiet) { return load(current || location.pathname + location.search, quiet); }

  var mainHandler = null;
  function wire() {
    var sec = screen.querySelector('section.screen');
    if (!sec) return;
    document.title = sec.getAttribute('data-title') || 'EatFit24';
    if (tg && tg.BackButton) { if (sec.hasAttribute('data-back')) tg.BackButton.show(); else tg.BackButton.hide(); }
    if (tg && tg.MainButton) {
      if (mainHandler) tg.MainButton.offClick(mainHandler);
      mainHandler = null;
      var id = sec.getAttribute('data-main');
      if (id) {
        mainHandler = function () { var b = document.getElementById(id); if (b) b.click(); };
        tg.MainButton.setText(sec.getAttribute('data-main-text') || '');
        tg.MainButton.onClick(mainHandler);
        tg.MainButton.show();
      } else tg.MainButton.hide();
    }
    var poll = +sec.getAttribute('data-poll');
    if (poll) pollTimer = setTimeout(function () { reload(true); }, poll);
    document.dispatchEvent(new CustomEvent('ef:screen', { detail: sec }));
  }

  // ---- forms and actions ----
  function commonFields(into) {
    Array.prototype.forEach.call(document.querySelectorAll('[data-common]'), function (el) {
      if (el.value !== '') into[el.name] = el.type === 'hidden' ? Number(el.value) || el.value : el.value;
    });
    return into;
  }
  function formData(form) {
    var o = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled) return;
      if (el.type === 'checkbox') o[el.name] = el.checked;
      else if (el.type === 'number') { if (el.value !== '') o[el.name] = Number(el.value); }
      else if (el.value !== '' || el.tagName === 'TEXTAREA' || el.name === 'name') o[el.name] = el.value;
    });
    if (form.hasAttribute('data-derive-kcal') && o.calories === undefined) {
      o.calories = Math.round(4 * (o.protein || 0) + 9 * (o.fat || 0) + 4 * (o.carbohydrates || 0));
    }
    return o;
  }
  function thenPath(el, payload) {
    var then = el.getAttribute('data-then');
    return then ? then.replace('{date}', (payload && payload.date) || '') : null;
  }
  function confirmThen(el, go) {
    var q = el.getAttribute('data-confirm');
    if (!q) return go();
    if (tg && tg.showConfirm) {
      try { tg.showConfirm(q, function (ok) { if (ok) go(); }); return; } catch (e) { /* not supported */ }
    }
    if (window.confirm(q)) go();
  }
  function send(el, spec, payload) {
    var sp = spec.split(' ');
    el.setAttribute('aria-busy', 'true');
    if (el.tagName === 'FORM' || el.tagName === 'BUTTON') el.classList.add('busy');
    return api(sp[0], sp[1], payload).then(function (res) {
      el.removeAttribute('aria-busy');
      el.classList.remove('busy');
      if (res.ok) {
        haptic('success');
        toast(t('saved'));
        var then = thenPath(el, payload);
        return then ? nav(then) : reload(true);
      }
      if (res.status === 401) return;
      haptic('error');
      var info = describe(res);
      toast(info.title + (info.message ? ' — ' + info.message : '') + (info.rid ? ' (' + t('request_id') + ': ' + info.rid + ')' : ''), true);
    });
  }

  function pollTask(taskId, onDone, tries) {
    tries = tries || 0;
    return api('GET', '/api/v1/ai/task/' + encodeURIComponent(taskId) + '/').then(function (res) {
      var st = res.data && res.data.status;
      if (res.ok && st === 'processing' && tries < 120) {
        return new Promise(function (ok) { setTimeout(ok, 700); }).then(function () { return pollTask(taskId, onDone, tries + 1); });
      }
      return onDone(res);
    });
  }

  function textLog(form) {
    var payload = commonFields(formData(form));
    var status = form.querySelector('.form-status');
    status.textContent = t('processing') + '…';
    form.classList.add('busy');
    api('POST', '/api/v1/ai/recognize-text/', payload).then(function (res) {
      if (!res.ok) {
        form.classList.remove('busy');
        status.textContent = '';
        haptic('error');
        status.innerHTML = errorBlock(describe(res), false);
        return;
      }
      return pollTask(res.data.task_id, function (r) {
        form.classList.remove('busy');
        if (r.ok && r.data.status === 'success') {
          haptic('success');
          return nav(thenPath(form, payload));
        }
        haptic('error');
        status.innerHTML = errorBlock(describe({ status: r.status, data: (r.data && r.data.result) || r.data, rid: r.rid }), false);
      });
    });
  }

  function download(el) {
    fetch(el.getAttribute('data-download'), { headers: headers(false) }).then(function (r) {
      if (!r.ok) { toast(t('error_title'), true); return; }
      return r.blob().then(function (b) {
        var a = document.createElement('a');
        a.href = URL.createObjectURL(b);
        a.download = el.getAttribute('data-filename') || 'export.csv';
        document.body.appendChild(a);
        a.click();
        a.remove();
      });
    });
  }

  document.addEventListener('click', function (e) {
    var el = e.target.closest('a, button');
    if (!el) return;
    if (el.hasAttribute('data-retry')) { e.preventDefault(); reload(); return; }
    if (el.hasAttribute('data-close')) { e.preventDefault(); if (tg && tg.close) tg.close(); return; }
    if (el.hasAttribute('data-tg-link')) { e.preventDefault(); if (tg && tg.openTelegramLink) tg.openTelegramLink(el.getAttribute('data-tg-link')); return; }
    if (el.hasAttribute('data-copy')) {
      e.preventDefault();
      var text = el.getAttribute('data-copy'), done = el.getAttribute('data-copied') || '✓';
      if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(text).then(function () { haptic('success'); toast(done); }, function () { toast(text); });
      else toast(text);
      return;
    }
    if (el.hasAttribute('data-download')) { e.preventDefault(); download(el); return; }
    if (el.hasAttribute('data-set')) {
      e.preventDefault();
      var kv = el.getAttribute('data-set').split(':');
      store.set(kv[0], kv[1]);
      if (kv[0] === 'lang') lang = kv[1];
      document.documentElement.lang = lang;
      applyTheme();
      haptic('success');
      reload(true);
      return;
    }
    if (el.hasAttribute('data-api') && el.tagName === 'BUTTON') {
      e.preventDefault();
      var body = el.getAttribute('data-body');
      var payload = body ? JSON.parse(body) : undefined;
      if (payload && el.hasAttribute('data-with-common')) commonFields(payload);
      confirmThen(el, function () { send(el, el.getAttribute('data-api'), payload); });
      return;
    }
    if (el.tagName === 'A') {
      var href = el.getAttribute('href') || '';
      if (href.indexOf('/app') === 0 && !el.hasAttribute('download') && !e.metaKey && !e.ctrlKey) {
        e.preventDefault();
        nav(href);
      }
    }
  });
  document.addEventListener('submit', function (e) {
    var form = e.target;
    e.preventDefault();
    if (form.hasAttribute('data-textlog')) return textLog(form);
    if (form.hasAttribute('data-search')) {
      var q = new URLSearchParams();
      Array.prototype.forEach.call(form.elements, function (el) { if (el.name && el.value) q.set(el.name, el.value); });
      return nav(form.getAttribute('data-search') + (q.toString() ? '?' + q : ''));
    }
    if (form.hasAttribute('data-api')) {
      var payload = formData(form);
      if (form.getAttribute('data-api').indexOf('quick-add') >= 0) commonFields(payload);
      send(form, form.getAttribute('data-api'), payload);
    }
  });
  window.addEventListener('popstate', function () { load(location.pathname + location.search); });

  // ---- offline banner and pull to refresh ----
  function online() {
    var b = document.getElementById('offline');
    b.textContent = t('offline');
    b.hidden = navigator.onLine !== false;
  }
  window.addEventListener('online', function () { online(); reload(true); });
  window.addEventListener('offline', online);
  var pullY = null;
  screen.addEventListener('touchstart', function (e) { pullY = window.scrollY === 0 ? e.touches[0].clientY : null; }, { passive: true });
  screen.addEventListener('touchend', function (e) {
    if (pullY !== null && e.changedTouches[0].clientY - pullY > 80) reload();
    pullY = null;
  }, { passive: true });

  // ---- subscription: plans from the billing API, buy, poll until PRO ----
  function plans(box) {
    api('GET', box.getAttribute('data-plans')).then(function (res) {
      var list = res.ok && (Array.isArray(res.data) ? res.data : res.data && res.data.results);
      if (!list) {
        box.innerHTML = res.status === 404 ? '<p class="hint">' + esc(box.getAttribute('data-unavailable')) + '</p>' : errorBlock(describe(res), true);
        return;
      }
      box.innerHTML = '<ul class="list plans">' + list.filter(function (p) { return p.code !== 'FREE'; }).map(function (p) {
        return '<li class="plan-card"><b>' + esc(p.display_name || p.code) + '</b><span class="price">' + esc(p.price) + ' ₽</span>' +
          '<button class="btn primary" type="button" data-buy="' + esc(p.code) + '">' + esc(box.getAttribute('data-buy-text')) + '</button></li>';
      }).join('') + '</ul>';
    });
  }
  function waitPro(tries) {
    api('GET', '/api/v1/billing/me/').then(function (res) {
      var code = res.ok && res.data && res.data.plan_code;
      if (code && code !== 'FREE') { haptic('success'); toast(t('pro_active')); reload(true); return; }
      if (tries < 150 && current.indexOf('/app/plan') === 0) setTimeout(function () { waitPro(tries + 1); }, 2000);
    });
  }
  document.addEventListener('click', function (e) {
    var b = e.target.closest('[data-buy]');
    if (!b) return;
    b.classList.add('busy');
    api('POST', '/api/v1/billing/create-payment/', { plan_code: b.getAttribute('data-buy') }).then(function (res) {
      b.classList.remove('busy');
      var url = res.ok && res.data && res.data.confirmation_url;
      if (!url) { haptic('error'); b.insertAdjacentHTML('afterend', errorBlock(describe(res), false)); return; }
      if (tg.openLink) tg.openLink(url); else window.open(url, '_blank', 'noopener');
      toast(t('paying'));
      waitPro(0);
    });
  });
  document.addEventListener('click', function (e) {
    var b = e.target.closest('[data-bind-card]');
    if (!b) return;
    b.classList.add('busy');
    api('POST', '/api/v1/billing/bind-card/start/', {}).then(function (res) {
      b.classList.remove('busy');
      var url = res.ok && res.data && res.data.confirmation_url;
      if (!url) { haptic('error'); b.insertAdjacentHTML('afterend', errorBlock(describe(res), false)); return; }
      if (tg.openLink) tg.openLink(url); else window.open(url, '_blank', 'noopener');
    });
  });
  function subExtra(box) {
    var l = function (k) { return box.getAttribute('data-l-' + k) || ''; };
    Promise.all([api('GET', '/api/v1/billing/subscription/'), api('GET', '/api/v1/billing/payments/?limit=10')]).then(function (r) {
      var s = r[0], p = r[1], html = '';
      if (s.ok && s.data) {
        var pm = s.data.payment_method || {};
        html += '<label class="check"><input type="checkbox" data-autorenew' + (s.data.autorenew_enabled ? ' checked' : '') +
          (s.data.autorenew_available ? '' : ' disabled') + '> ' + esc(l('autorenew')) + '</label>' +
          '<p class="hint">' + esc(l('card')) + ': ' + esc(pm.is_attached ? (pm.card_brand || '') + ' ' + (pm.card_mask || '') : l('nocard')) + '</p>';
      } else if (s.status !== 404) html += errorBlock(describe(s), true);
      html += '<h2>' + esc(l('history')) + '</h2>';
      var rows = p.ok && p.data && p.data.results;
      if (rows && rows.length) {
        html += '<ul class="list" id="payments">' + rows.map(function (x) {
          return '<li class="row-btn"><span>' + esc(x.amount) + ' ' + esc(x.currency || '') + ' · ' + esc(x.description || '') + '</span><small>' +
            esc(l('st-' + x.status) || x.status) + (x.paid_at ? ' · ' + esc(String(x.paid_at).slice(0, 10)) : '') + '</small></li>';
        }).join('') + '</ul>';
      } else if (rows) html += '<p class="hint">' + esc(l('nohistory')) + '</p>';
      else if (p.status !== 404) html += errorBlock(describe(p), true);
      box.innerHTML = html;
    });
  }
  document.addEventListener('change', function (e) {
    var c = e.target;
    if (!c.hasAttribute || !c.hasAttribute('data-autorenew')) return;
    var on = c.checked, box = c.closest('#sub-extra');
    var go = function () {
      api('POST', '/api/v1/billing/subscription/autorenew/', { enabled: on }).then(function (res) {
        if (res.ok) { haptic('success'); toast(t('saved')); } else {
          c.checked = !on; haptic('error');
          var info = describe(res);
          toast(info.title + (info.message ? ' — ' + info.message : '') + (info.rid ? ' (' + info.rid + ')' : ''), true);
        }
      });
    };
    if (!on) return go();
    c.checked = false;
    var q = box.getAttribute('data-l-consent');
    var ok = function (yes) { if (yes) { c.checked = true; go(); } };
    if (tg.showConfirm) tg.showConfirm(q, ok); else ok(window.confirm(q));
  });
  document.addEventListener('ef:screen', function (e) {
    var theme = store.get('theme') || 'auto';
    Array.prototype.forEach.call(e.detail.querySelectorAll('[data-set^="theme:"]'), function (b) {
      b.setAttribute('aria-pressed', String(b.getAttribute('data-set') === 'theme:' + theme));
    });
    var box = e.detail.querySelector('#plans');
    if (box) plans(box);
    var extra = e.detail.querySelector('#sub-extra');
    if (extra) subExtra(extra);
  });

  // ---- boot ----
  window.EF = { api: api, nav: nav, reload: reload, toast: toast, haptic: haptic, t: t, describe: describe,
    errorBlock: errorBlock, pollTask: pollTask, headers: headers, commonFields: commonFields, esc: esc, tg: function () { return tg; } };
  applyTheme();
  if (!tg || !tg.initData) { notInTelegram(); return; }
  try { tg.ready(); tg.expand(); } catch (e) { /* old client */ }
  applySafeArea();
  if (tg.onEvent) {
    tg.onEvent('themeChanged', applyTheme);
    tg.onEvent('safeAreaChanged', applySafeArea);
    tg.onEvent('contentSafeAreaChanged', applySafeArea);
  }
  if (tg.BackButton) {
    tg.BackButton.onClick(function () {
      var sec = screen.querySelector('section.screen');
      var back = sec && sec.getAttribute('data-back');
      if (back) nav(back); else history.back();
    });
  }
  online();
  load(location.pathname + location.search);
})();
