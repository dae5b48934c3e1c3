"""`make run`: the whole system on one machine, in one console.

Migrates the database, loads the demo data (safe to repeat), then starts the Procfile's web server,
Celery worker and beat with honcho; one Ctrl-C stops all three. Nothing else needs to run: unless
CELERY_BROKER_URL says otherwise (redis://...), tasks go through kombu's filesystem transport in
var/broker/, and the web and the worker share a cache in var/cache/.

    python scripts/run.py [HOST] [--no-demo]

HOST (the argument, else the environment, else 127.0.0.1:8000) is where runserver listens, as it
takes it: `8080`, `0.0.0.0:8080`, `[::1]:8000`, `example.org:8000`. SITE_URL (the address in emails
and in the PDF's QR code) follows it unless set: a wildcard address becomes the loopback one.
`--no-demo` leaves the demo data out.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_HOST = "127.0.0.1:8000"
DEFAULT_PORT = "8000"
# runserver listens on every address for these; a link needs one that answers.
WILDCARDS = {"0.0.0.0": "127.0.0.1", "[::]": "[::1]"}  # noqa: S104 (mapped away, not bound)
# What settings.ALLOWED_HOSTS allows when unset; another host named in HOST is added to it.
DEFAULT_ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]


def split_host(host: str) -> tuple[str, str]:
    """(address, port) of runserver's `addrport`, IPv6 addresses in brackets."""
    host = host.strip()
    if host.isdigit():
        return "127.0.0.1", host
    if host.startswith("["):
        address, _, rest = host.partition("]")
        return address + "]", rest.lstrip(":") or DEFAULT_PORT
    if host.count(":") > 1:  # a bare IPv6 address, without a port
        return f"[{host}]", DEFAULT_PORT
    address, _, port = host.partition(":")
    return address or "127.0.0.1", port or DEFAULT_PORT


def site_url(host: str) -> str:
    """The address people are sent to for a server listening on `host`."""
    address, port = split_host(host)
    return f"http://{WILDCARDS.get(address, address)}:{port}"


def environment(host: str, environ: dict[str, str]) -> dict[str, str]:
    """The environment of every process `make run` starts; what the caller set wins."""
    env = dict(environ)
    env["HOST"] = host
    env["SITE_URL"] = env.get("SITE_URL") or site_url(host)
    env["CELERY_BROKER_URL"] = env.get("CELERY_BROKER_URL") or "filesystem://"
    address = split_host(host)[0]
    if not env.get("ALLOWED_HOSTS") and address not in DEFAULT_ALLOWED_HOSTS + list(WILDCARDS):
        env["ALLOWED_HOSTS"] = ",".join(DEFAULT_ALLOWED_HOSTS + [address])
    # Lines reach honcho through pipes: unbuffered, each shows when it is written (emails too).
    env["PYTHONUNBUFFERED"] = "1"
    # The Procfile names `python` and `celery`: this virtualenv's.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def main(argv: list[str]) -> None:
    args = [arg for arg in argv if not arg.startswith("--")]
    host = (args[0] if args else "") or os.environ.get("HOST") or DEFAULT_HOST
    env = environment(host, dict(os.environ))
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], env=env, cwd=ROOT, check=True)
    if "--no-demo" not in argv:
        subprocess.run([*manage, "seed_demo"], env=env, cwd=ROOT, check=True)
    print(f"Starting web ({env['SITE_URL']}), worker and beat; broker {env['CELERY_BROKER_URL']}. "
          "Ctrl-C stops all three.", flush=True)
    honcho = str(Path(sys.executable).parent / "honcho")
    os.chdir(ROOT)
    os.execve(honcho, [honcho, "--procfile", str(ROOT / "Procfile"), "--app-root", str(ROOT), "start"], env)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)
    except KeyboardInterrupt:
        sys.exit(130)
