import subprocess
import sys

CHECK = """
import importlib, pkgutil, sys
import models
for info in pkgutil.walk_packages(models.__path__, "models."):
    importlib.import_module(info.name)
bad = sorted(m for m in sys.modules if m.split(".")[0] in {"app", "fastapi", "sqlalchemy"})
print(",".join(bad))
"""


def test_models_imports_no_app_fastapi_or_sqlalchemy() -> None:
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
