"""The one bridge between C HAL callbacks and the Python objects behind them.

C calls a HAL through a struct of function pointers with a ``void *ctx``.
For a HAL written in Python, ``ctx`` is the handle of a :class:`Bridge` and
the function pointer is a trampoline made by :func:`trampoline`.  Every kind
of callback (flash, key-value store, transport, clock, bootloader, event,
download sink, signature verifier) goes through the same steps:

1. the trampoline calls the Python object;
2. an exception cannot cross into C, so the trampoline keeps it in the
   bridge and returns the value the HAL contract gives for a failure (for
   most HALs ``MFOTA_ERR_HAL``); :class:`HalFailure` instead hands C the
   port's own negative code, as a C port would, and is not kept;
3. once a bridge holds an exception, its trampolines answer C with that
   failure value without calling Python again, so C unwinds quickly;
4. after the C call returns, the wrapper calls :func:`reraise`, which raises
   the very exception object, with the traceback of the callback that raised.

``BaseException`` is caught on purpose: a ``KeyboardInterrupt`` inside a
callback must also wait until C has returned, or C would be left half way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from m2mfota._errors import ERR
from m2mfota._native import ffi

__all__ = ["Bridge", "HalFailure", "ERR_HAL", "reraise", "trampoline"]

#: ``MFOTA_ERR_HAL``: what most HAL callbacks return after storing an exception.
ERR_HAL: int = ERR["MFOTA_ERR_HAL"]

F = TypeVar("F", bound=Callable[..., Any])


class HalFailure(Exception):  # noqa: N818 - it is what a HAL reports, not a misuse
    """Raise it in a Python HAL method (flash, key-value store, bootloader,
    transport) to make the C callback return ``code`` -- a port's own
    negative value, such as ``-5`` for ``-EIO`` -- exactly as a C port would.
    The C side sees only the number; the exception is not raised again."""

    def __init__(self, code: int = -5) -> None:
        if not isinstance(code, int) or isinstance(code, bool) or not -(2**31) <= code < 0:
            raise ValueError(f"code must be a negative C int, not {code!r}")
        super().__init__(f"HAL failure {code}")
        self.code = code


class Bridge:
    """The C side's view of one Python HAL object.

    ``target`` is the Python object the trampolines call; ``handle`` goes into
    the C struct's ``ctx`` (keep the bridge alive as long as C may call it);
    ``exc`` holds the first exception a callback raised until :func:`reraise`.
    """

    __slots__ = ("target", "exc", "handle", "calls_after_failure")

    def __init__(self, target: Any) -> None:
        self.target = target
        self.exc: BaseException | None = None
        self.handle: Any = ffi.new_handle(self)
        # Callbacks C made after the failure was stored (answered without Python).
        self.calls_after_failure = 0

    def reraise(self) -> None:
        """Raise the stored exception, if any, and forget it."""
        exc = self.exc
        if exc is not None:
            self.exc = None
            raise exc


def reraise(*bridges: Bridge | None) -> None:
    """After a C call: raise the first exception any of ``bridges`` stored
    (clearing them all).  None entries are skipped."""
    pending: BaseException | None = None
    for bridge in bridges:
        if bridge is not None and bridge.exc is not None:
            if pending is None:
                pending = bridge.exc
            bridge.exc = None
    if pending is not None:
        raise pending


def trampoline(
    name: str,
    *,
    error: Any = ERR_HAL,
    on_error: Callable[[Bridge], Any] | None = None,
    hal_failure: bool = True,
) -> Callable[[F], F]:
    """Register ``fn(target, *c_args)`` as the ``extern "Python"`` callback
    ``name``: C passes the bridge's handle as the first argument and the
    decorated function gets the bridge's target instead.

    ``fn`` returns what C gets on success.  On an exception C gets ``error``
    (or ``on_error(bridge)`` when given: a clock computes its answer), and
    the exception waits in the bridge; with ``hal_failure``, a
    :class:`HalFailure` returns its ``code`` instead and is not kept."""

    def register(fn: F) -> F:
        def callback(ctx: Any, *args: Any) -> Any:
            bridge: Bridge = ffi.from_handle(ctx)
            if bridge.exc is not None:
                bridge.calls_after_failure += 1
                return on_error(bridge) if on_error is not None else error
            try:
                return fn(bridge.target, *args)
            except HalFailure as exc:
                if hal_failure:
                    return exc.code  # the port's own value, as a C port returns it
                bridge.exc = exc
            except BaseException as exc:  # noqa: BLE001 - re-raised once C returns
                bridge.exc = exc
            return on_error(bridge) if on_error is not None else error

        callback.__name__ = callback.__qualname__ = name
        callback.__doc__ = fn.__doc__
        ffi.def_extern(name=name)(callback)
        return fn

    return register
