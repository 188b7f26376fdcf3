"""The two one-question benchmark scripts run and print their figures (no timing is asserted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsbot.bench import http_client, onnx_spin


@pytest.mark.timeout(120)
def test_the_http_client_bench_prints_both_clients(capsys: pytest.CaptureFixture[str]) -> None:
    http_client.main(["--requests", "20", "--runs", "1"])
    out = capsys.readouterr().out
    assert "20 sendMessage calls, 1 runs each" in out
    assert "httpx (PTB's HTTPXRequest): median" in out and "aiohttp (newsbot.bot.http): median" in out


def test_the_spin_bench_needs_an_index_with_its_onnx_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        onnx_spin.main([str(tmp_path)])
    assert exited.value.code == 2
    assert "holds no ONNX export; run `newsbot index`" in capsys.readouterr().err
