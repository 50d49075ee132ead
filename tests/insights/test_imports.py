import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHECK = """
import sys
import django
django.setup()
import kb.urls, insights.tasks, insights.views, insights.services
heavy = sorted(m for m in ("sentence_transformers", "sklearn", "torch", "transformers")
               if m in sys.modules)
print(",".join(heavy) or "clean")
"""


def test_importing_urls_and_tasks_does_not_load_ml_libraries():
    """Web and worker processes start fast: the ML stack loads on first use only."""
    result = subprocess.run(
        [sys.executable, "-c", CHECK],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"DJANGO_SETTINGS_MODULE": "kb.settings", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "clean"
