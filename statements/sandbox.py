"""Checking a PDF that someone uploaded, in a process of its own with hard limits.

pyHanko reads whatever a file holds, and a small file can cost it minutes: a 91 KB PDF with
10,000 form fields in object streams took 170 s of CPU. A web worker must not be the one paying,
so `verify_untrusted` forks a child process that checks the file with `pdf.verify_pdf` under
RLIMIT_CPU (VERIFY_CPU_SECONDS of CPU), and kills it when it has not answered within
VERIFY_TIMEOUT_SECONDS or when it holds more than VERIFY_MEMORY_MB of memory of its own beyond
what it held when it began. A file that reaches a limit is `TooComplex`; the worker is free again
at the latest after the timeout.

Memory is watched, not only limited. The child's own memory (its private pages in
/proc/PID/smaps_rollup: those it wrote or allocated since the fork) is read every
WATCH_SECONDS. An address-space limit (RLIMIT_AS) alone is not enough: memory the worker freed but
kept (Python keeps its partly used arenas) is already mapped, so a child under such a limit could
use all of it as well as the allowance, more the longer the worker had run. RLIMIT_AS stays as the
backstop for what a child allocates between two readings. The child freezes the collector first
(`gc.freeze`): a full collection would otherwise write to every object the worker holds, copying
its pages (50 MB in a test process) and counting them against the check.

Forked, not started afresh: a new interpreter takes about two seconds to import Django, pyHanko
and WeasyPrint, most of the time a check may take. The child touches no database connection,
reads no key (the parent passes the trust roots) and leaves with `os._exit` (multiprocessing's),
so nothing the worker holds is closed or flushed twice; it answers through a pipe, in JSON.
"""

import gc
import json
import logging
import multiprocessing
import os
import resource
import time
from dataclasses import asdict, fields
from datetime import datetime

from django.conf import settings

from . import pdf

log = logging.getLogger(__name__)

WATCH_SECONDS = 0.05  # how often the worker reads the child's memory (a reading costs 1-10 ms)


class TooComplex(Exception):
    """The file needs more time or memory to check than a check here may take."""


def verify_untrusted(pdf_bytes: bytes) -> pdf.Verification:
    """`pdf.verify_pdf` of a file from outside, in a child process with CPU, memory and
    wall-clock limits. Raises `TooComplex` when a limit is reached."""
    roots = pdf.verification_roots()
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=_check, daemon=True, args=(
        sending, pdf_bytes, roots, settings.VERIFY_CPU_SECONDS, settings.VERIFY_MEMORY_MB))
    child.start()
    sending.close()
    try:
        answer = _watch(child.pid, receiving, settings.VERIFY_MEMORY_MB * 1024 * 1024)
    except TooComplex as limit:
        log.info("verify_untrusted: %s reached the %s limit", pdf.sha256(pdf_bytes), limit)
        raise
    except EOFError:  # ended without an answer: past its CPU time (SIGXCPU) or its address space
        log.info("verify_untrusted: %s ended without an answer (CPU or address space)", pdf.sha256(pdf_bytes))
        raise TooComplex("CPU or address-space") from None
    finally:
        child.kill()
        child.join()
        receiving.close()
    if answer is None:
        log.info("verify_untrusted: %s reached the address-space limit", pdf.sha256(pdf_bytes))
        raise TooComplex("memory")
    return _loaded(answer)


def _watch(pid: int, receiving, allowance: int):
    """The child's answer, waited for until VERIFY_TIMEOUT_SECONDS. The child first sends the
    private memory it began with; past that plus `allowance` it is `TooComplex`."""
    deadline = time.monotonic() + settings.VERIFY_TIMEOUT_SECONDS
    began = None
    while (left := deadline - time.monotonic()) > 0:
        if receiving.poll(min(WATCH_SECONDS, left)):
            message = json.loads(receiving.recv_bytes())
            if "began" not in message:
                return message["answer"]
            began = message["began"]
        elif began is not None and private_bytes(pid) - began > allowance:
            raise TooComplex("memory")
    raise TooComplex("time")


def private_bytes(pid: int | str) -> int:
    """Memory that is the process's own: pages it does not share with the worker or anyone else.
    0 where /proc cannot tell (not Linux, or the process has ended)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            return 1024 * sum(int(line.split()[1]) for line in rollup
                              if line.startswith(("Private_Clean:", "Private_Dirty:")))
    except OSError:
        return 0


def _check(sending, pdf_bytes: bytes, roots, cpu_seconds: int, memory_mb: int) -> None:
    """The child: limits first, then what it holds, then the check; its answer (None: out of
    address space) on the pipe."""
    gc.freeze()
    _limit(cpu_seconds, memory_mb)
    sending.send_bytes(json.dumps({"began": private_bytes(os.getpid())}).encode())
    try:
        answer = _dumped(pdf.verify_pdf(pdf_bytes, roots=roots))
    except MemoryError:
        answer = None
    sending.send_bytes(json.dumps({"answer": answer}).encode())


def _dumped(verification: pdf.Verification) -> dict:
    return {key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in asdict(verification).items()}


def _loaded(data: dict) -> pdf.Verification:
    dates = {field.name for field in fields(pdf.Verification) if "datetime" in str(field.type)}
    return pdf.Verification(**{
        key: datetime.fromisoformat(value) if key in dates and value else value for key, value in data.items()
    })


def _limit(cpu_seconds: int, memory_mb: int) -> None:
    """CPU time and address space: what this process has used (CPU) or mapped (the worker's
    memory, shared until written) so far, plus the allowance. Past the soft CPU limit the kernel
    sends SIGXCPU, which ends the process. The address space is the backstop: memory the worker
    freed but kept is mapped already, so the watch in `_watch` is what holds the allowance."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(used.ru_utime + used.ru_stime) + cpu_seconds
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    with open("/proc/self/statm") as statm:
        mapped = int(statm.read().split()[0]) * resource.getpagesize()
    memory = mapped + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
