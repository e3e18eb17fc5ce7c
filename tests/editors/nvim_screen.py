"""Run Neovim with a screen: `python nvim_screen.py [--size COLSxROWS] -- nvim --embed ARGS...`.

A minimal UI client over Neovim's msgpack-RPC (`nvim_ui_attach` with ext_linegrid, floats composed onto
the one grid by Neovim): it keeps the grid and its highlights, and when the editor asks
(`vim.rpcrequest(ui_chan, 'lore_screenshot', path)`) draws the screen as it is into a PNG (Pillow, DejaVu
Sans Mono). So the real-editor test can show what a person sees: the hover float with its conceals and
highlights, as `:h nvim_ui_attach` clients draw it. Exits with Neovim's exit code.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgpack
from PIL import Image, ImageDraw, ImageFont

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_SIZE = 15


class Screen:
    def __init__(self, cols: int, rows: int) -> None:
        self.cols, self.rows = cols, rows
        self.cells: list[list[tuple[str, int]]] = [[(" ", 0)] * cols for _ in range(rows)]
        self.attrs: dict[int, dict[str, Any]] = {0: {}}
        self.fg, self.bg, self.sp = 0xE0E2EA, 0x14161B, 0xFF0000

    # -- redraw events (:h ui-linegrid) ---------------------------------------------------------------
    def redraw(self, batches: list[Any]) -> None:
        for batch in batches:
            name, *calls = batch
            handler = getattr(self, f"on_{name}", None)
            if handler is not None:
                for args in calls:
                    handler(*args)

    def on_grid_resize(self, grid: int, width: int, height: int) -> None:
        if grid == 1:
            self.cols, self.rows = width, height
            self.cells = [[(" ", 0)] * width for _ in range(height)]

    def on_default_colors_set(self, fg: int, bg: int, sp: int, *_cterm: Any) -> None:
        self.fg = fg if fg >= 0 else self.fg
        self.bg = bg if bg >= 0 else self.bg
        self.sp = sp if sp >= 0 else self.sp

    def on_hl_attr_define(self, hl_id: int, rgb: dict[str, Any], *_rest: Any) -> None:
        self.attrs[hl_id] = rgb

    def on_grid_clear(self, grid: int) -> None:
        if grid == 1:
            self.cells = [[(" ", 0)] * self.cols for _ in range(self.rows)]

    def on_grid_line(self, grid: int, row: int, col: int, cells: list[Any], *_wrap: Any) -> None:
        if grid != 1 or not 0 <= row < self.rows:
            return
        hl = 0
        line = self.cells[row]
        for cell in cells:
            text = cell[0]
            if len(cell) > 1:
                hl = cell[1]
            for _ in range(cell[2] if len(cell) > 2 else 1):
                if 0 <= col < self.cols:
                    line[col] = (text, hl)
                col += 1

    def on_grid_scroll(self, grid: int, top: int, bot: int, left: int, right: int, rows: int, _cols: int) -> None:
        if grid != 1:
            return
        order = range(top, bot - rows) if rows > 0 else range(bot - 1, top - rows - 1, -1)
        for r in order:
            self.cells[r][left:right] = self.cells[r + rows][left:right]

    # -- drawing --------------------------------------------------------------------------------------
    def png(self, path: str) -> None:
        fonts = {(b, i): ImageFont.truetype(str(FONT_DIR / name), FONT_SIZE) for (b, i), name in {
            (False, False): "DejaVuSansMono.ttf", (True, False): "DejaVuSansMono-Bold.ttf",
            (False, True): "DejaVuSansMono-Oblique.ttf", (True, True): "DejaVuSansMono-BoldOblique.ttf"}.items()}
        regular = fonts[(False, False)]
        cw = int(round(regular.getlength("M")))
        ascent, descent = regular.getmetrics()
        ch = ascent + descent + 2
        img = Image.new("RGB", (self.cols * cw, self.rows * ch), _rgb(self.bg))
        draw = ImageDraw.Draw(img)
        for r, line in enumerate(self.cells):
            for c, (text, hl) in enumerate(line):
                a = self.attrs.get(hl, {})
                fg, bg = a.get("foreground", self.fg), a.get("background", self.bg)
                if a.get("reverse"):
                    fg, bg = bg, fg
                x, y = c * cw, r * ch
                if bg != self.bg:
                    draw.rectangle([x, y, x + cw - 1, y + ch - 1], fill=_rgb(bg))
                if text.strip():
                    draw.text((x, y + 1), text, font=fonts[(bool(a.get("bold")), bool(a.get("italic")))], fill=_rgb(fg))
                if a.get("underline") or a.get("undercurl"):
                    color = _rgb(a.get("special", fg if a.get("underline") else self.sp))
                    draw.line([x, y + ch - 2, x + cw - 1, y + ch - 2], fill=color)
                if a.get("strikethrough"):
                    draw.line([x, y + ch // 2, x + cw - 1, y + ch // 2], fill=_rgb(fg))
        img.save(path)


def _rgb(value: int) -> tuple[int, int, int]:
    return (value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="140x40")
    parser.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    cols, rows = (int(x) for x in args.size.split("x"))
    screen = Screen(cols, rows)
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    packer = msgpack.Packer(use_bin_type=True)

    def send(msg: list[Any]) -> None:
        assert proc.stdin is not None
        proc.stdin.write(packer.pack(msg))
        proc.stdin.flush()

    send([0, 1, "nvim_ui_attach", [cols, rows, {"rgb": True, "ext_linegrid": True}]])
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
    while True:
        data = proc.stdout.read1(65536)  # type: ignore[attr-defined]
        if not data:
            break
        unpacker.feed(data)
        for msg in unpacker:
            if msg[0] == 2 and msg[1] == "redraw":
                screen.redraw(msg[2])
            elif msg[0] == 0:  # a request from the editor
                _kind, msgid, method, params = msg
                try:
                    if method != "lore_screenshot":
                        raise ValueError(f"unknown request {method}")
                    screen.png(str(params[0]))
                    send([1, msgid, None, True])
                except Exception as exc:  # noqa: BLE001 - answered to the editor, which reports it
                    send([1, msgid, str(exc), None])
    return proc.wait()


if __name__ == "__main__":
    sys.exit(main())
