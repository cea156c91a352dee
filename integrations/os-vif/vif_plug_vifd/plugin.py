"""The os-vif plugin ``vifd``: plugs VIFs by asking the vifd agent to.

plug(): the VIF becomes a vifd PortBinding (vif_plug_vifd.translate), is PUT
to vifd's API, and plug returns once vifd reports Ready for that very change
(status observedGeneration >= the PUT's generation, the rule `vifd wait`
uses); Failed, Conflict or Invalid at that generation, an API error, or the
timeout raise os_vif's PlugException with vifd's message. A plug of what is
already Ready (vifd answers ``changed: false``) returns after one status read.

unplug(): DELETE, then wait until vifd has neither the binding nor a status.
"""

import os
import time

from oslo_config import cfg
from oslo_log import log as logging

from os_vif import exception as osv_exception
from os_vif import objects
from os_vif import plugin

from vif_plug_vifd import client as vifd_client
from vif_plug_vifd import judge as vifd_judge
from vif_plug_vifd import translate

LOG = logging.getLogger(__name__)

PLUGIN_NAME = "vifd"
DEFAULT_API = "unix:/var/lib/vifd/vifd.sock"
_RETRY_S = 0.2


def pci_netdev(address):
    """The network device of a PCI function, from sysfs (for VIFDirect)."""
    path = "/sys/bus/pci/devices/%s/net" % address
    try:
        names = sorted(os.listdir(path))
    except OSError as err:
        raise translate.TranslationError("PCI device %s has no network device (%s)" % (address, err)) from err
    if len(names) != 1:
        raise translate.TranslationError("PCI device %s has %d network devices (%s), expected one" % (address, len(names), ", ".join(names)))
    return names[0]


class _Failed(Exception):
    """vifd reported the port failed (or could not be followed): message for os-vif."""


class VifdPlugin(plugin.PluginBase):
    """Delegates plugging of OVS (plain and hybrid), Linux bridge and
    802.1Qbg/Qbh macvtap VIFs to vifd, over its API."""

    CONFIG_OPTS = (
        cfg.StrOpt("api",
                   default=DEFAULT_API,
                   help="Where vifd's API listens: unix:PATH (the daemon's "
                   "<state-dir>/vifd.sock) or tcp:HOST:PORT (loopback only; "
                   "needs token_file)."),
        cfg.StrOpt("token_file",
                   help="File whose first line is the bearer token vifd "
                   "expects (vifd run --api-token-file). Required for a TCP "
                   "api, and for a unix socket vifd guards with a token."),
        cfg.IntOpt("plug_timeout",
                   default=120,
                   min=1,
                   help="Seconds plug waits for vifd to report the VIF "
                   "Ready before it fails."),
        cfg.IntOpt("unplug_timeout",
                   default=120,
                   min=1,
                   help="Seconds unplug waits for vifd to report the VIF "
                   "removed before it fails."),
    )

    def describe(self):
        pp_ovs = objects.host_info.HostPortProfileInfo(
            profile_object_name=objects.vif.VIFPortProfileOpenVSwitch.__name__,
            min_version="1.0",
            max_version=objects.vif.VIFPortProfileOpenVSwitch.VERSION)
        pp_qbg = objects.host_info.HostPortProfileInfo(
            profile_object_name=objects.vif.VIFPortProfile8021Qbg.__name__,
            min_version="1.0",
            max_version=objects.vif.VIFPortProfile8021Qbg.VERSION)
        pp_qbh = objects.host_info.HostPortProfileInfo(
            profile_object_name=objects.vif.VIFPortProfile8021Qbh.__name__,
            min_version="1.0",
            max_version=objects.vif.VIFPortProfile8021Qbh.VERSION)
        return objects.host_info.HostPluginInfo(
            plugin_name=PLUGIN_NAME,
            vif_info=[
                objects.host_info.HostVIFInfo(
                    vif_object_name=objects.vif.VIFOpenVSwitch.__name__,
                    min_version="1.0",
                    max_version="1.0",
                    supported_port_profiles=[pp_ovs]),
                objects.host_info.HostVIFInfo(
                    vif_object_name=objects.vif.VIFBridge.__name__,
                    min_version="1.0",
                    max_version="1.0",
                    supported_port_profiles=[pp_ovs]),
                objects.host_info.HostVIFInfo(
                    vif_object_name=objects.vif.VIFDirect.__name__,
                    min_version="1.0",
                    max_version="1.0",
                    supported_port_profiles=[pp_qbg, pp_qbh]),
            ])

    # -- API access ---------------------------------------------------------

    def _client(self):
        token = None
        if self.config.token_file:
            token = vifd_client.read_token(self.config.token_file)
        return vifd_client.Client(self.config.api, token=token)

    @staticmethod
    def _state(client, port):
        """(binding generation or None, status dict or None), as `vifd wait` reads them."""
        b_status, binding = client.request("GET", "/v1/bindings/%s" % port)
        s_status, status = client.request("GET", "/v1/status/%s" % port)
        for code, body, what in ((b_status, binding, "bindings"), (s_status, status, "status")):
            if code not in (200, 404):
                raise vifd_client.ApiError(code, body, "GET /v1/%s/%s" % (what, port))
        generation = (binding or {}).get("generation", 0) if b_status == 200 else None
        return generation, (status if s_status == 200 else None)

    def _now(self, client, port, target, generation):
        """The verdict from what the API says now, and the status read."""
        if target == "Ready":
            code, status = client.request("GET", "/v1/status/%s" % port)
            if code not in (200, 404):
                raise vifd_client.ApiError(code, status, "GET /v1/status/%s" % port)
            status = status if code == 200 else None
            return vifd_judge.judge("Ready", generation, status), status
        gen_now, status = self._state(client, port)
        return vifd_judge.judge("Removed", gen_now, status), status

    def _follow(self, client, port, target, generation, since, deadline):
        """Waits until ``target`` is reached: 'Ready' for ``generation`` (the
        status must describe that generation or a later one), or 'Removed'
        (neither binding nor status). Reads the state now, then follows the
        watch stream from ``since`` (the revision the PUT/DELETE answered, so
        no change after it is missed). Raises _Failed with vifd's message on
        Failed/Conflict/Invalid at that generation or at the deadline."""
        last = None  # the last status seen, for the timeout message
        while True:
            try:
                verdict, status = self._now(client, port, target, generation)
                last = status or last
                while verdict == vifd_judge.WAITING:
                    events = client.watch(since, deadline)
                    try:
                        for event in events:
                            since = event.get("revision", since)
                            kind = event.get("type")
                            if kind == "RESET":
                                # A full snapshot follows: our port's ADDED, if it has a status.
                                status = None
                                continue
                            if event.get("port") != port:
                                continue
                            if kind in ("ADDED", "MODIFIED"):
                                status = last = event.get("status")
                            elif kind == "DELETED":
                                status = None
                            if target == "Removed":
                                if status is None:
                                    # Gone from the statuses; the binding must be gone too.
                                    verdict, status = self._now(client, port, target, generation)
                            else:
                                verdict = vifd_judge.judge(target, generation, status)
                            if verdict != vifd_judge.WAITING:
                                break
                    finally:
                        events.close()
                if verdict == vifd_judge.FAILED:
                    raise _Failed("vifd reports " + self._describe(port, status))
                return status
            except vifd_client.WatchTimeout:
                what = "Ready at generation %s" % generation if target == "Ready" else "removed"
                raise _Failed("timed out waiting for vifd to report port %s %s; last: %s" % (port, what, self._describe(port, last)))
            except vifd_client.Unreachable as err:
                # vifd restarting: read the state again and resume the stream.
                if time.monotonic() + _RETRY_S >= deadline:
                    raise _Failed(str(err))
                LOG.warning("vifd: %s; resuming", err)
                time.sleep(_RETRY_S)

    @staticmethod
    def _describe(port, status):
        if status is None:
            return "port %s has no status" % port
        message = status.get("message") or ""
        text = "port %s %s (observedGeneration %s)" % (port, status.get("phase"), status.get("observedGeneration"))
        return text + (": " + message if message else "")

    # -- os-vif entry points -------------------------------------------------

    def plug(self, vif, instance_info):
        try:
            doc = translate.port_binding(vif, instance_info, resolve_pci=pci_netdev)
        except translate.TranslationError as err:
            raise osv_exception.PlugException(vif=vif.id, err=str(err)) from err
        port = doc["port"]
        deadline = time.monotonic() + self.config.plug_timeout
        try:
            client = self._client()
            put = self._put(client, port, doc, deadline)
            generation = put["generation"]
            self._follow(client, port, "Ready", generation, put.get("revision"), deadline)
            LOG.debug("vifd: port %s Ready at generation %s (changed: %s)", port, generation, put.get("changed"))
        except (vifd_client.ApiError, vifd_client.Unreachable, _Failed, ValueError, OSError) as err:
            raise osv_exception.PlugException(vif=port, err=str(err)) from err

    @staticmethod
    def _put(client, port, doc, deadline):
        """PUT the binding; while vifd cannot be reached (it starts or
        restarts, e.g. with Nova at boot), try again until the deadline."""
        while True:
            try:
                return client.expect("PUT", "/v1/bindings/%s" % port, (200, 201), body=doc, what="PUT binding %s" % port)[1]
            except vifd_client.Unreachable as err:
                if time.monotonic() + _RETRY_S >= deadline:
                    raise
                LOG.warning("vifd: %s; trying again", err)
                time.sleep(_RETRY_S)

    def unplug(self, vif, instance_info):
        port = str(vif.id)
        deadline = time.monotonic() + self.config.unplug_timeout
        try:
            client = self._client()
            code, body = client.expect("DELETE", "/v1/bindings/%s" % port, (202, 404), what="DELETE binding %s" % port)
            since = body.get("revision") if code == 202 and isinstance(body, dict) else None
            self._follow(client, port, "Removed", None, since, deadline)
        except (vifd_client.ApiError, vifd_client.Unreachable, _Failed, ValueError, OSError) as err:
            raise osv_exception.UnplugException(vif=port, err=str(err)) from err
