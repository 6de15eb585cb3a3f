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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from m2mfota import _args
from m2mfota._bridge import Bridge, reraise, trampoline
from m2mfota._errors import ERR, M2mfotaError, err_name
from m2mfota._native import ffi, lib
from m2mfota.flash import ImageError
from m2mfota.flash._hal import FlashHal, KvHal
from m2mfota.trust import KeyLike, Trust

__all__ = ["Client", "ClientError", "Event", "HttpStatus", "Outcome"]

_EVENT_KINDS = {
    lib.MFOTA_CLIENT_EV_STATE: "state",
    lib.MFOTA_CLIENT_EV_PROGRESS: "progress",
    lib.MFOTA_CLIENT_EV_ERROR: "error",
    lib.MFOTA_CLIENT_EV_DONE: "done",
    lib.MFOTA_CLIENT_EV_DOWNLINK: "downlink",
    lib.MFOTA_CLIENT_EV_UPLINK: "uplink",
}
_ERR_HAL = ERR["MFOTA_ERR_HAL"]
# The longest wait a uint32_t millisecond field holds, in seconds.
_MAX_SECONDS = _args.U32 / 1000


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


@dataclass(frozen=True)
class HttpStatus:
    """The literal HTTP status of the last answers the client got (``None``:
    no answer yet), beside the error names: ``uplink=401`` says why an uplink
    was refused (unknown IMEI or wrong secret), ``download=404`` that the
    file is gone."""

    uplink: int | None    #: the ingestion endpoint's last answer
    download: int | None  #: the file server's last answer


@dataclass
class Outcome:
    """How one cycle (uplink, and the update its downlink asked for) ended."""

    result: int                #: LwM2M /5 fota.result (0: none yet / image pending, 1 success)
    state: str                 #: fota.state at the end
    version: str | None        #: version of the image now pending for the bootloader, or None
    stats: dict[str, int] = field(default_factory=dict)
    reason: str | None = None  #: fota.error that went up with a failure
    error: str | None = None   #: the C error behind a failure
    #: the last HTTP statuses of uplink and download (see :class:`HttpStatus`)
    http_status: HttpStatus = field(default_factory=lambda: HttpStatus(None, None))


def _state_name(state: int) -> str:
    return ffi.string(lib.mfota_state_name(state)).decode()


class _PyBootloader:
    """A Python object standing in for the bootloader HAL.  ``raw``: the
    object has no image check and the caller chose raw images explicitly."""

    def __init__(self, obj: Any, raw: bool = False) -> None:
        for name in ("mark_pending", "confirm", "running_version") + (() if raw else
                                                                     ("check_image",)):
            if not callable(getattr(obj, name, None)):
                raise TypeError(f"bootloader: {type(obj).__name__} has no {name}() method")
        self.obj = obj
        self.bridge = Bridge(obj)
        self.c = ffi.new("struct mfota_bootloader *")
        self.c.mark_pending = lib._py_bl_mark_pending
        self.c.confirm = lib._py_bl_confirm
        self.c.running_version = lib._py_bl_running_version
        self.c.check_image = lib.mfota_bootloader_accept_raw if raw else lib._py_bl_check_image
        self.c.ctx = self.bridge.handle


class _RawBootloader:
    """``bootloader="none"``: raw images, nothing to check or mark beyond
    remembering the request (``pending``: (image_size, permanent) or None)."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.pending: tuple[int, bool] | None = None

    def mark_pending(self, image_size: int, permanent: bool) -> None:
        self.pending = (image_size, permanent)

    def confirm(self) -> None:
        self.pending = None

    def running_version(self) -> str:
        return self.version


def _put_text(buf: Any, cap: int, text: str) -> int:
    raw = text.encode()[: cap - 1]
    ffi.memmove(buf, raw + b"\0", len(raw) + 1)
    return len(raw)


@trampoline("_py_bl_mark_pending")
def _bl_mark_pending(obj: Any, image_size: int, permanent: int) -> int:
    obj.mark_pending(image_size, bool(permanent))
    return 0


@trampoline("_py_bl_confirm")
def _bl_confirm(obj: Any) -> int:
    obj.confirm()
    return 0


@trampoline("_py_bl_running_version")
def _bl_running_version(obj: Any, buf: Any, cap: int) -> int:
    text = obj.running_version()
    if not isinstance(text, str):
        return _ERR_HAL
    return _put_text(buf, cap, text)


# A HalFailure here is re-raised: the check's negative results mean "refused".
@trampoline("_py_bl_check_image", hal_failure=False)
def _bl_check_image(obj: Any, image_size: int, buf: Any, cap: int) -> int:
    try:
        version = obj.check_image(image_size)
    except ImageError as exc:  # the bootloader refuses the image: a result, not a crash
        rc = ERR.get(str(exc.code), 0)
        # Only an error says "refused"; a HAL code would end the whole cycle.
        return rc if rc < 0 and rc != _ERR_HAL else ERR["MFOTA_ERR_MCUBOOT_HASH"]
    _put_text(buf, cap, version if isinstance(version, str) else "")
    return 0


@trampoline("_py_client_event", error=None, hal_failure=False)
def _client_event(client: Client, ev: Any) -> None:
    if client._on_event is None:
        return
    client._on_event(Event(
        kind=_EVENT_KINDS.get(ev.kind, str(ev.kind)),
        state=_state_name(ev.state),
        result=ev.result,
        error=err_name(ev.error) if ev.error else None,
        reason=ffi.string(ev.reason).decode() if ev.reason != ffi.NULL else None,
        done=ev.done,
        total=ev.total,
    ))


class Client:
    """One device running the C client engine.

    ``server`` is the ingestion endpoint's base URL (``http://127.0.0.1:8080``);
    ``flash`` is the update slot and ``journal`` two sectors for the download
    journal (None: no journal, no resume), both following the flash protocol
    of :mod:`m2mfota.flash`; ``journal`` may instead be a key-value store
    (``get() -> bytes | None`` and ``set(bytes)``, like
    :class:`~m2mfota.flash.DictKV`).  A HAL method that raises
    :class:`~m2mfota.flash.HalFailure` ends the cycle with
    :class:`ClientError` ``MFOTA_ERR_HAL`` (:attr:`hal_error` keeps its code).

    The bootloader decides what may be marked pending.
    ``bootloader="mcuboot"`` accepts only an MCUboot image whose header,
    TLVs and SHA-256 TLV check out and -- when ``keys`` lists public keys
    (PEM/DER bytes, PEM text or paths; see :mod:`m2mfota.trust`) -- that
    carries a signature one of them verifies; it then writes MCUboot's
    trailer into the slot (confirm sets image_ok in that same slot, as
    MCUboot's direct-XIP mode would).  ``bootloader="none"`` is the explicit
    choice of raw images: nothing checked beyond the download, nothing
    written (``client.raw_bootloader.pending`` holds the request).  Any
    other object with ``check_image(image_size) -> str | None`` (the
    image's version; raise :class:`~m2mfota.flash.ImageError` to
    refuse), ``mark_pending(image_size, permanent)``, ``confirm()`` and
    ``running_version() -> str`` stands in for another bootloader.
    A refused image ends the update with fota.result 5 (hash, signature)
    or 6 (no MCUboot header) and a ``fota.error`` naming why.
    ``secret`` is bytes-like, or str taken as UTF-8.  Wrong argument types
    raise TypeError, wrong values ValueError, both naming the argument.
    ``transports`` replaces the POSIX sockets with an (uplink, download) pair
    of objects that carry a ``struct mfota_transport *`` in ``.transport``
    (two :class:`m2mfota.modem.ModemSocket` of one SARA-R4 modem).

    Delta files (``MFDP`` + a detools patch, :func:`m2mfota.delta.create_delta_file`)
    are applied against ``delta_source``: a flash object holding the running
    image from ``delta_source_offset`` on (for MCUboot the primary slot,
    whose start is the signed file as uploaded), only ever read.  Without
    it a delta file is refused (fota.result 6, ``delta_unsupported``); a
    delta made for another image is refused before anything is written
    (``delta_source``).
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
        keys: Sequence[KeyLike] | None = None,
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
        delta_source: Any = None,
        delta_source_offset: int = 0,
    ) -> None:
        # -- argument checks (before anything reaches C) --
        _args.text("imei", imei, ascii=True)
        secret_b = bytes(_args.buffer("secret", secret, text=True))
        _args.text("version", version)
        _args.text("server", server, ascii=True)
        _args.flash_device("flash", flash)
        if journal is not None:
            if not hasattr(journal, "read") and hasattr(journal, "get"):
                _args.has_methods("journal", journal, ("get", "set"), "a key-value store")
            else:
                _args.flash_device("journal", journal)
        if isinstance(bootloader, str):
            if bootloader not in ("mcuboot", "none"):
                raise ValueError(f"bootloader must be 'mcuboot', 'none' or a bootloader object, "
                                 f"not {bootloader!r}")
        else:
            _args.has_methods("bootloader", bootloader,
                              ("check_image", "mark_pending", "confirm", "running_version"),
                              "a bootloader")
        _args.function("on_event", on_event, optional=True)
        part_size = _args.integer("part_size", part_size, 1, _args.U32)
        io_timeout = _args.number("io_timeout", io_timeout, 0, _MAX_SECONDS, lo_open=True)
        progress_step = _args.integer("progress_step", progress_step, 0, 100)
        progress_interval = _args.number("progress_interval", progress_interval, 0, _MAX_SECONDS)
        retry_base = _args.number("retry_base", retry_base, 0, _MAX_SECONDS)
        retry_max = _args.number("retry_max", retry_max, 0, _MAX_SECONDS)
        max_retries = _args.integer("max_retries", max_retries, 0, _args.U16)
        _args.flag("check_mcuboot", check_mcuboot)
        _args.flag("permanent", permanent)
        seed = _args.integer("seed", seed, None, None)

        self.imei = imei
        self.version = version
        self._on_event = on_event
        self._events = Bridge(self)
        self._keep: list[Any] = []

        def keep(obj: Any) -> Any:
            self._keep.append(obj)
            return obj

        self._slot = FlashHal(flash)
        # A journal is two flash sectors, or a key-value store (get()/set()).
        kv = journal is not None and not hasattr(journal, "read") and hasattr(journal, "get")
        self._journal: Any = None
        if journal is not None:
            self._journal = KvHal(journal) if kv else FlashHal(journal, name="journal")
        self._delta_src: FlashHal | None = None
        delta_source_offset = _args.integer("delta_source_offset", delta_source_offset, 0,
                                            _args.U32)
        if delta_source is not None:
            if delta_source is flash:
                raise ValueError("delta_source must not be the update slot (flash): the "
                                 "running image would be overwritten while it is read")
            self._delta_src = FlashHal(delta_source, delta_source_offset, name="delta_source",
                                   offset_name="delta_source_offset")
        elif delta_source_offset != 0:
            raise ValueError("delta_source_offset goes with delta_source")
        self._trust: Trust | None = None
        self._bl: _PyBootloader | None = None
        if transports is not None:
            if not isinstance(transports, tuple) or len(transports) != 2:
                raise TypeError("transports must be an (uplink, download) tuple, "
                                f"not {type(transports).__name__}")
            for t in transports:
                _args.transport_holder("transports", t)
        # Transports written in Python (m2mfota.hal.PythonTransport) bring a bridge.
        self._hal_bridges: list[Bridge | None] = [
            getattr(t, "bridge", None) for t in (transports or ())]
        if keys is not None and bootloader != "mcuboot":
            raise ValueError("keys: only bootloader='mcuboot' checks signatures")
        if bootloader == "mcuboot":
            port = keep(ffi.new("struct mfota_mcuboot_port *"))
            port.primary = self._slot.c
            port.secondary = self._slot.c
            if keys is not None:
                try:
                    self._trust = Trust(keys)
                except (TypeError, ValueError) as exc:
                    raise type(exc)(f"keys: {exc}") from None
                self._trust.fill(port.trust)
            bl = keep(ffi.new("struct mfota_bootloader *"))
            lib.mfota_mcuboot_bootloader(bl, port)
        elif bootloader == "none":
            self.raw_bootloader = _RawBootloader(version)
            self._bl = _PyBootloader(self.raw_bootloader, raw=True)
            bl = self._bl.c
        elif isinstance(bootloader, str):
            raise ValueError(f"bootloader: {bootloader!r} is not 'mcuboot' or 'none'")
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
        cfg.journal_flash = self._journal.c if self._journal is not None and not kv else ffi.NULL
        cfg.journal_kv = self._journal.c if kv else ffi.NULL
        cfg.bootloader = bl
        cfg.delta_source = self._delta_src.c if self._delta_src is not None else ffi.NULL
        cfg.on_event = lib._py_client_event
        cfg.event_ctx = self._events.handle
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
        rc = lib.mfota_client_init(self.c, cfg)
        if rc < 0 and err_name(rc).startswith("MFOTA_ERR_URL_"):
            from m2mfota.url import URLError

            raise URLError(rc, f"server {server!r}")
        self._check(rc, "client init")

    # -- plumbing -----------------------------------------------------------------
    def _reraise(self) -> None:
        # The HALs first, then on_event (which may have been told of the failure).
        reraise(*(hal.bridge for hal in (self._slot, self._journal, self._delta_src, self._bl,
                                         self._trust)
                  if hal is not None), *self._hal_bridges, self._events)

    def _check(self, rc: int, what: str) -> int:
        self._reraise()
        if rc == _ERR_HAL and self.c.hal_error:
            raise ClientError(rc, f"{what}: a HAL callback returned {self.c.hal_error}")
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
            http_status=self.http_status,
        )

    def _run(self, timeout: float) -> Outcome:
        rc = lib.mfota_client_run(self.c, max(1, int(timeout * 1000)))  # checked by the caller
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
    def hal_error(self) -> int:
        """The port's own negative value behind an ``MFOTA_ERR_HAL`` that ended
        the cycle (what a :class:`~m2mfota.flash.HalFailure` carried), else 0."""
        return self.c.hal_error

    @property
    def http_status(self) -> HttpStatus:
        """The literal HTTP status of the last uplink answer and of the last
        file-server answer (``None`` until one came), e.g. ``uplink=401``
        behind ``MFOTA_ERR_CLIENT_REFUSED``."""
        c = self.c
        return HttpStatus(c.uplink_http_status or None, c.download_http_status or None)

    @property
    def state(self) -> str:
        return _state_name(self.c.state)

    @property
    def phase(self) -> str:
        """The engine's phase (``"download"``, ``"final_wait"``...; see
        docs/client.md): finer than :attr:`state`, for logs and tests."""
        return ffi.string(lib.mfota_phase_name(lib.mfota_client_phase(self.c))).decode()

    def run(self, timeout: float = 60.0) -> Outcome:
        """Send an uplink, act on the downlink that comes back (if any), return how it ended."""
        _args.number("timeout", timeout, 0, _MAX_SECONDS, lo_open=True)
        self._check(lib.mfota_client_start(self.c), "client start")
        return self._run(timeout)

    def confirm_boot(self, timeout: float = 60.0) -> Outcome:
        """First cycle after booting into a new image: confirm it with the
        bootloader, then report the running version with fota.result 1."""
        _args.number("timeout", timeout, 0, _MAX_SECONDS, lo_open=True)
        self._check(lib.mfota_client_start_boot(self.c), "confirm boot")
        return self._run(timeout)

    def downlink(self, body: bytes, timeout: float = 60.0) -> Outcome:
        """Act on a downlink body that reached the application another way."""
        buf = ffi.from_buffer(_args.buffer("body", body))
        _args.number("timeout", timeout, 0, _MAX_SECONDS, lo_open=True)
        self._check(lib.mfota_client_downlink(self.c, buf, len(buf)), "downlink")
        return self._run(timeout)

    def feed_downlink(self, body: bytes) -> None:
        """Hand a downlink to the engine without running it (e.g. from an
        ``on_event`` callback while an update runs)."""
        buf = ffi.from_buffer(_args.buffer("body", body))
        self._check(lib.mfota_client_downlink(self.c, buf, len(buf)), "downlink")
