// The live queue: ask for changes every half second, swap the rows in, keep ages current, and
// sound an alarm for every emergency that was not on the page before. No framework, no build.
(function () {
  "use strict";
  var queue = document.getElementById("queue");
  if (!queue) { return; }
  var pollMs = parseInt(queue.dataset.pollMs, 10) || 500;
  var seen = {};
  var audio = null;
  var soundButton = document.getElementById("sound");
  window.jiayiAlarms = 0;

  function emergencies() {
    return Array.prototype.map.call(queue.querySelectorAll("tr[data-emergency='1']"), function (tr) { return tr.dataset.id; });
  }
  function beep() {
    window.jiayiAlarms += 1;
    document.body.dataset.alarms = String(window.jiayiAlarms);
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") { audio.resume(); }
      [0, 0.35, 0.7].forEach(function (at) {
        var osc = audio.createOscillator(), gain = audio.createGain();
        osc.frequency.value = 880; osc.type = "square"; gain.gain.value = 0.15;
        osc.connect(gain); gain.connect(audio.destination);
        osc.start(audio.currentTime + at); osc.stop(audio.currentTime + at + 0.2);
      });
    } catch (e) { /* no audio device: the red row still shows */ }
    if (soundButton) { soundButton.textContent = audio && audio.state === "running" ? "Sound: on" : "Sound: click to allow"; }
  }
  function alarmForNew() {
    emergencies().forEach(function (id) {
      if (!seen[id]) { seen[id] = true; beep(); }
    });
  }
  function ages() {
    var now = Date.now() / 1000;
    Array.prototype.forEach.call(queue.querySelectorAll(".age"), function (el) {
      var s = Math.max(0, Math.round(now - parseFloat(el.dataset.at)));
      el.title = el.textContent;
      el.dataset.age = s < 90 ? s + " s" : Math.round(s / 60) + " min";
      el.setAttribute("aria-label", el.dataset.age + " ago");
    });
  }
  function poll() {
    fetch("/queue?since=" + encodeURIComponent(queue.dataset.token), { credentials: "same-origin", cache: "no-store" })
      .then(function (res) {
        if (res.status === 401) { window.location = "/login"; return; }
        if (res.status === 200) {
          queue.dataset.token = res.headers.get("X-Queue-Token") || "";
          return res.text().then(function (html) { queue.innerHTML = html; alarmForNew(); ages(); });
        }
      })
      .catch(function () { /* backend restarting: try again */ })
      .then(function () { window.setTimeout(poll, pollMs); });
  }
  if (soundButton) {
    soundButton.addEventListener("click", function () {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      audio.resume().then(function () { soundButton.textContent = "Sound: on"; });
    });
  }
  emergencies().forEach(function (id) { seen[id] = true; });  // already seen when the page opened
  if (emergencies().length) { beep(); }
  ages();
  window.setInterval(ages, 1000);
  window.setTimeout(poll, pollMs);
})();
