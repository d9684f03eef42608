"""WSJF documents for the report-model tests: the wats-api.md §3 examples and a report that
fills every field the model knows (so the key-set tests see every key written)."""

from __future__ import annotations

import copy
import json
from typing import Any

MINIMAL_UUT = """
{"type":"T","id":"0b6f2a52-3c1e-4f0e-9a57-2d1c4b7e9f10","pn":"PN-100","sn":"SN-000001","rev":"A",
 "processCode":10,"result":"P","machineName":"STATION-01","location":"Lab 2","purpose":"Production",
 "start":"2025-03-01T10:15:00+01:00","uut":{"user":"op1"},
 "root":{"id":0,"group":"M","stepType":"SequenceCall","name":"MainSequence Callback","status":"P",
  "causedUUTFailure":false,
  "seqCall":{"path":"main.py","name":"MainSequence Callback","version":"1.0.0"},
  "steps":[{"id":1,"group":"M","stepType":"ET_NLT","name":"Supply 5V","status":"P",
   "causedUUTFailure":false,
   "numericMeas":[{"name":null,"status":"P","compOp":"GELE","value":5.02,"lowLimit":4.9,
    "highLimit":5.1,"unit":"V"}]}]}}
"""

RICHER_UUT = """
{"type":"T","id":"7d3c9a1e-8b2f-4c55-b0e1-5a9d2e6f4c21","pn":"CTRL-2000","sn":"C2K-24-0042","rev":"B3",
 "processCode":100,"result":"F","machineName":"EOL-3","location":"Plant A","purpose":"Production",
 "start":"2025-03-01T14:02:11.250+01:00","startUTC":"2025-03-01T13:02:11.250Z",
 "uut":{"user":"kari","comment":"night shift","execTime":42.7,"testSocketIndex":0,
  "fixtureId":"FX-07",
  "batchSN":"LOT-118","errorCode":0,"stepIdCausedUUTFailure":4},
 "miscInfos":[{"description":"Firmware","text":"3.4.1"}],
 "subUnits":[{"partType":"PCBA","pn":"MB-11","rev":"C","sn":"MB-9917"}],
 "assets":[{"assetSN":"DMM-0031","usageCount":1}],
 "root":{"id":0,"group":"M","stepType":"SequenceCall","name":"MainSequence Callback","status":"F",
  "totTime":42.7,"causedUUTFailure":false,
  "seqCall":{"path":"eol.py","name":"MainSequence Callback","version":"2.1.0"},
  "steps":[
   {"id":1,"group":"S","stepType":"ET_A","name":"Power on","status":"D","causedUUTFailure":false},
   {"id":2,"group":"M","stepType":"SequenceCall","name":"Power rails","status":"F",
    "causedUUTFailure":false,"seqCall":{"path":"eol.py","name":"Power rails","version":"2.1.0"},
    "steps":[
     {"id":3,"group":"M","stepType":"ET_MNLT","name":"Rails","status":"P","causedUUTFailure":false,
      "totTime":0.8,
      "numericMeas":[{"name":"3V3","status":"P","compOp":"GELE","value":3.31,"lowLimit":3.2,
                      "highLimit":3.4,"unit":"V"},
                     {"name":"1V8","status":"P","compOp":"GELE","value":1.79,"lowLimit":1.7,
                      "highLimit":1.9,"unit":"V"}]},
     {"id":4,"group":"M","stepType":"ET_NLT","name":"Idle current","status":"F",
      "causedUUTFailure":true,
      "numericMeas":[{"name":null,"status":"F","compOp":"LE","value":0.412,"lowLimit":0.35,
                      "unit":"A"}]}]},
   {"id":5,"group":"M","stepType":"ET_PFT","name":"LED check","status":"P","causedUUTFailure":false,
    "booleanMeas":[{"name":null,"status":"P"}]},
   {"id":6,"group":"M","stepType":"ET_SVT","name":"FW version","status":"P",
    "causedUUTFailure":false,
    "stringMeas":[{"name":null,"status":"P","compOp":"IGNORECASE","value":"3.4.1","limit":"3.4.1"}]},
   {"id":7,"group":"M","stepType":"WATS_XYGMNLT","name":"Ramp","status":"P","causedUUTFailure":false,
    "numericMeas":[{"name":null,"status":"P","compOp":"LOG","value":2.5,"unit":"V"}],
    "chart":{"chartType":"Line","label":"Ramp","xLabel":"t","xUnit":"s","yLabel":"U","yUnit":"V",
     "series":[{"dataType":"XYG","name":"U(t)","xdata":"0;1;2","ydata":"0;2.5;5"}]}},
   {"id":8,"group":"C","stepType":"ET_A","name":"Save log","status":"D","causedUUTFailure":false,
    "attachment":{"name":"log.txt","contentType":"text/plain","data":"aGVsbG8="}}]}}
"""

REPAIR = """
{"type":"R","id":"5f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b","pn":"CTRL-2000","sn":"C2K-24-0042","rev":"B3",
 "processCode":500,"result":"P","machineName":"REPAIR-1","location":"Plant A","purpose":"Repair",
 "start":"2025-03-02T09:00:00+01:00",
 "uur":{"user":"tech2","comment":"replaced U7","processCode":100,
  "refUUT":"7d3c9a1e-8b2f-4c55-b0e1-5a9d2e6f4c21",
  "confirmDate":"2025-03-02T08:20:00Z","finalizeDate":"2025-03-02T08:25:00Z","execTime":300},
 "subUnits":[{"partType":"Main","pn":"CTRL-2000","rev":"B3","sn":"C2K-24-0042","idx":0,
  "failures":[{"category":"Component","code":"Defective","comRef":"U7",
   "comment":"high idle current",
   "refStepId":4}]}]}
"""

_PROPERTY: dict[str, Any] = {
    "name": "limits",
    "type": "Obj",
    "flags": 0,
    "value": "x",
    "numFormat": "%.3f",
    "comment": "nested",
    "props": [{"name": "low", "type": "Number", "value": "1.5"}],
    "array": {
        "dimension": 1,
        "type": "Number",
        "indexes": [{"text": "[0]", "indexes": [0], "value": {"name": "v", "value": "2"}}],
    },
}
_BINARY = {
    "contentType": "image/png",
    "data": "aGVsbG8=",
    "name": "photo.png",
    "id": "14e90139-3169-4071-8556-99dda0de6ced",
}
_ADDITIONAL = {"name": "Station data", "props": [_PROPERTY]}

# Every key the model writes, each filled, plus the output-only keys the server sends.
_FULL_HEADER: dict[str, Any] = {
    "id": "c3eef2e0-034f-4ae1-9f8a-498a6e213775",
    "pn": "PN-1",
    "sn": "SN-1",
    "rev": "A",
    "processCode": 10,
    "processName": "SW Debug",
    "result": "P",
    "machineName": "ST-1",
    "location": "Lab",
    "purpose": "Production",
    "start": "2025-03-01T10:15:00+01:00",
    "startUTC": "2025-03-01T09:15:00Z",
    "miscInfos": [
        {
            "description": "Firmware",
            "text": "3.4.1",
            "numeric": 7,
            "numericFormat": "%d",
            "typedef": "String",
            "id": "e8a9b4d2-0c3a-4a5e-9d7f-1b2c3d4e5f60",
        }
    ],
    "subUnits": [
        {
            "partType": "PCBA",
            "pn": "MB-11",
            "rev": "C",
            "sn": "MB-1",
            "idx": 1,
            "parentIdx": 0,
            "position": 2,
            "replacedIdx": 3,
            "failures": [
                {
                    "category": "Component",
                    "code": "Defective",
                    "comment": "burnt",
                    "comRef": "U7",
                    "funcBlock": "Power",
                    "refStepId": 4,
                    "refStepName": "Idle current",
                    "artNumber": "IC-7",
                    "artRev": "2",
                    "artVendor": "Acme",
                    "artDescription": "regulator",
                    "attachments": [_BINARY],
                }
            ],
        }
    ],
    "assets": [{"assetSN": "DMM-1", "usageCount": 3, "usageCountFormat": "%d"}],
    "binaryData": [_BINARY],
    "additionalData": [_ADDITIONAL],
    "origin": "00:11:22:33:44:55",
    "productName": "Controller",
    "processCodeFormat": "%d",
    "assetStats": [{"assetSN": "DMM-1", "runningCount": 3}],
}

_FULL_STEP_COMMON: dict[str, Any] = {
    "group": "M",
    "status": "P",
    "start": "2025-03-01T10:15:01.500+01:00",
    "totTime": 0.5,
    "totTimeFormat": "%.2f",
    "errorCode": 0,
    "errorCodeFormat": "%d",
    "errorMessage": "none",
    "reportText": "all good",
    "tsGuid": "#TS:abc",
    "causedUUTFailure": False,
    "causedSeqFailure": False,
    "interactiveExeNum": 1,
    "interactiveExeNumFormat": "%d",
    "additionalResults": [_ADDITIONAL],
}


def _step(step_id: int, step_type: str, **payload: Any) -> dict[str, Any]:
    return {
        "id": step_id,
        "stepType": step_type,
        "name": f"{step_type} {step_id}",
        **_FULL_STEP_COMMON,
        **payload,
    }


def full_uut() -> dict[str, Any]:
    numeric = {
        "name": "3V3",
        "status": "P",
        "value": 3.3,
        "unit": "V",
        "compOp": "GELE",
        "lowLimit": 3.2,
        "highLimit": 3.4,
        "valueFormat": "%.2f",
        "lowLimitFormat": "%.2f",
        "highLimitFormat": "%.2f",
    }
    steps = [
        _step(2, "ET_MNLT", numericMeas=[numeric], loop={"idx": 0}),
        _step(
            3,
            "WATS_XYGMNLT",
            numericMeas=[numeric],
            chart={
                "chartType": "Line",
                "label": "Ramp",
                "xLabel": "t",
                "xUnit": "s",
                "yLabel": "U",
                "yUnit": "V",
                "series": [{"dataType": "XYG", "name": "U(t)", "xdata": "0;1", "ydata": "0;5"}],
            },
        ),
        _step(4, "ET_PFT", booleanMeas=[{"name": "LED", "status": "P"}]),
        _step(
            5,
            "ET_SVT",
            stringMeas=[
                {
                    "name": "fw",
                    "status": "P",
                    "value": "1.0",
                    "compOp": "CASESENSIT",
                    "limit": "1.0",
                }
            ],
        ),
        _step(6, "CallExecutable", callExe={"exitCode": 0.0, "exitCodeFormat": "%d"}),
        _step(
            7, "MessagePopup", messagePopup={"response": "OK", "button": 1, "buttonFormat": "%d"}
        ),
        _step(
            8,
            "ET_A",
            attachment={"name": "log.txt", "contentType": "text/plain", "data": "aGVsbG8="},
        ),
    ]
    sequence = _step(
        1,
        "SequenceCall",
        seqCall={"path": "eol.py", "name": "Rails", "version": "2.1.0"},
        loop={"num": 3, "endingIndex": 2, "passed": 3, "failed": 0},
        steps=steps,
    )
    root = _step(
        0,
        "SequenceCall",
        seqCall={"path": "eol.py", "name": "MainSequence Callback", "version": "2.1.0"},
        steps=[sequence],
    )
    root["name"] = "MainSequence Callback"
    uut = {
        "user": "kari",
        "comment": "night shift",
        "execTime": 42.7,
        "execTimeFormat": "%.1f",
        "testSocketIndex": 0,
        "testSocketIndexFormat": "%d",
        "fixtureId": "FX-07",
        "batchSN": "LOT-118",
        "batchFailCount": 0,
        "batchFailCountFormat": "%d",
        "batchLoopIndex": 1,
        "batchLoopIndexFormat": "%d",
        "errorCode": 0,
        "errorCodeFormat": "%d",
        "errorMessage": "none",
        "stepIdCausedUUTFailure": 4,
        "refUURs": [
            {"id": "5f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b", "start": "2025-03-02T09:00:00Z"}
        ],
    }
    return {"type": "T", **copy.deepcopy(_FULL_HEADER), "root": root, "uut": uut}


def full_uur() -> dict[str, Any]:
    uur = {
        "user": "tech2",
        "comment": "replaced U7",
        "processCode": 100,
        "processName": "EOL",
        "refUUT": "7d3c9a1e-8b2f-4c55-b0e1-5a9d2e6f4c21",
        "confirmDate": "2025-03-02T08:20:00Z",
        "finalizeDate": "2025-03-02T08:25:00Z",
        "execTime": 300.0,
        "parent": "2a8db26c-c529-43bd-acf2-84a00a4ff693",
        "children": ["3a8db26c-c529-43bd-acf2-84a00a4ff693"],
        "processCodeFormat": "%d",
    }
    header = copy.deepcopy(_FULL_HEADER)
    header["processCode"] = 500
    return {"type": "R", **header, "uur": uur}


def as_json(document: dict[str, Any]) -> str:
    return json.dumps(document)
