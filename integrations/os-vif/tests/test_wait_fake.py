"""The plugin's waiting, against a scripted stand-in for vifd's API on
loopback TCP (with a bearer token): what counts as Ready, failures, the
timeout, a watch stream that breaks, unplug. The real daemon is in
test_live.py; here every answer is chosen to reach one path."""

import http.server
import json
import os
import sys
import tempfile
import threading
import time
import unittest
from urllib.parse import parse_qs, urlparse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from oslo_config import cfg  # noqa: E402
from os_vif import exception as osv_exception  # noqa: E402
from os_vif import objects  # noqa: E402

from vif_plug_vifd import client as vifd_client  # noqa: E402
from vif_plug_vifd import plugin as vifd_plugin  # noqa: E402

objects.register_all()

PORT = "3f2a8c71-5b0e-4d2a-9c3e-7a1b2c3d4e5f"
TOKEN = "0123456789abcdef0123"


def status(phase, gen, message=""):
    return {"port": PORT, "phase": phase, "message": message, "observedGeneration": gen}


class Script:
    """What the stand-in answers: fixed replies and one event list per watch connection."""

    def __init__(self):
        self.put = (201, {"port": PORT, "created": True, "changed": True, "generation": 7, "revision": 100})
        self.delete = (202, {"port": PORT, "deleted": True, "revision": 200})
        self.binding = [(200, {"port": PORT, "generation": 7})]
        self.status = [(404, {"code": "NOT_FOUND", "message": "no status for port %s" % PORT})]
        self.watches = []  # per connection: (events, hold) -- hold: keep the stream open afterwards
        self.seen = []  # (method, path, authorization)
        self.closed = threading.Event()


def handler_for(script):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def authorized(self):
            script.seen.append((self.command, self.path, self.headers.get("Authorization")))
            if self.headers.get("Authorization") != "Bearer " + TOKEN:
                self.reply(401, {"code": "UNAUTHORIZED", "message": "missing or wrong bearer token"})
                return False
            return True

        def do_PUT(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            script.put_body = json.loads(body)
            if self.authorized():
                self.reply(*script.put)

        def do_DELETE(self):
            if self.authorized():
                self.reply(*script.delete)

        def do_GET(self):
            if not self.authorized():
                return
            url = urlparse(self.path)
            if url.path.startswith("/v1/status/"):
                self.reply(*(script.status.pop(0) if len(script.status) > 1 else script.status[0]))
            elif url.path.startswith("/v1/bindings/"):
                self.reply(*(script.binding.pop(0) if len(script.binding) > 1 else script.binding[0]))
            elif url.path == "/v1/watch":
                script.since = parse_qs(url.query).get("since", [None])[0]
                events, hold = script.watches.pop(0) if script.watches else ([], True)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for event in events:
                    line = (json.dumps(event) + "\n").encode()
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                    self.wfile.flush()
                if hold:
                    script.closed.wait(30)
                else:
                    self.wfile.write(b"0\r\n\r\n")
                self.close_connection = True
            else:
                self.reply(404, {"code": "NOT_FOUND", "message": "no such endpoint"})

    return Handler


class FakeVifdTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cfg.CONF([], project="vifd-osvif-fake")
        cls.token_dir = tempfile.mkdtemp()
        cls.token_file = os.path.join(cls.token_dir, "token")
        with open(cls.token_file, "w") as f:
            f.write(TOKEN + "\n")

    def setUp(self):
        self.script = Script()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_for(self.script))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        self.addCleanup(self.script.closed.set)
        # The plugin as os-vif loads it: options registered in [os_vif_vifd].
        self.plugin = vifd_plugin.VifdPlugin.load("vifd")
        cfg.CONF.set_override("api", "tcp:127.0.0.1:%d" % self.server.server_address[1], group="os_vif_vifd")
        cfg.CONF.set_override("token_file", self.token_file, group="os_vif_vifd")
        cfg.CONF.set_override("plug_timeout", 20, group="os_vif_vifd")
        self.addCleanup(cfg.CONF.clear_override, "api", group="os_vif_vifd")
        self.addCleanup(cfg.CONF.clear_override, "token_file", group="os_vif_vifd")
        self.addCleanup(cfg.CONF.clear_override, "plug_timeout", group="os_vif_vifd")

    def vif(self):
        profile = objects.vif.VIFPortProfileOpenVSwitch(interface_id=PORT)
        net = objects.network.Network(id="0f6a0c2e-1111-4222-8333-444455556666", bridge="br-int", mtu=1450)
        return objects.vif.VIFOpenVSwitch(id=PORT, address="fa:16:3e:5d:12:7a", network=net, plugin="vifd",
                                          port_profile=profile, vif_name="tap3f2a8c71-5b")

    def instance(self):
        return objects.instance_info.InstanceInfo(uuid="b1e2c3d4-0000-4000-8000-000000000001", name="vm1")

    def event(self, rev, st, kind="MODIFIED"):
        return {"type": kind, "revision": rev, "port": PORT, "status": st}

    def test_only_a_ready_of_the_put_s_generation_ends_the_wait(self):
        self.script.status = [(200, status("Ready", 6))]  # left from before this change
        other = dict(status("Ready", 99), port="aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee")
        self.script.watches = [([
            self.event(101, status("Ready", 6)),  # a repair of the old generation
            {"type": "MODIFIED", "revision": 102, "port": other["port"], "status": other},  # another port
            self.event(103, status("Pending", 7)),
            self.event(104, status("Ready", 7)),
        ], True)]
        self.plugin.plug(self.vif(), self.instance())
        self.assertEqual(self.script.since, "100")  # the PUT's revision: nothing after it missed
        self.assertEqual(self.script.put_body["vif"]["tap"], "tap3f2a8c71-5b")
        self.assertEqual(self.script.put_body["instance"], "b1e2c3d4-0000-4000-8000-000000000001")
        self.assertTrue(all(auth == "Bearer " + TOKEN for _, _, auth in self.script.seen))
        self.assertEqual([(m, p.split("?")[0]) for m, p, _ in self.script.seen],
                         [("PUT", "/v1/bindings/" + PORT), ("GET", "/v1/status/" + PORT), ("GET", "/v1/watch")])

    def test_unchanged_and_ready_returns_without_watching(self):
        self.script.put = (200, {"port": PORT, "created": False, "changed": False, "generation": 7, "revision": 150})
        self.script.status = [(200, status("Ready", 7))]
        self.plugin.plug(self.vif(), self.instance())
        self.assertEqual([(m, p) for m, p, _ in self.script.seen], [("PUT", "/v1/bindings/" + PORT), ("GET", "/v1/status/" + PORT)])

    def test_failed_at_the_generation_raises_with_vifd_s_message(self):
        self.script.watches = [([self.event(101, status("Failed", 6, "old trouble")),
                                 self.event(102, status("Failed", 7, "ovs-vswitchd refused the port: no such bridge"))], True)]
        with self.assertRaises(osv_exception.PlugException) as caught:
            self.plugin.plug(self.vif(), self.instance())
        self.assertIn("Failed (observedGeneration 7): ovs-vswitchd refused the port: no such bridge", str(caught.exception))
        self.assertNotIn("old trouble", str(caught.exception))

    def test_timeout_names_the_last_status(self):
        cfg.CONF.set_override("plug_timeout", 1, group="os_vif_vifd")
        self.script.watches = [([{"type": "BOOKMARK", "revision": 100}, self.event(101, status("Pending", 7, "creating tap"))], True)]
        with self.assertRaises(osv_exception.PlugException) as caught:
            self.plugin.plug(self.vif(), self.instance())
        self.assertIn("timed out waiting for vifd to report port %s Ready at generation 7" % PORT, str(caught.exception))
        self.assertIn("Pending (observedGeneration 7): creating tap", str(caught.exception))

    def test_a_broken_stream_is_resumed_where_it_broke(self):
        self.script.watches = [([self.event(101, status("Pending", 7))], False),
                               ([self.event(102, status("Ready", 7))], True)]
        self.plugin.plug(self.vif(), self.instance())
        self.assertEqual(self.script.since, "101")

    def test_a_reset_then_the_snapshot(self):
        self.script.watches = [([{"type": "RESET", "revision": 500}, self.event(500, status("Ready", 7), "ADDED"),
                                 {"type": "BOOKMARK", "revision": 500}], True)]
        self.plugin.plug(self.vif(), self.instance())

    def test_api_errors_carry_vifd_s_code_and_message(self):
        self.script.put = (400, {"code": "INVALID", "message": "the binding is not valid",
                                 "problems": [{"path": "vif.bridge", "message": "not a valid interface name: too long"}]})
        with self.assertRaises(osv_exception.PlugException) as caught:
            self.plugin.plug(self.vif(), self.instance())
        self.assertIn("400 INVALID: the binding is not valid (vif.bridge: not a valid interface name: too long)", str(caught.exception))

    def test_wrong_token(self):
        with open(self.token_file + ".bad", "w") as f:
            f.write("wrong-token-wrong-token\n")
        cfg.CONF.set_override("token_file", self.token_file + ".bad", group="os_vif_vifd")
        with self.assertRaises(osv_exception.PlugException) as caught:
            self.plugin.plug(self.vif(), self.instance())
        self.assertIn("401 UNAUTHORIZED", str(caught.exception))

    def test_unplug_waits_for_the_status_to_go(self):
        self.script.binding = [(404, {"code": "NOT_FOUND", "message": "no binding"})]
        self.script.status = [(200, status("Removing", 7)), (404, {"code": "NOT_FOUND", "message": "gone"})]
        self.script.watches = [([self.event(201, status("Removing", 7)), {"type": "DELETED", "revision": 202, "port": PORT}], True)]
        self.plugin.unplug(self.vif(), self.instance())
        self.assertEqual(self.script.since, "200")
        self.assertEqual([(m, p.split("?")[0].rsplit("/", 1)[0]) for m, p, _ in self.script.seen], [
            ("DELETE", "/v1/bindings"), ("GET", "/v1/bindings"), ("GET", "/v1/status"),  # still Removing
            ("GET", "/v1"),  # the watch, until DELETED
            ("GET", "/v1/bindings"), ("GET", "/v1/status")])  # both gone

    def test_unplug_of_what_vifd_does_not_have(self):
        self.script.delete = (404, {"code": "NOT_FOUND", "message": "no such binding"})
        self.script.binding = [(404, {"code": "NOT_FOUND", "message": "no binding"})]
        self.plugin.unplug(self.vif(), self.instance())
        self.assertEqual([m for m, _, _ in self.script.seen], ["DELETE", "GET", "GET"])

    def test_unplug_of_a_binding_from_another_source(self):
        self.script.delete = (409, {"code": "CONFLICT", "message": "port %s comes from file:p.json, not from the API: remove it there" % PORT, "holder": "file:p.json"})
        with self.assertRaises(osv_exception.UnplugException) as caught:
            self.plugin.unplug(self.vif(), self.instance())
        self.assertIn("comes from file:p.json", str(caught.exception))

    def test_unreachable(self):
        cfg.CONF.set_override("api", "unix:/nonexistent/vifd.sock", group="os_vif_vifd")
        cfg.CONF.set_override("plug_timeout", 1, group="os_vif_vifd")
        started = time.monotonic()
        with self.assertRaises(osv_exception.PlugException) as caught:
            self.plugin.plug(self.vif(), self.instance())
        self.assertIn("cannot reach vifd at unix:/nonexistent/vifd.sock", str(caught.exception))
        self.assertGreaterEqual(time.monotonic() - started, 0.5)  # it tried again until the deadline


class AddressTest(unittest.TestCase):
    def test_addresses(self):
        self.assertEqual(vifd_client.parse_address("unix:/var/lib/vifd/vifd.sock"), ("unix", "/var/lib/vifd/vifd.sock"))
        self.assertEqual(vifd_client.parse_address("tcp:127.0.0.1:8787"), ("tcp", "127.0.0.1", 8787))
        self.assertEqual(vifd_client.parse_address("tcp:[::1]:8787"), ("tcp", "::1", 8787))
        for bad in ("unix:", "tcp:127.0.0.1", "tcp:127.0.0.1:0", "tcp:h:99999", "/var/lib/vifd/vifd.sock", "http://x"):
            with self.subTest(bad=bad), self.assertRaises(ValueError):
                vifd_client.parse_address(bad)


if __name__ == "__main__":
    unittest.main()
