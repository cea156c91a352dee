"""A small client of vifd's HTTP API over a unix socket or loopback TCP.

Standard library only (http.client). One connection per request; the watch
stream gets its own connection for as long as it is followed.
"""

import http.client
import json
import socket
import time


class ApiError(Exception):
    """vifd answered with an error: ``status`` (HTTP), ``code`` and vifd's ``message``."""

    def __init__(self, status, body, what):
        self.status = status
        self.body = body if isinstance(body, dict) else {}
        self.code = self.body.get("code", "HTTP_%d" % status)
        message = self.body.get("message") or (body if isinstance(body, str) else "") or "HTTP %d" % status
        problems = self.body.get("problems")
        if problems:
            message += " (" + "; ".join("%s: %s" % (p.get("path", ""), p.get("message", "")) for p in problems) + ")"
        if self.body.get("holder") and str(self.body["holder"]) not in message:
            message += " (held by %s)" % self.body["holder"]
        self.message = message
        super().__init__("%s: vifd answered %d %s: %s" % (what, status, self.code, message))


class Unreachable(Exception):
    """The API could not be reached at all."""


class WatchTimeout(Exception):
    """The deadline passed while following the watch stream."""


def parse_address(text):
    """``unix:PATH`` -> ('unix', PATH); ``tcp:HOST:PORT`` -> ('tcp', HOST, PORT)."""
    if text.startswith("unix:") and len(text) > 5:
        return ("unix", text[5:])
    if text.startswith("tcp:"):
        rest = text[4:]
        host, sep, port = rest.rpartition(":")
        if sep and host and port.isdigit() and 0 < int(port) < 65536:
            return ("tcp", host.strip("[]"), int(port))
    raise ValueError("vifd API address %r: expected unix:PATH or tcp:HOST:PORT" % text)


def read_token(path):
    with open(path, encoding="utf-8") as f:
        token = f.readline().strip()
    if not token:
        raise ValueError("token file %s is empty" % path)
    return token


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("vifd", timeout=timeout)
        self._path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self._path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


class Client:
    def __init__(self, address, token=None, timeout=30.0):
        self.address = parse_address(address)
        self.where = address
        self.token = token
        self.timeout = timeout

    def _connect(self, timeout):
        if self.address[0] == "unix":
            return _UnixConnection(self.address[1], timeout)
        return http.client.HTTPConnection(self.address[1], self.address[2], timeout=timeout)

    def _headers(self, extra=None):
        headers = {"Host": "vifd", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        headers.update(extra or {})
        return headers

    def request(self, method, path, body=None, timeout=None):
        """(status, parsed JSON body or text). Raises Unreachable."""
        payload = None if body is None else json.dumps(body).encode("utf-8")
        headers = self._headers({"Content-Type": "application/json"} if payload is not None else None)
        conn = self._connect(self.timeout if timeout is None else timeout)
        try:
            try:
                conn.request(method, path, body=payload, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
            except (OSError, http.client.HTTPException) as err:
                raise Unreachable("cannot reach vifd at %s: %s" % (self.where, err)) from err
        finally:
            conn.close()
        text = raw.decode("utf-8", "replace")
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return resp.status, parsed

    def expect(self, method, path, ok, body=None, what=None):
        """The body of an answer whose status is in ``ok``; else ApiError."""
        status, parsed = self.request(method, path, body)
        if status not in ok:
            raise ApiError(status, parsed, what or "%s %s" % (method, path))
        return status, parsed

    def watch(self, since, deadline):
        """Yields the events of GET /v1/watch?since=SINCE until ``deadline``
        (time.monotonic()); raises WatchTimeout then, Unreachable if the stream
        cannot be opened or breaks."""
        path = "/v1/watch" if since is None else "/v1/watch?since=%d" % since
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WatchTimeout()
        conn = self._connect(remaining)
        try:
            try:
                conn.request("GET", path, headers=self._headers({"Accept": "application/x-ndjson"}))
                resp = conn.getresponse()
            except socket.timeout as err:
                raise WatchTimeout() from err
            except (OSError, http.client.HTTPException) as err:
                raise Unreachable("cannot reach vifd at %s: %s" % (self.where, err)) from err
            if resp.status != 200:
                text = resp.read().decode("utf-8", "replace")
                try:
                    parsed = json.loads(text)
                except ValueError:
                    parsed = text
                raise ApiError(resp.status, parsed, "GET %s" % path)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WatchTimeout()
                conn.sock.settimeout(remaining)
                try:
                    line = resp.readline()
                except socket.timeout as err:
                    raise WatchTimeout() from err
                except (OSError, http.client.HTTPException) as err:
                    raise Unreachable("vifd's watch stream at %s broke: %s" % (self.where, err)) from err
                if not line:
                    raise Unreachable("vifd closed the watch stream at %s" % self.where)
                line = line.strip()
                if line:
                    yield json.loads(line.decode("utf-8"))
        finally:
            conn.close()
