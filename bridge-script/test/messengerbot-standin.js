/*
 * A stand-in for the MessengerBot R objects the bridge script uses, loaded
 * into Debian's Rhino before the script (bridge-script.test.ts). Only what
 * domaeka-bridge.js touches: BotManager.getCurrentBot() (addListener, send),
 * Event, Log, Device.
 *
 * Talks to the test in lines of ASCII JSON:
 * - stdout: `STANDIN {"kind":"send","room":..,"text":..}` for bot.send (what
 *   the room would show), `STANDIN {"kind":"log","level":"i","text":..}` for Log.
 * - stdin: `{"kind":"message","room":..,"channelId":..,"logId":..,"sender":..,
 *   "text":..}` raises Event.MESSAGE as a KakaoTalk notification would;
 *   `{"kind":"compile"}` raises Event.START_COMPILE. End of input ends the process.
 */
/* global java */

var StandIn = (function () {
  var out = new java.io.PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, "UTF-8");
  var listeners = {};

  /** ASCII-only JSON, so the test reads it whatever the JVM's default charset. */
  function emit(obj) {
    var json = JSON.stringify(obj).replace(/[\u007f-\uffff]/g, function (c) {
      return "\\u" + ("0000" + c.charCodeAt(0).toString(16)).slice(-4);
    });
    out.println("STANDIN " + json);
  }

  function fire(event, arg) {
    var fns = listeners[event] || [];
    for (var i = 0; i < fns.length; i++) fns[i](arg);
  }

  /** The shape of MessengerBot R's Message (API2): Java ids, author with name and hash. */
  function message(m) {
    return {
      room: m.room,
      content: m.text,
      author: { name: m.sender || "홍길동", hash: m.userHash || "standin-hash" },
      isGroupChat: m.isGroupChat !== false,
      isMention: m.isMention === true,
      channelId: new java.math.BigInteger(String(m.channelId)),
      logId: new java.math.BigInteger(String(m.logId)),
      reply: function (text) { emit({ kind: "reply", room: m.room, text: String(text) }); }
    };
  }

  function readCommands() {
    var input = new java.io.BufferedReader(new java.io.InputStreamReader(java.lang.System["in"], "UTF-8"));
    var line;
    while ((line = input.readLine()) !== null) {
      if (String(line).trim() === "") continue;
      var cmd = JSON.parse(String(line));
      if (cmd.kind === "message") fire("message", message(cmd));
      else if (cmd.kind === "compile") fire("startCompile", null);
    }
    java.lang.System.exit(0);
  }

  var bot = {
    addListener: function (event, fn) { (listeners[event] = listeners[event] || []).push(fn); },
    send: function (room, text) {
      emit({ kind: "send", room: String(room), text: String(text) });
      return true;
    }
  };

  function log(level) {
    return function (text) { emit({ kind: "log", level: level, text: String(text) }); };
  }

  var env = java.lang.System.getenv();
  var device = {
    getAndroidId: function () { return env.get("STANDIN_DEVICE_ID"); },
    getPhoneBrand: function () { return "samsung"; },
    getPhoneModel: function () { return "SM-S918N"; },
    getAndroidVersionName: function () { return "14"; }
  };

  new java.lang.Thread(new java.lang.Runnable({ run: readCommands }), "standin-stdin").start();
  return {
    BotManager: { getCurrentBot: function () { return bot; } },
    Event: { MESSAGE: "message", START_COMPILE: "startCompile" },
    Log: { i: log("i"), d: log("d"), w: log("w"), e: log("e") },
    Device: device
  };
})();

var BotManager = StandIn.BotManager;
var Event = StandIn.Event;
var Log = StandIn.Log;
var Device = StandIn.Device;
