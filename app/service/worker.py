"""The worker: composes config, queue, pipeline, uploader, timers and IPC into one service.

Lifecycle: starting → running → stopping → stopped (DESIGN.md §1, §3). Runs on a qasync loop
over a QCoreApplication; this module itself is plain asyncio.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from app import __version__
from app.core.backoff import Backoff, BackoffPolicy
from app.core.config import StationConfig, effective
from app.core.config_store import ConfigStore
from app.core.paths import InstancePaths
from app.core.secrets import CLIENT_CREDENTIALS, get_secret, get_token, set_secret
from app.service.conversion import ConversionPool
from app.service.http_thread import HttpThread, ThreadedClient
from app.service.pipeline import Pipeline, PipelineCallbacks, QueueStore
from app.service.process_cache import ProcessCache, codes_by_name
from app.service.queue_events import ObservedQueue
from app.service.server_monitor import ServerMonitor
from app.service.status import StatusModel, WorkerStatus
from app.service.uploader import Uploader, UploaderStatus
from app.service.yield_service import YieldService

if TYPE_CHECKING:
    from app.service.logs import LogBuffer, SecretRedactor
    from app.wats import WatsClient

Publish = Callable[[str, Any], object]

log = logging.getLogger("wats.worker")

STOP_GRACE_S = 10.0
PRUNE_EVERY_S = 24 * 3600.0
# Converter child processes: two keep one core converting while the other commits/uploads.
CONVERSION_PROCESSES = 2


def _backoff_of(config: StationConfig) -> Backoff:
    return Backoff(
        BackoffPolicy(base_s=config.uploads.backoff_base_s, cap_s=config.uploads.backoff_cap_s)
    )


class _NoServer:
    """The uploader's client while no server is configured: never called (uploads paused)."""

    async def submit_wsjf(self, report: Any, /) -> Any:  # pragma: no cover - guarded
        from app.wats import TransientError

        raise TransientError("no WATS server is configured", status=None, url="")


class Worker:
    def __init__(
        self,
        instance: str,
        paths: InstancePaths,
        *,
        redactor: SecretRedactor | None = None,
        publish: Publish | None = None,
        logs: LogBuffer | None = None,
    ) -> None:
        self.instance = instance
        self.paths = paths
        self._redactor = redactor
        self._publish: Publish = publish or (lambda topic, data: None)
        self.store = ConfigStore(paths)
        self.saved_config: StationConfig = self.store.load()
        self.config: StationConfig = effective(self.saved_config, os.environ)
        self.status = StatusModel(WorkerStatus(instance, os.getpid(), __version__))
        self.db = ThreadPoolExecutor(max_workers=2, thread_name_prefix="queue")
        # Observed: IPC clients get a `queue` event after every change (queue_events.py).
        self.queue = ObservedQueue.open(paths.queue_db)
        # Every HTTP exchange with the WATS server runs on this thread's own loop.
        self.http = HttpThread()
        self._client: ThreadedClient | None = None
        self._client_key: tuple[Any, ...] | None = None
        self.uploader = Uploader(
            self.queue,
            _NoServer(),
            concurrency=self.config.uploads.concurrency,
            backoff=_backoff_of(self.config),
            executor=self.db,
        )
        self.monitor = ServerMonitor(
            self.status,
            lambda: self.client,
            station_name=lambda: self.config.station.name,
            registration=self._registration_due,
            on_registered=self._registered,
            ping_s=lambda: float(self.config.timers.ping_s),
            client_update_s=lambda: float(self.config.timers.client_update_s),
            on_processes=self._processes_fetched,
        )
        self._stop_requested = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Future[Any]] = set()
        self.pool = ConversionPool(
            size=CONVERSION_PROCESSES,
            timeout_s=float(self.config.pipeline.convert_timeout_s),
            plugin_dirs=[paths.plugin_dir],
        )
        self.pipeline = Pipeline(
            QueueStore(self.queue),
            self.pool,
            station_name=self.config.station.name,
            callbacks=PipelineCallbacks(
                on_reports_queued=self._reports_queued,
                on_file_done=self._file_done,
                on_file_failed=self._file_failed,
                on_alarm=self._pipeline_alarm,
                on_alarm_cleared=self._pipeline_alarm_cleared,
                on_state_change=self._pipeline_changed,
            ),
            settle_ms=self.config.pipeline.settle_ms,
            rescan_s=float(self.config.timers.rescan_s),
            db_executor=self.db,
        )
        # Yield figures and alarms over the queue's header rows (app/service/yield_service.py).
        self.yield_service = YieldService(
            paths.queue_db,
            self.status,
            self._publish,
            lambda: self.config.yield_settings,
            queue=self.queue if isinstance(self.queue, ObservedQueue) else None,
        )
        self.processes = ProcessCache(paths.data_dir)
        self.pipeline.process_codes = self.processes.load()
        self.uploader.on_change(self._uploader_changed)
        self.status.on_change(self._status_changed)
        self._status_pending = False
        self._last_alarms: set[tuple[str, str]] = set()
        if logs is not None:
            logs.on_record(self._publish_log)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self.status.update(worker_state="starting")
        self._apply_server_config()
        await self.uploader.start()
        await self.pipeline.start(self.config.converters, station=self.config)
        self.monitor.start()
        self.yield_service.start()
        self._tasks.append(asyncio.ensure_future(self._prune_loop()))
        await self.count_queue()
        self.status.update(worker_state="running")
        log.info("worker %s started (instance %s, pid %d)", __version__, self.instance, os.getpid())

    def request_stop(self, reason: str = "request") -> None:
        if not self._stop_requested.is_set():
            log.info("stop requested (%s)", reason)
            self._stop_requested.set()

    async def wait_stopped(self) -> None:
        await self._stop_requested.wait()

    async def stop(self) -> None:
        self.status.update(worker_state="stopping")
        # Stop taking new files first; files not yet committed stay where they are.
        await self.pipeline.stop()
        await self.monitor.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.uploader.stop(STOP_GRACE_S)
        await self.pool.close()
        await self.yield_service.aclose()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self.http.close()
        self.db.shutdown(wait=True)
        self.queue.close()
        self.status.update(worker_state="stopped")
        log.info("worker stopped")

    def _spawn(self, coro: Any) -> None:
        """Run a fire-and-forget coroutine, keeping a reference until it is done."""
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ------------------------------------------------------------------ config

    def reload_config(self) -> bool:
        """Re-read config.json and apply what changed; True when something changed."""
        saved = self.store.load()
        new = effective(saved, os.environ)
        if new == self.config and saved == self.saved_config:
            # The token lives outside config.json (keyring or secrets file): check it anyway.
            self._apply_server_config()
            return False
        old = self.config
        self.saved_config, self.config = saved, new
        log.info("configuration changed: applying")
        if new.uploads.concurrency != old.uploads.concurrency:
            self.uploader.set_concurrency(new.uploads.concurrency)
        if (new.uploads.backoff_base_s, new.uploads.backoff_cap_s) != (
            old.uploads.backoff_base_s,
            old.uploads.backoff_cap_s,
        ):
            self.uploader.set_backoff(_backoff_of(new))
        self.pool.timeout_s = float(new.pipeline.convert_timeout_s)
        self.pipeline.apply_config(new.converters, station=new)
        self._apply_server_config()
        return True

    def _apply_server_config(self) -> None:
        """Build a new client when the URL, token, proxy or TLS settings changed."""
        cfg = self.config
        token = self._credentials(cfg)
        key = (
            cfg.server.url,
            token,
            cfg.server.proxy,
            cfg.server.verify_tls,
            cfg.server.ca_bundle,
            cfg.uploads.connect_timeout_s,
            cfg.uploads.post_timeout_s,
        )
        paused_by_user = cfg.uploads.paused
        if key != self._client_key:
            old = self._client
            self._client_key = key
            self._client = None
            if cfg.server.url:
                from app.wats import WatsClient

                verify: bool | str = cfg.server.verify_tls
                if verify and cfg.server.ca_bundle:
                    verify = str(cfg.server.ca_bundle)
                client = WatsClient(
                    cfg.server.url,
                    token,
                    proxy=cfg.server.proxy,
                    verify=verify,
                    connect_timeout=cfg.uploads.connect_timeout_s,
                    post_timeout=cfg.uploads.post_timeout_s,
                    user_agent=f"wats-station/{__version__}",
                )
                self._client = ThreadedClient(client, self.http)
                self.uploader.set_client(self._client)
                self.status.update(
                    server_url=cfg.server.url, server_state="unknown", server_version=None
                )
                self.status.clear_alarm("auth_failed")
                self.monitor.poke()
            else:
                self.status.update(server_url=None, server_state="not_configured")
            if old is not None:
                self._spawn(old.aclose())
        if self._client is None or paused_by_user:
            self.uploader.pause()
        else:
            self.uploader.resume()

    @property
    def client(self) -> WatsClient | None:
        """The current WATS server client (its coroutines run on the HTTP thread and are
        awaited from the main loop like the client's own); None while no server is set."""
        return cast("WatsClient | None", self._client)

    def credentials_changed(self) -> None:
        """The token was stored or cleared (token.set): use it from now on."""
        self._apply_server_config()

    def _credentials(self, cfg: StationConfig) -> str | None:
        try:
            secret: str | None = None
            if cfg.server.registration.enabled:
                secret = get_secret(self.paths, cfg, CLIENT_CREDENTIALS)
            secret = secret or get_token(self.paths, cfg)
            if self._redactor is not None:
                self._redactor.add(secret)
            return secret
        except Exception as exc:  # keyring missing: say so, keep converting and queueing
            self.status.raise_alarm("auth_failed", f"cannot read the server token: {exc}")
            return None

    def _registration_due(self) -> bool:
        cfg = self.config
        if not cfg.server.registration.enabled:
            return False
        try:
            return not get_secret(self.paths, cfg, CLIENT_CREDENTIALS)
        except Exception:
            return False

    def _registered(self, mac: str, passcode: str) -> None:
        from app.wats import basic_token

        set_secret(self.paths, self.config, CLIENT_CREDENTIALS, basic_token(mac, passcode))
        self._client_key = None  # rebuild the client with the new credentials
        self._apply_server_config()

    def _processes_fetched(self, processes: list[Any]) -> None:
        codes = codes_by_name(processes)
        if codes and codes != self.pipeline.process_codes:
            self.pipeline.process_codes = codes
            try:
                self.processes.save(codes)
            except OSError as exc:
                log.warning("could not save the server's process list: %s", exc)
            log.info("the server knows %d process names", len(codes))

    # ------------------------------------------------------------------ pipeline hooks

    def _reports_queued(self, count: int) -> None:
        self.uploader.notify_new_reports()

    def _file_done(self, path: Path, report_ids: list[str]) -> None:
        self._publish(
            "file",
            {
                "path": str(path),
                "outcome": "done",
                "report_ids": report_ids,
                "converter": self._converter_of(path),
            },
        )

    def _file_failed(self, path: Path, reason: str) -> None:
        self._publish(
            "file",
            {
                "path": str(path),
                "outcome": "failed",
                "reason": reason,
                "converter": self._converter_of(path),
            },
        )

    def _converter_of(self, path: Path) -> str | None:
        for conv in self.config.converters:
            if path.is_relative_to(conv.watch_folder):
                return conv.name
        return None

    def _pipeline_alarm(self, kind: str, message: str, subject: str) -> None:
        self.status.raise_alarm(kind, message, subject)

    def _pipeline_alarm_cleared(self, kind: str, subject: str) -> None:
        self.status.clear_alarm(kind, subject)

    def _pipeline_changed(self) -> None:
        self.status.set_converters(self.pipeline.stats())

    def status_now(self) -> dict[str, Any]:
        """The status as of this moment, for a status request: the pipeline pushes its
        converter counts at most every 0.1 s, so take them now rather than show a file as
        uploaded but not yet counted."""
        self._pipeline_changed()
        return self.status.snapshot()

    # ------------------------------------------------------------------ status

    def _publish_log(self, entry: dict[str, Any]) -> None:
        self._publish("log", entry)

    def _status_changed(self) -> None:
        """Push the status to subscribers; alarms also go out as their own events."""
        alarms = {(a.kind, a.subject) for a in self.status.current.alarms}
        for alarm in self.status.current.alarms:
            if (alarm.kind, alarm.subject) not in self._last_alarms:
                self._publish(
                    "alarm",
                    {
                        "raised": True,
                        "kind": alarm.kind,
                        "subject": alarm.subject,
                        "message": alarm.message,
                    },
                )
        for kind, subject in self._last_alarms - alarms:
            self._publish("alarm", {"raised": False, "kind": kind, "subject": subject})
        self._last_alarms = alarms
        if self._status_pending:
            return
        self._status_pending = True

        def _send() -> None:
            self._status_pending = False
            self._publish("status", self.status.snapshot())

        # Coalesce a burst of changes into one event (well inside the 100 ms budget).
        asyncio.get_running_loop().call_later(0.02, _send)

    def _uploader_changed(self, st: UploaderStatus) -> None:
        state = str(st.state.value if hasattr(st.state, "value") else st.state)
        fields: dict[str, Any] = {"uploads": state, "uploaded_session": st.uploaded}
        if state == "auth_failed":
            fields["server_state"] = "auth_failed"
            self.status.raise_alarm(
                "auth_failed",
                "the server refused the token: uploads are paused until a valid token is set",
            )
        elif self.status.has_alarm("auth_failed") and state != "auth_failed":
            self.status.clear_alarm("auth_failed")
        if st.last_error:
            fields["last_error"] = st.last_error
        self.status.update(**fields)

    async def count_queue(self) -> None:
        """Count the queue once (at start). After that every change reaches
        `queue_counts_changed` through the queue's change events (app.service.queue_events)."""
        counts = await asyncio.get_running_loop().run_in_executor(self.db, self.queue.counts)
        self.queue_counts_changed(counts)

    def queue_counts_changed(self, counts: dict[str, int]) -> None:
        """Fresh queue counts: show them, and raise or clear the rejected-reports alarm."""
        self.status.set_queue_counts(counts)
        rejected = counts.get("rejected", 0)
        if rejected:
            self.status.raise_alarm(
                "reports_rejected",
                f"{rejected} report(s) rejected by the server: see the queue, fix and resubmit",
            )
        else:
            self.status.clear_alarm("reports_rejected")

    # ------------------------------------------------------------------ timers

    async def _prune_loop(self) -> None:
        while True:
            days = self.config.pipeline.keep_uploaded_days
            cutoff = time.time() - days * 86400
            pruned = await asyncio.get_running_loop().run_in_executor(
                self.db, self.queue.prune, cutoff
            )
            if pruned:
                log.info(
                    "pruned the payload of %d uploaded report(s) older than %d days", pruned, days
                )
            await asyncio.sleep(PRUNE_EVERY_S)
