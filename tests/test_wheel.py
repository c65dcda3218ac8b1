"""The built wheel carries the built-in templates (an editable install would hide their absence)."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import textwrap
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def test_wheel_installs_in_a_fresh_venv_and_renders_every_builtin_template(tmp_path):
    dist = tmp_path / "dist"
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
    wheel = next(dist.glob("promptlab-*.whl"))

    env_dir = tmp_path / "venv"
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

    script = textwrap.dedent(
        """
        import promptlab, pathlib
        from promptlab import PromptTemplate, TemplateLibrary
        from promptlab.templating import builtin_template_dir
        assert "site-packages" in promptlab.__file__, promptlab.__file__
        assert builtin_template_dir().parent == pathlib.Path(promptlab.__file__).parent
        names = TemplateLibrary().names()
        shot = {"question": "a", "answer": "b", "rationale": "c"}
        inputs = {"question": "Q?", "examples": [shot]}
        for name in names:
            assert PromptTemplate.from_name(name).render(inputs), name
        print(",".join(names))
        """
    )
    # Run from an empty folder so the source checkout cannot be imported by accident.
    result = subprocess.run(
        [str(python), "-c", script], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    names = set(result.stdout.strip().split(","))
    assert {
        "zero_shot",
        "few_shot",
        "chain_of_thought",
        "chain_of_thought_few_shot",
        "final_answer",
    } <= names
