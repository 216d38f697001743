"""`make bench`: run every bench/*.py script and write bench/results.md.

Each script prints its own figures and the baseline it is compared with in the same run; this
runner records the machine, each script's output, exit status and duration, verbatim.

    .venv/bin/python bench/run_all.py                 # all scripts
    .venv/bin/python bench/run_all.py pipeline_bench  # some of them
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
TIMEOUT = float(os.environ.get("YUQING_BENCH_TIMEOUT", "1800"))


def machine() -> list[str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")))
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    versions = []
    for module in ("torch", "tantivy", "scrapy", "sqlalchemy"):
        try:
            versions.append(f"{module} {__import__(module).__version__}")
        except Exception:  # not installed or no version attribute
            continue
    return [f"- 时间：{datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
            f"- CPU：{cpu}，可用核数 {cores}；内存 {mem}；开始时负载 {load}",
            f"- 系统：{platform.platform()}；Python {platform.python_version()}；{', '.join(versions)}"]


def scripts(selected: list[str]) -> list[Path]:
    found = sorted(p for p in BENCH.glob("*.py") if p.name != Path(__file__).name and not p.name.startswith("_"))
    if selected:
        wanted = {s.removesuffix(".py") for s in selected}
        unknown = wanted - {p.stem for p in found}
        if unknown:
            sys.exit(f"没有这些基准脚本：{', '.join(sorted(unknown))}（可选：{', '.join(p.stem for p in found)}）")
        found = [p for p in found if p.stem in wanted]
    return found


def run(script: Path) -> tuple[int, float, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    started = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=TIMEOUT, check=False)
        code, out = proc.returncode, proc.stdout + (("\n[stderr]\n" + proc.stderr[-3000:]) if proc.returncode else "")
    except subprocess.TimeoutExpired as exc:
        code = 124
        out = (exc.stdout or b"").decode("utf-8", "replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        out += f"\n[超过 {TIMEOUT:.0f} 秒被终止]"
    return code, time.monotonic() - started, out.strip()


def main(argv: list[str]) -> int:
    todo = scripts(argv)
    if not todo:
        print("bench/ 下没有基准脚本。")
        return 0
    lines = ["# 基准测试结果（make bench）", "",
             "由 `make bench`（`.venv/bin/python bench/run_all.py`）生成；每个脚本在同一次运行中打印其指标与对照基线。", "",
             "## 机器", *machine(), ""]
    failed = 0
    for script in todo:
        print(f"运行 {script.name} …", flush=True)
        code, seconds, out = run(script)
        failed += code != 0
        status = "成功" if code == 0 else f"失败（退出码 {code}）"
        print(out, flush=True)
        print(f"→ {script.name}：{status}，用时 {seconds:.0f} 秒\n", flush=True)
        lines += [f"## {script.stem}", "", f"命令：`.venv/bin/python bench/{script.name}` — {status}，用时 {seconds:.0f} 秒",
                  "", "```", out or "（无输出）", "```", ""]
    (BENCH / "results.md").write_text("\n".join(lines), encoding="utf-8")
    print(f"结果已写入 {BENCH / 'results.md'}" + (f"；{failed} 个脚本失败" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
