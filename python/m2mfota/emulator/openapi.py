"""The OpenAPI 3.0 description of the REST API, served at ``/api/openapi.json``."""

from __future__ import annotations

from typing import Any

from m2mfota.emulator import faults
from m2mfota.emulator.events import KINDS
from m2mfota.emulator.jsontypes import JsonObject

_ERROR = {"type": "object", "required": ["error"],
          "properties": {"error": {"type": "string"}, "field": {"type": "string"}}}
_NULLABLE_STR = {"type": "string", "nullable": True}
_NULLABLE_NUM = {"type": "number", "nullable": True}
_NO_CONTROL = "^[^\\x00-\\x1f]*$"


def _text(max_len: int, min_len: int = 0) -> JsonObject:
    out: dict[str, Any] = {"type": "string", "maxLength": max_len, "pattern": _NO_CONTROL}
    if min_len:
        out["minLength"] = min_len
    return out



def _ref(name: str) -> JsonObject:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: JsonObject) -> JsonObject:
    return {"content": {"application/json": {"schema": schema}}}


def _op(summary: str, ok: JsonObject | None, *, status: str = "200",
        body: JsonObject | None = None, params: list[JsonObject] | None = None,
        errors: tuple[str, ...] = ("400", "404")) -> JsonObject:
    responses: dict[str, Any] = {status: ({"description": "OK", **_json(ok)} if ok
                                          else {"description": "No content"})}
    # every /api/ operation can meet the guard: no key (401), a foreign Host or
    # Origin (403), a body that is not JSON (415)
    for code in (*errors, "401", "403", "415"):
        responses[code] = {"description": "client error", **_json(_ref("Error"))}
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if body is not None:
        op["requestBody"] = {"required": True, **body}
    if params:
        op["parameters"] = params
    return op


def _also_ok(op: JsonObject) -> JsonObject:
    """``op`` (a 201 creation) also answering 200: the thing existed already."""
    op["responses"]["200"] = {"description": "OK, it existed already",
                              "content": op["responses"]["201"]["content"]}
    return op


def _campaign_create(target: str, spec: JsonObject) -> JsonObject:
    return {
        "type": "object", "required": ["firmware_id", target], "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "maxLength": 100},
            "firmware_id": {"type": "integer"},
            target: spec,
            "retry_limit": {"type": "integer", "minimum": 0, "maximum": 100,
                            "description": "default: each device's own"},
            "faults": _ref("Faults"),
            "delta_from": {"type": "string", "pattern": "^[0-9A-Za-z.+_-]{1,64}$",
                           "description": "send devices that report this version a delta "
                           "file (made from that firmware to firmware_id) instead of the "
                           "image; needs others"},
            "others": {"type": "string", "enum": ["full", "skip"],
                       "description": "delta campaigns only, required: what devices on "
                       "another version get, the full image or nothing"},
        }}


_IMAGE = {"type": "object", "properties": {
    "id": {"type": "integer"}, "version": {"type": "string"},
    "kind": {"type": "string"}, "size": {"type": "integer"}, "sha256": {"type": "string"}}}
_IMEI = {"name": "imei", "in": "path", "required": True,
         "schema": {"type": "string", "pattern": "^[0-9A-Za-z]{1,32}$"}}
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 0,
                                                          "maximum": 2**63 - 1}}


def document() -> JsonObject:
    """The whole OpenAPI document (faults fields come from the file server's dataclass)."""
    schemas = {
        "Error": _ERROR,
        "Faults": {**faults.schema(), "nullable": True},
        "DeviceCreate": {
            "type": "object", "required": ["imei"], "additionalProperties": False,
            "properties": {
                "imei": {"type": "string", "pattern": "^[0-9A-Za-z]{1,32}$"},
                "type": _text(64),
                "client": _text(64),
                "secret": {**_text(256), "description": "generated when not given"},
                "retry_limit": {"type": "integer", "minimum": 0, "maximum": 100},
            }},
        "DevicePatch": {
            "type": "object", "additionalProperties": False,
            "properties": {
                "type": _text(64),
                "client": _text(64),
                "secret": _text(256, 1),
                "retry_limit": {"type": "integer", "minimum": 0, "maximum": 100},
            }},
        "Device": {
            "type": "object",
            "properties": {
                "imei": {"type": "string"}, "type": {"type": "string"},
                "client": {"type": "string"}, "secret": {"type": "string"},
                "created": {"type": "number"}, "last_seen": _NULLABLE_NUM,
                "reported": {"type": "object", "properties": {
                    "firmware": _NULLABLE_STR, "state": _NULLABLE_STR,
                    "progress": _NULLABLE_NUM, "result": {"type": "integer", "nullable": True},
                    "result_name": _NULLABLE_STR,
                    "error": _NULLABLE_STR,
                    "error_name": {**_NULLABLE_STR, "description": "what fota.error means"}}},
                "desired": {"type": "object", "nullable": True, "properties": {
                    "firmware_id": {"type": "integer"}, "version": {"type": "string"}}},
                "update": {"type": "object", "properties": {
                    "status": {"type": "string", "enum": [
                        "idle", "pending", "downloading", "retry", "failed", "done",
                        "skipped"]},
                    "attempts": {"type": "integer"}, "retry_limit": {"type": "integer"},
                    "campaign_id": {"type": "integer", "nullable": True},
                    "file_id": _NULLABLE_STR, "token_expires": _NULLABLE_NUM,
                    "delta_id": {"type": "integer", "nullable": True,
                                 "description": "the delta file being downloaded (null: "
                                 "the full image)"},
                    "bytes_sent": {"type": "integer", "description": "file bytes the file "
                                   "server sent for the desired firmware, by the downloads "
                                   "that ended (the current one: /download)"}}},
                "faults": _ref("Faults"),
            }},
        "Firmware": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"}, "version": {"type": "string"},
                "kind": {"type": "string", "enum": ["binary", "mcuboot"]},
                "filename": {"type": "string"}, "size": {"type": "integer"},
                "crc32": {"type": "string"}, "sha256": {"type": "string"},
                "created": {"type": "number"},
                "mcuboot": {"type": "object", "description": "MCUboot images, GET by id: "
                            "version, hash (ok/bad/missing), signature (verified/bad/"
                            "unsigned/no key configured)", "properties": {
                                "version": {"type": "string"}, "hash": {"type": "string"},
                                "signature": {"type": "string"}}}}},
        "CampaignCreate": {
            "description": "firmware_id and exactly one target: imeis, type or client",
            "oneOf": [_campaign_create(target, spec) for target, spec in (
                ("imeis", {"type": "array", "minItems": 1, "items": {
                    "type": "string", "pattern": "^[0-9A-Za-z]{1,32}$"}}),
                ("type", _text(64, 1)),
                ("client", _text(64, 1)))]},
        "Counts": {"type": "object", "properties": {
            k: {"type": "integer"}
            for k in ("pending", "downloading", "done", "failed", "superseded", "skipped",
                      "total")}},
        "Delta": {
            "type": "object",
            "description": "a delta file: m2mfota header and detools patch from source to "
                           "target",
            "properties": {
                "id": {"type": "integer"}, "source": _IMAGE, "target": _IMAGE,
                "compression": {"type": "string"},
                "size": {"type": "integer", "description": "bytes of the delta file"},
                "crc32": {"type": "string"}, "sha256": {"type": "string"},
                "ratio": {"type": "number", "description": "size / target size"},
                "saved": {"type": "integer", "description": "target size - size"},
                "seconds": {"type": "number"}, "created": {"type": "number"}}},
        "Campaign": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"}, "name": {"type": "string"},
                "firmware": {"type": "object"}, "target": {"type": "object"},
                "retry_limit": {"type": "integer", "nullable": True},
                "faults": _ref("Faults"),
                "created": {"type": "number"}, "counts": _ref("Counts"),
                "delta": {"nullable": True, "allOf": [_ref("Delta")],
                          "description": "delta campaigns: the delta file and others"},
                "devices": {"type": "array", "items": {"type": "object"}}}},
        "Event": {
            "type": "object", "required": ["id", "time", "kind", "message"],
            "properties": {
                "id": {"type": "integer"}, "time": {"type": "number"},
                "kind": {"type": "string", "enum": list(KINDS)},
                "imei": _NULLABLE_STR, "status": {"type": "integer", "nullable": True},
                "message": {"type": "string"}, "detail": {"type": "object"}}},
        "Uplink": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"}, "received": {"type": "number"},
                "records": {"type": "array", "items": {"type": "object"}},
                "downlink": {"type": "array", "nullable": True, "items": {"type": "object"}}}},
    }
    faults_body = {"required": True, **_json(_ref("Faults"))}
    paths = {
        "/api/openapi.json": {"get": {**_op("This document", {"type": "object"}, errors=()),
                                      "security": []}},
        "/api/info": {"get": _op("Addresses of ingestion, file server and dashboard",
                                 {"type": "object"}, errors=())},
        "/api/events": {
            "get": _op("The event log, newest first: uplinks, downlinks, file requests, "
                       "refusals with their reason",
                       {"type": "array", "items": _ref("Event")},
                       params=[{"name": "after", "in": "query", "schema": {
                                   "type": "integer", "minimum": 0, "maximum": 999999999}},
                               {"name": "limit", "in": "query", "schema": {
                                   "type": "integer", "minimum": 1, "maximum": 1000}},
                               {"name": "kind", "in": "query", "schema": {
                                   "type": "string", "enum": list(KINDS)}},
                               {"name": "imei", "in": "query", "schema": {
                                   "type": "string", "pattern": "^[0-9A-Za-z]{1,32}$"}}],
                       errors=("400",)),
        },
        "/api/devices": {
            "get": _op("List devices", {"type": "array", "items": _ref("Device")},
                       params=[{"name": "type", "in": "query", "schema": {"type": "string"}},
                               {"name": "client", "in": "query",
                                "schema": {"type": "string"}}], errors=()),
            "post": _op("Register a device", _ref("Device"), status="201",
                        body=_json(_ref("DeviceCreate")), errors=("400", "409")),
        },
        "/api/devices/{imei}": {
            "get": _op("One device (secret masked)", _ref("Device"), params=[_IMEI]),
            "patch": _op("Change a device", _ref("Device"), params=[_IMEI],
                         body=_json(_ref("DevicePatch"))),
            "delete": _op("Remove a device and its history", None, status="204",
                          params=[_IMEI]),
        },
        "/api/devices/{imei}/secret": {
            "post": _op("Reveal the device's secret (every other answer masks it)",
                        {"type": "object", "required": ["imei", "secret"], "properties": {
                            "imei": {"type": "string"}, "secret": {"type": "string"}}},
                        params=[_IMEI]),
        },
        "/api/devices/{imei}/desired": {
            "put": _op("Set the firmware the device should run", _ref("Device"),
                       params=[_IMEI], body=_json({
                           "type": "object", "required": ["firmware_id"],
                           "additionalProperties": False,
                           "properties": {
                               "firmware_id": {"type": "integer", "nullable": True},
                               "retry_limit": {"type": "integer", "minimum": 0,
                                               "maximum": 100}}})),
        },
        "/api/devices/{imei}/faults": {
            "put": _op("Set file-server faults for this device", {"type": "object"},
                       params=[_IMEI], body=faults_body),
        },
        "/api/devices/{imei}/uplinks": {
            "get": _op("Last uplinks of a device, newest first",
                       {"type": "array", "items": _ref("Uplink")},
                       params=[_IMEI, {"name": "limit", "in": "query", "schema": {
                           "type": "integer", "minimum": 1, "maximum": 1000}}]),
        },
        "/api/devices/{imei}/download": {
            "get": _op("File server statistics of the device's current download",
                       {"type": "object"}, params=[_IMEI]),
        },
        "/api/firmware": {
            "get": _op("List firmware", {"type": "array", "items": _ref("Firmware")},
                       errors=()),
            "post": _op(
                "Upload firmware (plain binary needs a version; MCUboot's is read from it)",
                _ref("Firmware"), status="201", errors=("400", "413"),
                params=[{"name": "version", "in": "query", "schema": {
                            "type": "string", "pattern": "^[0-9A-Za-z.+_-]{1,64}$"}},
                        {"name": "filename", "in": "query", "schema": {"type": "string"}}],
                body={"content": {
                    "application/octet-stream": {"schema": {"type": "string",
                                                            "format": "binary"}},
                    "multipart/form-data": {"schema": {"type": "object", "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "version": {"type": "string"}}}}}}),
        },
        "/api/firmware/{id}": {
            "get": _op("One firmware", _ref("Firmware"), params=[_ID]),
            "delete": _op("Remove a firmware no campaign or device refers to", None,
                          status="204", params=[_ID], errors=("400", "404", "409")),
        },
        "/api/deltas": {
            "get": _op("List the delta files made", {"type": "array", "items": _ref("Delta")},
                       errors=()),
            "post": _also_ok(_op("Make the delta file from one firmware to another (200 if it "
                        "exists already)", _ref("Delta"), status="201",
                        body=_json({"type": "object", "required": ["source_id", "target_id"],
                                    "additionalProperties": False, "properties": {
                                        "source_id": {"type": "integer"},
                                        "target_id": {"type": "integer"}}}))),
        },
        "/api/deltas/{id}": {
            "get": _op("One delta file", _ref("Delta"), params=[_ID]),
        },
        "/api/": {"get": _op("Index of the API: its paths and their methods",
                             {"type": "object"}, errors=())},
        "/api/campaigns": {
            "get": _op("List campaigns with counts", {"type": "array",
                                                      "items": _ref("Campaign")}, errors=()),
            "post": _op("Start a campaign (delta_from: a delta campaign)", _ref("Campaign"),
                        status="201", body=_json(_ref("CampaignCreate")),
                        errors=("400", "404", "409")),
        },
        "/api/campaigns/{id}": {
            "get": _op("A campaign, per device and in total", _ref("Campaign"), params=[_ID]),
        },
        "/api/campaigns/{id}/faults": {
            "put": _op("Set file-server faults for the campaign's devices",
                       {"type": "object"}, params=[_ID], body=faults_body),
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "m2mfota KPN Things emulator", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {
            "apiKey": {"type": "http", "scheme": "bearer",
                       "description": "the API key `m2mfota serve` shows when it makes it"},
            "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}},
        "security": [{"apiKey": []}, {"apiKeyHeader": []}],
    }
