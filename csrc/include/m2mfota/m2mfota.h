/* m2mfota: the umbrella header.  Include this, or only the headers you use. */
#ifndef MFOTA_M2MFOTA_H
#define MFOTA_M2MFOTA_H

#include "m2mfota/config.h"
#include "m2mfota/err.h"
#include "m2mfota/crc32.h"
#include "m2mfota/sha256.h"
#include "m2mfota/url.h"
#include "m2mfota/fota_state.h"
#include "m2mfota/report_policy.h"
#include "m2mfota/backoff.h"
#include "m2mfota/senml.h"
#include "m2mfota/thingsml.h"
#include "m2mfota/things.h"
#include "m2mfota/http_request.h"
#include "m2mfota/http_response.h"
#include "m2mfota/range_plan.h"
#include "m2mfota/transport.h"
#include "m2mfota/downloader.h"
#include "m2mfota/flash.h"
#include "m2mfota/flash_writer.h"
#include "m2mfota/journal.h"
#include "m2mfota/image_verify.h"
#include "m2mfota/bootloader.h"
#include "m2mfota/sig_verify.h"
#include "m2mfota/mcuboot.h"
#include "m2mfota/delta.h"
#include "m2mfota/client.h"

#endif /* MFOTA_M2MFOTA_H */
