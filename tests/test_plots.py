"""kamlib.plots: the bundled Chinese font and the course charts."""

import io
import os
import re
import subprocess
import sys
import unicodedata
import warnings
from pathlib import Path

import matplotlib as mpl
import pandas as pd
import pytest
from fontTools.ttLib import TTFont
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from kamlib import plots
from kamlib.data import load_accounts
from kamlib.priorities import QUADRANTS, allocate, pareto, priority_scores
from kamlib.roles import DUTIES, ROLES, duty_role_matrix
from kamlib.tiers import INDICATORS, TIER_RULE_ZH, Tier, classify_accounts

ROOT = Path(__file__).resolve().parents[1]
FONT = ROOT / "kamlib" / "fonts" / "KamSans-Regular.ttf"
GLYPH_WARNING = r"Glyph .* missing from font"
HAN = re.compile(r"[\u3400-\u9fff]")


# ---------------------------------------------------------------- fixtures
@pytest.fixture
def small_accounts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": ["A01", "A02", "A03", "A04", "A05"],
            "name": [
                "甲方重工股份有限公司",
                "乙方市水务局",
                "丙方医疗科技有限公司",
                "丁方食品有限公司",
                "戊方轨道交通建设管理中心",
            ],
            "annual_revenue": [500.0, 120.0, 80.0, 300.0, 10.0],
            "growth_potential": [2, 5, 3, 4, 1],
            "strategic_importance": [5, 3, 1, 4, 2],
            "competition": pd.array([1, 2, 3, 4, None], dtype="Int64"),
            "information_access": pd.array([1, 2, 3, 4, None], dtype="Int64"),
            "pricing": pd.array([1, 2, 3, 4, 2], dtype="Int64"),
            "contact_level": pd.array([1, 4, 3, 4, None], dtype="Int64"),
            "contract": pd.array([1, 2, 1, 4, None], dtype="Int64"),
            "visibility": pd.array([2, 2, 3, 4, 1], dtype="Int64"),
        }
    )


@pytest.fixture(scope="module")
def case_accounts() -> pd.DataFrame:
    return load_accounts()


def _charts(accounts: pd.DataFrame) -> dict[str, Figure]:
    scores = priority_scores(accounts)
    first = accounts.iloc[0]
    return {
        "pareto_chart": plots.pareto_chart(pareto(accounts)),
        "tier_profile": plots.tier_profile(first),
        "tier_distribution": plots.tier_distribution(classify_accounts(accounts)),
        "portfolio_matrix": plots.portfolio_matrix(accounts, scores),
        "allocation_chart": plots.allocation_chart(
            allocate(100, scores), labels=accounts.set_index("account_id")["name"]
        ),
        "duty_heatmap": plots.duty_heatmap(),
    }


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=GLYPH_WARNING)
        fig.savefig(buffer, format="png", dpi=60)
    return buffer.getvalue()


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def _title(fig: Figure) -> str:
    return fig.axes[0].get_title()


# ---------------------------------------------------------------- font set-up
def test_bundled_font_file():
    assert FONT.read_bytes()[:4] == b"\x00\x01\x00\x00"  # TrueType outlines
    font = TTFont(FONT)
    assert font["name"].getDebugName(1) == plots.BUNDLED_FAMILY
    assert "WenQuanYi" in font["name"].getDebugName(3)  # the origin stays credited
    assert FONT.stat().st_size < 2_000_000
    licence = (FONT.parent / "LICENSE-Apache-2.0.txt").read_text(encoding="utf-8")
    assert "Apache License" in licence and "Version 2.0" in licence
    assert "WenQuanYi" in (FONT.parent / "README.md").read_text(encoding="utf-8")


@pytest.fixture
def own_rcparams():
    """Global matplotlib settings changed by a test are restored after it."""
    with mpl.rc_context():
        yield


def test_use_chinese_font_registers_bundled_font_and_is_idempotent(own_rcparams):
    family = plots.use_chinese_font()
    entries = len(font_manager.fontManager.ttflist)
    rc = (list(mpl.rcParams["font.family"]), list(mpl.rcParams["font.sans-serif"]))
    assert plots.use_chinese_font() == family
    assert len(font_manager.fontManager.ttflist) == entries
    assert (list(mpl.rcParams["font.family"]), list(mpl.rcParams["font.sans-serif"])) == rc

    bundled = [e for e in font_manager.fontManager.ttflist if e.fname == os.fspath(FONT)]
    assert [e.name for e in bundled] == [plots.BUNDLED_FAMILY]
    families = mpl.rcParams["font.family"]
    assert families[-2:] == [plots.BUNDLED_FAMILY, "DejaVu Sans"]
    assert family == families[0]
    installed = {e.name for e in font_manager.fontManager.ttflist}
    assert all(f in installed for f in families)  # nothing for matplotlib to log as missing
    assert mpl.rcParams["font.sans-serif"][: len(families)] == families
    assert mpl.rcParams["axes.unicode_minus"] is False


def test_bundled_family_resolves_to_bundled_file():
    prop = font_manager.FontProperties(family=plots.BUNDLED_FAMILY)
    found = font_manager.fontManager.findfont(prop, fallback_to_default=False)
    assert Path(found).resolve() == FONT.resolve()


def test_charts_survive_rcparams_reset_and_leave_them_alone(small_accounts, own_rcparams):
    mpl.rcdefaults()
    fig = plots.pareto_chart(pareto(small_accounts))
    _png(fig)  # strict glyph mode: a box instead of a hanzi fails here
    assert mpl.rcParams["font.family"] == ["sans-serif"]


def test_importing_and_drawing_change_no_global_matplotlib_setting():
    code = (
        "import io, matplotlib as mpl\n"
        "before = {k: repr(v) for k, v in mpl.rcParams.items()}\n"
        "import kamlib.plots as p\n"
        "from kamlib.data import load_accounts\n"
        "from kamlib.priorities import pareto\n"
        "p.pareto_chart(pareto(load_accounts())).savefig(io.BytesIO(), format='png')\n"
        "print([k for k, v in mpl.rcParams.items() if repr(v) != before[k]])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "KAMLIB_STRICT_GLYPHS": "1"}
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_chinese_font_is_a_context_that_restores_the_settings(own_rcparams):
    before = list(mpl.rcParams["font.family"])
    with plots.chinese_font() as family:
        assert mpl.rcParams["font.family"][0] == family
        assert plots.BUNDLED_FAMILY in mpl.rcParams["font.family"]
    assert list(mpl.rcParams["font.family"]) == before


# ---------------------------------------------------------------- glyph coverage
def _cjk(chars: set[str]) -> set[str]:
    """Characters a Chinese font must have: hanzi, CJK/full-width punctuation, GB2312."""
    keep = set()
    for c in chars:
        if ord(c) < 0x80 or not c.isprintable():
            continue
        try:
            c.encode("gb2312")
            keep.add(c)
            continue
        except UnicodeEncodeError:
            pass
        if HAN.match(c) or "CJK" in unicodedata.name(c, "") or "FULLWIDTH" in unicodedata.name(c, ""):
            keep.add(c)
    return keep


def _kamlib_strings() -> list[str]:
    """Every Chinese text kamlib puts on a chart or in front of a trainee."""
    texts = [TIER_RULE_ZH, *QUADRANTS, *QUADRANTS.values()]
    for tier in Tier:
        texts += [tier.label_zh, tier.description_zh]
    for indicator in INDICATORS.values():
        texts += [indicator.label_zh, *indicator.levels.values()]
    for role in ROLES.values():
        texts += [role.label_zh, role.summary_zh]
    texts += [d.text_zh for d in DUTIES]
    for csv in sorted((ROOT / "kamlib" / "data").glob("*.csv")):
        frame = pd.read_csv(csv, dtype=str)
        texts += [v for col in frame.columns for v in frame[col].dropna().unique()]
    return texts


def test_bundled_cmap_covers_every_chinese_character_in_kamlib_and_lessons():
    cmap = TTFont(FONT)["cmap"].getBestCmap()
    sources = [
        *(ROOT / "kamlib").rglob("*.py"),
        *(ROOT / "kamlib").rglob("*.csv"),
        *(ROOT / "kamlib").rglob("*.md"),
        *(ROOT / "course").glob("*.ipynb"),
        *(ROOT / "exercises" / "source").rglob("*.ipynb"),
    ]
    chars = set("".join(_kamlib_strings()))
    for path in sources:
        chars |= set(path.read_text(encoding="utf-8"))
    wanted = _cjk(chars)
    assert len(wanted) > 500  # the texts were really found
    missing = sorted(c for c in wanted if ord(c) not in cmap)
    assert not missing, f"字体缺少这些字符，请运行 tools/build_font.py 重新生成：{''.join(missing)}"


def test_bundled_cmap_covers_gb2312():
    cmap = TTFont(FONT)["cmap"].getBestCmap()
    hanzi = []
    for lead in range(0xB0, 0xF8):
        for trail in range(0xA1, 0xFF):
            try:
                hanzi.append(bytes([lead, trail]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    assert len(hanzi) == 6763
    assert all(ord(c) in cmap for c in hanzi)


def _render(text: str, families: list[str]) -> None:
    with mpl.rc_context({"font.family": families, "font.sans-serif": families}):
        fig = Figure(figsize=(6, 6))
        FigureCanvasAgg(fig)
        fig.text(0.01, 0.5, text, fontsize=8)
        fig.canvas.draw()


def _lines(chars: str, width: int = 60) -> str:
    return "\n".join(chars[i : i + width] for i in range(0, len(chars), width))


def test_every_kamlib_label_renders_with_only_the_bundled_font(case_accounts):
    chart_texts = [t for fig in _charts(case_accounts).values() for t in _texts(fig)]
    chars = "".join(sorted(set("".join(_kamlib_strings() + chart_texts)) - {"\n"}))
    assert HAN.search(chars)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=GLYPH_WARNING)
        _render(_lines(chars), [plots.BUNDLED_FAMILY])


def test_negative_control_missing_glyph_warning_is_raised():
    """The check above can fail: without a CJK font, matplotlib warns of missing glyphs."""
    with pytest.warns(UserWarning, match=GLYPH_WARNING):
        _render("重点客户管理", ["DejaVu Sans"])
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=GLYPH_WARNING)
        with pytest.raises(UserWarning, match=GLYPH_WARNING):
            _render("合作伙伴关系", ["DejaVu Sans"])


@pytest.mark.slow
def test_build_script_makes_the_committed_font(tmp_path, skip_or_fail):
    if not Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc").exists():
        skip_or_fail("需要 fonts-wqy-microhei（Debian 软件包）才能重新生成字体")
    out = tmp_path / "KamSans-Regular.ttf"
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "build_font.py"), "--output", str(out)],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    built, committed = (set(TTFont(f)["cmap"].getBestCmap()) for f in (out, FONT))
    assert TTFont(out)["name"].getDebugName(1) == plots.BUNDLED_FAMILY
    assert len(built) > 7000
    # the committed font has every character the script would put in today
    assert not built - committed, "请运行 tools/build_font.py 重新生成字体"


# ---------------------------------------------------------------- every chart, every data set
CHART_TITLES = {
    "pareto_chart": "帕累托",
    "tier_profile": "客户关系指标画像",
    "tier_distribution": "客户关系类型分布",
    "portfolio_matrix": "客户组合矩阵",
    "allocation_chart": "资源分配结果",
    "duty_heatmap": "职责分工",
}


@pytest.mark.parametrize("data", ["small", "case"])
def test_every_chart_builds_with_chinese_title_and_no_missing_glyph(data, request):
    accounts = request.getfixturevalue("small_accounts" if data == "small" else "case_accounts")
    charts = _charts(accounts)
    assert set(charts) == set(CHART_TITLES)
    for name, fig in charts.items():
        assert isinstance(fig, Figure), name
        assert CHART_TITLES[name] in _title(fig), name
        assert _png(fig)[:8] == b"\x89PNG\r\n\x1a\n"


def test_charts_show_in_jupyter_once_without_pyplot(small_accounts):
    import matplotlib.pyplot as plt
    from IPython.core.formatters import DisplayFormatter

    before = plt.get_fignums()
    fig = plots.pareto_chart(pareto(small_accounts))
    assert plt.get_fignums() == before  # pyplot would show it a second time
    data, _ = DisplayFormatter().format(fig)
    assert data["image/png"][:8] == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------- chart details
def test_pareto_chart_annotation(small_accounts):
    fig = plots.pareto_chart(pareto(small_accounts), threshold=0.8)
    # revenue 500, 300, 120, 80, 10 of 1010: the top two hold 79.2 %, three hold 91 %
    assert any(t.startswith("前 3 家客户贡献 91%") for t in _texts(fig))
    assert "80%" in _title(fig)
    fig = plots.pareto_chart(pareto(small_accounts), threshold=0.4)
    assert any(t.startswith("前 1 家客户贡献") for t in _texts(fig))


def test_pareto_chart_errors(small_accounts):
    with pytest.raises(ValueError, match="缺少列：share"):
        plots.pareto_chart(small_accounts)
    with pytest.raises(ValueError, match="threshold 为 1.5"):
        plots.pareto_chart(pareto(small_accounts), threshold=1.5)


def test_tier_profile_labels_and_unknown():
    fig = plots.tier_profile(
        {"competition": 3, "pricing": 3, "contract": 2, "visibility": 3, "information_access": None}
    )
    texts = _texts(fig)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [
        ind.label_zh for ind in INDICATORS.values()
    ]  # top to bottom in INDICATORS order
    assert texts.count("未知") == 2  # information_access (None) and contact_level (absent)
    assert "合作伙伴关系" in _title(fig)
    xticks = [t.get_text().replace("\n", "") for t in fig.axes[0].get_xticklabels()]
    assert xticks == [t.label_zh for t in Tier]


def test_tier_profile_undecided_and_custom_title():
    assert "无法判定" in _title(plots.tier_profile({"competition": 1}))
    assert _title(plots.tier_profile({"competition": 1}, title="我的客户")) == "我的客户"
    with pytest.raises(ValueError, match="price"):
        plots.tier_profile({"price": 2})


def test_tier_distribution_counts_and_mixed(small_accounts):
    classified = classify_accounts(small_accounts)
    fig = plots.tier_distribution(classified)
    ax = fig.axes[0]
    labels = [t.get_text().replace("\n", "") for t in ax.get_xticklabels()]
    assert labels == [t.label_zh for t in Tier] + ["无法判定"]
    counts = [t for t in _texts(fig) if t.endswith(" 家")]
    assert len(counts) == 5
    assert sum(int(t.split()[0]) for t in counts) == len(small_accounts)
    assert any("不均衡" in t for t in _texts(fig))
    with pytest.raises(ValueError, match="缺少列：tier、mixed"):
        plots.tier_distribution(small_accounts)


def test_portfolio_matrix_names_top_accounts(small_accounts):
    scores = pd.Series([10.0, 90.0, 20.0, 80.0, 5.0], index=small_accounts["account_id"])
    fig = plots.portfolio_matrix(small_accounts, scores, top=2)
    texts = _texts(fig)
    assert "乙方市水务局" in texts and "丁方食品" in texts  # legal suffix dropped
    assert "甲方重工" not in texts
    assert all(q in texts for q in QUADRANTS)


def _dashed(fig) -> list[tuple]:
    """The dashed lines of the figure: ("v", x) or ("h", y)."""
    lines = [line for line in fig.axes[0].lines if line.get_linestyle() == "--"]
    return [
        ("v", line.get_xdata()[0]) if line.get_xdata()[0] == line.get_xdata()[1] else ("h", line.get_ydata()[0])
        for line in lines
    ]


def test_portfolio_matrix_lines_lie_between_the_groups(small_accounts):
    """With potentials 5, 5, 3 the two 5s are high (ties as even as they allow): the line lies
    between 3 and 5, not at the median's 5.5 above both. All potentials equal: no groups, no
    lines, and every account still drawn, grey."""
    accounts = small_accounts.iloc[:3].assign(growth_potential=[5, 5, 3])
    fig = plots.portfolio_matrix(accounts, top=0)
    assert ("h", 4.0) in _dashed(fig)
    same = small_accounts.assign(growth_potential=3)
    fig = plots.portfolio_matrix(same, top=0)
    assert _dashed(fig) == []
    assert "未分组（5 家）" in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def test_allocation_chart(small_accounts):
    alloc = pd.Series({"A01": 5, "A02": 30, "A03": 0})
    fig = plots.allocation_chart(alloc, labels={"A02": "乙方市水务局"})
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks == ["乙方市水务局", "A01", "A03"]  # largest first, labels mapped
    assert "合计 35" in _title(fig)
    with pytest.raises(ValueError, match="不是数字"):
        plots.allocation_chart(pd.Series({"A01": "many"}))


def test_duty_heatmap_labels():
    fig = plots.duty_heatmap()
    ax = fig.axes[0]
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert len(rows) == len(DUTIES) == len(duty_role_matrix())
    assert rows[0].startswith("AM-main ")
    assert all(len(r) <= 30 for r in rows)  # long duty texts are shortened
    columns = [t.get_text().replace("\n", "") for t in ax.get_xticklabels()]
    assert columns == [r.label_zh for r in ROLES.values()]


def test_duty_heatmap_with_plain_id_index():
    matrix = pd.DataFrame({"account_manager": [1, 0], "sales_manager": [0, 1]}, index=["AM-C1", "SM-1"])
    fig = plots.duty_heatmap(matrix)
    rows = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert rows[0].startswith("AM-C1 ") and HAN.search(rows[0])
    _png(fig)


def test_strict_glyph_mode_turns_missing_glyphs_into_errors_in_a_fresh_process():
    """KAMLIB_STRICT_GLYPHS=1 is how notebook kernels under test fail on a missing glyph."""
    import subprocess
    import sys

    code = (
        "import matplotlib as mpl, kamlib.plots as p, io\n"
        "mpl.rcParams['font.family'] = ['DejaVu Sans']\n"
        "fig = p.ChartFigure(); ax = fig.add_subplot(); p.FigureCanvasAgg(fig)\n"
        "ax.set_title('重点客户'); fig.savefig(io.BytesIO(), format='png')\n"
    )
    env = {**os.environ, "KAMLIB_STRICT_GLYPHS": "1"}
    strict = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert strict.returncode != 0 and "missing from font" in strict.stderr
    env["KAMLIB_STRICT_GLYPHS"] = "0"
    lax = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, env=env)
    assert lax.returncode == 0, lax.stderr
