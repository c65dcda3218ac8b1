"""The built wheel carries what an editable install would hide the absence of: the built-in
templates, the stub that lists the public names, and the ``py.typed`` marker."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    return next(dist.glob("promptlab-*.whl"))


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding only the wheel; its Python."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    # Install only the wheel; borrow its dependencies (jinja2, pydantic...) from this venv.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
    )
    deps = sysconfig.get_paths()["purelib"]
    (site / "_borrowed_deps.pth").write_text(deps + "\n")
    return python


def run_in(python: Path, script: str, cwd: Path) -> str:
    # Run from an empty folder so the source checkout cannot be imported by accident.
    result = subprocess.run(
        [str(python), "-c", textwrap.dedent(script)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_wheel_installs_in_a_fresh_venv_and_renders_every_builtin_template(installed, tmp_path):
    script = """
        import promptlab, pathlib
        from promptlab import PromptTemplate, TemplateLibrary
        from promptlab.templating import builtin_template_dir
        assert "site-packages" in promptlab.__file__, promptlab.__file__
        assert builtin_template_dir().parent == pathlib.Path(promptlab.__file__).parent
        names = TemplateLibrary().names()
        shot = {"question": "a", "answer": "b", "rationale": "c"}
        passage = {"id": "p1", "text": "A passage."}
        inputs = {"question": "Q?", "examples": [shot], "context": [passage]}
        for name in names:
            assert PromptTemplate.from_name(name).render(inputs), name
        print(",".join(names))
        """
    names = set(run_in(installed, script, tmp_path).strip().split(","))
    assert {
        "zero_shot",
        "few_shot",
        "chain_of_thought",
        "chain_of_thought_few_shot",
        "final_answer",
        "zero_shot_context",
        "chain_of_thought_context",
    } <= names


def test_wheel_ships_the_public_name_stub_and_the_typed_marker(wheel, installed, tmp_path):
    shipped = set(zipfile.ZipFile(wheel).namelist())
    assert {"promptlab/__init__.pyi", "promptlab/py.typed", "promptlab/_version.py"} <= shipped
    assert "promptlab/_exports.py" not in shipped
    # `import promptlab` reads the stub at run time, so every name must resolve from the wheel,
    # and the wheel's metadata must carry the version the package reports.
    script = """
        import importlib.metadata, promptlab
        assert "site-packages" in promptlab.__file__, promptlab.__file__
        missing = [n for n in promptlab.__all__ if getattr(promptlab, n, None) is None]
        assert not missing, missing
        assert importlib.metadata.version("promptlab") == promptlab.__version__
        print(len(promptlab.__all__))
        """
    assert int(run_in(installed, script, tmp_path)) > 100


def test_users_mypy_sees_the_public_names_of_the_installed_wheel(installed, tmp_path):
    user = tmp_path / "user_code.py"
    user.write_text(
        textwrap.dedent(
            """
            import promptlab as pl

            strategy: int = pl.ZeroShot()
            pl.NoSuchName
            """
        )
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--no-incremental",
            "--python-executable",
            str(installed),
            user.name,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    # Without py.typed or the stub, mypy would see `Any` (or no module) and report neither.
    assert len(errors) == 2, result.stdout
    assert 'expression has type "ZeroShot", variable has type "int"' in errors[0]
    assert 'Module has no attribute "NoSuchName"' in errors[1]
