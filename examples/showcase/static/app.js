// The upload form's progress bar: the upload goes through XMLHttpRequest
// (upload.onprogress), asks for JSON, and adds the new files to the table
// without reloading the page. Without JavaScript the form posts as usual.
// The times of the table are shown in the browser's time zone, the same
// way for the rows the server wrote and the rows added here.
(function () {
  'use strict';

  var form = document.getElementById('upload-form');
  if (!form || !window.FormData || !window.XMLHttpRequest) {
    return;
  }
  var input = document.getElementById('file');
  var button = document.getElementById('upload-submit');
  var bar = document.getElementById('upload-progress');
  var percent = document.getElementById('upload-percent');
  var errorBox = document.getElementById('upload-error');
  var table = document.getElementById('files');
  var maxBytes = Number(form.getAttribute('data-max-upload')) || 0;
  var maxText = form.getAttribute('data-max-text') || '';
  var maxFiles = Number(form.getAttribute('data-max-files')) || 0;
  var maxTotal = Number(form.getAttribute('data-max-total')) || 0;
  var maxTotalText = form.getAttribute('data-max-total-text') || '';
  var busy = false; // an upload is running: no second one meanwhile

  function pad(n) {
    return (n < 10 ? '0' : '') + n;
  }

  // formatTime writes an RFC 3339 time as the server's pages do:
  // "2006-01-02 15:04", in local time.
  function formatTime(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) {
      return iso;
    }
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) +
      ' ' + pad(d.getHours()) + ':' + pad(d.getMinutes());
  }

  var times = table ? table.querySelectorAll('td.file-time time') : [];
  for (var t = 0; t < times.length; t++) {
    times[t].textContent = formatTime(times[t].getAttribute('datetime'));
  }

  function setPercent(p) {
    bar.value = p;
    percent.textContent = p + '%';
  }

  function showError(msg) {
    errorBox.textContent = msg;
    errorBox.hidden = false;
  }

  function clearError() {
    errorBox.textContent = '';
    errorBox.hidden = true;
  }

  function formatSize(n) {
    if (n < 1024) {
      return n + ' B';
    }
    var units = ['KiB', 'MiB', 'GiB', 'TiB'];
    var u = -1;
    do {
      n /= 1024;
      u++;
    } while (n >= 1024 && u < units.length - 1);
    return n.toFixed(1).replace(/\.0$/, '') + ' ' + units[u];
  }

  function cell(cls, text) {
    var td = document.createElement('td');
    td.className = cls;
    td.textContent = text; // text, never HTML: names come from users
    return td;
  }

  function addRow(f) {
    var tbody = table.tBodies[0];
    var empty = tbody.querySelector('tr.empty');
    if (empty) {
      empty.remove();
    }
    var tr = document.createElement('tr');
    tr.className = 'file';
    tr.setAttribute('data-id', f.id);
    tr.appendChild(cell('file-name', f.name));
    var size = cell('file-size num', formatSize(f.size));
    size.setAttribute('data-bytes', String(f.size));
    tr.appendChild(size);
    tr.appendChild(cell('file-type', f.type));
    var when = cell('file-time', '');
    var time = document.createElement('time');
    time.dateTime = f.time;
    time.textContent = formatTime(f.time);
    when.appendChild(time);
    tr.appendChild(when);
    var actions = cell('actions', '');
    var a = document.createElement('a');
    a.className = 'download';
    a.href = '/files/' + encodeURIComponent(f.id);
    a.textContent = 'Download';
    actions.appendChild(a);
    var del = document.createElement('form');
    del.method = 'post';
    del.action = '/files/' + encodeURIComponent(f.id) + '/delete';
    var b = document.createElement('button');
    b.className = 'delete link';
    b.type = 'submit';
    b.textContent = 'Delete';
    del.appendChild(b);
    actions.appendChild(del);
    tr.appendChild(actions);
    tbody.insertBefore(tr, tbody.firstChild);
  }

  // done ends an upload, whatever its outcome: the form takes the next one.
  function done() {
    busy = false;
    button.disabled = false;
  }

  // failed ends an upload that did not store the files, with msg.
  function failed(msg) {
    done();
    setPercent(0);
    showError(msg);
  }

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    if (busy) {
      return; // Enter or requestSubmit while an upload runs
    }
    clearError();
    var files = input.files;
    if (!files || files.length === 0) {
      showError('Choose a file to upload.');
      return;
    }
    // The server's limits, checked here too: past them it answers in the
    // middle of the body and closes the connection, which a browser tells
    // as a network error rather than the server's message.
    if (maxFiles && files.length > maxFiles) {
      showError('The upload is too large: at most ' + maxFiles + ' files at once.');
      return;
    }
    var total = 0;
    for (var i = 0; i < files.length; i++) {
      if (maxBytes && files[i].size > maxBytes) {
        showError('The file ' + files[i].name + ' is too large: the largest file allowed is ' + maxText + '.');
        return;
      }
      total += files[i].size;
    }
    if (maxTotal && total > maxTotal) {
      showError('The upload is too large: at most ' + maxTotalText + ' in all.');
      return;
    }
    busy = true;
    var xhr = new XMLHttpRequest();
    xhr.open('POST', form.action);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable && e.total > 0) {
        // 100% only once the server has answered.
        setPercent(Math.min(99, Math.floor(e.loaded * 100 / e.total)));
      }
    };
    xhr.onload = function () {
      var body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch (e) {
        body = null;
      }
      if (xhr.status === 201 && body && body.files) {
        done();
        setPercent(100);
        for (var i = 0; i < body.files.length; i++) {
          addRow(body.files[i]);
        }
        input.value = '';
        return;
      }
      if (xhr.status === 401) {
        failed('You are no longer logged in: reload the page and log in again.');
      } else {
        failed(body && body.error ? body.error : 'The upload failed (status ' + xhr.status + ').');
      }
    };
    xhr.onerror = function () {
      failed('The upload failed: the connection was closed. The file may be too large, or the server is unreachable.');
    };
    xhr.onabort = function () {
      failed('The upload was stopped.');
    };
    xhr.ontimeout = function () {
      failed('The upload took too long and was stopped.');
    };
    button.disabled = true;
    setPercent(0);
    xhr.send(new FormData(form));
  });
})();
