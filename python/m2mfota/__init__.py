"""m2mfota: device-side FOTA for KPN Things M2M.

The functions here are thin wrappers over the C core that runs on the device
(compiled into ``m2mfota._native`` with cffi), so tests and tools exercise
exactly the code that ships.
"""

from m2mfota._checksums import crc32, crc32_combine, sha256
from m2mfota._errors import M2mfotaError
from m2mfota.client import Client, ClientError, Outcome
from m2mfota.download import DownloadError, DownloadResult, IntegrityError, download
from m2mfota.flash import FlashError, ImageError, NorFlash, PowerCut, mcuboot_info
from m2mfota.senml import SenMLError
from m2mfota.things import DownlinkError
from m2mfota.url import URLError, parse_url

__all__ = [
    "Client",
    "ClientError",
    "DownloadError",
    "DownloadResult",
    "DownlinkError",
    "FlashError",
    "ImageError",
    "IntegrityError",
    "M2mfotaError",
    "NorFlash",
    "Outcome",
    "PowerCut",
    "SenMLError",
    "URLError",
    "crc32",
    "crc32_combine",
    "download",
    "mcuboot_info",
    "parse_url",
    "sha256",
]
__version__ = "0.1.0"
