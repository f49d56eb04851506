"""docs/configs.md stays true: every config key, loss, optimizer, scheduler, metric name and synthetic kind
the CLI accepts is documented there, and every shipped config validates."""
import pathlib

import pytest

from ember import cli, metrics, models

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "configs.md").read_text()


@pytest.mark.parametrize("word", sorted(set(cli.TOP_KEYS) | set(cli.LOSSES) | set(cli.OPTIMIZERS)
                                        | set(cli.SCHEDULERS) | set(cli.EARLY_STOPPING_KEYS)
                                        | set(cli.SYNTHETIC_KINDS) | set(cli.DATASETS)
                                        | set().union(*cli.SYNTHETIC_KINDS.values()) | set(metrics._REGISTRY)
                                        | set(cli.IMAGE_OPTIONS)))
def test_documented(word):
    assert f"`{word}`" in DOC or f"`[{word}]`" in DOC, f"docs/configs.md does not mention `{word}`"


@pytest.mark.parametrize("path", sorted((ROOT / "configs").glob("*.toml")), ids=lambda p: p.stem)
def test_shipped_config_validates(path):
    cfg = cli.load_config(str(path))
    assert models.resolve(cfg["model"]["name"])
