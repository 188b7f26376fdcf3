"""Renders one real answer as the chat shows it, to docs/answer.png (manual; needs Chromium).

    python scripts/answer_picture.py ["question"] [--out docs/answer.png]

The message body is exactly what `bot.render.render_answer` sends to Telegram; only the bubble
around it (and the Sources/More buttons) is drawn here. Install Chromium with
`apt-get install -y chromium` first.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><style>
body {{ margin: 0; background: #9cbf8f; width: 560px;
       font: 15px/1.38 -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; }}
.chat {{ padding: 18px 14px; display: flex; flex-direction: column; gap: 8px; }}
.q {{ align-self: flex-end; background: #effdde; border-radius: 14px 14px 4px 14px; padding: 7px 11px;
      max-width: 75%; box-shadow: 0 1px 1px rgba(0,0,0,.15); }}
.a {{ align-self: flex-start; background: #fff; border-radius: 14px 14px 14px 4px; padding: 7px 11px 6px;
      max-width: 90%; box-shadow: 0 1px 1px rgba(0,0,0,.15); }}
.quote {{ border-left: 3px solid #3a95d5; background: #eaf4fb; border-radius: 4px; padding: 2px 8px;
          margin-bottom: 5px; color: #3a95d5; font-size: 13.5px; }}
.quote span {{ color: #222; display: block; }}
.body {{ white-space: pre-wrap; word-wrap: break-word; color: #111; }}
.body a {{ color: #2481cc; text-decoration: none; }}
.body blockquote {{ margin: 2px 0; padding: 2px 8px; border-left: 3px solid #3a95d5;
                    background: #eaf4fb; border-radius: 4px; white-space: pre-wrap; }}
.meta {{ text-align: right; color: #8a9a8a; font-size: 12px; }}
.keys {{ display: flex; gap: 4px; max-width: 90%; width: 480px; }}
.keys div {{ flex: 1; text-align: center; background: rgba(40,70,50,.35); color: #fff; border-radius: 8px;
             padding: 8px; font-weight: 500; }}
</style></head><body><div class="chat">
<div class="q">{question}<div class="meta">12:01</div></div>
<div class="a"><div class="quote">You<span>{question}</span></div><div class="body">{body}</div>
<div class="meta">12:01</div></div>
<div class="keys"><div>Sources</div><div>More</div></div>
</div></body></html>"""


def crop_background(path: Path) -> None:
    """Cuts the empty wallpaper below the last bubble (the window is taller than the chat)."""
    from PIL import Image, ImageChops

    image = Image.open(path).convert("RGB")
    bottom = image.crop((0, image.height - 1, image.width, image.height)).resize(image.size)
    box = ImageChops.difference(image, bottom).point(lambda v: 255 if v > 24 else 0).getbbox()
    if box is not None:
        image.crop((0, 0, image.width, min(image.height, box[3] + 16))).save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("question", nargs="?", default="when does Scholz visit Kyiv?")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "answer.png")
    args = parser.parse_args()

    from newsbot.bot.render import render_answer, split_html
    from newsbot.cli.common import open_retriever, settings_from

    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        sys.exit("Chromium not found; install it (apt-get install -y chromium) and run again")
    settings = settings_from()
    answer = open_retriever(settings, quiet=True).answer(args.question)
    body = split_html(render_answer(answer))[0]  # the first message, exactly as sent
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "answer.html"
        # Telegram draws a blockquote as a block that ends its line; a browser adds the newline again.
        shown = body.replace("</blockquote>\n", "</blockquote>")
        page.write_text(PAGE.format(question=escape(args.question), body=shown), encoding="utf-8")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
                f"--user-data-dir={tmp}/profile",
                "--hide-scrollbars",
                "--window-size=560,1400",
                f"--screenshot={args.out.resolve()}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    crop_background(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
