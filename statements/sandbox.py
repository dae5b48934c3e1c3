"""Checking a PDF that someone uploaded, in a process of its own with hard limits.

pyHanko reads whatever a file holds, and a small file can cost it minutes: a 91 KB PDF with
10,000 form fields in object streams took 170 s of CPU. A web worker must not be the one paying,
so `verify_untrusted` forks a child process that checks the file with `pdf.verify_pdf` under
RLIMIT_CPU (VERIFY_CPU_SECONDS of CPU) and RLIMIT_AS (VERIFY_MEMORY_MB of memory beyond what the
worker had mapped), and kills it when it has not answered within VERIFY_TIMEOUT_SECONDS. A file
that reaches a limit is `TooComplex`; the worker is free again at the latest after the timeout.

Forked, not started afresh: a new interpreter takes about two seconds to import Django, pyHanko
and WeasyPrint, most of the time a check may take. The child touches no database connection,
reads no key (the parent passes the trust roots) and leaves with `os._exit` (multiprocessing's),
so nothing the worker holds is closed or flushed twice; it answers through a pipe, in JSON.
"""

import json
import logging
import multiprocessing
import resource
from dataclasses import asdict, fields
from datetime import datetime

from django.conf import settings

from . import pdf

log = logging.getLogger(__name__)


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
        if not receiving.poll(settings.VERIFY_TIMEOUT_SECONDS):
            log.info("verify_untrusted: %s not checked within %s s", pdf.sha256(pdf_bytes), settings.VERIFY_TIMEOUT_SECONDS)
            raise TooComplex
        answer = json.loads(receiving.recv_bytes())
    except EOFError:  # ended without an answer: past its CPU time (SIGXCPU)
        log.info("verify_untrusted: %s reached the CPU limit", pdf.sha256(pdf_bytes))
        raise TooComplex from None
    finally:
        child.kill()
        child.join()
        receiving.close()
    if answer is None:
        log.info("verify_untrusted: %s reached the memory limit", pdf.sha256(pdf_bytes))
        raise TooComplex
    return _loaded(answer)


def _check(sending, pdf_bytes: bytes, roots, cpu_seconds: int, memory_mb: int) -> None:
    """The child: limits first, then the check; its answer (None: out of memory) on the pipe."""
    _limit(cpu_seconds, memory_mb)
    try:
        answer = _dumped(pdf.verify_pdf(pdf_bytes, roots=roots))
    except MemoryError:
        answer = None
    sending.send_bytes(json.dumps(answer).encode())


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
    sends SIGXCPU, which ends the process."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(used.ru_utime + used.ru_stime) + cpu_seconds
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    with open("/proc/self/statm") as statm:
        mapped = int(statm.read().split()[0]) * resource.getpagesize()
    memory = mapped + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
