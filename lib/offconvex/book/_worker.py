"""Executes one notebook in a fresh process (so its kernel's peak memory can be measured).

Usage (by the runner only): python -m offconvex.book._worker SPEC.json
Prints a JSON result line: {"ok", "seconds", "peak_memory_mb", "error"}.
"""

import json
import resource
import sys
import time
from pathlib import Path


def execute(spec: dict) -> dict:
    import jupytext
    import papermill
    from papermill.exceptions import PapermillExecutionError

    staging = Path(spec["staging"])
    source = jupytext.read(spec["notebook"])
    source.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    unexecuted = staging / "input.ipynb"
    jupytext.write(source, unexecuted, fmt="ipynb")
    started = time.perf_counter()
    error = None
    try:
        papermill.execute_notebook(
            str(unexecuted), str(staging / "executed.ipynb"), parameters=spec["parameters"],
            kernel_name="python3", progress_bar=False, cwd=spec["cwd"],
            execution_timeout=spec["timeout"], log_output=False,
        )
    except PapermillExecutionError as failure:
        evalue = " ".join(str(failure.evalue).split())[:300]
        error = f"cell {failure.cell_index} (execution count {failure.exec_count}): {failure.ename}: {evalue}"
    except Exception as failure:  # kernel died, timeout, ...: still one line for the progress report
        error = f"{type(failure).__name__}: {' '.join(str(failure).split())[:300]}"
    unexecuted.unlink(missing_ok=True)
    return {
        "ok": error is None,
        "seconds": round(time.perf_counter() - started, 2),
        # The kernel is this process's child; ru_maxrss is in KiB on Linux.
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        "error": error,
    }


if __name__ == "__main__":
    result = execute(json.loads(Path(sys.argv[1]).read_text()))
    print("OFFCONVEX-RESULT " + json.dumps(result))
