"""``m2mfota.Client``: the C client engine (``client.c``) driven from Python.

One :class:`Client` is one device: it sends an uplink to the KPN Things
ingestion endpoint, acts on the FOTA command that comes back, downloads the
file over real sockets (the C POSIX transport, ``embedded_port/posix``),
streams it into ``flash`` (a Python object following the flash protocol of
:mod:`m2mfota.flash`), keeps the download journal in ``journal`` (two
sectors, same protocol), verifies the image and hands it to the bootloader.

Protocol failures come back as an :class:`Outcome` with the LwM2M /5 result
number; an exception raised by a HAL (a :class:`~m2mfota.flash.PowerCut`)
propagates unchanged.  A new :class:`Client` on the same flash and journal
objects resumes where the journal says: that is a reboot.

The C calls release the GIL (cffi does), so several clients can run in
threads; Python HAL callbacks take it back while they run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from m2mfota._errors import ERR, M2mfotaError, err_name
from m2mfota._native import ffi, lib
from m2mfota.flash import _Hal

__all__ = ["Client", "ClientError", "Event", "Outcome"]

_EVENT_KINDS = {
    lib.MFOTA_CLIENT_EV_STATE: "state",
    lib.MFOTA_CLIENT_EV_PROGRESS: "progress",
    lib.MFOTA_CLIENT_EV_ERROR: "error",
    lib.MFOTA_CLIENT_EV_DONE: "done",
    lib.MFOTA_CLIENT_EV_DOWNLINK: "downlink",
    lib.MFOTA_CLIENT_EV_UPLINK: "uplink",
}
_ERR_HAL = ERR["MFOTA_ERR_HAL"]


class ClientError(M2mfotaError):
    """The engine could not run at all (bad configuration, API misuse, timeout)."""


@dataclass
class Event:
    """One engine event, as handed to ``on_event``."""

    kind: str              #: state, progress, error, done, downlink, uplink
    state: str             #: idle, downloading, downloaded, updating
    result: int            #: LwM2M /5 result so far
    error: str | None      #: C error name behind an error, else None
    reason: str | None     #: fota.error string, if any
    done: int              #: bytes verified and written
    total: int             #: image size (0 while unknown)


@dataclass
class Outcome:
    """How one cycle (uplink, and the update its downlink asked for) ended."""

    result: int                #: LwM2M /5 fota.result (0: none yet / image pending, 1 success)
    state: str                 #: fota.state at the end
    version: str | None        #: version of the image now pending for the bootloader, or None
    stats: dict[str, int] = field(default_factory=dict)
    reason: str | None = None  #: fota.error that went up with a failure
    error: str | None = None   #: the C error behind a failure


def _state_name(state: int) -> str:
    return ffi.string(lib.mfota_state_name(state)).decode()


class _PyBootloader:
    """A Python object standing in for the bootloader HAL."""

    def __init__(self, obj: Any) -> None:
        self.obj = obj
        self.exc: BaseException | None = None
        self._handle = ffi.new_handle(self)
        self.c = ffi.new("struct mfota_bootloader *")
        self.c.mark_pending = lib._py_bl_mark_pending
        self.c.confirm = lib._py_bl_confirm
        self.c.running_version = lib._py_bl_running_version
        self.c.ctx = self._handle


def _bl_call(ctx: Any, fn: Callable[[Any], Any]) -> Any:
    bl: _PyBootloader = ffi.from_handle(ctx)
    try:
        return fn(bl.obj)
    except BaseException as exc:  # noqa: BLE001 - re-raised once C returns
        bl.exc = exc
        return None


@ffi.def_extern()
def _py_bl_mark_pending(ctx, image_size, permanent):  # noqa: ANN001 - cffi callback
    bl: _PyBootloader = ffi.from_handle(ctx)
    _bl_call(ctx, lambda o: o.mark_pending(image_size, bool(permanent)))
    return _ERR_HAL if bl.exc is not None else 0


@ffi.def_extern()
def _py_bl_confirm(ctx):  # noqa: ANN001
    bl: _PyBootloader = ffi.from_handle(ctx)
    _bl_call(ctx, lambda o: o.confirm())
    return _ERR_HAL if bl.exc is not None else 0


@ffi.def_extern()
def _py_bl_running_version(ctx, buf, cap):  # noqa: ANN001
    bl: _PyBootloader = ffi.from_handle(ctx)
    text = _bl_call(ctx, lambda o: o.running_version())
    if bl.exc is not None or not isinstance(text, str):
        return _ERR_HAL
    raw = text.encode()[: cap - 1]
    ffi.memmove(buf, raw + b"\0", len(raw) + 1)
    return len(raw)


@ffi.def_extern()
def _py_client_event(ctx, ev):  # noqa: ANN001
    client: Client = ffi.from_handle(ctx)
    if client._on_event is None or client._event_exc is not None:
        return
    try:
        client._on_event(Event(
            kind=_EVENT_KINDS.get(ev.kind, str(ev.kind)),
            state=_state_name(ev.state),
            result=ev.result,
            error=err_name(ev.error) if ev.error else None,
            reason=ffi.string(ev.reason).decode() if ev.reason != ffi.NULL else None,
            done=ev.done,
            total=ev.total,
        ))
    except BaseException as exc:  # noqa: BLE001 - re-raised once C returns
        client._event_exc = exc


class Client:
    """One device running the C client engine.

    ``server`` is the ingestion endpoint's base URL (``http://127.0.0.1:8080``);
    ``flash`` is the update slot and ``journal`` two sectors for the download
    journal (None: no journal, no resume), both following the flash protocol
    of :mod:`m2mfota.flash`.  ``bootloader="mcuboot"`` writes MCUboot's
    trailer into the slot (confirm then sets image_ok in that same slot, as
    MCUboot's direct-XIP mode would); any other object with
    ``mark_pending(image_size, permanent)``, ``confirm()`` and
    ``running_version() -> str`` stands in for another bootloader.
    ``transports`` replaces the POSIX sockets with an (uplink, download) pair
    of objects that carry a ``struct mfota_transport *`` in ``.transport``
    (two :class:`m2mfota.modem.ModemSocket` of one SARA-R4 modem).
    """

    def __init__(
        self,
        *,
        imei: str,
        secret: str | bytes,
        version: str,
        server: str,
        flash: Any,
        journal: Any = None,
        bootloader: Any = "mcuboot",
        on_event: Callable[[Event], None] | None = None,
        part_size: int = 4096,
        io_timeout: float = 10.0,
        progress_step: int = 10,
        progress_interval: float = 30.0,
        retry_base: float = 0.2,
        retry_max: float = 2.0,
        max_retries: int = 4,
        check_mcuboot: bool = True,
        permanent: bool = False,
        seed: int = 0,
        transports: tuple[Any, Any] | None = None,
    ) -> None:
        self.imei = imei
        self.version = version
        self._on_event = on_event
        self._event_exc: BaseException | None = None
        self._keep: list[Any] = []

        def keep(obj: Any) -> Any:
            self._keep.append(obj)
            return obj

        self._slot = _Hal(flash)
        self._journal = _Hal(journal) if journal is not None else None
        if bootloader == "mcuboot":
            port = keep(ffi.new("struct mfota_mcuboot_port *"))
            port.primary = self._slot.c
            port.secondary = self._slot.c
            bl = keep(ffi.new("struct mfota_bootloader *"))
            lib.mfota_mcuboot_bootloader(bl, port)
            self._bl: _PyBootloader | None = None
        else:
            self._bl = _PyBootloader(bootloader)
            bl = self._bl.c
        if transports is not None:
            # (uplink, download) objects with a .transport, e.g. two
            # m2mfota.modem.ModemSocket of one modem.
            self._up = keep(transports[0]).transport
            self._dl = keep(transports[1]).transport
        else:
            self._up_pt = keep(ffi.new("struct mfota_posix_transport *"))
            self._up = keep(ffi.new("struct mfota_transport *"))
            lib.mfota_posix_transport_init(self._up_pt, self._up)
            self._dl_pt = keep(ffi.new("struct mfota_posix_transport *"))
            self._dl = keep(ffi.new("struct mfota_transport *"))
            lib.mfota_posix_transport_init(self._dl_pt, self._dl)
            timeout_ms = int(io_timeout * 1000)
            self._up_pt.connect_timeout_ms = self._dl_pt.connect_timeout_ms = timeout_ms
        clock = keep(ffi.new("struct mfota_clock *"))
        lib.mfota_posix_clock_init(clock)
        rnd_state = keep(ffi.new("struct mfota_posix_random *"))
        rnd = keep(ffi.new("struct mfota_random *"))
        lib.mfota_posix_random_init(rnd_state, rnd, seed & 0xFFFFFFFF)

        secret_b = secret.encode() if isinstance(secret, str) else bytes(secret)
        self._handle = ffi.new_handle(self)
        cfg = keep(ffi.new("struct mfota_client_config *"))
        lib.mfota_client_config_default(cfg)
        cfg.imei = keep(ffi.new("char[]", imei.encode()))
        cfg.secret = keep(ffi.new("uint8_t[]", secret_b or b"\0"))
        cfg.secret_len = len(secret_b)
        cfg.version = keep(ffi.new("char[]", version.encode()))
        cfg.server = keep(ffi.new("char[]", server.rstrip("/").encode()))
        cfg.uplink_transport = self._up
        cfg.download_transport = self._dl
        cfg.clock = clock
        cfg.random = rnd
        cfg.slot = self._slot.c
        cfg.journal_flash = self._journal.c if self._journal is not None else ffi.NULL
        cfg.bootloader = bl
        cfg.on_event = lib._py_client_event
        cfg.event_ctx = self._handle
        cfg.part_size = part_size
        cfg.io_timeout_ms = int(io_timeout * 1000)
        cfg.progress_step_percent = progress_step
        cfg.progress_interval_ms = int(progress_interval * 1000)
        cfg.retry_base_ms = max(1, int(retry_base * 1000))
        cfg.retry_max_ms = max(cfg.retry_base_ms, int(retry_max * 1000))
        cfg.max_retries = max_retries
        cfg.check_mcuboot = 1 if check_mcuboot else 0
        cfg.permanent = 1 if permanent else 0
        self.c = ffi.new("struct mfota_client *")
        self._check(lib.mfota_client_init(self.c, cfg), "client init")

    # -- plumbing -----------------------------------------------------------------
    def _reraise(self) -> None:
        for hal in (self._slot, self._journal, self._bl):
            if hal is not None and hal.exc is not None:
                exc, hal.exc = hal.exc, None
                raise exc
        if self._event_exc is not None:
            exc, self._event_exc = self._event_exc, None
            raise exc

    def _check(self, rc: int, what: str) -> int:
        self._reraise()
        if rc < 0:
            raise ClientError(rc, what)
        return rc

    def _outcome(self) -> Outcome:
        c = self.c
        return Outcome(
            result=c.result,
            state=_state_name(c.state),
            version=ffi.string(c.pending_version).decode() if c.has_pending else None,
            stats=self.stats,
            reason=ffi.string(c.reason).decode() if c.reason != ffi.NULL else None,
            error=err_name(c.error) if c.error else None,
        )

    def _run(self, timeout: float) -> Outcome:
        rc = lib.mfota_client_run(self.c, max(1, int(timeout * 1000)))
        self._check(rc, "client run")
        return self._outcome()

    # -- public API ---------------------------------------------------------------
    @property
    def stats(self) -> dict[str, int]:
        """Counters so far: uplinks, requests, connections, retries, resumes, flash work..."""
        out = ffi.new("struct mfota_client_stats *")
        lib.mfota_client_stats(self.c, out)
        return {name: getattr(out, name) for name, _ in ffi.typeof(out[0]).fields}

    @property
    def state(self) -> str:
        return _state_name(self.c.state)

    def run(self, timeout: float = 60.0) -> Outcome:
        """Send an uplink, act on the downlink that comes back (if any), return how it ended."""
        self._check(lib.mfota_client_start(self.c), "client start")
        return self._run(timeout)

    def confirm_boot(self, timeout: float = 60.0) -> Outcome:
        """First cycle after booting into a new image: confirm it with the
        bootloader, then report the running version with fota.result 1."""
        self._check(lib.mfota_client_start_boot(self.c), "confirm boot")
        return self._run(timeout)

    def downlink(self, body: bytes, timeout: float = 60.0) -> Outcome:
        """Act on a downlink body that reached the application another way."""
        self._check(lib.mfota_client_downlink(self.c, body, len(body)), "downlink")
        return self._run(timeout)

    def feed_downlink(self, body: bytes) -> None:
        """Hand a downlink to the engine without running it (e.g. from an
        ``on_event`` callback while an update runs)."""
        self._check(lib.mfota_client_downlink(self.c, body, len(body)), "downlink")
