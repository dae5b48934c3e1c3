"""A real SMTP server on loopback (aiosmtpd) for tests and benchmarks: it records every message it
accepts, and can be told to refuse for a while or to hold a message in flight."""

import asyncio
import logging
import threading
import time
from collections import Counter
from email import message_from_bytes, policy
from email.parser import BytesHeaderParser
from email.message import EmailMessage

from aiosmtpd.smtp import SMTP

# aiosmtpd logs every connection and command at INFO; only problems are worth reading here.
logging.getLogger("mail.log").setLevel(logging.WARNING)


class RecordingHandler:
    def __init__(self):
        self.received: list[bytes] = []  # parsed only when read, so accepting a message stays cheap
        self.connections = 0
        self.refused = 0
        self._refuse_next = 0
        self._refusal = ""
        self._delay = 0.0
        self._hold_at: int | None = None
        self.holding = threading.Event()
        self._release = threading.Event()
        self._changed = threading.Condition()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self._refuse_next > 0:
            self._refuse_next -= 1
            self.refused += 1
            return self._refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self._changed:
            self.received.append(envelope.original_content or envelope.content)
            count = len(self.received)
            self._changed.notify_all()
        if self._delay:
            await asyncio.sleep(self._delay)
        if self._hold_at is not None and count == self._hold_at:
            # The message is here, but its sender has no answer yet: it is in flight.
            self.holding.set()
            while not self._release.is_set():
                await asyncio.sleep(0.02)
        return "250 2.0.0 Message accepted for delivery"


class _CountingSMTP(SMTP):
    def connection_made(self, transport):
        self.event_handler.connections += 1
        super().connection_made(transport)


class LoopbackSMTP:
    """`with LoopbackSMTP() as smtp:` serves on 127.0.0.1:`smtp.port` until the block ends."""

    def __init__(self):
        self.handler = RecordingHandler()
        self.host = "127.0.0.1"
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # Control ---------------------------------------------------------------------------------

    def refuse_next(self, count: int, reply: str = "451 4.3.0 Mail server busy, try again later") -> None:
        """Refuse the next `count` recipients with `reply` (by default a temporary refusal)."""
        self.handler._refusal = reply
        self.handler._refuse_next = count

    def slow_down(self, seconds: float) -> None:
        """Take this long to accept each message."""
        self.handler._delay = seconds

    def hold_message(self, number: int) -> None:
        """Keep the `number`-th message received (counting from 1) unanswered until `release()`."""
        self.handler._hold_at = number

    def release(self) -> None:
        self.handler._release.set()

    # Reading ---------------------------------------------------------------------------------

    @property
    def messages(self) -> list[EmailMessage]:
        with self.handler._changed:
            received = list(self.handler.received)
        return [message_from_bytes(raw, policy=policy.default) for raw in received]

    @property
    def count(self) -> int:
        return len(self.handler.received)

    def message_id_counts(self) -> Counter:
        with self.handler._changed:
            received = list(self.handler.received)
        return Counter(BytesHeaderParser(policy=policy.default).parsebytes(raw)["Message-ID"] for raw in received)

    def wait_for(self, count: int, timeout: float) -> list[EmailMessage]:
        """Wait until at least `count` messages arrived (or the timeout passed); return them all."""
        deadline = time.monotonic() + timeout
        with self.handler._changed:
            while len(self.handler.received) < count and time.monotonic() < deadline:
                self.handler._changed.wait(min(0.5, max(deadline - time.monotonic(), 0.01)))
        return self.messages

    def env(self) -> dict:
        """Settings for a worker process to send here."""
        return {"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "EMAIL_HOST": self.host, "EMAIL_PORT": str(self.port)}

    # Running ---------------------------------------------------------------------------------

    def start(self) -> "LoopbackSMTP":
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve():
            loop = self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                server = loop.run_until_complete(loop.create_server(
                    lambda: _CountingSMTP(self.handler, hostname="loopback.test", loop=loop), self.host, 0))
            except BaseException as exc:  # noqa: BLE001  (reported to the starting thread)
                failure.append(exc)
                ready.set()
                return
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            server.close()
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()

        self._thread = threading.Thread(target=serve, name="loopback-smtp", daemon=True)
        self._thread.start()
        if not ready.wait(10) or failure:
            raise RuntimeError(f"The loopback SMTP server did not start: {failure}")
        return self

    def stop(self) -> None:
        self.release()
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> "LoopbackSMTP":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
