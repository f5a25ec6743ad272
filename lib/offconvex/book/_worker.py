"""Executes one notebook in a fresh process (so its kernel's peak memory can be measured).

Usage (by the runner only): python -m offconvex.book._worker SPEC.json
Prints a JSON result line: {"ok", "seconds", "peak_memory_mb", "error"}.
"""

import json
import resource
import signal
import sys
import time
from pathlib import Path


def source_cell(notebook: str, source, executed_index: int) -> str:
    """'cell 7 of notebooks/x.py (line 143)' for the cell ``executed_index`` of the executed notebook.

    papermill inserts its injected-parameters cell after the parameters cell, so cells after it are one
    further along than in the .py source the user edits.
    """
    tags = [cell.metadata.get("tags", []) for cell in source.cells]
    parameters = next((i for i, t in enumerate(tags) if "parameters" in t), None)
    index = executed_index - 1 if parameters is not None and executed_index > parameters else executed_index
    # jupytext percent format: every cell starts at a "# %%" line.
    starts = [number for number, line in enumerate(Path(notebook).read_text().splitlines(), 1)
              if line.startswith("# %%")]
    where = f" (line {starts[index] + 1})" if len(starts) == len(source.cells) and index < len(starts) else ""
    return f"cell {index + 1} of {Path(notebook).parent.name}/{Path(notebook).name}{where}"


def _report_progress() -> None:
    """Print 'OFFCONVEX-PROGRESS k n' as papermill starts cell k of n (the runner shows long notebooks' progress)."""
    from papermill.engines import NotebookExecutionManager

    start = NotebookExecutionManager.cell_start

    def cell_start(self, cell, cell_index=None, **kwargs):
        if cell_index is not None:
            print(f"OFFCONVEX-PROGRESS {cell_index + 1} {len(self.nb.cells)}", flush=True)
        return start(self, cell, cell_index, **kwargs)

    NotebookExecutionManager.cell_start = cell_start


def _stop_on_sigterm() -> None:
    # The runner stops a worker with SIGTERM: leave through Python so that the kernel is shut down too.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


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
            # the output is written once, at the end (also after a failure); a write after every cell
            # re-serialized the whole notebook, figures included, each time
            request_save_on_cell_execute=False, autosave_cell_every=0,
        )
    except PapermillExecutionError as failure:
        evalue = " ".join(str(failure.evalue).split())[:300]
        error = f"{source_cell(spec['notebook'], source, failure.cell_index)}: {failure.ename}: {evalue}"
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
    _stop_on_sigterm()
    _report_progress()
    result = execute(json.loads(Path(sys.argv[1]).read_text()))
    print("OFFCONVEX-RESULT " + json.dumps(result))
