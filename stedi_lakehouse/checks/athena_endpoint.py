"""The AWS the offline Athena check talks to: a local moto server for Glue, S3 and STS, and a
local Athena API (StartQueryExecution, GetQueryExecution, GetQueryResults, GetWorkGroup) that
runs each query on the AthenaEngine. boto3, and so dbt-athena, reaches them through
AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_ATHENA; nothing else is served."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from stedi_lakehouse.checks.athena_engine import AthenaEngine, QueryResult
from stedi_lakehouse.checks.athena_tables import AthenaQueryError

MAX_RESULTS = 1000  # rows of a GetQueryResults page, Athena's maximum


@dataclass
class Execution:
    query: str
    database: str
    result: QueryResult | None = None
    error: str | None = None


@dataclass
class OfflineAws:
    aws_endpoint: str  # moto: Glue, S3, STS
    athena_endpoint: str
    engine: AthenaEngine


class _AthenaApi(BaseHTTPRequestHandler):
    engine: AthenaEngine
    executions: dict[str, Execution]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Quiet: not a line per request."""

    def do_POST(self) -> None:  # noqa: N802 - the base class's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        request = json.loads(body or b"{}")
        action = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
        handler = getattr(self, f"_{action}", None)
        if handler is None:
            self._reply(400, {"__type": "InvalidRequestException", "Message": f"{action} is not served by the offline Athena"})
            return
        try:
            self._reply(200, handler(request))
        except KeyError as error:
            self._reply(400, {"__type": "InvalidRequestException", "Message": f"unknown {error}"})

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        if status != 200:
            self.send_header("x-amzn-ErrorType", payload["__type"])
        self.end_headers()
        self.wfile.write(data)

    def _StartQueryExecution(self, request: dict[str, Any]) -> dict[str, Any]:  # noqa: N802 - the API's name
        execution_id = str(uuid.uuid4())
        database = request.get("QueryExecutionContext", {}).get("Database", "default")
        execution = Execution(request["QueryString"], database)
        try:
            execution.result = self.engine.execute(execution.query, database, execution_id.replace("-", ""))
        except AthenaQueryError as error:
            execution.error = str(error)
        self.executions[execution_id] = execution
        return {"QueryExecutionId": execution_id}

    def _GetQueryExecution(self, request: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        execution_id = request["QueryExecutionId"]
        execution = self.executions[execution_id]
        status: dict[str, Any] = {"State": "FAILED" if execution.error else "SUCCEEDED"}
        if execution.error:
            status |= {"StateChangeReason": execution.error, "AthenaError": {"ErrorCategory": 2, "ErrorType": 1006, "ErrorMessage": execution.error}}
        return {
            "QueryExecution": {
                "QueryExecutionId": execution_id,
                "Query": execution.query,
                "StatementType": execution.result.statement_type if execution.result else "DML",
                "QueryExecutionContext": {"Database": execution.database},
                "Status": status,
                "Statistics": {"DataScannedInBytes": 0, "EngineExecutionTimeInMillis": 0},
            }
        }

    def _GetQueryResults(self, request: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        execution = self.executions[request["QueryExecutionId"]]
        result = execution.result or QueryResult("DML")
        rows = [[{"VarCharValue": value} if value is not None else {} for value in row] for row in result.rows]
        if result.statement_type == "DML" and result.columns:
            rows.insert(0, [{"VarCharValue": name} for name, _ in result.columns])  # the header row
        start = int(request.get("NextToken") or 0)
        end = start + min(int(request.get("MaxResults") or MAX_RESULTS), MAX_RESULTS)
        response: dict[str, Any] = {
            "UpdateCount": result.update_count,
            "ResultSet": {
                "Rows": [{"Data": data} for data in rows[start:end]],
                "ResultSetMetadata": {"ColumnInfo": [{"Name": name, "Label": name, "Type": type_name} for name, type_name in result.columns]},
            },
        }
        if end < len(rows):
            response["NextToken"] = str(end)
        return response

    def _StopQueryExecution(self, request: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        return {}

    def _GetWorkGroup(self, request: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        # no enforced output location: dbt-athena gives every table its own location
        return {"WorkGroup": {"Name": request["WorkGroup"], "State": "ENABLED", "Configuration": {"EnforceWorkGroupConfiguration": False}}}


@contextmanager
def offline_aws(scratch: Path) -> Iterator[OfflineAws]:
    """An empty local moto server (athena_check.empty_aws) and the Athena API, on free ports."""
    from stedi_lakehouse.checks.athena_check import empty_aws

    with empty_aws() as aws_endpoint:
        engine = AthenaEngine(aws_endpoint, scratch)
        handler = type("AthenaApi", (_AthenaApi,), {"engine": engine, "executions": {}})
        athena = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=athena.serve_forever, daemon=True)
        thread.start()
        try:
            yield OfflineAws(aws_endpoint, f"http://127.0.0.1:{athena.server_address[1]}", engine)
        finally:
            athena.shutdown()
            athena.server_close()
            thread.join()
            engine.close()
