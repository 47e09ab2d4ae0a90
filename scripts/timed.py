"""Run a command (typically ``spacy train``) and record its wall time and energy.

The cost side of "CVT vs. BERT" includes training cost, so every training
step in the project is wrapped::

    python scripts/timed.py --output metrics/ner-cvt-train.json -- \
        python -m spacy train configs/cvt.cfg --output training/ner-cvt ...

The command's output streams live (it inherits this process's stdout and
stderr), and its exit code is propagated, so the wrapper is transparent to
``spacy project run``. The JSON is written even when the command fails, with
its ``returncode``.

Energy is measured with codecarbon's ``OfflineEmissionsTracker`` when
codecarbon is importable; it is optional (``pip install codecarbon``). The
tracker runs in "machine" mode because training happens in a child process,
which a "process"-mode tracker of this wrapper would miss. Without RAPL /
NVML access (common in containers and VMs) codecarbon falls back to
estimating power from CPU load x a default TDP and a RAM power model; such
numbers are flagged ``energy_is_estimate: true`` and explained in
``energy_note`` rather than presented as measurements.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

# CPU modes in which codecarbon reads a hardware energy counter rather than
# estimating from load and TDP.
MEASURED_CPU_MODES = {"intel_rapl", "intel_power_gadget", "windows_emi", "powermetrics"}

USAGE = (
    "usage: python scripts/timed.py --output OUT.json [--country-iso-code USA] "
    "[--no-energy] -- COMMAND [ARGS...]"
)


def parse_args(argv: List[str]) -> Tuple[Dict[str, Any], List[str]]:
    """Split ``argv`` into our options and the wrapped command.

    Everything after the first ``--`` is the command, untouched, so options of
    ``spacy train`` (``--output``, ``--gpu-id``...) can never be mistaken for
    ours. A hand-rolled parser is used because argparse/typer would try to
    interpret those options.
    """
    if "--" not in argv:
        raise ValueError("missing '--' before the command to run")
    split = argv.index("--")
    ours, command = argv[:split], argv[split + 1 :]
    if not command:
        raise ValueError("no command given after '--'")
    opts: Dict[str, Any] = {"output": None, "country_iso_code": "USA", "energy": True}
    i = 0
    while i < len(ours):
        arg = ours[i]
        if arg in ("--output", "-o", "--country-iso-code"):
            if i + 1 >= len(ours):
                raise ValueError(f"option {arg} needs a value")
            key = "output" if arg in ("--output", "-o") else "country_iso_code"
            opts[key] = ours[i + 1]
            i += 2
        elif arg.startswith("--output="):
            opts["output"] = arg.split("=", 1)[1]
            i += 1
        elif arg.startswith("--country-iso-code="):
            opts["country_iso_code"] = arg.split("=", 1)[1]
            i += 1
        elif arg == "--no-energy":
            opts["energy"] = False
            i += 1
        else:
            raise ValueError(f"unknown option {arg!r}")
    if not opts["output"]:
        raise ValueError("--output OUT.json is required")
    return opts, command


class EnergyMeter:
    """Optional codecarbon wrapper that never raises and always explains itself.

    After :meth:`stop`, ``kwh`` is a float or None, ``note`` says how the
    number was obtained or why there is none, ``is_estimate`` is True when
    codecarbon had no hardware counter, and ``details`` holds the breakdown.
    """

    def __init__(self, enabled: bool = True, country_iso_code: str = "USA") -> None:
        self.enabled = enabled
        self.country_iso_code = country_iso_code
        self.tracker: Any = None
        self.kwh: Optional[float] = None
        self.is_estimate: Optional[bool] = None
        self.details: Dict[str, Any] = {}
        self.note = "energy not measured"

    def start(self) -> None:
        if not self.enabled:
            self.note = "energy measurement disabled with --no-energy"
            return
        try:
            import codecarbon
            from codecarbon import OfflineEmissionsTracker
        except Exception as err:  # noqa: BLE001 - ImportError or a broken install
            self.note = (
                f"codecarbon is not importable ({type(err).__name__}: {err}); "
                "`pip install codecarbon` to record an energy estimate"
            )
            return
        self.details["codecarbon_version"] = getattr(codecarbon, "__version__", None)
        try:
            self.tracker = OfflineEmissionsTracker(
                country_iso_code=self.country_iso_code,
                save_to_file=False,
                log_level="error",
                tracking_mode="machine",
                project_name="spacy-cvt",
            )
            self.tracker.start()
        except Exception as err:  # noqa: BLE001 - e.g. permissions, bad country
            self.tracker = None
            self.note = f"codecarbon failed to start ({type(err).__name__}: {err})"

    def stop(self) -> None:
        if self.tracker is None:
            return
        try:
            self.tracker.stop()
            data = self.tracker.final_emissions_data
        except Exception as err:  # noqa: BLE001
            self.note = f"codecarbon failed to stop ({type(err).__name__}: {err})"
            return
        if data is None or getattr(data, "energy_consumed", None) is None:
            self.note = "codecarbon returned no energy data"
            return
        self.kwh = float(data.energy_consumed)
        cpu_modes = self._cpu_modes()
        gpu_count = int(getattr(data, "gpu_count", 0) or 0)
        self.details.update(
            {
                "cpu_energy_kwh": getattr(data, "cpu_energy", None),
                "gpu_energy_kwh": getattr(data, "gpu_energy", None),
                "ram_energy_kwh": getattr(data, "ram_energy", None),
                "emissions_kg_co2eq": getattr(data, "emissions", None),
                "country_iso_code": getattr(data, "country_iso_code", None),
                "cpu_model": getattr(data, "cpu_model", None),
                "gpu_model": getattr(data, "gpu_model", None),
                "gpu_count": gpu_count,
                "cpu_modes": cpu_modes,
                "hardware": self._hardware_descriptions(),
                "tracking_mode": "machine",
            }
        )
        cpu_measured = bool(cpu_modes) and all(m in MEASURED_CPU_MODES for m in cpu_modes)
        self.is_estimate = not cpu_measured
        version = self.details.get("codecarbon_version")
        gpu_part = (
            f"; GPU energy from NVML for {gpu_count} GPU(s)" if gpu_count else "; no GPU seen"
        )
        if cpu_measured:
            self.note = (
                f"codecarbon {version}: CPU energy measured via {', '.join(cpu_modes)}; "
                f"RAM energy estimated by codecarbon's power model{gpu_part}; "
                "whole-machine, includes other processes"
            )
        else:
            self.note = (
                f"ESTIMATE, not a measurement: codecarbon {version} found no CPU energy "
                f"counter ({rapl_status()}), so CPU power was modelled as "
                f"{'/'.join(cpu_modes) or 'unknown mode'} (CPU load x default TDP) and RAM "
                f"with a constant power model{gpu_part}; whole-machine"
            )

    def _cpu_modes(self) -> List[str]:
        """The codecarbon CPU modes in use (private API, hence defensive)."""
        modes = []
        for hw in getattr(self.tracker, "_hardware", []) or []:
            if type(hw).__name__ == "CPU":
                mode = getattr(hw, "_mode", None)
                if mode:
                    modes.append(str(mode))
        return modes

    def _hardware_descriptions(self) -> List[str]:
        try:
            return [str(hw.description()) for hw in self.tracker._hardware]
        except Exception:  # noqa: BLE001
            return []


def rapl_status() -> str:
    """Why RAPL could not be used, in words a user can act on."""
    base = Path("/sys/class/powercap")
    if not base.exists():
        return f"{base} does not exist on this machine/container"
    energy_files = list(base.glob("intel-rapl*/energy_uj"))
    if not energy_files:
        return f"no intel-rapl*/energy_uj under {base}"
    if not all(os.access(f, os.R_OK) for f in energy_files):
        return f"{energy_files[0]} is not readable (needs root or a chmod)"
    return "RAPL files exist but codecarbon did not use them"


def run_command(command: List[str]) -> Tuple[int, float, Optional[str]]:
    """Run ``command`` with inherited stdio; return (exit code, seconds, error).

    Inheriting stdout/stderr streams output live (progress bars included).
    A leading ``python`` is this interpreter. A child killed by signal N returns
    128+N, as a shell would. A command
    that cannot be started returns 127 (not found) or 126 (not executable).
    Ctrl-C is forwarded to the child by the terminal; we wait for it to exit.
    """
    if command and command[0] in ("python", "python3"):
        # as `spacy project run` does for its own commands: the interpreter running
        # this script, not whichever `python` comes first on PATH
        command = [sys.executable, *command[1:]]
    start = time.perf_counter()
    try:
        proc = subprocess.Popen(command)
    except FileNotFoundError as err:
        return 127, time.perf_counter() - start, f"command not found: {err}"
    except PermissionError as err:
        return 126, time.perf_counter() - start, f"command not executable: {err}"
    while True:
        try:
            code = proc.wait()
            break
        except KeyboardInterrupt:
            continue  # the child got SIGINT too; keep waiting for its exit code
    seconds = time.perf_counter() - start
    if code < 0:
        code = 128 + (-code)
    return code, seconds, None


def timed(
    command: List[str],
    output: Path,
    energy: bool = True,
    country_iso_code: str = "USA",
) -> Dict[str, Any]:
    """Run ``command``, write the timing/energy record to ``output``, return it."""
    meter = EnergyMeter(enabled=energy, country_iso_code=country_iso_code)
    started = _dt.datetime.now(_dt.timezone.utc)
    meter.start()
    returncode, seconds, error = run_command(command)
    meter.stop()
    finished = _dt.datetime.now(_dt.timezone.utc)
    record: Dict[str, Any] = {
        "command": command,
        "returncode": returncode,
        "error": error,
        "train_seconds": seconds,
        "started_at": started.isoformat(),
        "finished_at": finished.isoformat(),
        "energy_kwh": meter.kwh,
        "energy_is_estimate": meter.is_estimate,
        "energy_note": meter.note,
        "energy_details": meter.details,
        "host": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "python": sys.version.split()[0],
        },
    }
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf8")
    tmp.replace(output)
    return record


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-h", "--help"):
        print(USAGE)
        print(__doc__)
        return 0
    try:
        opts, command = parse_args(argv)
    except ValueError as err:
        print(f"timed.py: {err}\n{USAGE}", file=sys.stderr)
        return 2
    logging.getLogger("codecarbon").setLevel(logging.ERROR)
    record = timed(
        command,
        Path(opts["output"]),
        energy=opts["energy"],
        country_iso_code=opts["country_iso_code"],
    )
    if record["error"]:
        print(f"timed.py: {record['error']}", file=sys.stderr)
    energy = (
        f"{record['energy_kwh']:.6f} kWh" if record["energy_kwh"] is not None else "n/a"
    )
    print(
        f"timed.py: exit {record['returncode']} after {record['train_seconds']:.1f} s; "
        f"energy {energy} ({record['energy_note']}); wrote {opts['output']}",
        file=sys.stderr,
    )
    return int(record["returncode"])


if __name__ == "__main__":
    sys.exit(main())
