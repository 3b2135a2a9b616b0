// Photo logging on the "add food" screen: up to 5 photos with a comment each, upload progress
// per photo, polling of the recognition task, cancel and retry; closing confirmation while busy.
(function () {
  'use strict';
  var EF = window.EF;
  if (!EF) return;
  var queue = [], mealId = null, running = false;

  function active() {
    return queue.some(function (q) { return q.state === 'uploading' || q.state === 'processing' || q.state === 'queued'; });
  }
  function closing() {
    var tg = EF.tg();
    if (!tg) return;
    try { if (active()) tg.enableClosingConfirmation(); else tg.disableClosingConfirmation(); } catch (e) { /* old client */ }
  }
  function setState(q, state, detail) {
    q.state = state;
    q.li.setAttribute('data-state', state);
    q.st.textContent = EF.t(state) + (detail ? ' — ' + detail : '');
    q.retry.hidden = !(state === 'failed' || state === 'cancelled');
    q.cancel.hidden = !(state === 'new' || state === 'uploading' || state === 'processing' || state === 'queued');
    q.comment.disabled = state !== 'new' && state !== 'failed' && state !== 'cancelled';
    closing();
  }

  function render(list, file) {
    var li = document.createElement('li');
    li.className = 'photo-item';
    var n = queue.length + 1;
    li.innerHTML = '<img alt="" width="64" height="64"><div class="photo-body"><label class="field"><span>' +
      EF.esc(list.getAttribute('data-comment')) + ' #' + n + '</span><textarea rows="1" maxlength="500"></textarea></label>' +
      '<progress max="100" value="0"></progress><span class="st" role="status"></span><div class="err"></div></div>' +
      '<div class="photo-acts"><button type="button" class="btn small" data-ph="cancel" aria-label="' + EF.esc(EF.t('cancel')) + '">✕</button>' +
      '<button type="button" class="btn small" data-ph="retry" hidden>' + EF.esc(EF.t('retry')) + '</button></div>';
    li.querySelector('img').src = URL.createObjectURL(file);
    list.appendChild(li);
    var q = { file: file, li: li, st: li.querySelector('.st'), bar: li.querySelector('progress'), err: li.querySelector('.err'),
      comment: li.querySelector('textarea'), cancel: li.querySelector('[data-ph=cancel]'), retry: li.querySelector('[data-ph=retry]'),
      xhr: null, taskId: null, photoId: null, state: 'new' };
    q.cancel.addEventListener('click', function () { cancel(q); });
    q.retry.addEventListener('click', function () { setState(q, 'queued'); run(); });
    queue.push(q);
    setState(q, 'new');
    q.st.textContent = '';
  }

  function fail(q, res) {
    var info = EF.describe(res);
    q.err.innerHTML = EF.errorBlock(info, false);
    EF.haptic('error');
    setState(q, 'failed');
  }

  function upload(q) {
    return new Promise(function (done) {
      var fd = new FormData();
      var common = EF.commonFields({});
      fd.append('image', q.file, q.file.name || 'photo.jpg');
      if (common.meal_type) fd.append('meal_type', common.meal_type);
      if (common.date) fd.append('date', common.date);
      if (mealId || common.meal_id) fd.append('meal_id', mealId || common.meal_id);
      var retryPhoto = q.photoId || document.getElementById('photos').getAttribute('data-retry-photo');
      if (retryPhoto && q === queue[0]) fd.append('meal_photo_id', retryPhoto);
      if (q.comment.value.trim()) fd.append('user_comment', q.comment.value.trim());
      var x = new XMLHttpRequest();
      q.xhr = x;
      x.open('POST', '/api/v1/ai/recognize/');
      var h = EF.headers(false);
      Object.keys(h).forEach(function (k) { x.setRequestHeader(k, h[k]); });
      x.upload.onprogress = function (e) { if (e.lengthComputable) q.bar.value = Math.round(e.loaded / e.total * 100); };
      x.onload = function () {
        q.xhr = null;
        var data = null;
        try { data = JSON.parse(x.responseText); } catch (e) { data = null; }
        var res = { ok: x.status >= 200 && x.status < 300, status: x.status, data: data, rid: x.getResponseHeader('X-Request-ID') || '' };
        if (x.status === 401) { done(); return EF.reload(); }
        if (!res.ok) { fail(q, res); return done(); }
        q.bar.value = 100;
        q.taskId = data.task_id;
        q.photoId = data.meal_photo_id;
        mealId = data.meal_id;
        setState(q, 'processing');
        EF.pollTask(q.taskId, function (r) {
          if (q.state === 'cancelled') return done();
          var st = r.data && r.data.status;
          if (r.ok && st === 'success') { EF.haptic('success'); setState(q, 'done'); q.err.innerHTML = ''; quota(); }
          else fail(q, { status: r.status, data: (r.data && r.data.result) || r.data, rid: r.rid });
          done();
        });
      };
      x.onerror = function () { q.xhr = null; fail(q, { status: 0, data: null, rid: '' }); done(); };
      x.onabort = function () { q.xhr = null; done(); };
      setState(q, 'uploading');
      x.send(fd);
    });
  }

  function cancel(q) {
    if (q.state === 'new') {
      q.li.remove();
      queue = queue.filter(function (x) { return x !== q; });
      document.getElementById('photo-send').hidden = queue.length === 0;
      closing();
      return;
    }
    if (q.xhr) q.xhr.abort();
    if (q.taskId && q.state === 'processing') EF.api('POST', '/api/v1/ai/task/' + encodeURIComponent(q.taskId) + '/cancel/', {});
    setState(q, 'cancelled');
  }

  function finish() {
    var send = document.getElementById('photo-send');
    if (!send) return;
    if (queue.length && queue.every(function (q) { return q.state === 'done' || q.state === 'cancelled'; }) && mealId) {
      send.hidden = false;
      send.textContent = EF.t('done');
      send.setAttribute('data-done', '1');
    }
  }

  function run() {
    if (running) return;
    running = true;
    var next = queue.filter(function (q) { return q.state === 'queued'; })[0];
    if (!next) { running = false; finish(); return; }
    upload(next).then(function () { running = false; run(); });
  }

  function quota() {
    var el = document.getElementById('quota');
    if (!el) return;
    EF.api('GET', '/api/v1/billing/me/').then(function (res) {
      var d = res.ok && res.data;
      if (!d) return;
      if (d.daily_photo_limit == null) { el.textContent = el.getAttribute('data-l-pro'); return; }
      el.innerHTML = EF.esc(el.getAttribute('data-l-left').replace('{left}', d.remaining_today).replace('{limit}', d.daily_photo_limit)) +
        (d.remaining_today > 0 ? '' : ' · <a href="/app/plan">' + EF.esc(EF.t('upgrade')) + '</a>');
    });
  }

  document.addEventListener('ef:screen', function () {
    quota();
    var input = document.getElementById('photo-input');
    queue = []; mealId = null; running = false;
    closing();
    if (!input) return;
    var list = document.getElementById('photo-list');
    var send = document.getElementById('photo-send');
    input.addEventListener('change', function () {
      var files = Array.prototype.slice.call(input.files || []).filter(function (f) { return /^image\//.test(f.type) || /\.hei[cf]$/i.test(f.name); });
      var room = 5 - queue.length;
      if (files.length > room) EF.toast(EF.t('max5'), true);
      files.slice(0, Math.max(0, room)).forEach(function (f) { render(list, f); });
      input.value = '';
      send.hidden = queue.length === 0;
    });
    send.addEventListener('click', function () {
      if (send.getAttribute('data-done')) {
        var common = EF.commonFields({});
        return EF.nav('/app/diary?date=' + (common.date || ''));
      }
      queue.forEach(function (q) { if (q.state === 'new') setState(q, 'queued'); });
      send.hidden = true;
      run();
    });
  });
})();
