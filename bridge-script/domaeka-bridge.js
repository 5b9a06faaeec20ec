/*
 * 도매까 브리지 스크립트 (Domaeka bridge script) for MessengerBot R
 *
 * 카카오톡 방의 메시지를 도매까 서버로 보내고, 서버의 답장을 그 방에 올립니다.
 * Forwards each KakaoTalk room message to the Domaeka gateway and posts the
 * gateway's replies back to the room. Speaks bridge protocol v3.3
 * (shared/protocol/bridge-v3.md): one JSON packet per line, the text as a
 * Base64 raw part after the JSON, every packet after the handshake signed
 * with HMAC-SHA256 of the bot's secret key and salt.
 *
 * MessengerBot R runs this in Rhino (JavaScript with Java classes): ES5 only
 * (no const/let, no arrow functions), java.net.Socket for TCP,
 * javax.crypto.Mac for the signature, java.lang.Thread for the connection.
 */
/* global java, javax, android, BotManager, Event, Log, Device, Api, App */

// ============================================================================
// 1. 설정 / Settings
//    웹에서 내려받은 스크립트는 아래 다섯 값이 이미 채워져 있습니다.
//    직접 채울 때는 따옴표 안의 __DOMAEKA_…__ 만 바꾸세요.
//    The web app pre-fills these: each "__DOMAEKA_…__" literal, quotes
//    included, is replaced by JSON.stringify(value) (the port as a string).
// ============================================================================
var SERVER_HOST = "__DOMAEKA_SERVER_HOST__"; // 서버 주소 (예: bot.example.kr) / server host
var SERVER_PORT = "__DOMAEKA_SERVER_PORT__"; // 서버 포트 (보통 1490) / bridge port
var BOT_NAME = "__DOMAEKA_BOT_NAME__"; // 웹의 봇 이름과 똑같이 / the bot's name, exactly
var SECRET_KEY = "__DOMAEKA_SECRET_KEY__"; // 비밀 키 (봇 만들 때 한 번 보여 줌) / secret key
var SALT = "__DOMAEKA_SALT__"; // 솔트 / salt

// 보통 바꿀 필요 없음 / Rarely changed.
var TUNING = {
  PROTOCOL_VERSION: "3.3.3", // the gateway treats < 3.3 as the legacy reply form
  SCRIPT_VERSION: "1.0.0",
  TIMEZONE: "Asia/Seoul",
  CONNECT_TIMEOUT_MS: 10000,
  SILENCE_LIMIT_MS: 90000, // 3 missed pings (server pings every 30 s): the link is dead
  BACKOFF_BASE_MS: 1000, // reconnect: 1 s, 2 s, 4 s ... (each with jitter)
  BACKOFF_MAX_MS: 60000, // ... at most 60 s
  STABLE_AFTER_MS: 30000, // a connection that lived this long resets the backoff
  QUEUE_TTL_MS: 30000, // messages seen while offline are kept this long (bridge-v3.md)
  QUEUE_MAX: 200,
  MAX_TEXT_CHARS: 65000 // the gateway drops longer texts
};

var DomaekaBridge = (function () {
  var CLIENT_TYPE = "MessengerBotR"; // named by the protocol; part of the signed string
  var PLACEHOLDER = /^__DOMAEKA_[A-Z_]+__$/;
  var bot = BotManager.getCurrentBot();
  var lock = new java.util.concurrent.locks.ReentrantLock();
  var conn = { socket: null, writer: null, ready: false, handshakeAt: 0 };
  var outbox = []; // {event, data, raw, at}: waits for a ready connection
  var rooms = {}; // channel id -> last seen (ms), for the pong's active_rooms
  var stopped = false;
  var loopThread = null;
  var deviceIdCache = null;

  // ---- 로그 / logging (the app's log screen) --------------------------------
  function info(text) { Log.i("[도매까] " + text); }
  function warn(text) { Log.w("[도매까] " + text); }
  function fail(text) { Log.e("[도매까] " + text); }

  // ---- 바이트, Base64, 서명 / bytes, Base64, signature ----------------------
  function utf8(s) { return new java.lang.String(String(s)).getBytes("UTF-8"); }

  // java.util.Base64 exists from Android 8; older phones have android.util.Base64.
  function base64Encode(text) {
    try { return String(java.util.Base64.getEncoder().encodeToString(utf8(text))); } catch (e) {
      return String(android.util.Base64.encodeToString(utf8(text), android.util.Base64.NO_WRAP));
    }
  }
  function base64Decode(b64) {
    var bytes;
    try { bytes = java.util.Base64.getDecoder().decode(String(b64)); } catch (e) {
      bytes = android.util.Base64.decode(String(b64), android.util.Base64.DEFAULT);
    }
    return String(new java.lang.String(bytes, "UTF-8"));
  }

  /** Lowercase hex HMAC-SHA256; key = UTF-8 bytes of the secret key string. */
  function hmacHex(key, text) {
    var mac = javax.crypto.Mac.getInstance("HmacSHA256");
    mac.init(new javax.crypto.spec.SecretKeySpec(utf8(key), "HmacSHA256"));
    var out = mac.doFinal(utf8(text));
    var hex = "";
    for (var i = 0; i < out.length; i++) {
      var b = out[i] & 0xff;
      hex += (b < 16 ? "0" : "") + b.toString(16);
    }
    return hex;
  }

  /** bridge-v3.md: clientType|botName|deviceUUID|macAddress|ipAddress|timestamp|salt. */
  function signature(f, key, salt) {
    return hmacHex(key, [f.clientType, f.botName, f.deviceUUID, f.macAddress, f.ipAddress, String(f.timestamp), salt].join("|"));
  }

  // ---- 기기 정보 / this phone --------------------------------------------------
  // One id for the handshake's deviceID and the auth's deviceUUID and deviceID:
  // the gateway refuses a packet whose ids differ from the handshake's.
  function deviceId() {
    if (deviceIdCache) return deviceIdCache;
    var id = null;
    try { id = Device.getAndroidId(); } catch (e) {}
    if (!id) {
      try {
        var ctx = typeof App !== "undefined" ? App.getContext() : Api.getContext();
        id = android.provider.Settings.Secure.getString(ctx.getContentResolver(), android.provider.Settings.Secure.ANDROID_ID);
      } catch (e2) {}
    }
    deviceIdCache = id ? String(id) : "unknown";
    return deviceIdCache;
  }

  function deviceInfo() {
    try {
      return String(Device.getPhoneBrand()) + " " + String(Device.getPhoneModel()) + " (Android " + String(Device.getAndroidVersionName()) + ")";
    } catch (e) { return "unknown"; }
  }

  function localIp() {
    try { return String(conn.socket.getLocalAddress().getHostAddress()); } catch (e) { return "unknown"; }
  }

  function authData() {
    // macAddress: Android hides the MAC from apps; the protocol allows 'unknown'.
    var a = { clientType: CLIENT_TYPE, botName: BOT_NAME, deviceUUID: deviceId(), deviceID: deviceId(), macAddress: "unknown", ipAddress: localIp(), timestamp: Date.now(), version: TUNING.PROTOCOL_VERSION };
    a.signature = signature(a, SECRET_KEY, SALT);
    return a;
  }

  // ---- 패킷 / framing: {"event":..,"data":{..}}<raw>\n --------------------------
  function encodeLine(event, data, raw) { return JSON.stringify({ event: event, data: data }) + (raw || "") + "\n"; }

  /** Base64 never holds "}", so the JSON part ends at the last "}" of the line. */
  function parseLine(line) {
    var s = String(line).trim();
    var end = s.lastIndexOf("}");
    if (end < 0) return null;
    try {
      var obj = JSON.parse(s.substring(0, end + 1));
      return { event: obj.event, data: obj.data || {}, raw: s.substring(end + 1) };
    } catch (e) { return null; }
  }

  /** Fields every packet the phone sends carries. */
  function stamp(data, raw) {
    data.timestamp = new Date().toISOString();
    data.timezone = TUNING.TIMEZONE;
    data.message_positions = [0, raw ? raw.length : 0];
    return data;
  }

  // ---- 보내기 / sending (one writer at a time) ---------------------------------
  /** Writes one line; on failure closes the socket (the reader then reconnects). Call with the lock held. */
  function writeLocked(line) {
    if (!conn.writer) return false;
    try {
      conn.writer.write(line);
      conn.writer.flush();
      return true;
    } catch (e) {
      warn("보내기 실패, 다시 연결합니다 (write failed): " + e);
      closeSocketLocked();
      return false;
    }
  }

  /** Runs fn holding the lock: the reader thread and the app's message thread both write and queue. */
  function locked(fn) {
    lock.lock();
    try { return fn(); } finally { lock.unlock(); }
  }

  function sendNow(event, data, raw) {
    return locked(function () { return writeLocked(encodeLine(event, data, raw)); });
  }

  /** Sends what waited for a ready connection, oldest first; drops what is older than QUEUE_TTL_MS. */
  function flushOutbox() {
    locked(function () {
      while (conn.ready && outbox.length > 0) {
        var item = outbox[0];
        if (Date.now() - item.at > TUNING.QUEUE_TTL_MS) {
          outbox.shift();
          warn("오래된 메시지를 버렸습니다 (queued message expired): " + item.data.room);
          continue;
        }
        item.data.auth = authData(); // signed when written: a fresh timestamp, this socket's address
        if (!writeLocked(encodeLine(item.event, item.data, item.raw))) return;
        outbox.shift();
      }
    });
  }

  function enqueue(channelId, event, data, raw) {
    locked(function () {
      if (channelId) rooms[channelId] = Date.now();
      outbox.push({ event: event, data: data, raw: raw, at: Date.now() });
      if (outbox.length > TUNING.QUEUE_MAX) outbox.shift();
    });
    flushOutbox();
  }

  // ---- 방 메시지 -> 서버 / a room message to the server ----------------------
  function idOf(v) { return v === null || v === undefined ? null : String(v.toString()); }

  function onRoomMessage(msg) {
    try {
      var text = msg.content === null || msg.content === undefined ? "" : String(msg.content);
      if (text === "") return;
      if (text.length > TUNING.MAX_TEXT_CHARS) text = text.substring(0, TUNING.MAX_TEXT_CHARS);
      var channelId = idOf(msg.channelId);
      var raw = base64Encode(text);
      var author = msg.author || {};
      var data = stamp({ room: String(msg.room), channel_id: channelId, message_type: "text", content_encoding: "base64" }, raw);
      data.sender = author.name === undefined || author.name === null ? "" : String(author.name);
      data.is_group_chat = msg.isGroupChat === true || String(msg.isGroupChat) === "true";
      data.log_id = idOf(msg.logId);
      data.user_hash = idOf(author.hash);
      data.is_mention = msg.isMention === true || String(msg.isMention) === "true";
      data.bot_name = BOT_NAME;
      data.client_type = CLIENT_TYPE;
      enqueue(channelId, "message", data, raw);
    } catch (e) {
      fail("메시지를 보내지 못했습니다 (could not forward a message): " + e);
    }
  }

  // ---- 서버 -> 폰 / what the server sends ----------------------------------------
  function onHandshakeComplete(d) {
    if (d.success !== true) {
      fail("서버가 연결을 거절했습니다 (handshake refused): " + d.message + " - 봇 이름을 확인하세요 / check BOT_NAME");
      return;
    }
    locked(function () { conn.ready = true; conn.handshakeAt = Date.now(); });
    if (d.approved === true) info("연결됨, 승인된 폰 (connected, approved)");
    else info("연결됨, 승인 대기 중: 웹의 봇 페이지에서 이 폰을 승인하세요 (connected, pending approval) 기기 " + deviceId());
    flushOutbox();
  }

  function monitoring() {
    var rt = java.lang.Runtime.getRuntime();
    var mb = 1024 * 1024;
    var max = rt.maxMemory() / mb;
    var used = (rt.totalMemory() - rt.freeMemory()) / mb;
    var now = Date.now();
    var active = 0;
    for (var cid in rooms) {
      if (now - rooms[cid] > 86400000) delete rooms[cid];
      else active++;
    }
    return {
      total_memory: Math.round(max * 10) / 10,
      memory_usage: Math.round(used * 10) / 10,
      memory_percent: max > 0 ? Math.round((used / max) * 1000) / 10 : 0,
      message_queue_size: outbox.length,
      active_rooms: active
    };
  }

  function onPing(d) {
    var data = { bot_name: d.bot_name || BOT_NAME, server_timestamp: d.server_timestamp, monitoring: locked(monitoring), auth: authData() };
    sendNow("pong", stamp(data, ""), "");
  }

  /** messageResponse, scheduleMessage, broadcastMessage: text goes to the room by name. */
  function onReply(d, raw) {
    var type = d.message_type || "text";
    if (type !== "text") {
      warn("사진·파일 답장은 이 스크립트가 아직 보내지 못합니다 (media replies not supported yet): " + type);
      return;
    }
    var text = raw ? (d.content_encoding === "base64" ? base64Decode(raw) : raw) : typeof d.text === "string" ? d.text : "";
    if (text === "" || typeof d.room !== "string") return;
    var sent = bot.send(d.room, text);
    if (sent === false) warn("방에 보내지 못했습니다: 그 방의 알림을 아직 받지 못했습니다 (room not known yet): " + d.room);
  }

  var HINTS = {
    BAD_SIGNATURE: "비밀 키나 솔트가 서버와 다릅니다. 웹에서 스크립트를 다시 받으세요 (key or salt differs)",
    UNKNOWN_BOT: "이 이름의 봇이 서버에 없습니다. BOT_NAME 을 확인하세요 (unknown bot name)",
    STALE_TIMESTAMP: "폰의 시계가 5분 넘게 틀립니다. 자동 시간 설정을 켜세요 (phone clock is off)"
  };

  function onServerPacket(p) {
    var d = p.data;
    switch (p.event) {
      case "handshakeComplete": return onHandshakeComplete(d);
      case "ping": return onPing(d);
      case "messageResponse":
      case "scheduleMessage":
      case "broadcastMessage": return onReply(d, p.raw);
      case "error": return warn("서버 알림 (server error) " + d.code + ": " + d.message + (HINTS[d.code] ? " - " + HINTS[d.code] : ""));
      default: return info("모르는 이벤트는 무시합니다 (unknown event ignored): " + p.event);
    }
  }

  // ---- 연결 / the connection loop (its own thread) ------------------------------
  function closeSocketLocked() {
    conn.ready = false;
    conn.writer = null;
    try { if (conn.socket) conn.socket.close(); } catch (e) {}
  }

  function closeSocket() { locked(closeSocketLocked); }

  /** Connects, handshakes and reads until the connection ends (EOF, error, 90 s of silence). */
  function serveOnce(host, port) {
    var socket = new java.net.Socket();
    socket.connect(new java.net.InetSocketAddress(host, port), TUNING.CONNECT_TIMEOUT_MS);
    socket.setSoTimeout(TUNING.SILENCE_LIMIT_MS);
    socket.setTcpNoDelay(true);
    socket.setKeepAlive(true);
    var reader = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(), "UTF-8"));
    locked(function () {
      conn.socket = socket;
      conn.ready = false;
      conn.writer = new java.io.BufferedWriter(new java.io.OutputStreamWriter(socket.getOutputStream(), "UTF-8"));
    });
    info("서버에 연결했습니다 (connected to " + host + ":" + port + ")");
    var hs = { clientType: CLIENT_TYPE, botName: BOT_NAME, version: TUNING.PROTOCOL_VERSION, deviceID: deviceId(), deviceIP: localIp(), deviceInfo: deviceInfo() };
    if (!sendNow("handshake", stamp(hs, ""), "")) return;
    for (;;) {
      var line = reader.readLine();
      if (line === null || stopped) return;
      var p = parseLine(line);
      if (p) onServerPacket(p);
    }
  }

  /** 1 s, 2 s, 4 s ... up to 60 s, each between half and all of it (phones do not reconnect in step). */
  function backoffMs(attempt) {
    var ceiling = Math.min(TUNING.BACKOFF_MAX_MS, TUNING.BACKOFF_BASE_MS * Math.pow(2, Math.min(attempt - 1, 16)));
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  }

  function runLoop(host, port) {
    var attempt = 0;
    while (!stopped) {
      try {
        serveOnce(host, port);
      } catch (e) {
        if (!stopped) warn("연결 오류 (connection error): " + e);
      }
      var livedMs = conn.handshakeAt ? Date.now() - conn.handshakeAt : 0;
      conn.handshakeAt = 0;
      closeSocket();
      if (stopped) break;
      attempt = livedMs >= TUNING.STABLE_AFTER_MS ? 1 : attempt + 1;
      var wait = backoffMs(attempt);
      warn("연결이 끊겼습니다, " + Math.round(wait / 100) / 10 + "초 뒤 다시 연결 (disconnected; reconnecting in " + wait + " ms)");
      try { java.lang.Thread.sleep(wait); } catch (e2) { break; } // interrupted: stop() was called
    }
    info("연결을 멈췄습니다 (stopped)");
  }

  function missingSettings() {
    var missing = [];
    var values = { SERVER_HOST: SERVER_HOST, SERVER_PORT: SERVER_PORT, BOT_NAME: BOT_NAME, SECRET_KEY: SECRET_KEY, SALT: SALT };
    for (var k in values) {
      if (values[k] === "" || PLACEHOLDER.test(String(values[k]))) missing.push(k);
    }
    return missing;
  }

  function start() {
    var missing = missingSettings();
    var port = parseInt(String(SERVER_PORT), 10);
    if (missing.length > 0 || !(port > 0 && port < 65536)) {
      fail("설정이 비어 있습니다, 웹에서 채워진 스크립트를 받으세요 (settings not filled): " + (missing.join(", ") || "SERVER_PORT"));
      return false;
    }
    bot.addListener(Event.MESSAGE, onRoomMessage);
    // Recompiling starts a new copy of this script: the old one lets go of its connection first.
    bot.addListener(Event.START_COMPILE, stop);
    info("도매까 브리지 " + TUNING.SCRIPT_VERSION + " 시작 (protocol " + TUNING.PROTOCOL_VERSION + ") 봇 " + BOT_NAME);
    loopThread = new java.lang.Thread(new java.lang.Runnable({ run: function () { runLoop(String(SERVER_HOST), port); } }), "domaeka-bridge");
    loopThread.setDaemon(true);
    loopThread.start();
    return true;
  }

  function stop() {
    stopped = true;
    closeSocket();
    if (loopThread) loopThread.interrupt();
  }

  return { start: start, stop: stop, signature: signature };
})();

DomaekaBridge.start();
